// Command protobench drives the RESP and HTTP example servers with real
// clients (issue 15): redis-benchmark (-t ping,set,get, 50 connections,
// -P 1 and -P 16) and wrk (1 thread, 100 connections) against netloop's
// examples/resp and examples/http, gnet doing the same protocols
// (peers/gnetproto) and Node (peers/node/resp.js on the net module,
// peers/node/http.js on node:http). Each server runs pinned to CPU 0 and
// its client to CPU 1; server CPU is utime+stime from /proc over the
// client's run, divided by the requests the client completed. Peers are
// interleaved within each round; the report gives medians over rounds and
// each peer's within-round ratio to netloop.
//
//	cd bench && go run ./cmd/protobench                 # 3 rounds
//	cd bench && go run ./cmd/protobench -rounds 5 -out ../docs/bench/protocols.md
//
// redis-benchmark and wrk come from Debian's redis-tools and wrk packages,
// installed when missing.
package main

import (
	"github.com/netloop/netloop/bench/internal/measure"

	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type peer struct {
	name string
	cmd  func(proto string, port int) []string
}

var bin string // absolute path of the build directory

var peers = []peer{
	{"netloop", func(proto string, port int) []string {
		return []string{filepath.Join(bin, proto), "-port", strconv.Itoa(port)}
	}},
	{"gnet", func(proto string, port int) []string {
		return []string{filepath.Join(bin, "gnetproto"), "-proto", proto, "-port", strconv.Itoa(port)}
	}},
	{"node", func(proto string, port int) []string {
		return []string{"node", filepath.Join("peers", "node", proto+".js"), strconv.Itoa(port)}
	}},
}

// testCase is one client run against a fresh server.
type testCase struct {
	id, proto string
	client    func(port int) []string
	requests  func(out string) (int, float64, error) // completed requests, requests/s
}

var (
	redisLine = regexp.MustCompile(`([A-Z_]+): ([\d.]+) requests per second`)
	wrkTotal  = regexp.MustCompile(`(\d+) requests in`)
	wrkRate   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
)

func redisCase(pipeline, n int) testCase {
	return testCase{
		id:    fmt.Sprintf("resp-P%d", pipeline),
		proto: "resp",
		client: func(port int) []string {
			return []string{"redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "ping,set,get",
				"-n", strconv.Itoa(n), "-c", "50", "-P", strconv.Itoa(pipeline), "-q"}
		},
		requests: func(out string) (int, float64, error) {
			m := redisLine.FindAllStringSubmatch(out, -1)
			if len(m) != 4 { // PING_INLINE, PING_MBULK, SET, GET
				return 0, 0, fmt.Errorf("redis-benchmark printed %d results:\n%s", len(m), out)
			}
			// The rate over all four tests: requests over the sum of times.
			var secs float64
			for _, r := range m {
				v, _ := strconv.ParseFloat(r[2], 64)
				secs += float64(n) / v
			}
			return 4 * n, float64(4*n) / secs, nil
		},
	}
}

func wrkCase(d time.Duration) testCase {
	return testCase{
		id:    "http-wrk",
		proto: "http",
		client: func(port int) []string {
			return []string{"wrk", "-t1", "-c100", "-d" + d.String(), fmt.Sprintf("http://127.0.0.1:%d/", port)}
		},
		requests: func(out string) (int, float64, error) {
			t, r := wrkTotal.FindStringSubmatch(out), wrkRate.FindStringSubmatch(out)
			if t == nil || r == nil || strings.Contains(out, "Non-2xx") || strings.Contains(out, "Socket errors") {
				return 0, 0, fmt.Errorf("wrk output not clean:\n%s", out)
			}
			n, _ := strconv.Atoi(t[1])
			rate, _ := strconv.ParseFloat(r[1], 64)
			return n, rate, nil
		},
	}
}

type result struct {
	cpuPerReq float64 // ns
	rate      float64
}

func main() {
	rounds := flag.Int("rounds", 3, "interleaved rounds")
	n1 := flag.Int("n1", 100000, "redis-benchmark -n per test at -P 1")
	n16 := flag.Int("n16", 1000000, "redis-benchmark -n per test at -P 16")
	dur := flag.Duration("d", 5*time.Second, "wrk duration")
	out := flag.String("out", "", "also write the Markdown report here")
	flag.Parse()
	check(ensureTools())
	wd, err := os.Getwd()
	check(err)
	bin = filepath.Join(wd, ".bin")
	check(run("go", "-C", "..", "build", "-o", filepath.Join(bin, "resp"), "./examples/resp"))
	check(run("go", "-C", "..", "build", "-o", filepath.Join(bin, "http"), "./examples/http"))
	check(run("go", "build", "-o", filepath.Join(bin, "gnetproto"), "./peers/gnetproto"))
	cases := []testCase{redisCase(1, *n1), redisCase(16, *n16), wrkCase(*dur)}
	res := map[string]map[string][]result{} // case -> peer -> rounds
	for r := 0; r < *rounds; r++ {
		for _, c := range cases {
			for _, p := range peers {
				x, err := runCase(c, p)
				check(err)
				fmt.Fprintf(os.Stderr, "protobench: round %d/%d %-9s %-8s %8.0f ns/req %10.0f req/s\n", r+1, *rounds, c.id, p.name, x.cpuPerReq, x.rate)
				if res[c.id] == nil {
					res[c.id] = map[string][]result{}
				}
				res[c.id][p.name] = append(res[c.id][p.name], x)
			}
		}
	}
	report := render(cases, res, *rounds, *n1, *n16, *dur)
	fmt.Print(report)
	if *out != "" {
		check(os.WriteFile(*out, []byte(report), 0o644))
	}
}

func render(cases []testCase, res map[string]map[string][]result, rounds, n1, n16 int, d time.Duration) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Protocol servers with real clients\n\n_Generated by `cd bench && go run ./cmd/protobench -rounds %d` on %s UTC; %d cores, %s._\n\n",
		rounds, time.Now().UTC().Format("2006-01-02 15:04"), runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&b, "Server pinned to CPU 0, client to CPU 1. resp-P1 / resp-P16: `redis-benchmark -t ping,set,get -c 50 -P 1|16` (-n %d / %d per test; PING_INLINE, PING_MBULK, SET, GET); http-wrk: `wrk -t1 -c100 -d%s` on GET /. CPU per request is the server's utime+stime over the client's run divided by the requests completed; medians over rounds, ratios are medians of within-round ratios to netloop.\n\n", n1, n16, d)
	fmt.Fprintf(&b, "| case | peer | server CPU ns/request | x netloop | requests/s | x netloop |\n|---|---|---:|---:|---:|---:|\n")
	for _, c := range cases {
		base := res[c.id]["netloop"]
		for _, p := range peers {
			rs := res[c.id][p.name]
			var cpu, rate, rc, rr []float64
			for i, x := range rs {
				cpu = append(cpu, x.cpuPerReq)
				rate = append(rate, x.rate)
				rc = append(rc, x.cpuPerReq/base[i].cpuPerReq)
				rr = append(rr, x.rate/base[i].rate)
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f× | %.0f | %.2f× |\n", c.id, p.name, measure.Median(cpu), measure.Median(rc), measure.Median(rate), measure.Median(rr))
		}
	}
	b.WriteString("\nPeers: netloop is examples/resp and examples/http (full request parsing, as a user would write them); gnet v2.10.0 is peers/gnetproto (one loop, the same replies); Node 20 is peers/node/resp.js (net module) and peers/node/http.js (node:http).\n")
	return b.String()
}

// runCase starts p's server for c on CPU 0, runs c's client on CPU 1 and
// returns the server's CPU per request and the client's rate.
func runCase(c testCase, p peer) (result, error) {
	port, err := measure.FreePort()
	if err != nil {
		return result{}, err
	}
	srv := exec.Command("taskset", append([]string{"-c", "0"}, p.cmd(c.proto, port)...)...)
	srv.Stdout, srv.Stderr = nil, os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	if err := waitPort(port, 10*time.Second); err != nil {
		return result{}, fmt.Errorf("%s: %v", p.name, err)
	}
	before, err := measure.CPUTicks(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	cl := exec.Command("taskset", append([]string{"-c", "1"}, c.client(port)...)...)
	outb, err := cl.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("%s: client: %v\n%s", p.name, err, outb)
	}
	after, err := measure.CPUTicks(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	n, rate, err := c.requests(string(outb))
	if err != nil {
		return result{}, fmt.Errorf("%s: %v", p.name, err)
	}
	return result{cpuPerReq: float64(after-before) * measure.TickNs / float64(n), rate: rate}, nil
}

func waitPort(port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("port %d not open after %v", port, limit)
}

// ensureTools installs redis-benchmark and wrk from Debian when missing.
func ensureTools() error {
	_, e1 := exec.LookPath("redis-benchmark")
	_, e2 := exec.LookPath("wrk")
	if e1 == nil && e2 == nil {
		return nil
	}
	sudo := []string{}
	if os.Geteuid() != 0 {
		sudo = []string{"sudo"}
	}
	if err := run(append(sudo, "apt-get", "update", "-qq")...); err != nil {
		return err
	}
	return run(append(sudo, "apt-get", "install", "-y", "-qq", "redis-tools", "wrk")...)
}

func run(args ...string) error {
	c := exec.Command(args[0], args[1:]...)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	return c.Run()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "protobench:", err)
		os.Exit(1)
	}
}
