//go:build linux

package socket_test

// Regression tests for defects found in review: a lookup (or abort) of an
// earlier connection landing on the Socket's next one, ResetAndDestroy
// losing queued write callbacks, and NoDelay lost on reconnect.

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

func rvLoop(t *testing.T) *loop.Loop {
	l, err := loop.New()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// guard stops the loop after d.
func rvGuard(l *loop.Loop, d time.Duration) *handle.Timer {
	g := handle.NewTimer(l)
	g.Start(d, 0, func() { l.Stop() })
	g.Unref()
	return g
}

func rvListen(t *testing.T, l *loop.Loop, onConn func(*socket.Socket)) (*server.Server, chan int) {
	srv := server.New(server.Options{Loop: l}, onConn)
	ch := make(chan int, 1)
	if err := srv.ListenHost(0, "127.0.0.1", 0, func() { ch <- srv.Address().Port }); err != nil {
		t.Fatal(err)
	}
	return srv, ch
}

func rvRunFor(l *loop.Loop, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		l.Run(loop.RunNoWait)
		time.Sleep(time.Millisecond)
	}
}

// Writes queued in the socket (corked, or made while connecting) never get
// their callbacks when ResetAndDestroy is used.
func TestReview_ResetAndDestroyLosesPendingWriteCallbacks(t *testing.T) {
	for _, mode := range []string{"corked", "connecting"} {
		t.Run(mode, func(t *testing.T) {
			l := rvLoop(t)
			var accepted []*socket.Socket
			srv, ch := rvListen(t, l, func(c *socket.Socket) { accepted = append(accepted, c) })
			for len(ch) == 0 {
				l.Run(loop.RunNoWait)
			}
			port := <-ch
			s, _ := socket.New(socket.Options{Loop: l})
			cbRuns := 0
			closed := false
			s.OnClose(func(bool) { closed = true })
			s.OnError(func(error) {})
			if mode == "corked" {
				s.ConnectTCP(port, "127.0.0.1", func() {
					s.Cork()
					s.Write([]byte("x"), func(error) { cbRuns++ })
					s.ResetAndDestroy()
				})
			} else {
				s.ConnectTCP(port, "127.0.0.1")
				s.Write([]byte("x"), func(error) { cbRuns++ })
				s.ResetAndDestroy() // waits for connect, then resets
			}
			rvRunFor(l, 200*time.Millisecond)
			t.Logf("closed=%v write callback runs=%d writableLength=%d", closed, cbRuns, s.WritableLength())
			if cbRuns != 1 {
				t.Errorf("write callback ran %d times", cbRuns)
			}
			for _, c := range accepted {
				c.Destroy(nil)
			}
			srv.Close(nil)
			rvRunFor(l, 20*time.Millisecond)
			if err := l.Close(); err != nil {
				t.Errorf("loop.Close: %v", err)
			}
		})
	}
}

func rvNoDelayOf(port int) int {
	for fd := 3; fd < 4096; fd++ {
		sa, err := unix.Getsockname(fd)
		if err != nil {
			continue
		}
		if in4, ok := sa.(*unix.SockaddrInet4); ok && in4.Port == port {
			v, _ := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
			return v
		}
	}
	return -1
}

func TestReview_NoDelayLostOnReconnect(t *testing.T) {
	l := rvLoop(t)
	var accepted []*socket.Socket
	srv, ch := rvListen(t, l, func(c *socket.Socket) { accepted = append(accepted, c) })
	for len(ch) == 0 {
		l.Run(loop.RunNoWait)
	}
	port := <-ch
	s, _ := socket.New(socket.Options{Loop: l})
	s.SetNoDelay(true)
	var first, second int
	s.OnceConnect(func() {
		first = rvNoDelayOf(s.LocalPort())
		s.OnceClose(func(bool) {
			s.ConnectTCP(port, "127.0.0.1", func() { second = rvNoDelayOf(s.LocalPort()) })
		})
		s.Destroy(nil)
	})
	s.ConnectTCP(port, "127.0.0.1")
	rvRunFor(l, 200*time.Millisecond)
	t.Logf("TCP_NODELAY first connection=%d, after reconnect=%d", first, second)
	if first != second {
		t.Errorf("SetNoDelay(true) not re-applied on reconnect")
	}
	s.Destroy(nil)
	for _, c := range accepted {
		c.Destroy(nil)
	}
	srv.Close(nil)
	rvRunFor(l, 20*time.Millisecond)
	l.Close()
}

// A lookup from a destroyed connection attempt lands on the next attempt
// made by the same Socket after 'close'.
func TestReview_StaleLookupAfterReconnect(t *testing.T) {
	l := rvLoop(t)
	g := rvGuard(l, 500*time.Millisecond)
	var gotA, gotB int
	var accepted []*socket.Socket
	srvA, chA := rvListen(t, l, func(c *socket.Socket) { gotA++; accepted = append(accepted, c) })
	srvB, chB := rvListen(t, l, func(c *socket.Socket) { gotB++; accepted = append(accepted, c) })
	for len(chA) == 0 || len(chB) == 0 {
		l.Run(loop.RunOnce)
	}
	pA, pB := <-chA, <-chB
	release1 := make(chan struct{})
	slow1 := func(ctx context.Context, host string, fam int) ([]socket.LookupAddress, error) {
		<-release1 // a resolver that does not watch ctx (or a slow getaddrinfo)
		return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}}, nil
	}
	lookup2 := func(ctx context.Context, host string, fam int) ([]socket.LookupAddress, error) {
		close(release1)
		time.Sleep(200 * time.Millisecond)
		return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}}, nil
	}
	s, err := socket.New(socket.Options{Loop: l})
	if err != nil {
		t.Fatal(err)
	}
	connects := 0
	var errsSeen []error
	s.OnConnect(func() { connects++ })
	s.OnError(func(err error) { errsSeen = append(errsSeen, err) })
	s.OnceClose(func(bool) {
		if err := s.Connect(socket.ConnectOptions{Host: "b.test", Port: pB, Lookup: lookup2}); err != nil {
			t.Error(err)
		}
	})
	if err := s.Connect(socket.ConnectOptions{Host: "a.test", Port: pA, Lookup: slow1}); err != nil {
		t.Fatal(err)
	}
	l.NextTick(func() { s.Destroy(nil) })
	deadline := time.Now().Add(1 * time.Second)
	for time.Now().Before(deadline) {
		l.Run(loop.RunNoWait)
		time.Sleep(time.Millisecond)
	}
	t.Logf("server A accepted %d, server B accepted %d, client connects=%d errors=%v remote port=%d (A=%d B=%d)",
		gotA, gotB, connects, errsSeen, s.RemotePort(), pA, pB)
	if gotA != 0 || gotB != 1 {
		t.Errorf("second connect went to the wrong place")
	}
	s.Destroy(nil)
	for _, c := range accepted {
		c.Destroy(nil)
	}
	srvA.Close(nil)
	srvB.Close(nil)
	g.Close(nil)
	for i := 0; i < 5; i++ {
		l.Run(loop.RunNoWait)
	}
	if err := l.Close(); err != nil {
		t.Errorf("loop.Close: %v", err)
	}
}

// Default resolver, retry from 'close' with the same host name (the usual
// "timeout during DNS, destroy, retry" loop).
func TestReview_RetryAfterDestroyDuringDefaultLookup(t *testing.T) {
	l := rvLoop(t)
	var accepted []*socket.Socket
	srv, ch := rvListen(t, l, func(c *socket.Socket) { accepted = append(accepted, c) })
	for len(ch) == 0 {
		l.Run(loop.RunNoWait)
	}
	port := <-ch
	bad := 0
	var sample []string
	for i := 0; i < 50; i++ {
		s, _ := socket.New(socket.Options{Loop: l})
		var errsSeen []string
		connected := false
		s.OnError(func(err error) { errsSeen = append(errsSeen, err.Error()) })
		s.OnceClose(func(bool) {
			s.ConnectTCP(port, "localhost", func() { connected = true })
		})
		s.ConnectTCP(port, "localhost")
		s.Destroy(nil)
		rvRunFor(l, 30*time.Millisecond)
		if !connected {
			bad++
			sample = errsSeen
		}
		s.Destroy(nil)
	}
	t.Logf("retry failed in %d/50 iterations; sample errors: %v", bad, sample)
	if bad > 0 {
		t.Errorf("a stale cancelled lookup destroyed the retry")
	}
	for _, c := range accepted {
		c.Destroy(nil)
	}
	srv.Close(nil)
	rvRunFor(l, 50*time.Millisecond)
	l.Close()
}
