//go:build linux

package transport

import (
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/pollx"
)

// epollLoop returns a loop on the readiness backend (epoll), whatever
// NETLOOP_IOURING says, to compare receive mode with.
func epollLoop(t *testing.T) *core.Loop {
	t.Helper()
	t.Setenv("NETLOOP_IOURING", "0")
	l, err := core.New()
	require.NoError(t, err)
	t.Cleanup(func() {
		runFor(l, time.Second, func() bool { return !l.Alive() })
		l.Close()
	})
	require.Equal(t, "epoll", l.Backend())
	return l
}

// readOutcome names a read callback's error for comparison: "EOF", an
// errno's name, or the error's text.
func readOutcome(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, io.EOF):
		return "EOF"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// readAfterEnd reads s until its stream ends (how: the peer's FIN or a
// reset), then calls ReadStart twice more, each time waiting for what the
// read callback gets, and returns the callback's outcomes in order. The
// first ReadStart again comes before the loop applied the ReadStop of the
// end (the poller never sees Read go), the second after.
func readAfterEnd(t *testing.T, l *core.Loop, how string) []string {
	s, peer := recvPair(t, l)
	var outcomes []string
	onRead := func(n int, buf []byte, err error) {
		if err != nil {
			outcomes = append(outcomes, readOutcome(err))
		}
	}
	require.NoError(t, s.ReadStart(nil, onRead))
	runFor(l, 20*time.Millisecond, func() bool { return false }) // armed
	switch how {
	case "eof":
		require.NoError(t, unix.Shutdown(peer, unix.SHUT_WR))
	case "reset":
		require.NoError(t, unix.SetsockoptLinger(peer, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}))
		require.NoError(t, unix.Close(peer))
	}
	require.True(t, runFor(l, 5*time.Second, func() bool { return len(outcomes) == 1 }), "the end reached the callback")
	require.False(t, s.IsReading(), "reading stopped at the end")
	for i := 2; i <= 3; i++ {
		require.NoError(t, s.ReadStart(nil, onRead))
		runFor(l, 2*time.Second, func() bool { return len(outcomes) == i })
		runFor(l, 20*time.Millisecond, func() bool { return false }) // nothing more comes
		if len(outcomes) != i {
			break
		}
	}
	return outcomes
}

// TestRecvReadStartAfterEndMatchesEpoll: a ReadStart after the stream
// ended gets what a read(2) gets on the readiness path: end of stream
// again (io.EOF per ReadStart), after a reset too. Receive mode used to
// give nothing, its receive being over for good.
func TestRecvReadStartAfterEndMatchesEpoll(t *testing.T) {
	for _, how := range []string{"eof", "reset"} {
		t.Run(how, func(t *testing.T) {
			want := readAfterEnd(t, epollLoop(t), how)
			got := readAfterEnd(t, recvLoop(t), how)
			t.Logf("epoll: %v, receive mode: %v", want, got)
			assert.Equal(t, want, got, "receive mode gives what epoll gives")
			if how == "eof" {
				assert.Equal(t, []string{"EOF", "EOF", "EOF"}, want, "epoll: one EOF per ReadStart")
			}
		})
	}
}

// TestRecvAllocFuncStopsMidBuffer: a stream in receive mode is given an
// AllocFunc by a later ReadStart (it stays in receive mode), whose small
// buffers split each ring buffer into several callbacks; the callback
// stops reading part-way through a ring buffer, and the AllocFunc now
// and then has no buffer (ENOBUFS, after which the callback stops
// reading every other time). The rest of each ring buffer waits for the next
// ReadStart: every byte arrives, once, in order.
func TestRecvAllocFuncStopsMidBuffer(t *testing.T) {
	l := recvLoopWithRing(t, 4, 64)
	s, peer := recvPair(t, l)
	const total = 64 << 10
	var got []byte
	allocs, calls, enobufs := 0, 0, 0
	alloc := func(suggested int) []byte {
		allocs++
		if allocs%7 == 0 {
			return nil // no buffer: ENOBUFS
		}
		return make([]byte, 10)
	}
	var withAlloc ReadFunc = func(n int, buf []byte, err error) {
		if err != nil {
			require.ErrorIs(t, err, syscall.ENOBUFS)
			if enobufs++; enobufs%2 == 0 {
				s.ReadStop()
			} // else the rest comes at the next poll
			return
		}
		got = append(got, buf[:n]...)
		if calls++; calls%3 == 0 {
			s.ReadStop() // part-way through a ring buffer, mostly
		}
	}
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
		require.NoError(t, s.ReadStart(alloc, withAlloc)) // from now on
	}))
	require.True(t, s.w.InRecvMode())
	done := make(chan struct{})
	go func() {
		defer close(done)
		writeAll(t, peer, pattern(0, total))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < total && time.Now().Before(deadline) {
		runFor(l, 10*time.Millisecond, func() bool { return !s.IsReading() || len(got) >= total })
		if !s.IsReading() {
			require.NoError(t, s.ReadStart(alloc, withAlloc))
		}
	}
	<-done
	runFor(l, 20*time.Millisecond, func() bool { return false }) // nothing more comes
	t.Logf("%d callbacks with data, %d ENOBUFS", calls, enobufs)
	assert.NotZero(t, enobufs)
	assertSame(t, pattern(0, total), got, "bytes in order")
	c, _ := l.Receiver().Stats()
	assert.NotZero(t, c, "data came from receive completions")
}

// TestRecvRingRefusedFallsBackToReadiness: when the kernel refuses the
// buffer ring, which is set up with the first stream that would enter
// receive mode (after the loop was created), that stream and the next
// read on readiness instead, and the loop does not spin on a readable
// socket nobody reads.
func TestRecvRingRefusedFallsBackToReadiness(t *testing.T) {
	l := recvLoop(t)
	pollx.RefuseBufRing = unix.ENOMEM
	t.Cleanup(func() { pollx.RefuseBufRing = nil })
	for i := range 2 {
		s, peer := recvPair(t, l)
		var got []byte
		var rerr error
		require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				rerr = err
				return
			}
			got = append(got, buf[:n]...)
		}))
		assert.False(t, s.w.InRecvMode(), "stream %d: not in receive mode", i)
		writeAll(t, peer, []byte("hello"))
		runFor(l, 2*time.Second, func() bool { return len(got) == 5 })
		before := l.Metrics().Events
		runFor(l, 50*time.Millisecond, func() bool { return false })
		idle := l.Metrics().Events - before
		assert.Equal(t, "hello", string(got), "stream %d: data read on readiness", i)
		assert.Less(t, idle, uint64(20), "stream %d: events while nothing happens (a spin on readiness nobody reads)", i)
		require.NoError(t, unix.Shutdown(peer, unix.SHUT_WR))
		runFor(l, 2*time.Second, func() bool { return rerr != nil })
		assert.ErrorIs(t, rerr, io.EOF, "stream %d", i)
	}
	assert.True(t, l.Receiver() == nil, "receive mode is off for the loop")
}
