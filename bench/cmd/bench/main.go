// Command bench is netloop's benchmark harness: it builds the peers and the
// load generator, runs every case in interleaved rounds with a fresh server
// process per run (server on CPU 0, load generator on CPU 1), and writes
// docs/bench/README.md, one SVG chart per case and docs/bench/results.json.
//
//	cd bench && go run ./cmd/bench -mode quick   # make bench-quick
//	cd bench && go run ./cmd/bench -mode full    # make bench
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netloop/netloop/bench/report"
)

// Peer is one row of the peer table: how to build it and how to run it.
// "{port}" in Run is replaced by the port; Source must exist for the peer
// to be attempted.
type Peer struct {
	Name   string
	Desc   string
	Source string
	Build  string
	Run    string
	Env    []string
}

var peerTable = []Peer{
	{Name: "netloop", Desc: "netloop, one loop (bench/peers/netloop)", Source: "peers/netloop/main.go",
		Build: "go build -o .bin/netloop ./peers/netloop", Run: ".bin/netloop -port {port}"},
	{Name: "netloop-uring", Desc: "netloop, one loop, on its opt-in io_uring poller (NETLOOP_IOURING=1: multishot accept, multishot receive into a provided buffer ring)", Source: "peers/netloop/main.go",
		Build: "go build -o .bin/netloop ./peers/netloop", Run: ".bin/netloop -port {port}", Env: []string{"NETLOOP_IOURING=1"}},
	{Name: "gnet", Desc: "gnet v2.10.0, one event loop, echo in OnTraffic", Source: "peers/gnet/main.go",
		Build: "go build -o .bin/gnet ./peers/gnet", Run: ".bin/gnet -port {port}"},
	{Name: "gonet", Desc: "Go net, goroutine per connection, GOMAXPROCS=1, 32 KiB buffer per connection", Source: "peers/gonet/main.go",
		Build: "go build -o .bin/gonet ./peers/gonet", Run: ".bin/gonet -port {port}", Env: []string{"GOMAXPROCS=1"}},
	{Name: "node", Desc: "Node net, `c.on('data', d => c.write(d))`", Source: "peers/node/echo.js",
		Build: "node --check peers/node/echo.js", Run: "node peers/node/echo.js {port}"},
	{Name: "c", Desc: "C yardstick: single-threaded level-triggered epoll, 64 KiB static buffer", Source: "peers/c/echo.c",
		Build: "cc -O2 -o .bin/c-echo peers/c/echo.c", Run: ".bin/c-echo -port {port}"},
	{Name: "c-uring", Desc: "C io_uring yardstick: multishot accept and receive into a provided buffer ring, sends in order, one io_uring_enter per turn, no SQPOLL", Source: "peers/c/echo_uring.c",
		Build: "cc -O2 -o .bin/c-echo-uring peers/c/echo_uring.c", Run: ".bin/c-echo-uring -port {port}"},
	{Name: "go-floor", Desc: "the C yardstick's loop written in Go with raw system calls and no library, TCP_NODELAY inherited from the listener as netloop's (the floor of a Go server: what separates it from c is the Go runtime's share)", Source: "peers/goraw/main.go",
		Build: "go build -o .bin/goraw ./peers/goraw", Run: ".bin/goraw -inherit-nodelay -port {port}"},
}

var allCases = []report.Case{
	{ID: "pingpong-64b-100c", Title: "64 B ping-pong, 100 connections", Kind: "echo", Conns: 100, Size: 64, Depth: 1},
	{ID: "pipelined-64b-100c", Title: "64 B pipelined ×16, 100 connections", Kind: "echo", Conns: 100, Size: 64, Depth: 16},
	{ID: "pingpong-4k-100c", Title: "4 KiB ping-pong, 100 connections", Kind: "echo", Conns: 100, Size: 4096, Depth: 1},
	{ID: "pingpong-64b-1000c", Title: "64 B ping-pong, 1,000 connections", Kind: "echo", Conns: 1000, Size: 64, Depth: 1},
	{ID: "churn", Title: "Connection churn (connect, echo 64 B, close)", Kind: "churn", Size: 64, Depth: 32},
	{ID: "idle-9000", Title: "Idle memory, 9,000 connections", Kind: "idle", Conns: 9000, Size: 64, Depth: 128},
}

type harness struct {
	pin      bool
	clkTck   int64
	warmup   time.Duration
	duration time.Duration
	res      *report.Results
	outDir   string
	start    time.Time
	totalRun int
	doneRuns int
}

func main() {
	mode := flag.String("mode", "quick", "quick (1 round, first two cases) or full (all cases, interleaved rounds)")
	rounds := flag.Int("rounds", 0, "rounds (default: quick 1, full 7)")
	peers := flag.String("peers", "", "comma-separated subset of peers (default all: netloop, netloop-uring, gnet, gonet, node, c, c-uring, go-floor)")
	cases := flag.String("cases", "", "comma-separated subset of case ids (default: per mode)")
	warmup := flag.Duration("warmup", 0, "warm-up per run (default: quick 1s, full 1s)")
	duration := flag.Duration("duration", 0, "measured window per run (default: quick 2s, full 3s)")
	out := flag.String("out", "../docs/bench", "report directory")
	render := flag.Bool("render", false, "only redraw README.md and the SVGs from <out>/results.json")
	binaries := flag.String("binaries", "", "extra peers, comma-separated name=path: prebuilt echo servers taking -port N (say two builds of the netloop peer), run in the same interleaved rounds as -peers (A/B a change: go build -o /tmp/old ./peers/netloop before it, /tmp/new after, -binaries old=/tmp/old,new=/tmp/new -out /tmp/ab)")
	flag.Parse()

	if *render {
		b, err := os.ReadFile(filepath.Join(*out, "results.json"))
		if err != nil {
			fatalf("%v", err)
		}
		h := &harness{outDir: *out, res: &report.Results{}}
		if err := json.Unmarshal(b, h.res); err != nil {
			fatalf("%s: %v", filepath.Join(*out, "results.json"), err)
		}
		h.write()
		progress("redrew %s from results.json", filepath.Join(*out, "README.md"))
		return
	}

	if _, err := os.Stat("loadgen/loadgen.go"); err != nil {
		fatalf("run me from bench/ (cd bench && go run ./cmd/bench): %v", err)
	}
	h := &harness{outDir: *out, start: time.Now(), clkTck: clockTicks()}
	var selCases []report.Case
	switch *mode {
	case "quick":
		selCases = allCases[:2]
		h.warmup, h.duration = time.Second, 2*time.Second
		if *rounds == 0 {
			*rounds = 1
		}
	case "full":
		selCases = allCases
		h.warmup, h.duration = time.Second, 3*time.Second
		if *rounds == 0 {
			*rounds = 7
		}
	default:
		fatalf("-mode must be quick or full")
	}
	if *warmup > 0 {
		h.warmup = *warmup
	}
	if *duration > 0 {
		h.duration = *duration
	}
	if *cases != "" {
		selCases = nil
		for _, id := range strings.Split(*cases, ",") {
			found := false
			for _, c := range allCases {
				if c.ID == strings.TrimSpace(id) {
					selCases = append(selCases, c)
					found = true
				}
			}
			if !found {
				fatalf("unknown case %q", id)
			}
		}
	}
	table := peerTable
	if *peers != "" {
		table = nil
		for _, n := range strings.Split(*peers, ",") {
			found := false
			for _, p := range peerTable {
				if p.Name == strings.TrimSpace(n) {
					table = append(table, p)
					found = true
				}
			}
			if !found {
				fatalf("unknown peer %q", n)
			}
		}
	}

	if *binaries != "" {
		for _, nb := range strings.Split(*binaries, ",") {
			name, path, ok := strings.Cut(strings.TrimSpace(nb), "=")
			if !ok || name == "" || path == "" {
				fatalf("-binaries wants name=path, got %q", nb)
			}
			table = append(table, Peer{Name: name, Desc: "prebuilt " + path, Source: path,
				Build: "test -x " + path, Run: path + " -port {port}"})
		}
	}

	cmdline := "cd bench && go run ./cmd/bench " + strings.Join(os.Args[1:], " ")
	switch strings.Join(os.Args[1:], " ") {
	case "-mode full":
		cmdline = "make bench"
	case "-mode quick":
		cmdline = "make bench-quick"
	}
	h.res = &report.Results{Mode: *mode, Command: cmdline, Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Rounds: *rounds, WarmupS: h.warmup.Seconds(), DurationS: h.duration.Seconds(), Cases: selCases}

	h.pin = checkPinning()
	h.res.Machine = machine(h.pin)
	progress("machine: %s, %d cores, Linux %s, %s, node %s", h.res.Machine.CPU, h.res.Machine.Cores, h.res.Machine.Kernel, h.res.Machine.Go, h.res.Machine.Node)

	if err := os.MkdirAll(".bin", 0o755); err != nil {
		fatalf("%v", err)
	}
	progress("building loadgen")
	if out, err := sh("go build -o .bin/loadgen ./cmd/loadgen"); err != nil {
		fatalf("building the load generator failed: %v\n%s", err, out)
	}
	var built []Peer
	for _, p := range table {
		st := report.PeerStatus{Name: p.Name, Desc: p.Desc, Build: p.Build, Run: p.Run}
		if _, err := os.Stat(p.Source); err != nil {
			st.Note = p.Source + " does not exist yet"
		} else if out, err := sh(p.Build); err != nil {
			st.Note = "build failed: " + firstLine(out, err)
		} else {
			st.Built = true
			built = append(built, p)
		}
		if !st.Built {
			warnLoud("%s: not built (%s); skipping it", p.Name, st.Note)
		} else {
			progress("built %s", p.Name)
		}
		h.res.Peers = append(h.res.Peers, st)
	}
	if len(built) == 0 {
		fatalf("no peer could be built")
	}
	for _, c := range selCases {
		h.res.Loadgen = append(h.res.Loadgen, "# "+c.Title+"\n"+strings.Join(h.loadgenArgs(c, "127.0.0.1:PORT"), " "))
	}

	h.totalRun = len(selCases) * *rounds * len(built)
	progress("plan: %d case(s) × %d round(s) × %d peer(s) = %d runs, %s warm-up + %s measured each (about %s)",
		len(selCases), *rounds, len(built), h.totalRun, h.warmup, h.duration, h.estimate(selCases, *rounds, len(built)).Round(time.Second))

	for ci, c := range selCases {
		for r := 1; r <= *rounds; r++ {
			for _, p := range built {
				run := h.runOne(c, r, p)
				h.doneRuns++
				h.res.Runs = append(h.res.Runs, run)
				h.report(ci, len(selCases), c, r, *rounds, run)
			}
		}
		h.write() // keep partial results on disk as cases complete
	}
	h.res.ElapsedS = time.Since(h.start).Seconds()
	h.write()
	progress("done in %s; wrote %s", time.Since(h.start).Round(time.Second), filepath.Join(h.outDir, "README.md"))
	h.printSummary()
}

func (h *harness) estimate(cases []report.Case, rounds, peers int) time.Duration {
	var d time.Duration
	for _, c := range cases {
		per := h.warmup + h.duration + 700*time.Millisecond
		if c.Kind == "idle" {
			per = 5 * time.Second
		}
		d += time.Duration(rounds*peers) * per
	}
	return d
}

func (h *harness) loadgenArgs(c report.Case, addr string) []string {
	a := []string{".bin/loadgen", "-mode", c.Kind, "-addr", addr, "-s", strconv.Itoa(c.Size), "-d", strconv.Itoa(c.Depth)}
	if c.Kind != "churn" {
		a = append(a, "-c", strconv.Itoa(c.Conns))
	}
	if c.Kind != "idle" {
		a = append(a, "-w", h.warmup.String(), "-t", h.duration.String())
	}
	return a
}

func (h *harness) pinned(cpu int, argv []string) []string {
	if !h.pin {
		return argv
	}
	return append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
}

type server struct {
	cmd    *exec.Cmd
	pid    int
	stderr *bytes.Buffer
	done   chan struct{}
}

func (h *harness) startServer(p Peer, port int) (*server, error) {
	argv := h.pinned(0, strings.Fields(strings.ReplaceAll(p.Run, "{port}", strconv.Itoa(port))))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &limitedWriter{w: s.stderr, n: 8 << 10}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = cmd.Process.Pid
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if !sent && strings.TrimSpace(sc.Text()) == "ready" {
				ready <- true
				sent = true
			}
		}
		if !sent {
			ready <- false
		}
	}()
	go func() { _ = cmd.Wait(); close(s.done) }()
	select {
	case ok := <-ready:
		if ok {
			return s, nil
		}
		s.kill()
		return nil, fmt.Errorf("exited before printing ready: %s", strings.TrimSpace(s.stderr.String()))
	case <-time.After(15 * time.Second):
		s.kill()
		return nil, fmt.Errorf("no ready line after 15s: %s", strings.TrimSpace(s.stderr.String()))
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("no free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (h *harness) runOne(c report.Case, round int, p Peer) (run report.Run) {
	run = report.Run{Case: c.ID, Round: round, Peer: p.Name}
	port := freePort()
	srv, err := h.startServer(p, port)
	if err != nil {
		run.Err = "server: " + err.Error()
		return run
	}
	defer srv.kill()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if c.Kind == "idle" {
		h.runIdle(c, srv, addr, &run)
	} else {
		h.runLoad(c, srv, addr, &run)
	}
	if run.OK && !srv.alive() {
		run.OK, run.Err = false, "server died: "+strings.TrimSpace(srv.stderr.String())
	}
	return run
}

func (h *harness) runLoad(c report.Case, srv *server, addr string, run *report.Run) {
	argv := h.pinned(1, h.loadgenArgs(c, addr))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		run.Err = err.Error()
		return
	}
	if err := cmd.Start(); err != nil {
		run.Err = "loadgen: " + err.Error()
		return
	}
	timer := time.AfterFunc(h.warmup+h.duration+90*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	var cpu0, cpu1 int64 = -1, -1
	var st0, st1 sysSnap
	var last string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch line {
		case "measure-start":
			cpu0, st0 = h.procCPU(srv.pid), snapshot()
		case "measure-end":
			cpu1, st1 = h.procCPU(srv.pid), snapshot()
		default:
			last = line
		}
	}
	werr := cmd.Wait()
	if err := json.Unmarshal([]byte(last), &run.Loadgen); err != nil {
		run.Err = fmt.Sprintf("loadgen output %q: %v; %s", last, err, strings.TrimSpace(stderr.String()))
		return
	}
	if werr != nil || run.Loadgen.Error != "" {
		run.Err = fmt.Sprintf("loadgen: %v %s", werr, run.Loadgen.Error)
		return
	}
	if cpu0 < 0 || cpu1 < 0 || run.Loadgen.Messages == 0 {
		run.Err = "no measured window (server gone or no messages)"
		return
	}
	run.ServerCPUNs = cpu1 - cpu0
	run.Units = run.Loadgen.Messages
	run.CPUPerUnit = float64(run.ServerCPUNs) / float64(run.Units)
	h.judge(run, st0, st1, run.ServerCPUNs, run.Loadgen.CPUNs)
	run.OK = true
}

func (h *harness) runIdle(c report.Case, srv *server, addr string, run *report.Run) {
	time.Sleep(300 * time.Millisecond)
	if err := warmUp(addr, c.Size); err != nil {
		run.Err = "warm-up connection: " + err.Error()
		return
	}
	time.Sleep(300 * time.Millisecond)
	st0 := snapshot()
	run.RSSBeforeKiB = rssKiB(srv.pid)
	argv := h.pinned(1, h.loadgenArgs(c, addr))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 8 << 10}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		run.Err = "loadgen: " + err.Error()
		return
	}
	timer := time.AfterFunc(120*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last string
	held := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "held ") {
			held = true
			time.Sleep(time.Second) // let the server settle (GC, lazy frees)
			run.RSSAfterKiB = rssKiB(srv.pid)
			run.ServerFDs = countFDs(srv.pid)
			run.ClientFDs = countFDs(cmd.Process.Pid)
			_ = stdin.Close()
			continue
		}
		last = line
	}
	werr := cmd.Wait()
	st1 := snapshot()
	if err := json.Unmarshal([]byte(last), &run.Loadgen); err != nil {
		run.Err = fmt.Sprintf("loadgen output %q: %v; %s", last, err, strings.TrimSpace(stderr.String()))
		return
	}
	if !held || werr != nil || run.Loadgen.Error != "" {
		run.Err = fmt.Sprintf("loadgen: %v %s", werr, run.Loadgen.Error)
		return
	}
	if run.RSSBeforeKiB <= 0 || run.RSSAfterKiB <= 0 {
		run.Err = "could not read server VmRSS"
		return
	}
	run.BytesPerConn = float64(run.RSSAfterKiB-run.RSSBeforeKiB) * 1024 / float64(c.Conns)
	h.judge(run, st0, st1, 0, 0) // other load is not judged: server/loadgen CPU not sampled here
	// Connection set-up may retransmit SYNs; that does not change memory.
	if run.Retrans > 0 && run.StealPct <= report.DisturbedSteal {
		run.Disturbed, run.Why = false, ""
	}
	run.OK = true
}

// warmUp makes one connection echo size bytes and close before the idle
// case's first RSS reading, so that the code and data pages a server's
// first connection faults in (a one-time cost, larger for a bigger binary)
// are not charged to the connections held afterwards.
func warmUp(addr string, size int) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	msg := bytes.Repeat([]byte{'w'}, size)
	if _, err := conn.Write(msg); err != nil {
		return err
	}
	_, err = io.ReadFull(conn, msg)
	return err
}

func (h *harness) report(ci, nc int, c report.Case, r, rounds int, run report.Run) {
	prefix := fmt.Sprintf("[%3d/%d %s] case %d/%d %-19s round %d/%d %-8s", h.doneRuns, h.totalRun,
		time.Since(h.start).Round(time.Second), ci+1, nc, c.ID, r, rounds, run.Peer)
	if !run.OK {
		progress("%s FAILED: %s", prefix, run.Err)
		return
	}
	flag := ""
	if run.Disturbed {
		flag = "  DISTURBED (" + run.Why + ")"
	}
	if c.Kind == "idle" {
		progress("%s %6.0f B/conn  (RSS %d -> %d KiB, fds server %d client %d) steal %.1f%%%s", prefix,
			run.BytesPerConn, run.RSSBeforeKiB, run.RSSAfterKiB, run.ServerFDs, run.ClientFDs, run.StealPct, flag)
		return
	}
	lg := run.Loadgen
	progress("%s %6.0f ns/%s  %9.0f %s/s  p99 %7.0f µs  loadgen busy %3.0f%%  steal %4.1f%%  other %4.1f%%%s", prefix,
		run.CPUPerUnit, c.Unit(), lg.MsgsPerS, c.Unit(), float64(lg.P99Ns)/1e3, lg.Busy*100, run.StealPct, run.OtherPct, flag)
}

func (h *harness) write() {
	if err := os.MkdirAll(h.outDir, 0o755); err != nil {
		warnLoud("cannot create %s: %v", h.outDir, err)
		return
	}
	for _, c := range h.res.Cases {
		svg := h.res.CaseChart(c, h.res.Summarize(c))
		if err := os.WriteFile(filepath.Join(h.outDir, report.ChartFile(c)), []byte(svg), 0o644); err != nil {
			warnLoud("%v", err)
		}
	}
	if b, err := json.MarshalIndent(h.res, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(h.outDir, "results.json"), append(b, '\n'), 0o644)
	}
	// The hand-written analysis lives beside the harness (the report is
	// regenerated on every run).
	if a, err := os.ReadFile("analysis.md"); err == nil {
		h.res.Analysis = string(a)
	}
	_ = os.WriteFile(filepath.Join(h.outDir, "README.md"), []byte(h.res.Markdown()), 0o644)
}

func (h *harness) printSummary() {
	for _, c := range h.res.Cases {
		head := "server CPU ns/" + c.Unit()
		if c.Kind == "idle" {
			head = "RSS bytes/conn"
		}
		fmt.Fprintf(os.Stderr, "\n%s\n  %-8s %-26s %-22s %-10s %-10s %s\n", c.Title, "peer", head+" med [min-max]", "x C median [min-max]", "x C-uring", "x gnet", "msgs/s")
		for _, ps := range h.res.Summarize(c) {
			if !ps.Built {
				fmt.Fprintf(os.Stderr, "  %-8s not built\n", ps.Peer)
				continue
			}
			vsC, vsU, vsG := "n/a", "n/a", "n/a"
			if ps.VsC.Valid() {
				vsC = fmt.Sprintf("%.2f [%.2f-%.2f]", ps.VsC.Median, ps.VsC.Min, ps.VsC.Max)
			}
			if ps.VsURing.Valid() {
				vsU = fmt.Sprintf("%.2f", ps.VsURing.Median)
			}
			if ps.VsGnet.Valid() {
				vsG = fmt.Sprintf("%.2f", ps.VsGnet.Median)
			}
			fmt.Fprintf(os.Stderr, "  %-8s %-26s %-22s %-10s %-10s %.0f\n", ps.Peer,
				fmt.Sprintf("%.0f [%.0f-%.0f]", ps.Headline.Median, ps.Headline.Min, ps.Headline.Max),
				vsC, vsU, vsG, ps.MsgsPerS.Median)
		}
	}
}

// procCPU returns the process's user+sys time in ns from /proc/PID/stat, or -1.
func (h *harness) procCPU(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	// after ")": state(3) ppid(4) ... utime(14) stime(15) => indices 11, 12
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return (ut + st) * (1e9 / h.clkTck)
}

// sysSnap is a machine-wide snapshot of the counters a run is judged by.
type sysSnap struct {
	total, busy, steal uint64 // /proc/stat "cpu" line, clock ticks
	retrans, listenOvf uint64 // /proc/net/snmp Tcp RetransSegs, /proc/net/netstat TcpExt ListenOverflows
	drops              uint64 // /proc/net/softnet_stat column 2, all CPUs
}

func snapshot() sysSnap {
	var s sysSnap
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		// cpu user nice system idle iowait irq softirq steal guest guest_nice
		for i := 1; i < len(f) && i <= 8; i++ {
			v, _ := strconv.ParseUint(f[i], 10, 64)
			s.total += v
			switch i {
			case 1, 2, 3, 6, 7:
				s.busy += v
			case 8:
				s.steal = v
			}
		}
	}
	s.retrans = netCounter("/proc/net/snmp", "Tcp:", "RetransSegs")
	s.listenOvf = netCounter("/proc/net/netstat", "TcpExt:", "ListenOverflows")
	if b, err := os.ReadFile("/proc/net/softnet_stat"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 {
				v, _ := strconv.ParseUint(f[1], 16, 64)
				s.drops += v
			}
		}
	}
	return s
}

// netCounter reads one named counter from a /proc/net file made of
// header/value line pairs.
func netCounter(path, prefix, name string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], prefix) || !strings.HasPrefix(lines[i+1], prefix) {
			continue
		}
		h, v := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j := range h {
			if h[j] == name && j < len(v) {
				n, _ := strconv.ParseUint(v[j], 10, 64)
				return n
			}
		}
		i++
	}
	return 0
}

func pct(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// judge fills the run's machine-wide figures from two snapshots; serverNs
// and loadgenNs are the CPU time the benchmark's own processes used.
func (h *harness) judge(run *report.Run, a, b sysSnap, serverNs, loadgenNs int64) {
	dt := b.total - a.total
	run.StealPct = pct(b.steal-a.steal, dt)
	tickNs := 1e9 / float64(h.clkTck)
	other := float64(b.busy-a.busy)*tickNs - float64(serverNs) - float64(loadgenNs)
	if dt > 0 && other > 0 {
		run.OtherPct = other / (float64(dt) * tickNs) * 100
	}
	run.Retrans = b.retrans - a.retrans
	run.Drops = b.drops - a.drops
	run.ListenOvf = b.listenOvf - a.listenOvf
	var why []string
	if run.StealPct > report.DisturbedSteal {
		why = append(why, fmt.Sprintf("steal %.0f%%", run.StealPct))
	}
	if run.Retrans > 0 {
		why = append(why, fmt.Sprintf("%d retrans", run.Retrans))
	}
	if serverNs > 0 && run.OtherPct > report.DisturbedOther {
		why = append(why, fmt.Sprintf("other load %.0f%%", run.OtherPct))
	}
	run.Disturbed = len(why) > 0
	run.Why = strings.Join(why, ", ")
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return -1
}

func countFDs(pid int) int {
	e, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(e)
}

func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}

func checkPinning() bool {
	if runtime.NumCPU() < 2 {
		warnLoud("fewer than 2 CPUs: server and load generator will not be pinned apart")
		return false
	}
	if err := exec.Command("taskset", "-c", "1", "true").Run(); err != nil {
		warnLoud("taskset unavailable (%v): running unpinned", err)
		return false
	}
	return true
}

func machine(pin bool) report.Machine {
	m := report.Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Gnet: "v2.10.0"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, v, _ := strings.Cut(l, ":")
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			m.MemGiB = fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(out))
	} else {
		m.Node = "not found"
	}
	if out, err := exec.Command("cc", "--version").Output(); err == nil {
		m.CC, _, _ = strings.Cut(string(out), "\n")
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.NoFile = fmt.Sprintf("%d soft / %d hard", rl.Cur, rl.Max)
	}
	if pin {
		m.Pinning = "server on CPU 0, load generator on CPU 1 (taskset)"
	} else {
		m.Pinning = "NOT pinned (taskset or a second CPU missing)"
	}
	return m
}

func sh(cmdline string) (string, error) {
	f := strings.Fields(cmdline)
	out, err := exec.Command(f[0], f[1:]...).CombinedOutput()
	return string(out), err
}

func firstLine(out string, err error) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return err.Error()
	}
	l, _, _ := strings.Cut(out, "\n")
	return l
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
}

func warnLoud(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	bar := strings.Repeat("!", 72)
	fmt.Fprintf(os.Stderr, "%s\n!! WARNING: %s\n%s\n", bar, msg, bar)
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p
		if len(q) > l.n {
			q = q[:l.n]
		}
		l.n -= len(q)
		_, _ = l.w.Write(q)
	}
	return len(p), nil
}
