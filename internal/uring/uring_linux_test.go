//go:build linux

package uring

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// newRing returns a ring, or skips when this kernel refuses io_uring.
func newRing(t *testing.T, p Params) *Ring {
	t.Helper()
	r, err := New(p)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("io_uring_setup refused by this kernel or its policy: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func reap(r *Ring) []CQE {
	var out []CQE
	for c := r.PeekCQE(); c != nil; c = r.PeekCQE() {
		out = append(out, *c)
		r.Advance(1)
	}
	return out
}

func TestRingNopRoundTrip(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	sqe := r.GetSQE()
	require.NotNil(t, sqe)
	sqe.Opcode = OpNop
	sqe.UserData = 0xdead_beef_0000_0001
	require.NoError(t, r.SubmitAndWait(1, -1))
	got := reap(r)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(0xdead_beef_0000_0001), got[0].UserData)
	assert.Equal(t, int32(0), got[0].Res)
	assert.Zero(t, r.Pending())
}

// TestRingWrapAround cycles many times more entries than the queues hold
// through them, in batches of uneven size, so both heads and tails wrap.
func TestRingWrapAround(t *testing.T) {
	r := newRing(t, Params{Entries: 4})
	require.Equal(t, uint32(4), r.SQEntries())
	next := uint64(0)
	want := uint64(0)
	for round := 0; round < 100; round++ {
		batch := round%4 + 1
		for i := 0; i < batch; i++ {
			sqe := r.GetSQE()
			require.NotNil(t, sqe, "round %d entry %d", round, i)
			sqe.Opcode = OpNop
			sqe.UserData = next
			next++
		}
		require.NoError(t, r.SubmitAndWait(uint32(batch), -1))
		for _, c := range reap(r) {
			require.Equal(t, want, c.UserData, "completions in submission order")
			want++
		}
	}
	assert.Equal(t, next, want)
}

func TestRingFullSubmissionQueue(t *testing.T) {
	r := newRing(t, Params{Entries: 2})
	require.NotNil(t, r.GetSQE())
	require.NotNil(t, r.GetSQE())
	assert.Nil(t, r.GetSQE(), "a full queue hands out no entry")
	n, err := r.Submit()
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.NotNil(t, r.GetSQE(), "submitted entries free their slots")
}

func TestRingWaitTimeout(t *testing.T) {
	r := newRing(t, Params{Entries: 4})
	start := time.Now()
	err := r.SubmitAndWait(1, int64(20*time.Millisecond))
	assert.ErrorIs(t, err, unix.ETIME)
	assert.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond)
	assert.NoError(t, r.SubmitAndWait(1, 0), "a zero timeout does not wait")
}

func TestRingPollCompletes(t *testing.T) {
	r := newRing(t, Params{Entries: 4})
	var fds [2]int
	require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	sqe := r.GetSQE()
	sqe.Opcode = OpPollAdd
	sqe.Fd = int32(fds[0])
	sqe.OpFlags = unix.POLLIN
	sqe.UserData = 7
	require.NoError(t, r.SubmitAndWait(1, 0))
	assert.Empty(t, reap(r), "an empty pipe is not readable")
	_, err := unix.Write(fds[1], []byte("x"))
	require.NoError(t, err)
	require.NoError(t, r.SubmitAndWait(1, int64(5*time.Second)))
	got := reap(r)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(7), got[0].UserData)
	assert.NotZero(t, got[0].Res&unix.POLLIN)
}

func TestRingOptionalFlagsDropped(t *testing.T) {
	// Every optional flag at once: the kernel keeps what it supports and
	// New drops the rest instead of failing.
	r := newRing(t, Params{Entries: 4, Optional: SetupDeferTaskrun | SetupSingleIssuer | SetupCoopTaskrun | SetupTaskrunFlag | SetupNoSQArray | SetupSubmitAll})
	sqe := r.GetSQE()
	sqe.Opcode = OpNop
	require.NoError(t, r.SubmitAndWait(1, -1))
	assert.Len(t, reap(r), 1)
	t.Logf("setup flags kept: %#x, features %#x", r.Flags(), r.Features())
}

func TestRingSetupRefused(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EPERM, unix.ENOSYS} {
		restore := InjectSetupError(errno)
		r, err := New(Params{Entries: 4})
		restore()
		assert.Nil(t, r)
		assert.ErrorIs(t, err, errno)
	}
}

// TestRingUseAfterCloseIsLoud: after Close the queues are unmapped, and
// the addresses may belong to a new mapping soon; the Ring's methods must
// fail loudly (panic) instead of reading or writing there.
func TestRingUseAfterCloseIsLoud(t *testing.T) {
	r := newRing(t, Params{Entries: 8})
	require.NoError(t, r.Close())
	assert.Panics(t, func() { r.GetSQE() })
	assert.Panics(t, func() { r.PeekCQE() })
	assert.Panics(t, func() { r.Advance(1) })
	assert.Panics(t, func() { r.Submit() })
}
