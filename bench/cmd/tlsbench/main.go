// Command tlsbench measures netloop's TLS (issue 13) against Go's net +
// crypto/tls (a goroutine per connection, peers/gotls), Node 20's tls
// module (peers/node/tls-echo.js) and netloop without TLS, in the same
// rounds, peers interleaved:
//
//   - echo: 1 KiB ping-pong over -conns TLS 1.3 connections; server CPU
//     per message.
//   - handshake: -hs-workers clients each doing full TLS 1.3 handshakes
//     (no session resumption: dial, handshake, a 1-byte echo, close);
//     handshakes per second per core of server CPU.
//   - idle: -idle connections that completed a handshake and one echo,
//     then idle; server RSS per connection.
//
// Each server runs pinned to CPU 0 and its client (this program, re-run
// with -client) to CPU 1. Server CPU is utime+stime from /proc over the
// client's measured window. The report gives medians over rounds and the
// median of within-round ratios.
//
//	cd bench && go run ./cmd/tlsbench                  # 3 rounds, ~3 min
//	cd bench && go run ./cmd/tlsbench -rounds 5 -out ../docs/bench/tls.md
package main

import (
	"github.com/netloop/netloop/bench/internal/measure"

	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type peer struct {
	name string
	tls  bool
	cmd  func(port int) []string
}

var bin, certFile, keyFile string

var peers = []peer{
	{"netloop-tls", true, func(port int) []string {
		return []string{filepath.Join(bin, "netlooptls"), "-port", strconv.Itoa(port), "-cert", certFile, "-key", keyFile}
	}},
	{"netloop-plain", false, func(port int) []string {
		return []string{filepath.Join(bin, "netloop"), "-port", strconv.Itoa(port)}
	}},
	{"go-tls", true, func(port int) []string {
		return []string{filepath.Join(bin, "gotls"), "-port", strconv.Itoa(port), "-cert", certFile, "-key", keyFile}
	}},
	{"node-tls", true, func(port int) []string {
		return []string{"node", filepath.Join("peers", "node", "tls-echo.js"), strconv.Itoa(port), certFile, keyFile}
	}},
}

// caseSpec is one measurement: which peers, and the client's arguments.
type caseSpec struct {
	id    string
	peers []string
	args  []string
}

// result is one run: CPU per unit (ns), units per second, RSS per
// connection (idle only).
type result struct {
	cpuPer, rate, rssPer float64
}

// clientReport is what a -client run prints last, as JSON.
type clientReport struct {
	Units int     `json:"units"`
	Rate  float64 `json:"rate"`
}

func main() {
	client := flag.String("client", "", "internal: run a load client (echo, handshake, idle)")
	addr := flag.String("addr", "", "internal: server address for -client")
	useTLS := flag.Bool("tls", true, "internal: the client speaks TLS")
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	conns := flag.Int("conns", 50, "echo: connections")
	size := flag.Int("size", 1024, "echo: message size")
	workers := flag.Int("hs-workers", 8, "handshake: concurrent clients")
	idle := flag.Int("idle", 2000, "idle: connections")
	warm := flag.Duration("warmup", time.Second, "warm-up per run")
	dur := flag.Duration("duration", 3*time.Second, "measured window per run")
	out := flag.String("out", "", "also write the report to this file")
	flag.Parse()
	if *client != "" {
		n := *conns
		switch *client {
		case "handshake":
			n = *workers
		case "idle":
			n = *idle
		}
		runClient(*client, *addr, *useTLS, n, *size, *warm, *dur)
		return
	}
	if _, err := os.Stat("loadgen/loadgen.go"); err != nil {
		fatalf("run me from bench/ (cd bench && go run ./cmd/tlsbench): %v", err)
	}
	setup()
	cases := []caseSpec{
		{"echo-1k", []string{"netloop-tls", "netloop-plain", "go-tls", "node-tls"},
			[]string{"-client", "echo", "-conns", strconv.Itoa(*conns), "-size", strconv.Itoa(*size), "-warmup", warm.String(), "-duration", dur.String()}},
		{"handshake", []string{"netloop-tls", "go-tls", "node-tls"},
			[]string{"-client", "handshake", "-hs-workers", strconv.Itoa(*workers), "-warmup", warm.String(), "-duration", dur.String()}},
		{"idle", []string{"netloop-tls", "netloop-plain", "go-tls", "node-tls"},
			[]string{"-client", "idle", "-idle", strconv.Itoa(*idle)}},
	}
	res := map[string]map[string][]result{}
	for r := 1; r <= *rounds; r++ {
		for _, c := range cases {
			for _, name := range c.peers {
				p := peerNamed(name)
				progress("round %d/%d %s %s", r, *rounds, c.id, p.name)
				x, err := runCase(c, p)
				if err != nil {
					fatalf("%s %s: %v", c.id, p.name, err)
				}
				if res[c.id] == nil {
					res[c.id] = map[string][]result{}
				}
				res[c.id][p.name] = append(res[c.id][p.name], x)
			}
		}
	}
	rep := render(cases, res, *rounds, *conns, *size, *workers, *idle, *dur)
	fmt.Print(rep)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(rep), 0o644); err != nil {
			fatalf("%v", err)
		}
	}
}

// setup builds the peers and writes a self-signed certificate.
func setup() {
	wd, _ := os.Getwd()
	bin = filepath.Join(wd, ".bin")
	for _, b := range [][]string{
		{"go", "build", "-o", filepath.Join(bin, "netlooptls"), "./peers/netlooptls"},
		{"go", "build", "-o", filepath.Join(bin, "netloop"), "./peers/netloop"},
		{"go", "build", "-o", filepath.Join(bin, "gotls"), "./peers/gotls"},
		{"node", "--check", filepath.Join("peers", "node", "tls-echo.js")},
	} {
		c := exec.Command(b[0], b[1:]...)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			fatalf("%s: %v", strings.Join(b, " "), err)
		}
	}
	dir, err := os.MkdirTemp("", "tlsbench")
	if err != nil {
		fatalf("%v", err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM, keyPEM := selfSigned()
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		fatalf("%v", err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		fatalf("%v", err)
	}
}

func peerNamed(name string) peer {
	for _, p := range peers {
		if p.name == name {
			return p
		}
	}
	fatalf("no peer %s", name)
	return peer{}
}

// runCase runs one case against a fresh server of p.
func runCase(c caseSpec, p peer) (result, error) {
	port, err := measure.FreePort()
	if err != nil {
		return result{}, err
	}
	srv := exec.Command("taskset", append([]string{"-c", "0"}, p.cmd(port)...)...)
	srvOut, err := srv.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(srvOut)
		ok := false
		for sc.Scan() {
			if !ok && strings.TrimSpace(sc.Text()) == "ready" {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			return result{}, fmt.Errorf("server exited before ready")
		}
	case <-time.After(15 * time.Second):
		return result{}, fmt.Errorf("server not ready")
	}
	self, _ := os.Executable()
	args := append([]string{"-c", "1", self, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-tls=" + strconv.FormatBool(p.tls)}, c.args...)
	cl := exec.Command("taskset", args...)
	stdin, err := cl.StdinPipe()
	if err != nil {
		return result{}, err
	}
	stdout, err := cl.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	cl.Stderr = os.Stderr
	rss0, err := measure.RSSBytes(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	if err := cl.Start(); err != nil {
		return result{}, err
	}
	defer cl.Process.Kill()
	var x result
	var cpu0, cpu1 int64
	var rep clientReport
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "measure-start":
			cpu0, _ = measure.CPUTicks(srv.Process.Pid)
		case line == "measure-end":
			cpu1, _ = measure.CPUTicks(srv.Process.Pid)
		case line == "held":
			time.Sleep(500 * time.Millisecond) // let the server settle
			rss1, err := measure.RSSBytes(srv.Process.Pid)
			if err != nil {
				return result{}, err
			}
			x.rssPer = float64(rss1-rss0) / float64(idleConns(c.args))
			stdin.Close()
		case strings.HasPrefix(line, "{"):
			if err := json.Unmarshal([]byte(line), &rep); err != nil {
				return result{}, err
			}
		}
	}
	if err := cl.Wait(); err != nil {
		return result{}, fmt.Errorf("client: %v", err)
	}
	if x.rssPer == 0 {
		if rep.Units == 0 {
			return result{}, fmt.Errorf("client completed nothing")
		}
		x.cpuPer = float64(cpu1-cpu0) * measure.TickNs / float64(rep.Units)
		x.rate = rep.Rate
	}
	return x, nil
}

func idleConns(args []string) int {
	for i, a := range args {
		if a == "-idle" && i+1 < len(args) {
			n, _ := strconv.Atoi(args[i+1])
			return n
		}
	}
	return 1
}

// ---- clients

func dialer(addr string, useTLS bool) func() (net.Conn, error) {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13} // a full handshake every time: no session cache
	return func() (net.Conn, error) {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		c.(*net.TCPConn).SetNoDelay(true)
		if !useTLS {
			return c, nil
		}
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		tc.SetDeadline(time.Time{})
		return tc, nil
	}
}

func runClient(mode, addr string, useTLS bool, n, size int, warm, dur time.Duration) {
	dial := dialer(addr, useTLS)
	switch mode {
	case "idle":
		cs := make([]net.Conn, 0, n)
		buf := make([]byte, 64)
		for i := 0; i < n; i++ {
			c, err := dial()
			if err != nil {
				fatalf("idle dial %d: %v", i, err)
			}
			if _, err := c.Write(buf); err != nil {
				fatalf("idle write: %v", err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				fatalf("idle read: %v", err)
			}
			cs = append(cs, c)
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin) // until the harness has measured
		for _, c := range cs {
			c.Close()
		}
		fmt.Printf(`{"units":%d,"rate":0}`+"\n", n)
		return
	case "echo", "handshake":
	default:
		fatalf("unknown client mode %q", mode)
	}
	var count atomic.Int64
	var measuring atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if mode == "echo" {
				c, err := dial()
				if err != nil {
					fatalf("echo dial: %v", err)
				}
				defer c.Close()
				msg := bytes.Repeat([]byte{'x'}, size)
				in := make([]byte, size)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := c.Write(msg); err != nil {
						fatalf("echo write: %v", err)
					}
					if _, err := io.ReadFull(c, in); err != nil {
						fatalf("echo read: %v", err)
					}
					if measuring.Load() {
						count.Add(1)
					}
				}
			}
			one := []byte{1}
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := dial()
				if err != nil {
					fatalf("handshake dial: %v", err)
				}
				if _, err := c.Write(one); err == nil {
					_, err = io.ReadFull(c, one)
				}
				c.Close()
				if err != nil {
					fatalf("handshake echo: %v", err)
				}
				if measuring.Load() {
					count.Add(1)
				}
			}
		}()
	}
	time.Sleep(warm)
	fmt.Println("measure-start")
	measuring.Store(true)
	t0 := time.Now()
	time.Sleep(dur)
	measuring.Store(false)
	el := time.Since(t0)
	fmt.Println("measure-end")
	units := count.Load()
	close(stop)
	wg.Wait()
	b, _ := json.Marshal(clientReport{Units: int(units), Rate: float64(units) / el.Seconds()})
	fmt.Println(string(b))
}

// ---- report

func render(cases []caseSpec, res map[string]map[string][]result, rounds, conns, size, workers, idle int, dur time.Duration) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# TLS\n\n_Generated by `cd bench && go run ./cmd/tlsbench -rounds %d` on %s UTC; %d cores, %s._\n\n",
		rounds, time.Now().UTC().Format("2006-01-02 15:04"), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&b, "Servers pinned to CPU 0, clients (Go crypto/tls, TLS 1.3, no session resumption) to CPU 1; peers interleaved in each round. Medians over rounds; ratios are medians of within-round ratios.\n\n")
	fmt.Fprintf(&b, "Peers: netloop-tls is peers/netlooptls (netloop.CreateSecureServer, one loop); netloop-plain is peers/netloop (no TLS); go-tls is peers/gotls (Go's net + crypto/tls, a goroutine per connection); node-tls is Node 20's tls.createServer (peers/node/tls-echo.js). The certificate is ECDSA P-256, self-signed.\n\n")
	ratio := func(id, p, base string, f func(result) float64) float64 {
		var rs []float64
		a, bb := res[id][p], res[id][base]
		for i := range a {
			if i < len(bb) && f(bb[i]) != 0 {
				rs = append(rs, f(a[i])/f(bb[i]))
			}
		}
		return measure.Median(rs)
	}
	med := func(id, p string, f func(result) float64) float64 {
		var v []float64
		for _, x := range res[id][p] {
			v = append(v, f(x))
		}
		return measure.Median(v)
	}
	cpu := func(x result) float64 { return x.cpuPer }
	rate := func(x result) float64 { return x.rate }
	rss := func(x result) float64 { return x.rssPer }
	for _, c := range cases {
		switch c.id {
		case "echo-1k":
			fmt.Fprintf(&b, "## 1 KiB echo, %d connections, %s windows\n\n| peer | server CPU ns/message | x netloop-tls | messages/s |\n|---|---:|---:|---:|\n", conns, dur)
			for _, p := range c.peers {
				fmt.Fprintf(&b, "| %s | %.0f | %.2f× | %.0f |\n", p, med(c.id, p, cpu), ratio(c.id, p, "netloop-tls", cpu), med(c.id, p, rate))
			}
			fmt.Fprintf(&b, "\nnetloop-tls costs %.2f× netloop-plain per message (goal ≤ 1.3×); go-tls %.2f× and node-tls %.2f× netloop-tls (goal: both above 1).\n\n",
				ratio(c.id, "netloop-tls", "netloop-plain", cpu), ratio(c.id, "go-tls", "netloop-tls", cpu), ratio(c.id, "node-tls", "netloop-tls", cpu))
		case "handshake":
			fmt.Fprintf(&b, "## Full handshakes, %d concurrent clients\n\nEach unit is a new connection: TLS 1.3 handshake (ECDHE, ECDSA P-256), a 1-byte echo, close.\n\n| peer | server CPU µs/handshake | handshakes/s per core | x go-tls | handshakes/s |\n|---|---:|---:|---:|---:|\n", workers)
			for _, p := range c.peers {
				per := med(c.id, p, cpu)
				fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2f× | %.0f |\n", p, per/1e3, 1e9/per, 1/ratio(c.id, p, "go-tls", cpu), med(c.id, p, rate))
			}
			fmt.Fprintf(&b, "\nGoal: netloop-tls ≥ 0.95× go-tls in handshakes per second per core.\n\n")
		case "idle":
			fmt.Fprintf(&b, "## Idle connections, %d per server\n\nServer RSS growth per connection once every client has handshaken, echoed 64 B and gone idle.\n\n| peer | RSS per connection | x node-tls |\n|---|---:|---:|\n", idle)
			for _, p := range c.peers {
				fmt.Fprintf(&b, "| %s | %.0f B | %.2f× |\n", p, med(c.id, p, rss), ratio(c.id, p, "node-tls", rss))
			}
			fmt.Fprintf(&b, "\nnetloop-tls holds %.0f B more per idle connection than netloop-plain; goal: at most 1/4 of node-tls's figure (%.2f× here).\n\n",
				med(c.id, "netloop-tls", rss)-med(c.id, "netloop-plain", rss), ratio(c.id, "netloop-tls", "node-tls", rss))
		}
	}
	return b.String()
}

// ---- helpers

func selfSigned() (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fatalf("%v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fatalf("%v", err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		fatalf("%v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tlsbench: "+format+"\n", args...)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tlsbench: "+format+"\n", args...)
	os.Exit(1)
}
