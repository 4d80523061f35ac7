//go:build windows

package poller_test

import (
	"errors"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/poller"
)

var (
	ws2             = windows.NewLazySystemDLL("ws2_32.dll")
	procIoctlsocket = ws2.NewProc("ioctlsocket")
	procAccept      = ws2.NewProc("accept")
	procRecv        = ws2.NewProc("recv")
	procSend        = ws2.NewProc("send")
)

const fionbio = 0x8004667e

func nonblock(t *testing.T, s windows.Handle) {
	t.Helper()
	on := uint32(1)
	if r, _, err := procIoctlsocket.Call(uintptr(s), fionbio, uintptr(unsafe.Pointer(&on))); r != 0 {
		t.Fatalf("ioctlsocket: %v", err)
	}
}

func socket(t *testing.T) windows.Handle {
	t.Helper()
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	nonblock(t, s)
	t.Cleanup(func() { windows.Closesocket(s) })
	return s
}

// listener returns a non-blocking listening socket on 127.0.0.1 and its
// port.
func listener(t *testing.T) (windows.Handle, int) {
	t.Helper()
	s := socket(t)
	if err := windows.Bind(s, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := windows.Listen(s, 16); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sa, err := windows.Getsockname(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, sa.(*windows.SockaddrInet4).Port
}

// connect starts a non-blocking connect to port.
func connect(t *testing.T, port int) windows.Handle {
	t.Helper()
	s := socket(t)
	err := windows.Connect(s, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port})
	if err != nil && !errors.Is(err, windows.WSAEWOULDBLOCK) {
		t.Fatalf("connect: %v", err)
	}
	return s
}

func accept(t *testing.T, l windows.Handle) windows.Handle {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, _, err := procAccept.Call(uintptr(l), 0, 0)
		if windows.Handle(r) != windows.InvalidHandle {
			s := windows.Handle(r)
			nonblock(t, s)
			t.Cleanup(func() { windows.Closesocket(s) })
			return s
		}
		if !errors.Is(err, windows.WSAEWOULDBLOCK) || time.Now().After(deadline) {
			t.Fatalf("accept: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func send(t *testing.T, s windows.Handle, b []byte) {
	t.Helper()
	if r, _, err := procSend.Call(uintptr(s), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0); int32(r) != int32(len(b)) {
		t.Fatalf("send: %v", err)
	}
}

func recv(s windows.Handle, b []byte) (int, error) {
	r, _, err := procRecv.Call(uintptr(s), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if int32(r) < 0 {
		return 0, err
	}
	return int(r), nil
}

func newPoller(t *testing.T) *poller.Poller {
	t.Helper()
	p, err := poller.New()
	if err != nil {
		t.Fatalf("poller.New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// waitFor waits until an event for tok arrives (up to 5 s) and returns
// its bits.
func waitFor(t *testing.T, p *poller.Poller, tok poller.Token) poller.Interest {
	t.Helper()
	evs := make([]poller.Event, 64)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, err := p.Wait(evs, 100)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		for _, e := range evs[:n] {
			if e.Token == tok {
				return e.Events
			}
		}
	}
	t.Fatalf("no event for token %d", tok)
	return 0
}

// quiet checks that no event for tok arrives within d.
func quiet(t *testing.T, p *poller.Poller, tok poller.Token, d time.Duration) {
	t.Helper()
	evs := make([]poller.Event, 64)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		n, err := p.Wait(evs, 20)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		for _, e := range evs[:n] {
			if e.Token == tok {
				t.Fatalf("unexpected event %v for token %d", e.Events, tok)
			}
		}
	}
}

// The life of a connection: a listener is readable with a pending
// connection, the client writable once connected, the accepted socket
// readable after the peer sends and again and again (level-triggered)
// until drained, then quiet; the peer's shutdown is Read|RdHup.
func TestPollerConnectionLifecycle(t *testing.T) {
	p := newPoller(t)
	l, port := listener(t)
	if err := p.Add(int(l), 1, poller.Read); err != nil {
		t.Fatalf("Add listener: %v", err)
	}
	c := connect(t, port)
	if err := p.Add(int(c), 2, poller.Write); err != nil {
		t.Fatalf("Add client: %v", err)
	}
	if ev := waitFor(t, p, 1); ev&poller.Read == 0 {
		t.Fatalf("listener events %v, want Read", ev)
	}
	s := accept(t, l)
	if ev := waitFor(t, p, 2); ev&poller.Write == 0 {
		t.Fatalf("client events %v, want Write", ev)
	}
	if err := p.Add(int(s), 3, poller.Read); err != nil {
		t.Fatalf("Add accepted: %v", err)
	}
	if err := p.Modify(int(c), 2, 0); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	send(t, c, []byte("hello"))
	for i := 0; i < 3; i++ { // level-triggered: reported while unread
		if ev := waitFor(t, p, 3); ev&poller.Read == 0 {
			t.Fatalf("accepted events %v, want Read", ev)
		}
	}
	buf := make([]byte, 64)
	if n, err := recv(s, buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("recv = %q, %v", buf[:n], err)
	}
	quiet(t, p, 3, 200*time.Millisecond)

	if err := windows.Shutdown(c, windows.SHUT_WR); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if ev := waitFor(t, p, 3); ev&poller.Read == 0 || ev&poller.RdHup == 0 {
		t.Fatalf("after the peer's shutdown: %v, want Read|RdHup", ev)
	}
	if n, err := recv(s, buf); err != nil || n != 0 {
		t.Fatalf("recv after shutdown = %d, %v; want EOF", n, err)
	}
}

// Modify switches interest and token; Delete ends the reports.
func TestPollerModifyAndDelete(t *testing.T) {
	p := newPoller(t)
	l, port := listener(t)
	c := connect(t, port)
	s := accept(t, l)
	if err := p.Add(int(s), 10, poller.Read); err != nil {
		t.Fatal(err)
	}
	quiet(t, p, 10, 100*time.Millisecond) // nothing to read
	if err := p.Modify(int(s), 11, poller.Read|poller.Write); err != nil {
		t.Fatal(err)
	}
	if ev := waitFor(t, p, 11); ev&poller.Write == 0 {
		t.Fatalf("after Modify: %v, want Write under the new token", ev)
	}
	if err := p.Delete(int(s)); err != nil {
		t.Fatal(err)
	}
	send(t, c, []byte("x"))
	quiet(t, p, 11, 200*time.Millisecond)
	if err := p.Delete(int(s)); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("second Delete = %v, want ENOENT", err)
	}
	if err := p.Add(int(s), 12, poller.Read); err != nil {
		t.Fatalf("Add again: %v", err)
	}
	if err := p.Add(int(s), 12, poller.Read); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("Add twice = %v, want EEXIST", err)
	}
	if ev := waitFor(t, p, 12); ev&poller.Read == 0 {
		t.Fatalf("re-added: %v, want Read", ev)
	}
	if err := p.Add(int(c), poller.ReservedToken, poller.Read); !errors.Is(err, poller.ErrReservedToken) {
		t.Fatalf("reserved token: %v", err)
	}
}

// A non-blocking connect to a port nobody listens on reports Err.
func TestPollerConnectFailure(t *testing.T) {
	p := newPoller(t)
	l, port := listener(t)
	windows.Closesocket(l) // nobody listens there now
	c := connect(t, port)
	if err := p.Add(int(c), 5, poller.Write); err != nil {
		t.Fatal(err)
	}
	if ev := waitFor(t, p, 5); ev&poller.Err == 0 {
		t.Fatalf("refused connect: %v, want Err", ev)
	}
	v, err := windows.GetsockoptInt(c, windows.SOL_SOCKET, 0x1007 /* SO_ERROR */)
	if err != nil || v != int(windows.WSAECONNREFUSED) {
		t.Fatalf("SO_ERROR = %d, %v; want WSAECONNREFUSED", v, err)
	}
}

// Wake ends a blocking Wait from another goroutine, coalesces, and is
// not reported as an event; a zero timeout returns at once.
func TestPollerWake(t *testing.T) {
	p := newPoller(t)
	evs := make([]poller.Event, 8)
	start := time.Now()
	if n, err := p.Wait(evs, 0); n != 0 || err != nil {
		t.Fatalf("Wait(0) = %d, %v", n, err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Wait(0) blocked")
	}
	woke := make(chan struct{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		for i := 0; i < 10; i++ {
			p.Wake()
		}
		close(woke)
	}()
	done := make(chan int, 1)
	go func() {
		n, _ := p.Wait(evs, -1)
		done <- n
	}()
	select {
	case n := <-done:
		if n != 0 {
			t.Fatalf("woken Wait returned %d events", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wake did not end Wait")
	}
	// Once all ten are sent, at most one is still pending (they
	// coalesce): one more empty return at most, then quiet.
	<-woke
	p.Wait(evs, 0)
	start = time.Now()
	if n, _ := p.Wait(evs, 100); n != 0 {
		t.Fatalf("extra events: %d", n)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("a coalesced Wake woke a second Wait")
	}
}

// Many registrations in one Wait: 64 connections that each received a
// byte are all reported.
func TestPollerManySockets(t *testing.T) {
	p := newPoller(t)
	l, port := listener(t)
	const n = 64
	seen := map[poller.Token]bool{}
	for i := 0; i < n; i++ {
		c := connect(t, port)
		s := accept(t, l)
		if err := p.Add(int(s), poller.Token(100+i), poller.Read); err != nil {
			t.Fatal(err)
		}
		send(t, c, []byte{byte(i)})
	}
	evs := make([]poller.Event, 256)
	deadline := time.Now().Add(5 * time.Second)
	for len(seen) < n && time.Now().Before(deadline) {
		k, err := p.Wait(evs, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs[:k] {
			if e.Events&poller.Read != 0 {
				seen[e.Token] = true
			}
		}
	}
	if len(seen) != n {
		t.Fatalf("%d of %d sockets reported readable", len(seen), n)
	}
}

// After Close every method says ErrClosed.
func TestPollerClosed(t *testing.T) {
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	l, _ := listener(t)
	if err := p.Add(int(l), 1, poller.Read); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	evs := make([]poller.Event, 1)
	if _, err := p.Wait(evs, 0); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("Wait after Close: %v", err)
	}
	if err := p.Add(int(l), 2, poller.Read); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
	if err := p.Wake(); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("Wake after Close: %v", err)
	}
	if err := p.Close(); !errors.Is(err, poller.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
