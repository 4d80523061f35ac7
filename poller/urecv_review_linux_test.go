//go:build linux

package poller

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/pollx"
)

// recvPoller returns a poller on the io_uring backend with receive mode
// and a buffer ring of the given geometry, or skips where there is none
// (this suite's epoll run, or a kernel without multishot recv).
func recvPoller(t *testing.T, entries uint32, size int) *Poller {
	t.Helper()
	e, sz := pollx.BufEntries, pollx.BufSize
	pollx.BufEntries, pollx.BufSize = entries, size
	p := newPoller(t)
	pollx.BufEntries, pollx.BufSize = e, sz
	if p.u == nil || p.u.recv.disabled {
		t.Skip("no receive mode: not the io_uring backend (" + envIOUring + " unset, or refused), or a kernel before 6.0")
	}
	return p
}

// recvSocket returns a Unix stream socket registered with p in receive
// mode under tok, and its peer's descriptor.
func recvSocket(t *testing.T, p *Poller, tok Token) (fd, peer int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() {
		p.Delete(fds[0])
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	require.NoError(t, p.Add(fds[0], tok, Read|recvBit))
	return fds[0], fds[1]
}

// waitFor calls Wait (events of room entries) until cond holds for one of
// the events it reports, for 5 s at most, and reports whether it did.
func waitFor(t *testing.T, p *Poller, room int, cond func(Event) bool) bool {
	t.Helper()
	events := make([]Event, room)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		n, err := p.Wait(events, 10)
		require.NoError(t, err)
		for _, ev := range events[:n] {
			if cond(ev) {
				return true
			}
		}
	}
	return false
}

// submitUntilReady enters the kernel (which runs the completions' task
// work) until n completions are queued, for 5 s at most.
func submitUntilReady(t *testing.T, p *Poller, n uint32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); p.u.ring.CQReady() < n; {
		require.True(t, time.Now().Before(deadline), "%d of %d completions", p.u.ring.CQReady(), n)
		_, err := p.u.ring.Submit()
		require.NoError(t, err)
		time.Sleep(time.Millisecond)
	}
}

// holdBoth makes x's receive take both buffers of a two-buffer ring and
// leaves them queued (popped by the caller when it gives them back).
func holdBoth(t *testing.T, p *Poller, x, peer int, tok Token) {
	t.Helper()
	_, err := unix.Write(peer, make([]byte, 32))
	require.NoError(t, err)
	require.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tok }), "x got its data")
	for deadline := time.Now().Add(5 * time.Second); p.u.recv.held() < 2; {
		require.True(t, time.Now().Before(deadline), "x holds %d buffers", p.u.recv.held())
		wait(t, p, 10)
	}
}

// giveBack pops fd's queued results and gives their buffers back.
func giveBack(p *Poller, fd int) {
	rv := pollx.ReceiverOf(p)
	for {
		_, _, id, ok := rv.Pop(fd)
		if !ok {
			return
		}
		rv.Release(id)
	}
}

// TestRecvStarvedReapedInLaterBatch: receives a and b run dry while a
// third one (x) holds every buffer; the buffers go back; a's ENOBUFS is
// reaped in one Wait (whose batch a pipe's readiness fills), b's in the
// next, after a was armed again; and a stops reading. b must be armed
// again: every buffer is in the ring, and no receive is armed that could
// take one and give it back to wake it.
func TestRecvStarvedReapedInLaterBatch(t *testing.T) {
	runtime.LockOSThread() // task work runs on this thread, in the order of the writes
	defer runtime.UnlockOSThread()
	p := recvPoller(t, 2, 16)
	const tokX, tokA, tokB, tokC Token = 1, 2, 3, 4
	x, peerX := recvSocket(t, p, tokX)
	a, peerA := recvSocket(t, p, tokA)
	_, peerB := recvSocket(t, p, tokB)
	c, cw := pipe(t)
	require.NoError(t, p.Add(c, tokC, Read))
	assert.Empty(t, wait(t, p, 0), "receives and poll armed")
	holdBoth(t, p, x, peerX, tokX)

	// a's ENOBUFS, c's readiness, b's ENOBUFS, in that order.
	ready := p.u.ring.CQReady()
	for _, fd := range []int{peerA, cw, peerB} {
		_, err := unix.Write(fd, []byte("0123456789"))
		require.NoError(t, err)
		submitUntilReady(t, p, ready+1)
		ready++
	}
	giveBack(p, x)
	require.Zero(t, p.u.recv.held(), "every buffer is back in the ring")

	one := make([]Event, 1)
	n, err := p.Wait(one, 0)
	require.NoError(t, err)
	require.Equal(t, []Event{{Token: tokC, Events: Read}}, one[:n], "the batch that reaps a's ENOBUFS ends with c")
	require.NotZero(t, p.u.ring.CQReady(), "b's ENOBUFS waits for the next Wait")
	var drain [16]byte
	unix.Read(c, drain[:])
	require.NoError(t, p.Modify(a, tokA, recvBit), "a stops reading")

	assert.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokB && ev.Events&recvBit != 0 }),
		"b's receive is armed again and gets its data")
}

// TestRecvStarvedNoSpinOnLostBuffers: when this side counts buffers in
// the ring that the kernel does not have (lost with dropped completions,
// played here by miscounting), a starved receive is armed again once,
// not at every Wait; once a buffer moves it is armed again and gets its
// data.
func TestRecvStarvedNoSpinOnLostBuffers(t *testing.T) {
	p := recvPoller(t, 2, 16)
	const tokX, tokB Token = 1, 2
	x, peerX := recvSocket(t, p, tokX)
	_, peerB := recvSocket(t, p, tokB)
	assert.Empty(t, wait(t, p, 0), "receives armed")
	holdBoth(t, p, x, peerX, tokX)
	p.u.recv.br.Forget(2) // both buffers "in the ring"
	_, arms0 := pollx.ReceiverOf(p).Stats()
	_, err := unix.Write(peerB, []byte("0123456789"))
	require.NoError(t, err)
	for range 30 {
		for _, ev := range wait(t, p, 5) {
			assert.Equal(t, tokX, ev.Token, "only x, with its results queued")
		}
	}
	_, arms1 := pollx.ReceiverOf(p).Stats()
	assert.LessOrEqual(t, arms1-arms0, uint64(1), "armed again at most once with no buffer moving")
	p.u.recv.br.Forget(-2)
	giveBack(p, x)
	assert.True(t, waitFor(t, p, MaxEvents, func(ev Event) bool { return ev.Token == tokB && ev.Events&recvBit != 0 }),
		"armed again once buffers moved")
}

// TestRecvRingRefused: when the kernel refuses the buffer ring, Enable
// says so, receive mode is off for good (ReceiverOf gives nil), and a
// registration asking for it is polled for readability instead.
func TestRecvRingRefused(t *testing.T) {
	p := recvPoller(t, 4, 64)
	rv := pollx.ReceiverOf(p)
	require.NotNil(t, rv)
	pollx.RefuseBufRing = unix.ENOMEM
	defer func() { pollx.RefuseBufRing = nil }()
	assert.False(t, rv.Enable(), "Enable reports the refusal")
	assert.Nil(t, pollx.ReceiverOf(p), "receive mode is off")
	_, peer := recvSocket(t, p, tokA)
	_, err := unix.Write(peer, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, wait(t, p, 5000), "readiness, not receive results")
}
