//go:build linux

package uring

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newBufRing registers a buffer ring on r, or skips on kernels without
// buffer rings (before 5.19: EINVAL).
func newBufRing(t *testing.T, r *Ring, group uint16, entries uint32, size int) *BufRing {
	t.Helper()
	b, err := r.RegisterBufRing(group, entries, size)
	if errors.Is(err, unix.EINVAL) {
		t.Skipf("IORING_REGISTER_PBUF_RING refused (Linux < 5.19?): %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	return b
}

func socketpair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// waitCQEs waits until at least n completions are queued (or 5 s pass)
// and reaps all that are.
func waitCQEs(t *testing.T, r *Ring, n int) []CQE {
	t.Helper()
	var out []CQE
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		err := r.SubmitAndWait(1, int64(100*time.Millisecond))
		if err != nil && err != unix.ETIME && err != unix.EINTR {
			require.NoError(t, err)
		}
		out = append(out, reap(r)...)
	}
	require.GreaterOrEqual(t, len(out), n, "completions")
	return out
}

func armRecv(t *testing.T, r *Ring, fd int, b *BufRing, ud uint64) {
	t.Helper()
	sqe := r.GetSQE()
	require.NotNil(t, sqe)
	PrepRecvMultishot(sqe, fd, b.Group(), ud)
	_, err := r.Submit()
	require.NoError(t, err)
}

func TestBufRingRegisterChecksSizes(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	for _, c := range []struct {
		entries uint32
		size    int
	}{{0, 64}, {3, 64}, {1 << 16, 64}, {4, 0}, {4, -1}} {
		b, err := r.RegisterBufRing(1, c.entries, c.size)
		assert.Nil(t, b)
		assert.ErrorIs(t, err, ErrBufRingSize, "entries %d size %d", c.entries, c.size)
	}
	b := newBufRing(t, r, 1, 4, 64)
	assert.Equal(t, 4, b.Entries())
	assert.Equal(t, 64, b.BufSize())
	_, err := r.RegisterBufRing(1, 4, 64)
	assert.ErrorIs(t, err, unix.EEXIST, "a group is registered once")
}

// TestBufRingRecvMultishot receives several messages through one armed
// multishot recv, each into a buffer from the ring, recycling as it goes.
func TestBufRingRecvMultishot(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	b := newBufRing(t, r, 3, 4, 64)
	a, peer := socketpair(t)
	armRecv(t, r, a, b, 42)
	for i := 0; i < 10; i++ {
		msg := fmt.Sprintf("message %d", i)
		_, err := unix.Write(peer, []byte(msg))
		require.NoError(t, err)
		c := waitCQEs(t, r, 1)[0]
		require.Equal(t, uint64(42), c.UserData)
		require.Equal(t, int32(len(msg)), c.Res)
		require.NotZero(t, c.Flags&CQEFMore, "the recv stays armed")
		id, buf, ok := b.Take(c.Flags, int(c.Res))
		require.True(t, ok)
		assert.Equal(t, msg, string(buf))
		assert.Equal(t, 1, b.Out())
		b.Recycle(id)
		assert.Equal(t, 0, b.Out())
	}
	// EOF ends the multishot recv: res 0, no F_MORE.
	require.NoError(t, unix.Shutdown(peer, unix.SHUT_WR))
	c := waitCQEs(t, r, 1)[0]
	assert.Equal(t, int32(0), c.Res)
	assert.Zero(t, c.Flags&CQEFMore)
}

// TestBufRingEmptyENOBUFS: with every buffer held by this side, the recv
// ends with ENOBUFS and no data is lost; after a recycle a new recv gets
// what is still queued in the socket, in order.
func TestBufRingEmptyENOBUFS(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	b := newBufRing(t, r, 5, 2, 8)
	a, peer := socketpair(t)
	armRecv(t, r, a, b, 1)
	var got []byte
	var held []uint16
	want := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	_, err := unix.Write(peer, want)
	require.NoError(t, err)
	for done := false; !done; {
		for _, c := range waitCQEs(t, r, 1) {
			require.False(t, done, "nothing after the ENOBUFS")
			if c.Res == -int32(unix.ENOBUFS) {
				assert.Zero(t, c.Flags&CQEFMore, "ENOBUFS ends the multishot recv")
				done = true
				continue
			}
			require.Greater(t, c.Res, int32(0))
			id, buf, ok := b.Take(c.Flags, int(c.Res))
			require.True(t, ok)
			got = append(got, buf...)
			held = append(held, id)
		}
	}
	assert.Equal(t, 2, b.Out(), "both buffers are out when the ring runs dry")
	for len(got) < len(want) {
		for _, id := range held {
			b.Recycle(id)
		}
		held = held[:0]
		armRecv(t, r, a, b, 2)
		for done := false; !done && len(got) < len(want); {
			for _, c := range waitCQEs(t, r, 1) {
				if c.Res == -int32(unix.ENOBUFS) {
					done = true
					continue
				}
				require.Greater(t, c.Res, int32(0))
				id, buf, _ := b.Take(c.Flags, int(c.Res))
				got = append(got, buf...)
				held = append(held, id)
			}
		}
	}
	assert.Equal(t, string(want), string(got), "no byte lost or reordered")
}

// TestBufRingWrapAround streams more buffers through a small ring than
// the 16-bit tail counts (65536), so both the entry index and the tail
// wrap, and checks that the bytes arrive whole and in order.
func TestBufRingWrapAround(t *testing.T) {
	r := newRing(t, Params{Entries: 8, CQEntries: 1024})
	b := newBufRing(t, r, 7, 256, 16)
	a, peer := socketpair(t)
	armRecv(t, r, a, b, 9)
	const perRound = 128 * 16 // at most 128 buffers in flight per round
	var sent, got int
	msg := make([]byte, perRound)
	deadline := time.Now().Add(20 * time.Second)
	for rounds := 0; rounds < 520; rounds++ { // 520*128 > 65536
		require.True(t, time.Now().Before(deadline), "round %d", rounds)
		for i := range msg {
			msg[i] = byte(sent + i)
		}
		_, err := unix.Write(peer, msg)
		require.NoError(t, err)
		sent += len(msg)
		for got < sent {
			for _, c := range waitCQEs(t, r, 1) {
				require.Greater(t, c.Res, int32(0), "round %d", rounds)
				require.NotZero(t, c.Flags&CQEFMore, "round %d: the recv stays armed", rounds)
				id, buf, ok := b.Take(c.Flags, int(c.Res))
				require.True(t, ok)
				for i, x := range buf {
					if x != byte(got+i) {
						require.Failf(t, "wrong byte", "offset %d", got+i)
					}
				}
				got += len(buf)
				b.Recycle(id)
			}
		}
	}
	assert.Greater(t, sent/16, 1<<16, "buffers cycled through the ring")
	assert.Equal(t, 0, b.Out())
}

// TestBufRingCloseUnregisters: after Close the group is free again, and
// a recv that selects from it fails with ENOBUFS.
func TestBufRingCloseUnregisters(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	b := newBufRing(t, r, 11, 4, 64)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close(), "a second Close does nothing")
	a, peer := socketpair(t)
	_, err := unix.Write(peer, []byte("x"))
	require.NoError(t, err)
	sqe := r.GetSQE()
	PrepRecvMultishot(sqe, a, 11, 5)
	c := waitCQEs(t, r, 1)[0]
	assert.Equal(t, -int32(unix.ENOBUFS), c.Res)
	b2 := newBufRing(t, r, 11, 4, 64)
	assert.Equal(t, 4, b2.Entries(), "the group can be registered again")
}

// TestBufRingCancel: a cancelled multishot recv completes with ECANCELED
// and holds no buffer.
func TestBufRingCancel(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	b := newBufRing(t, r, 13, 4, 64)
	a, _ := socketpair(t)
	armRecv(t, r, a, b, 77)
	PrepCancel(r.GetSQE(), 77, 78)
	got := waitCQEs(t, r, 2)
	res := map[uint64]int32{}
	for _, c := range got {
		res[c.UserData] = c.Res
		assert.Zero(t, c.Flags&CQEFBuffer)
	}
	assert.Equal(t, -int32(unix.ECANCELED), res[77])
	assert.Equal(t, int32(0), res[78])
	assert.Equal(t, 0, b.Out())
}
