//go:build linux

// Command emfilecheck checks that an echo server survives running out of
// file descriptors at accept, as Node's does.
//
// It builds REPO/examples/echo (the echo server from Node's
// net.createServer documentation, whose server 'error' handler exits as
// Node's `throw err` would), starts it with RLIMIT_NOFILE set to -nofile
// (soft and hard) on a free loopback port, opens -clients connections to
// it at once and holds them for -hold, counting the clients that were
// greeted, shed (closed without a greeting), still pending, or refused.
// Then it closes them and checks that the server is alive and that a fresh
// client is greeted and gets "ping" echoed. With -node it does the same
// with Node's version of the server. One summary line per server:
//
//	go run ./cmd/emfilecheck -repo /path/to/old/checkout -node
//	go run ./cmd/emfilecheck -repo ..
//
// Everything is on 127.0.0.1; every wait is bounded, the run stops by
// itself within -timeout, and the servers are killed at the end.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// reexecEnv marks a re-exec of this binary that sets RLIMIT_NOFILE and
// execs its arguments; used when prlimit(1) is not installed.
const reexecEnv = "EMFILECHECK_NOFILE"

const greeting = "hello\r\n"

// nodeEcho is Node's echo server from the net.createServer documentation,
// with the same per-socket error logging as examples/echo, and a server
// 'error' handler that throws.
const nodeEcho = `'use strict';
const net = require('net');
const port = Number(process.argv[2]);
const server = net.createServer((c) => {
  console.log('client connected');
  c.on('end', () => console.log('client disconnected'));
  c.on('error', (e) => console.error(String(e)));
  c.write('hello\r\n');
  c.pipe(c);
});
server.on('error', (e) => { throw e; });
server.listen(port, '127.0.0.1', () => console.log('server bound'));
`

func main() {
	if v := os.Getenv(reexecEnv); v != "" {
		reexec(v)
		return
	}
	repo := flag.String("repo", "..", "netloop checkout whose examples/echo is checked")
	clients := flag.Int("clients", 100, "clients opened at once")
	nofile := flag.Int("nofile", 64, "RLIMIT_NOFILE (soft and hard) of the server")
	hold := flag.Duration("hold", 2*time.Second, "how long the clients are held open")
	withNode := flag.Bool("node", false, "also check Node's echo server, if node is on PATH")
	timeout := flag.Duration("timeout", 60*time.Second, "the whole run stops after this")
	flag.Parse()
	if *clients < 1 || *clients > 10000 || *nofile < 8 || *hold <= 0 || *hold > 30*time.Second {
		fmt.Fprintln(os.Stderr, "emfilecheck: want 1 <= -clients <= 10000, -nofile >= 8, 0 < -hold <= 30s")
		os.Exit(2)
	}
	dir, err := filepath.Abs(*repo)
	if err != nil {
		fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp, err := os.MkdirTemp("", "emfilecheck-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)

	cfg := config{clients: *clients, nofile: *nofile, hold: *hold, tmp: tmp}
	code := 0

	bin := filepath.Join(tmp, "echo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/echo")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "emfilecheck: go build ./examples/echo in %s: %v\n%s", dir, err, out)
		os.Exit(1)
	}
	r := check(ctx, cfg, "netloop", []string{bin})
	fmt.Printf("netloop (%s): %s\n", dir, r)
	if !r.ok() {
		code = 1
	}

	if *withNode {
		node, err := exec.LookPath("node")
		if err != nil {
			fmt.Println("node: skipped (node not on PATH)")
		} else {
			js := filepath.Join(tmp, "echo.js")
			if err := os.WriteFile(js, []byte(nodeEcho), 0o644); err != nil {
				fatal(err)
			}
			r := check(ctx, cfg, "node", []string{node, js})
			fmt.Printf("node (%s): %s\n", nodeVersion(ctx, node), r)
			if !r.ok() {
				code = 1
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "emfilecheck: stopped:", context.Cause(ctx))
		code = 1
	}
	cancel()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "emfilecheck:", err)
	os.Exit(1)
}

type config struct {
	clients, nofile int
	hold            time.Duration
	tmp             string
}

type result struct {
	startErr      string // the server did not start or never accepted
	alive         bool
	servedAfter   bool
	servedNote    string // why the fresh client was not served, or which attempt was
	greeted       int    // got the greeting
	greetedLost   int    // of greeted: closed by the server before the hold ended
	shed          int    // closed without a greeting
	shedReset     int    // of shed: closed by a reset
	pending       int    // connected, neither greeted nor closed by the end of the hold
	connectFailed int
	exit          string // the server's exit status, "<none>" while it runs
	stderrLines   int
	stderrLast    string
}

func (r result) ok() bool { return r.startErr == "" && r.alive && r.servedAfter }

func (r result) String() string {
	if r.startErr != "" {
		s := "start_failed: " + r.startErr + " exit=" + r.exit
		if r.stderrLast != "" {
			s += fmt.Sprintf(" stderr_last=%q", r.stderrLast)
		}
		return s
	}
	s := fmt.Sprintf("alive=%t served_after=%t greeted=%d shed=%d connect_failed=%d exit=%s"+
		" | pending=%d greeted_then_dropped=%d shed_by_reset=%d stderr_lines=%d",
		r.alive, r.servedAfter, r.greeted, r.shed, r.connectFailed, r.exit,
		r.pending, r.greetedLost, r.shedReset, r.stderrLines)
	if r.servedNote != "" {
		s += " served_after_note=" + strconv.Quote(r.servedNote)
	}
	if r.stderrLast != "" {
		s += fmt.Sprintf(" stderr_last=%q", r.stderrLast)
	}
	return s
}

// server is a started server process and the state of its exit.
type server struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	exit   string        // set before done is closed
	errLog string
}

// start runs argv with RLIMIT_NOFILE set to nofile, in its own process
// group, stdout and stderr to files in tmp.
func start(cfg config, name string, argv []string) (*server, error) {
	var full []string
	p, err := exec.LookPath("prlimit")
	usePrlimit := err == nil
	if usePrlimit {
		n := strconv.Itoa(cfg.nofile)
		full = append([]string{p, "--nofile=" + n + ":" + n}, argv...)
	} else {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		full = append([]string{self}, argv...)
	}
	out, err := os.Create(filepath.Join(cfg.tmp, name+".out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	errLog := filepath.Join(cfg.tmp, name+".err")
	errf, err := os.Create(errLog)
	if err != nil {
		return nil, err
	}
	defer errf.Close()
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = out, errf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !usePrlimit {
		cmd.Env = append(os.Environ(), reexecEnv+"="+strconv.Itoa(cfg.nofile))
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan struct{}), exit: "<none>", errLog: errLog}
	go func() {
		err := cmd.Wait()
		if cmd.ProcessState != nil {
			s.exit = strconv.Quote(cmd.ProcessState.String())
		} else {
			s.exit = strconv.Quote(err.Error())
		}
		close(s.done)
	}()
	return s, nil
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// kill kills the server's process group and waits (bounded) for it.
func (s *server) kill() {
	if !s.exited() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}

func (s *server) stderr() (lines int, last string) {
	b, _ := os.ReadFile(s.errLog)
	b = bytes.TrimRight(b, "\n")
	if len(b) == 0 {
		return 0, ""
	}
	ls := strings.Split(string(b), "\n")
	return len(ls), ls[len(ls)-1]
}

func check(ctx context.Context, cfg config, name string, argv []string) (r result) {
	r.exit = "<none>"
	port, err := freePort()
	if err != nil {
		r.startErr = err.Error()
		return r
	}
	argv = append(argv, portArgs(name, port)...)
	s, err := start(cfg, name, argv)
	if err != nil {
		r.startErr = err.Error()
		return r
	}
	defer func() {
		r.stderrLines, r.stderrLast = s.stderr()
	}()
	defer s.kill()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	// Wait until it accepts: at most 10 s. The probe reads its greeting
	// before closing, so that its close is not a reset (the old
	// examples/echo has no socket 'error' listener and would exit at it).
	ready := false
	for i := 0; i < 200 && ctx.Err() == nil && !s.exited(); i++ {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(time.Second))
			readUntil(c, greeting)
			c.Close()
			ready = true
			break
		}
		sleep(ctx, 50*time.Millisecond)
	}
	if !ready {
		if s.exited() {
			r.exit = s.exit
			r.startErr = "the server exited before accepting"
		} else if ctx.Err() != nil {
			r.startErr = "the run stopped (-timeout or signal) before the server accepted"
		} else {
			r.startErr = "the server did not accept within 10s"
		}
		return r
	}
	sleep(ctx, 100*time.Millisecond) // let the probe's connection go

	// All clients at once; each is held until hold after its connect.
	type outcome struct {
		conn                           net.Conn
		failed, greeted, closed, reset bool
	}
	outs := make([]outcome, cfg.clients)
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := range outs {
		wg.Add(1)
		go func(o *outcome) {
			defer wg.Done()
			<-startGate
			d := net.Dialer{Timeout: 3 * time.Second}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				o.failed = true
				return
			}
			o.conn = c
			c.SetReadDeadline(time.Now().Add(cfg.hold))
			var got []byte
			buf := make([]byte, 256)
			for j := 0; j < 1000; j++ {
				n, err := c.Read(buf)
				if len(got) < 256 {
					got = append(got, buf[:n]...)
				}
				if !o.greeted && bytes.Contains(got, []byte(greeting)) {
					o.greeted = true
				}
				if err != nil {
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						o.closed = true
						o.reset = errors.Is(err, syscall.ECONNRESET)
					}
					return
				}
			}
		}(&outs[i])
	}
	close(startGate)
	wg.Wait()
	for _, o := range outs {
		switch {
		case o.failed:
			r.connectFailed++
		case o.greeted:
			r.greeted++
			if o.closed {
				r.greetedLost++
			}
		case o.closed:
			r.shed++
			if o.reset {
				r.shedReset++
			}
		default:
			r.pending++
		}
		if o.conn != nil {
			o.conn.Close()
		}
	}

	// Is it alive, and does it still serve?
	sleep(ctx, 500*time.Millisecond)
	r.alive = !s.exited()
	if r.alive {
		for attempt := 1; attempt <= 3 && ctx.Err() == nil; attempt++ {
			err := serveOne(addr)
			if err == nil {
				r.servedAfter = true
				r.servedNote = ""
				if attempt > 1 {
					r.servedNote = fmt.Sprintf("served at attempt %d", attempt)
				}
				break
			}
			r.servedNote = fmt.Sprintf("attempt %d: %v", attempt, err)
			if s.exited() {
				break
			}
			sleep(ctx, 300*time.Millisecond)
		}
		if !r.servedAfter && ctx.Err() != nil {
			r.servedNote += " (the run stopped: -timeout or signal)"
		}
		r.alive = !s.exited()
	}
	if s.exited() {
		r.exit = s.exit
	}
	return r
}

// serveOne checks that a fresh client is greeted and gets "ping" echoed.
func serveOne(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if err := readUntil(c, greeting); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	if err := readUntil(c, "ping"); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	return nil
}

func readUntil(c net.Conn, want string) error {
	var got []byte
	buf := make([]byte, 256)
	for i := 0; i < 100; i++ {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if bytes.Contains(got, []byte(want)) {
			return nil
		}
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("closed after %q", got)
			}
			return err
		}
	}
	return fmt.Errorf("no %q in %q", want, got)
}

func portArgs(name string, port int) []string {
	if name == "node" {
		return []string{strconv.Itoa(port)}
	}
	return []string{"-port", strconv.Itoa(port)}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func nodeVersion(ctx context.Context, node string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return "node"
	}
	return "node " + strings.TrimSpace(string(out))
}

// reexec sets RLIMIT_NOFILE (soft and hard) to v and execs the arguments,
// as prlimit --nofile=v:v does.
func reexec(v string) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err == nil {
		err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
	}
	if err == nil && len(os.Args) < 2 {
		err = errors.New("nothing to exec")
	}
	if err == nil {
		env := make([]string, 0, len(os.Environ()))
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, reexecEnv+"=") {
				env = append(env, e)
			}
		}
		err = syscall.Exec(os.Args[1], os.Args[1:], env)
	}
	fmt.Fprintln(os.Stderr, "emfilecheck re-exec:", err)
	os.Exit(127)
}
