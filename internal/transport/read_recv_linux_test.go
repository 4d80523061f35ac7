//go:build linux

package transport

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/poller"
)

// loopWithIOURing returns a loop created with NETLOOP_IOURING set to env,
// run until idle and closed when the test ends.
func loopWithIOURing(t *testing.T, env string) *core.Loop {
	t.Helper()
	t.Setenv("NETLOOP_IOURING", env)
	l, err := core.New()
	require.NoError(t, err)
	t.Cleanup(func() {
		runFor(l, time.Second, func() bool { return !l.Alive() })
		l.Close()
	})
	return l
}

// recvLoop returns a loop on the io_uring backend with receive mode, or
// skips where the kernel refuses io_uring; it fails where the kernel has
// what receive mode needs but the loop did not get it.
func recvLoop(t *testing.T) *core.Loop {
	t.Helper()
	return uringLoopWith(t, "receive mode", "Linux 6.0", pollx.KernelHasRecv(),
		func(l *core.Loop) bool { return l.Receiver() != nil })
}

// uringLoopWith returns a loop on the io_uring backend on which has
// holds, or skips where the kernel refuses io_uring, or lacks the mode
// (kernelHas false: older than since); it fails where the kernel has
// what the mode needs but the loop did not get it.
func uringLoopWith(t *testing.T, mode, since string, kernelHas bool, has func(*core.Loop) bool) *core.Loop {
	t.Helper()
	l := loopWithIOURing(t, "1")
	if l.Backend() != "io_uring" {
		t.Skip("io_uring refused by this kernel or its policy: the loop is on epoll")
	}
	if !has(l) {
		require.False(t, kernelHas, "%s or later, but the io_uring poller has no %s", since, mode)
		t.Skip("kernel without " + mode + " (older than " + since + ")")
	}
	return l
}

// recvLoopWithRing is recvLoop with a buffer ring of the given geometry
// (small rings run dry on purpose).
func recvLoopWithRing(t *testing.T, entries uint32, size int) *core.Loop {
	t.Helper()
	e, sz := pollx.BufEntries, pollx.BufSize
	pollx.BufEntries, pollx.BufSize = entries, size
	defer func() { pollx.BufEntries, pollx.BufSize = e, sz }()
	return recvLoop(t)
}

// recvPair returns a TCP stream accepted on l and the blocking raw socket
// of its peer.
func recvPair(t *testing.T, l *core.Loop) (*Stream, int) {
	t.Helper()
	lis := New(l, TCP)
	require.NoError(t, lis.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	var s *Stream
	require.NoError(t, lis.Listen(4, func(err error) {
		require.NoError(t, err)
		c := New(l, TCP)
		require.NoError(t, lis.Accept(c))
		s = c
	}))
	ap, err := lis.SockName()
	require.NoError(t, err)
	peer, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(peer) })
	require.NoError(t, unix.Connect(peer, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: [4]byte{127, 0, 0, 1}}))
	require.True(t, runFor(l, 5*time.Second, func() bool { return s != nil }), "accepted")
	lis.Close(nil)
	t.Cleanup(func() { s.Close(nil) })
	return s, peer
}

// pattern returns n bytes that tell their offsets apart.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		x := off + i
		b[i] = byte(x ^ x>>8 ^ x>>16)
	}
	return b
}

// assertSame compares long byte strings, naming the first difference.
func assertSame(t *testing.T, want, got []byte, msg string, args ...any) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	args = append(args, i, len(got), len(want))
	assert.Failf(t, "bytes differ", msg+": first difference at %d (got %d bytes, want %d)", args...)
}

func writeAll(t *testing.T, fd int, b []byte) {
	t.Helper()
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		require.NoError(t, err)
		b = b[n:]
	}
}

// TestRecvModeEngaged fails when NETLOOP_IOURING=1 on a kernel with
// buffer rings and multishot recv leaves a reading TCP stream on
// readiness reads: its data must come from receive completions.
func TestRecvModeEngaged(t *testing.T) {
	l := recvLoop(t)
	s, peer := recvPair(t, l)
	var got []byte
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}))
	assert.True(t, s.w.InRecvMode(), "the stream is in receive mode")
	c0, a0 := l.Receiver().Stats()
	writeAll(t, peer, []byte("hello"))
	require.True(t, runFor(l, 5*time.Second, func() bool { return len(got) == 5 }))
	assert.Equal(t, "hello", string(got))
	c1, a1 := l.Receiver().Stats()
	assert.Greater(t, c1, c0, "data came from receive completions")
	assert.Greater(t, a1, a0, "a receive was armed")
}

// TestRecvTinyRingENOBUFS streams 256 KiB through a ring of two 16-byte
// buffers: the receive runs dry (ENOBUFS) over and over, is armed again
// once buffers come back, and no byte is lost or reordered.
func TestRecvTinyRingENOBUFS(t *testing.T) {
	l := recvLoopWithRing(t, 2, 16)
	s, peer := recvPair(t, l)
	const total = 256 << 10
	var got []byte
	var rerr error
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			rerr = err
			return
		}
		assert.LessOrEqual(t, n, 16)
		got = append(got, buf[:n]...)
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		writeAll(t, peer, pattern(0, total))
		unix.Shutdown(peer, unix.SHUT_WR)
	}()
	require.True(t, runFor(l, 20*time.Second, func() bool { return rerr != nil }), "EOF")
	<-done
	assert.ErrorIs(t, rerr, io.EOF)
	assertSame(t, pattern(0, total), got, "bytes in order")
	_, arms := l.Receiver().Stats()
	assert.Greater(t, arms, uint64(10), "armed again after running dry")
}

// TestRecvReadStopKeepsOrder stops reading while the peer keeps sending,
// so that completions arrive after the stop: no read callback runs until
// ReadStart, and then every byte comes, in order.
func TestRecvReadStopKeepsOrder(t *testing.T) {
	l := recvLoop(t)
	s, peer := recvPair(t, l)
	var got []byte
	reading := true
	callsWhileStopped := 0
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		if !reading {
			callsWhileStopped++
		}
		got = append(got, buf[:n]...)
		if len(got) >= 1000 && reading {
			s.ReadStop()
			reading = false
		}
	}))
	const total = 300 * 1000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for off := 0; off < total; off += 1000 {
			writeAll(t, peer, pattern(off, 1000))
		}
	}()
	require.True(t, runFor(l, 5*time.Second, func() bool { return !reading }))
	// The peer goes on writing; completions in flight land in the stash.
	runFor(l, 100*time.Millisecond, func() bool { return false })
	assert.Zero(t, callsWhileStopped, "no read callback after ReadStop")
	stopped := len(got)
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}))
	require.True(t, runFor(l, 10*time.Second, func() bool { return len(got) >= total }), "got %d of %d", len(got), total)
	<-done
	assert.GreaterOrEqual(t, stopped, 1000)
	assertSame(t, pattern(0, total), got, "bytes in order across the stop (stopped at %d)", stopped)
}

// TestRecvStopStartInOneCallback: a ReadStop and ReadStart in one
// callback change nothing at the kernel, and the results queued behind
// the one being delivered still come.
func TestRecvStopStartInOneCallback(t *testing.T) {
	l := recvLoopWithRing(t, 64, 16)
	s, peer := recvPair(t, l)
	var got []byte
	var onRead ReadFunc
	onRead = func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
		s.ReadStop()
		require.NoError(t, s.ReadStart(nil, onRead))
	}
	require.NoError(t, s.ReadStart(nil, onRead))
	writeAll(t, peer, pattern(0, 500)) // about 32 results in one batch
	require.True(t, runFor(l, 5*time.Second, func() bool { return len(got) == 500 }), "got %d", len(got))
	assertSame(t, pattern(0, 500), got, "bytes in order")
}

// TestRecvCloseWithRecvArmed closes a stream whose receive is armed: the
// receive is cancelled before close(2), so the socket really closes and
// the peer sees the end of stream at once.
func TestRecvCloseWithRecvArmed(t *testing.T) {
	l := recvLoop(t)
	s, peer := recvPair(t, l)
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {}))
	runFor(l, 20*time.Millisecond, func() bool { return false }) // the receive is armed
	_, arms := l.Receiver().Stats()
	require.NotZero(t, arms)
	s.Close(nil)
	l.Run(core.RunNoWait)
	require.NoError(t, unix.SetsockoptTimeval(peer, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5}))
	var b [1]byte
	n, err := unix.Read(peer, b[:])
	require.NoError(t, err, "the peer sees EOF, not a timeout")
	assert.Zero(t, n)
}

// TestRecvEOFAndReset: the peer's FIN reaches the read callback as
// io.EOF, a reset as ECONNRESET, and reading stops after either.
func TestRecvEOFAndReset(t *testing.T) {
	t.Run("eof", func(t *testing.T) {
		l := recvLoop(t)
		s, peer := recvPair(t, l)
		var got []byte
		var errs []error
		require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				errs = append(errs, err)
				return
			}
			got = append(got, buf[:n]...)
		}))
		writeAll(t, peer, []byte("last words"))
		require.NoError(t, unix.Shutdown(peer, unix.SHUT_WR))
		require.True(t, runFor(l, 5*time.Second, func() bool { return len(errs) > 0 }))
		runFor(l, 20*time.Millisecond, func() bool { return false })
		assert.Equal(t, "last words", string(got))
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], io.EOF)
		assert.False(t, s.IsReading())
	})
	t.Run("reset", func(t *testing.T) {
		l := recvLoop(t)
		s, peer := recvPair(t, l)
		var errs []error
		require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				errs = append(errs, err)
			}
		}))
		runFor(l, 20*time.Millisecond, func() bool { return false })
		require.NoError(t, unix.SetsockoptLinger(peer, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}))
		unix.Close(peer)
		require.True(t, runFor(l, 5*time.Second, func() bool { return len(errs) > 0 }))
		require.Len(t, errs, 1)
		assert.True(t, errors.Is(errs[0], syscall.ECONNRESET), "got %v", errs[0])
		assert.False(t, s.IsReading())
	})
}

// TestRecvEchoZeroAllocs: a message received, delivered from the ring
// and echoed allocates nothing on the receive path.
func TestRecvEchoZeroAllocs(t *testing.T) {
	testutil.SkipIfDebug(t)
	l := recvLoop(t)
	s, peer := recvPair(t, l)
	got := 0
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			panic(err)
		}
		got += n
	}))
	msg := make([]byte, 64)
	want := 0
	run := func() {
		if _, err := unix.Write(peer, msg); err != nil {
			panic(err)
		}
		want += len(msg)
		for got < want {
			if err := l.Run(core.RunOnce); err != nil {
				panic(err)
			}
		}
	}
	run()
	c0, _ := l.Receiver().Stats()
	allocs := testing.AllocsPerRun(1000, run)
	c1, _ := l.Receiver().Stats()
	assert.Greater(t, c1-c0, uint64(1000), "messages came through receive completions")
	assert.Equal(t, float64(0), allocs, "allocations per received message")
}

// TestRecvManyStreamsShareTinyRing: twenty streams share a ring of four
// 64-byte buffers, so receives starve each other over and over; every
// stream still gets its own bytes, in order, and its EOF.
func TestRecvManyStreamsShareTinyRing(t *testing.T) {
	l := recvLoopWithRing(t, 4, 64)
	const streams, total = 20, 20 << 10
	got := make([][]byte, streams)
	eof := 0
	peers := make([]int, streams)
	for i := range streams {
		s, peer := recvPair(t, l)
		peers[i] = peer
		require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				assert.ErrorIs(t, err, io.EOF)
				eof++
				return
			}
			got[i] = append(got[i], buf[:n]...)
		}))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for off := 0; off < total; off += 1024 {
			for i, p := range peers {
				writeAll(t, p, pattern(off+i, 1024))
			}
		}
		for _, p := range peers {
			unix.Shutdown(p, unix.SHUT_WR)
		}
	}()
	require.True(t, runFor(l, 30*time.Second, func() bool { return eof == streams }), "%d of %d streams ended", eof, streams)
	<-done
	for i := range streams {
		want := make([]byte, 0, total)
		for off := 0; off < total; off += 1024 {
			want = append(want, pattern(off+i, 1024)...)
		}
		assertSame(t, want, got[i], "stream %d", i)
	}
	_, arms := l.Receiver().Stats()
	t.Logf("receives armed: %d", arms)
	assert.Greater(t, arms, uint64(4*streams), "receives starved and were armed again")
}

// TestRecvRunsDryWhileBuffersAreHeld: the ring runs dry while both of its
// buffers wait in the stream's queue, and the receive's ENOBUFS is reaped
// only after they went back to the ring. No later buffer will come back
// to wake a starved receive then: it must be armed again at once, or the
// data sent meanwhile waits forever.
func TestRecvRunsDryWhileBuffersAreHeld(t *testing.T) {
	l := recvLoopWithRing(t, 2, 16)
	s, peer := recvPair(t, l)
	var got []byte
	sentMore := false
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
		if !sentMore {
			// Both buffers are out of the ring now (this one and the
			// next, queued): what arrives finds it empty.
			sentMore = true
			writeAll(t, peer, pattern(32, 64))
		}
	}))
	writeAll(t, peer, pattern(0, 32))
	require.True(t, runFor(l, 5*time.Second, func() bool { return len(got) == 96 }), "got %d of 96 bytes", len(got))
	assertSame(t, pattern(0, 96), got, "bytes in order")
}

// TestRecvTwoRunDryThenOneStops: two streams' receives run dry while a
// third party holds every buffer, and both ENOBUFS are reaped in one
// batch after the buffers went back. The first one reaped is armed again
// at once; the stream it belongs to then stops reading before the next
// wait (here from a pipe's readiness in the same batch). The second one
// must not starve: every buffer is back in the ring and no receive is
// armed that could take one and give it back.
func TestRecvTwoRunDryThenOneStops(t *testing.T) {
	l := recvLoopWithRing(t, 2, 16)
	a, peerA := recvPair(t, l)
	b, peerB := recvPair(t, l)
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	var pw core.FuncWatcher
	require.NoError(t, l.InitIOWatcher(&pw, p[0], func(poller.Interest) {
		var x [8]byte
		unix.Read(p[0], x[:])
		a.ReadStop()
	}))
	require.NoError(t, pw.Start(poller.Read))
	t.Cleanup(func() { pw.Close(false) })
	var gotA, gotB []byte
	sent := false
	require.NoError(t, a.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		gotA = append(gotA, buf[:n]...)
		if !sent {
			// Both buffers are held by a now: what reaches a and b
			// finds the ring empty, a's first.
			sent = true
			writeAll(t, peerA, pattern(32, 64))
			writeAll(t, peerB, pattern(0, 64))
			writeAll(t, p[1], []byte{1})
		}
	}))
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		gotB = append(gotB, buf[:n]...)
	}))
	runFor(l, 20*time.Millisecond, func() bool { return false }) // both receives armed
	writeAll(t, peerA, pattern(0, 32))
	require.True(t, runFor(l, 5*time.Second, func() bool { return len(gotB) == 64 }), "b got %d of 64 bytes (a got %d)", len(gotB), len(gotA))
	assertSame(t, pattern(0, 64), gotB, "b's bytes in order")
}

// epollLoop returns a loop on the readiness backend (epoll), whatever
// NETLOOP_IOURING says, to compare receive mode with.
func epollLoop(t *testing.T) *core.Loop {
	t.Helper()
	l := loopWithIOURing(t, "0")
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
