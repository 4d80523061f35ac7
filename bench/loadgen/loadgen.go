// Package loadgen is the load generator of the netloop benchmark: one OS
// thread, raw epoll through golang.org/x/sys/unix, non-blocking sockets,
// preallocated buffers and no allocation per message. Every echoed byte is
// checked against a per-connection sequence pattern.
//
// Modes:
//   - "echo": N connections, S-byte messages, D in flight per connection
//     (D=1 is ping-pong), warm-up then a measured window of T.
//   - "churn": connect, echo one S-byte message, close, repeat, with at most
//     D connections in flight, warm-up then a measured window of T.
//   - "idle": open N connections that each echo one S-byte message, print
//     "held N" and keep them open until stdin closes or a signal arrives.
//
// In echo and churn modes the generator prints "measure-start" and
// "measure-end" on stdout at the edges of the measured window (so a harness
// can sample the server's CPU time there), then one JSON line of Result.
package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Config describes one load-generator run.
type Config struct {
	Mode     string        // "echo", "churn" or "idle"
	Addr     string        // server address, IPv4 "127.0.0.1:port"
	Conns    int           // connections (echo, idle)
	Size     int           // message size in bytes
	Depth    int           // messages in flight per connection (echo); connections in flight (churn, idle connect)
	Warmup   time.Duration // before the measured window
	Duration time.Duration // measured window
	// Out receives the "measure-start"/"measure-end"/"held" lines; nil = os.Stdout.
	Out io.Writer
	// Hold, in idle mode, returns when the connections may be closed. nil =
	// wait for stdin EOF.
	Hold func()
}

// Result is what one run reports (one JSON line).
type Result struct {
	Mode          string  `json:"mode"`
	Conns         int     `json:"conns"`
	Size          int     `json:"size"`
	Depth         int     `json:"depth"`
	WarmupS       float64 `json:"warmup_s"`
	DurationS     float64 `json:"duration_s"`
	WallNs        int64   `json:"wall_ns"`     // measured window, wall clock
	Messages      uint64  `json:"messages"`    // echoes completed in the window (churn: connections)
	Bytes         uint64  `json:"bytes"`       // echoed bytes received in the window
	MsgsPerS      float64 `json:"msgs_per_s"`  // Messages / wall
	MBPerS        float64 `json:"mb_per_s"`    // Bytes / wall / 1e6
	P50Ns         uint64  `json:"p50_ns"`      // latency: send scheduled -> echo complete (churn: connect -> echo)
	P99Ns         uint64  `json:"p99_ns"`      //
	P999Ns        uint64  `json:"p999_ns"`     //
	MaxNs         uint64  `json:"max_ns"`      //
	CPUNs         int64   `json:"cpu_ns"`      // loadgen user+sys over the window (getrusage)
	Busy          float64 `json:"busy"`        // CPUNs / WallNs
	Allocs        uint64  `json:"allocs"`      // heap allocations during the window
	TotalMessages uint64  `json:"total_msgs"`  // including warm-up
	ConnectErrors uint64  `json:"connect_err"` // failed connects (churn/idle)
	Held          int     `json:"held"`        // idle: connections held
	Error         string  `json:"error,omitempty"`
}

const (
	patPeriod = 251 // prime, so the pattern never lines up with power-of-two sizes
	ioChunk   = 64 << 10
	maxEvents = 512
)

// pattern holds the byte sequence every stream follows: the byte at stream
// offset o of a stream with seed s is pattern[(o+s)%patPeriod].
var pattern = func() []byte {
	p := make([]byte, patPeriod+ioChunk+patPeriod)
	for i := range p {
		x := uint32(i%patPeriod) * 2654435761
		p[i] = byte(x>>24) ^ byte(x>>8)
	}
	return p
}()

// patAt returns n (<= ioChunk) pattern bytes for stream offset off, seed s.
func patAt(off uint64, seed uint64, n int) []byte {
	start := (off + seed) % patPeriod
	return pattern[start : start+uint64(n)]
}

type conn struct {
	fd      int
	seed    uint64
	sendOff uint64 // bytes written to the socket
	owed    int    // bytes scheduled but not yet written
	recvOff uint64 // bytes received and verified
	sent    uint64 // messages scheduled
	done    uint64 // messages fully echoed
	ts      []int64
	outArm  bool
	start   int64 // churn: connect time
}

type gen struct {
	cfg    Config
	out    io.Writer
	ep     int
	base   time.Time
	events []unix.EpollEvent
	rbuf   []byte
	conns  []conn
	hist   Histogram
	sa     unix.SockaddrInet4
	src    unix.SockaddrInet4
	err    error

	measuring bool
	stopping  bool
	msgs      uint64 // total echoes (or churned connections)
	bytes     uint64
	connErrs  uint64
	seedNext  uint64
}

func (g *gen) now() int64 { return int64(time.Since(g.base)) }

// Run executes one run and returns its result.
func Run(cfg Config) (res Result, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if cfg.Size <= 0 || cfg.Size > ioChunk {
		return res, fmt.Errorf("size must be in 1..%d", ioChunk)
	}
	if cfg.Depth <= 0 {
		cfg.Depth = 1
	}
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil || !ap.Addr().Is4() {
		return res, fmt.Errorf("addr %q: need IPv4 ip:port", cfg.Addr)
	}
	g := &gen{cfg: cfg, out: cfg.Out, base: time.Now()}
	if g.out == nil {
		g.out = os.Stdout
	}
	g.sa = unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	g.events = make([]unix.EpollEvent, maxEvents)
	g.rbuf = make([]byte, ioChunk)
	g.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return res, err
	}
	defer unix.Close(g.ep)
	res = Result{Mode: cfg.Mode, Conns: cfg.Conns, Size: cfg.Size, Depth: cfg.Depth,
		WarmupS: cfg.Warmup.Seconds(), DurationS: cfg.Duration.Seconds()}
	switch cfg.Mode {
	case "echo":
		err = g.runEcho(&res)
	case "churn":
		err = g.runChurn(&res)
	case "idle":
		err = g.runIdle(&res)
	default:
		err = fmt.Errorf("unknown mode %q", cfg.Mode)
	}
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

func (g *gen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

func (g *gen) setEvents(fd int, idx int, ev uint32, op int) error {
	e := unix.EpollEvent{Events: ev, Fd: int32(idx)}
	return unix.EpollCtl(g.ep, op, fd, &e)
}

// dial starts a non-blocking connect; churn binds to a rotating source
// address in 127.0.0.0/8 so that TIME_WAIT does not exhaust ephemeral ports.
func (g *gen) dial(rotate bool) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if rotate {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		g.seedNext++
		g.src.Addr = [4]byte{127, 0, byte(g.seedNext%64 + 1), byte(g.seedNext/64%250 + 2)}
		if err := unix.Bind(fd, &g.src); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	err = unix.Connect(fd, &g.sa)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// connectAll opens n connections, at most inflight at a time, and returns
// their descriptors once each is established.
func (g *gen) connectAll(n, inflight int) ([]int, error) {
	if inflight <= 0 {
		inflight = 128
	}
	fds := make([]int, 0, n)
	pending := 0
	started := 0
	deadline := time.Now().Add(60 * time.Second)
	for len(fds) < n {
		for pending < inflight && started < n {
			fd, err := g.dial(false)
			if err != nil {
				return fds, fmt.Errorf("connect #%d: %w", started, err)
			}
			if err := g.setEvents(fd, fd, unix.EPOLLOUT, unix.EPOLL_CTL_ADD); err != nil {
				return fds, err
			}
			pending++
			started++
		}
		if time.Now().After(deadline) {
			return fds, fmt.Errorf("connect: timed out with %d/%d established", len(fds), n)
		}
		k, err := unix.EpollWait(g.ep, g.events, 100)
		if err != nil && err != unix.EINTR {
			return fds, err
		}
		for i := 0; i < k; i++ {
			fd := int(g.events[i].Fd)
			soerr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			_ = unix.EpollCtl(g.ep, unix.EPOLL_CTL_DEL, fd, nil)
			pending--
			if soerr != 0 {
				unix.Close(fd)
				return fds, fmt.Errorf("connect #%d: %w", len(fds), unix.Errno(soerr))
			}
			fds = append(fds, fd)
		}
	}
	return fds, nil
}

func (g *gen) setupConns(fds []int, depth int) {
	g.conns = make([]conn, len(fds))
	ts := make([]int64, len(fds)*depth)
	for i, fd := range fds {
		g.conns[i] = conn{fd: fd, seed: uint64(i*37) % patPeriod, ts: ts[i*depth : (i+1)*depth : (i+1)*depth]}
	}
}

func (g *gen) closeAll() {
	for i := range g.conns {
		if g.conns[i].fd >= 0 {
			unix.Close(g.conns[i].fd)
			g.conns[i].fd = -1
		}
	}
}

// schedule queues k more messages on c, stamping their send time.
func (g *gen) schedule(c *conn, k int, now int64) {
	d := uint64(len(c.ts))
	for ; k > 0; k-- {
		c.ts[c.sent%d] = now
		c.sent++
		c.owed += g.cfg.Size
	}
}

// flush writes what c owes; on EAGAIN it arms EPOLLOUT.
func (g *gen) flush(c *conn, idx int) {
	for c.owed > 0 {
		n := c.owed
		if n > ioChunk {
			n = ioChunk
		}
		w, err := unix.Write(c.fd, patAt(c.sendOff, c.seed, n))
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				break
			}
			g.fail(fmt.Errorf("write: %w", err))
			return
		}
		c.sendOff += uint64(w)
		c.owed -= w
	}
	want := c.owed > 0
	if want != c.outArm {
		ev := uint32(unix.EPOLLIN)
		if want {
			ev |= unix.EPOLLOUT
		}
		if err := g.setEvents(c.fd, idx, ev, unix.EPOLL_CTL_MOD); err != nil {
			g.fail(err)
		}
		c.outArm = want
	}
}

var errMismatch = errors.New("echoed bytes differ from what was sent")

// readEcho reads what is available on c, verifies it and returns the number
// of messages that completed. It returns -1 on EOF.
func (g *gen) readEcho(c *conn, now int64, record bool) int {
	completed := 0
	for {
		n, err := unix.Read(c.fd, g.rbuf)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return completed
			}
			g.fail(fmt.Errorf("read: %w", err))
			return -1
		}
		if n == 0 {
			g.fail(errors.New("server closed the connection"))
			return -1
		}
		if c.recvOff+uint64(n) > c.sendOff {
			g.fail(fmt.Errorf("received %d bytes more than sent", c.recvOff+uint64(n)-c.sendOff))
			return -1
		}
		if !bytes.Equal(g.rbuf[:n], patAt(c.recvOff, c.seed, n)) {
			g.fail(errMismatch)
			return -1
		}
		c.recvOff += uint64(n)
		g.bytes += uint64(n)
		full := c.recvOff / uint64(g.cfg.Size)
		d := uint64(len(c.ts))
		for c.done < full {
			if record {
				g.hist.Record(uint64(now - c.ts[c.done%d]))
			}
			c.done++
			completed++
		}
		if n < len(g.rbuf) {
			return completed // short read: LT epoll reports the rest
		}
	}
}

type window struct {
	t0     time.Time
	ru0    unix.Rusage
	msgs0  uint64
	bytes0 uint64
	ms0    runtime.MemStats
}

func cpuNs(ru *unix.Rusage) int64 {
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func (g *gen) beginWindow(w *window) {
	g.hist.Reset()
	runtime.ReadMemStats(&w.ms0)
	_, _ = io.WriteString(g.out, "measure-start\n")
	_ = unix.Getrusage(unix.RUSAGE_SELF, &w.ru0)
	w.t0 = time.Now()
	w.msgs0, w.bytes0 = g.msgs, g.bytes
	g.measuring = true
}

func (g *gen) endWindow(w *window, res *Result) {
	wall := time.Since(w.t0)
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	g.measuring = false
	_, _ = io.WriteString(g.out, "measure-end\n")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.WallNs = int64(wall)
	res.Messages = g.msgs - w.msgs0
	res.Bytes = g.bytes - w.bytes0
	res.MsgsPerS = float64(res.Messages) / wall.Seconds()
	res.MBPerS = float64(res.Bytes) / wall.Seconds() / 1e6
	res.CPUNs = cpuNs(&ru) - cpuNs(&w.ru0)
	res.Busy = float64(res.CPUNs) / float64(wall)
	res.Allocs = ms.Mallocs - w.ms0.Mallocs
	res.P50Ns = g.hist.Percentile(0.50)
	res.P99Ns = g.hist.Percentile(0.99)
	res.P999Ns = g.hist.Percentile(0.999)
	res.MaxNs = g.hist.Max()
}

func (g *gen) runEcho(res *Result) error {
	fds, err := g.connectAll(g.cfg.Conns, 256)
	g.setupConns(fds, g.cfg.Depth)
	defer g.closeAll()
	if err != nil {
		return err
	}
	now := g.now()
	for i := range g.conns {
		c := &g.conns[i]
		if err := g.setEvents(c.fd, i, unix.EPOLLIN, unix.EPOLL_CTL_ADD); err != nil {
			return err
		}
		g.schedule(c, g.cfg.Depth, now)
		g.flush(c, i)
	}
	start := time.Now()
	warmEnd := start.Add(g.cfg.Warmup)
	end := warmEnd.Add(g.cfg.Duration)
	var w window
	for g.err == nil {
		k, err := unix.EpollWait(g.ep, g.events, 10)
		if err != nil && err != unix.EINTR {
			return err
		}
		now := g.now()
		for i := 0; i < k; i++ {
			ev := &g.events[i]
			idx := int(ev.Fd)
			c := &g.conns[idx]
			if ev.Events&unix.EPOLLOUT != 0 {
				g.flush(c, idx)
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				done := g.readEcho(c, now, g.measuring)
				if done < 0 {
					break
				}
				g.msgs += uint64(done)
				if done > 0 {
					g.schedule(c, done, now)
					g.flush(c, idx)
				}
			}
		}
		t := g.base.Add(time.Duration(now))
		if !g.measuring && w.t0.IsZero() && !t.Before(warmEnd) {
			g.beginWindow(&w)
		} else if g.measuring && !t.Before(end) {
			g.endWindow(&w, res)
			break
		}
	}
	res.TotalMessages = g.msgs
	return g.err
}

// churn slot states
const (
	slotIdle = iota
	slotConnecting
	slotEchoing
)

func (g *gen) runChurn(res *Result) error {
	inflight := g.cfg.Depth
	g.conns = make([]conn, inflight)
	state := make([]int, inflight)
	for i := range g.conns {
		g.conns[i] = conn{fd: -1, ts: make([]int64, 1)}
	}
	defer g.closeAll()
	start := time.Now()
	warmEnd := start.Add(g.cfg.Warmup)
	end := warmEnd.Add(g.cfg.Duration)
	var w window
	open := func(i int) {
		c := &g.conns[i]
		for attempt := 0; ; attempt++ {
			fd, err := g.dial(true)
			if err == nil {
				*c = conn{fd: fd, seed: g.seedNext % patPeriod, ts: c.ts, start: g.now()}
				if err := g.setEvents(fd, i, unix.EPOLLOUT, unix.EPOLL_CTL_ADD); err != nil {
					g.fail(err)
				}
				state[i] = slotConnecting
				return
			}
			g.connErrs++
			if attempt > 1000 {
				g.fail(fmt.Errorf("connect: %w", err))
				return
			}
		}
	}
	for i := range g.conns {
		open(i)
	}
	for g.err == nil {
		k, err := unix.EpollWait(g.ep, g.events, 10)
		if err != nil && err != unix.EINTR {
			return err
		}
		now := g.now()
		for j := 0; j < k && g.err == nil; j++ {
			ev := &g.events[j]
			i := int(ev.Fd)
			c := &g.conns[i]
			switch state[i] {
			case slotConnecting:
				// First writability: the handshake is done (or failed, in
				// which case the write fails).
				c.ts[0] = c.start
				c.sent = 1
				c.owed = g.cfg.Size
				w, err := unix.Write(c.fd, patAt(0, c.seed, g.cfg.Size))
				if err != nil || w != g.cfg.Size {
					g.connErrs++
					unix.Close(c.fd)
					c.fd = -1
					state[i] = slotIdle
					if !g.stopping {
						open(i)
					}
					continue
				}
				c.sendOff, c.owed = uint64(w), 0
				if err := g.setEvents(c.fd, i, unix.EPOLLIN, unix.EPOLL_CTL_MOD); err != nil {
					g.fail(err)
				}
				state[i] = slotEchoing
			case slotEchoing:
				done := g.readEcho(c, now, g.measuring)
				if done < 0 {
					break
				}
				if done > 0 {
					g.msgs++
					unix.Close(c.fd)
					c.fd = -1
					state[i] = slotIdle
					if !g.stopping {
						open(i)
					}
				}
			}
		}
		t := g.base.Add(time.Duration(now))
		if !g.measuring && w.t0.IsZero() && !t.Before(warmEnd) {
			g.beginWindow(&w)
		} else if g.measuring && !t.Before(end) {
			g.endWindow(&w, res)
			break
		}
	}
	res.TotalMessages = g.msgs
	res.ConnectErrors = g.connErrs
	return g.err
}

func (g *gen) runIdle(res *Result) error {
	fds, err := g.connectAll(g.cfg.Conns, g.cfg.Depth)
	g.setupConns(fds, 1)
	defer g.closeAll()
	if err != nil {
		return err
	}
	now := g.now()
	for i := range g.conns {
		c := &g.conns[i]
		if err := g.setEvents(c.fd, i, unix.EPOLLIN, unix.EPOLL_CTL_ADD); err != nil {
			return err
		}
		g.schedule(c, 1, now)
		g.flush(c, i)
	}
	deadline := time.Now().Add(60 * time.Second)
	for g.msgs < uint64(len(g.conns)) && g.err == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("idle: only %d/%d echoes after 60s", g.msgs, len(g.conns))
		}
		k, err := unix.EpollWait(g.ep, g.events, 100)
		if err != nil && err != unix.EINTR {
			return err
		}
		now := g.now()
		for i := 0; i < k; i++ {
			idx := int(g.events[i].Fd)
			c := &g.conns[idx]
			if g.events[i].Events&unix.EPOLLOUT != 0 {
				g.flush(c, idx)
			}
			if d := g.readEcho(c, now, true); d > 0 {
				g.msgs += uint64(d)
			}
		}
	}
	if g.err != nil {
		return g.err
	}
	res.Held = len(g.conns)
	res.Messages = g.msgs
	res.P50Ns = g.hist.Percentile(0.50)
	res.P99Ns = g.hist.Percentile(0.99)
	res.P999Ns = g.hist.Percentile(0.999)
	res.MaxNs = g.hist.Max()
	fmt.Fprintf(g.out, "held %d\n", len(g.conns))
	if g.cfg.Hold != nil {
		g.cfg.Hold()
	} else {
		_, _ = io.Copy(io.Discard, os.Stdin)
	}
	return nil
}
