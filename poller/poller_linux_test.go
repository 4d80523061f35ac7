//go:build linux

package poller

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New()
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// pipe returns a non-blocking pipe closed at the end of the test.
func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var fds [2]int
	require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

func wait(t *testing.T, p *Poller, timeoutMs int) []Event {
	t.Helper()
	events := make([]Event, MaxEvents)
	n, err := p.Wait(events, timeoutMs)
	require.NoError(t, err)
	return events[:n]
}

func TestReadLevelTriggered(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	require.NoError(t, p.Add(r, Read))
	assert.Empty(t, wait(t, p, 0), "empty pipe is not readable")

	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	for i := 0; i < 2; i++ { // level-triggered: reported until drained
		evs := wait(t, p, 5000)
		require.Len(t, evs, 1)
		assert.Equal(t, int32(r), evs[0].Fd)
		assert.Equal(t, Read, evs[0].Events&Read)
	}
	var buf [8]byte
	_, err = unix.Read(r, buf[:])
	require.NoError(t, err)
	assert.Empty(t, wait(t, p, 0))
}

func TestAddTwiceFails(t *testing.T) {
	p := newPoller(t)
	r, _ := pipe(t)
	require.NoError(t, p.Add(r, Read))
	assert.ErrorIs(t, p.Add(r, Read), unix.EEXIST)
}

func TestModifyDelete(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	require.NoError(t, p.Add(w, Write))
	evs := wait(t, p, 5000)
	require.Len(t, evs, 1)
	assert.Equal(t, int32(w), evs[0].Fd)
	assert.Equal(t, Write, evs[0].Events)

	// A write end has nothing to read: with Read interest only it is quiet.
	require.NoError(t, p.Modify(w, Write, Read))
	assert.Empty(t, wait(t, p, 0))
	require.NoError(t, p.Modify(w, Read, Read|Write))
	require.Len(t, wait(t, p, 0), 1)

	require.NoError(t, p.Add(r, Read))
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	assert.Len(t, wait(t, p, 0), 2)

	require.NoError(t, p.Delete(w, Read|Write))
	evs = wait(t, p, 0)
	require.Len(t, evs, 1)
	assert.Equal(t, int32(r), evs[0].Fd)
	require.NoError(t, p.Delete(r, Read))
	assert.Empty(t, wait(t, p, 0))
	assert.Error(t, p.Delete(r, Read), "deleting an unregistered fd fails")
}

func TestHangup(t *testing.T) {
	p := newPoller(t)
	var fds [2]int
	require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	r, w := fds[0], fds[1]
	defer unix.Close(r)
	require.NoError(t, p.Add(r, Read))
	require.NoError(t, unix.Close(w))
	evs := wait(t, p, 5000)
	require.Len(t, evs, 1)
	assert.NotZero(t, evs[0].Events&Hup, "got %b", evs[0].Events)
}

func TestPeerShutdownIsRdHup(t *testing.T) {
	p := newPoller(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	require.NoError(t, p.Add(fds[0], Read))
	require.NoError(t, unix.Shutdown(fds[1], unix.SHUT_WR))
	evs := wait(t, p, 5000)
	require.Len(t, evs, 1)
	assert.Equal(t, Read|RdHup, evs[0].Events&(Read|RdHup))
	assert.Zero(t, evs[0].Events&Hup, "only one direction is shut")
}

func TestWaitTimeout(t *testing.T) {
	p := newPoller(t)
	start := time.Now()
	assert.Empty(t, wait(t, p, 30))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestWaitNeedsRoom(t *testing.T) {
	p := newPoller(t)
	_, err := p.Wait(nil, 0)
	assert.Error(t, err)
}

func TestWakeFromAnotherGoroutine(t *testing.T) {
	p := newPoller(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		assert.NoError(t, p.Wake())
	}()
	start := time.Now()
	// The wake-up itself is not reported as an event.
	assert.Empty(t, wait(t, p, 20000))
	assert.Less(t, time.Since(start), 10*time.Second, "Wake must end a blocked Wait")
}

func TestWakeCoalesces(t *testing.T) {
	p := newPoller(t)
	for i := 0; i < 100; i++ {
		require.NoError(t, p.Wake())
	}
	assert.Empty(t, wait(t, p, 20000)) // returns at once: a wake-up is pending
	start := time.Now()
	assert.Empty(t, wait(t, p, 30)) // the 100 wake-ups were one
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	// A Wake after the drain works again.
	require.NoError(t, p.Wake())
	start = time.Now()
	assert.Empty(t, wait(t, p, 20000))
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestWakeRace hammers Wake from two goroutines while Wait drains: no
// wake-up may be lost. (The flag used to be cleared before the eventfd was
// read, so a Wake landing in between left the flag set with the eventfd
// empty, and all later Wakes were dropped.)
func TestWakeRace(t *testing.T) {
	p := newPoller(t)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				p.Wake()
			}
		}()
	}
	events := make([]Event, MaxEvents)
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		_, err := p.Wait(events, 50)
		require.NoError(t, err)
	}
	stop.Store(true)
	wg.Wait()
	_, err := p.Wait(events, 0)
	require.NoError(t, err)
	assert.Zero(t, p.waking.Load(), "wake flag stuck with no wake-up pending")

	require.NoError(t, p.Wake())
	start := time.Now()
	_, err = p.Wait(events, 20000)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "wake-up lost")
}

func TestClose(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	require.NoError(t, p.Close())
	assert.ErrorIs(t, p.Close(), ErrClosed)
	_, err = p.Wait(make([]Event, 1), 0)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestBatchLimitedByEvents(t *testing.T) {
	p := newPoller(t)
	for i := 0; i < 3; i++ {
		_, w := pipe(t)
		require.NoError(t, p.Add(w, Write))
	}
	events := make([]Event, 2)
	n, err := p.Wait(events, 5000)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}
