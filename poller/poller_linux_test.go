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

	"github.com/netloop/netloop/internal/uring"
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

// Tokens with both 32-bit halves set, so a half lost or swapped shows.
const (
	tokA Token = 0x8765_4321_0fed_cba9
	tokB Token = 0x0000_0001_ffff_fffe
)

func TestTokenRoundTripsThroughEpollEvent(t *testing.T) {
	for _, tok := range []Token{0, 1, 1<<32 - 1, 1 << 32, tokA, tokB, ReservedToken - 1, ReservedToken} {
		var ev unix.EpollEvent
		setToken(&ev, tok)
		assert.Equal(t, tok, eventToken(&ev), "%#x", uint64(tok))
	}
}

func TestBackendFollowsEnvironment(t *testing.T) {
	p := newPoller(t)
	if !ioUringWanted() {
		assert.Equal(t, "epoll", p.Backend())
		return
	}
	if p.Backend() != "io_uring" {
		// Tell a kernel that refuses io_uring from a backend that failed
		// to engage.
		u, err := newIOUring(-1)
		if err != nil {
			t.Skipf("io_uring refused by this kernel (%v): the suite ran on epoll", err)
		}
		u.ring.Close()
		t.Fatalf("%s=1 and io_uring_setup works, but New chose %s", envIOUring, p.Backend())
	}
}

func TestIOUringSetupRefusedFallsBackToEpoll(t *testing.T) {
	t.Setenv(envIOUring, "1")
	for _, errno := range []unix.Errno{unix.EPERM, unix.ENOSYS} {
		restore := uring.InjectSetupError(errno)
		p, err := New()
		restore()
		require.NoError(t, err, "a refused io_uring_setup is not New's failure")
		assert.Equal(t, "epoll", p.Backend())
		assert.NoError(t, p.Close())
	}
}

func TestTokenRoundTripsThroughKernel(t *testing.T) {
	p := newPoller(t)
	_, w1 := pipe(t)
	_, w2 := pipe(t)
	require.NoError(t, p.Add(w1, tokA, Write))
	require.NoError(t, p.Add(w2, tokB, Write))
	evs := wait(t, p, 5000)
	require.Len(t, evs, 2)
	got := map[Token]Interest{evs[0].Token: evs[0].Events, evs[1].Token: evs[1].Events}
	assert.Equal(t, map[Token]Interest{tokA: Write, tokB: Write}, got)
}

func TestReadLevelTriggered(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	require.NoError(t, p.Add(r, tokA, Read))
	assert.Empty(t, wait(t, p, 0), "empty pipe is not readable")

	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	for i := 0; i < 2; i++ { // level-triggered: reported until drained
		evs := wait(t, p, 5000)
		require.Len(t, evs, 1)
		assert.Equal(t, tokA, evs[0].Token)
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
	require.NoError(t, p.Add(r, 1, Read))
	assert.ErrorIs(t, p.Add(r, 2, Read), unix.EEXIST)
}

func TestAddModifyDelete(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	assert.ErrorIs(t, p.Modify(w, 1, Write), unix.ENOENT, "Modify needs a registration")
	require.NoError(t, p.Add(w, 1, Write))
	evs := wait(t, p, 5000)
	require.Len(t, evs, 1)
	assert.Equal(t, Event{Token: 1, Events: Write}, evs[0])

	// A write end has nothing to read: with Read interest only it is quiet.
	require.NoError(t, p.Modify(w, 1, Read))
	assert.Empty(t, wait(t, p, 0))
	require.NoError(t, p.Modify(w, 2, Read|Write))
	assert.Equal(t, []Event{{Token: 2, Events: Write}}, wait(t, p, 0), "Modify replaces the token")

	require.NoError(t, p.Add(r, 3, Read))
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	assert.Len(t, wait(t, p, 0), 2)

	require.NoError(t, p.Delete(w))
	assert.Equal(t, []Event{{Token: 3, Events: Read}}, wait(t, p, 0))
	require.NoError(t, p.Delete(r))
	assert.Empty(t, wait(t, p, 0))
	assert.ErrorIs(t, p.Delete(r), unix.ENOENT, "deleting an unregistered fd fails")
	assert.ErrorIs(t, p.Delete(-1), unix.EBADF)
}

func TestReservedTokenRefused(t *testing.T) {
	p := newPoller(t)
	_, w := pipe(t)
	assert.ErrorIs(t, p.Add(w, ReservedToken, Write), ErrReservedToken)
	assert.ErrorIs(t, p.Delete(w), unix.ENOENT, "a refused Add registers nothing")
	require.NoError(t, p.Add(w, 1, Write))
	assert.ErrorIs(t, p.Modify(w, ReservedToken, Write), ErrReservedToken)
	assert.Equal(t, []Event{{Token: 1, Events: Write}}, wait(t, p, 0), "a refused Modify changes nothing")
}

// TestStaleTokenAfterReAdd: once an fd is deleted (or closed) and its number
// registered again under a new token, no Wait reports the old token; events
// collected before stay in the caller's batch, which is why callers check
// tokens.
func TestStaleTokenAfterReAdd(t *testing.T) {
	p := newPoller(t)
	_, w := pipe(t)
	require.NoError(t, p.Add(w, tokA, Write))
	batch := wait(t, p, 5000)
	require.Equal(t, []Event{{Token: tokA, Events: Write}}, batch)

	require.NoError(t, p.Delete(w))
	require.NoError(t, p.Add(w, tokB, Write))
	assert.Equal(t, []Event{{Token: tokA, Events: Write}}, batch, "the collected batch is a snapshot")
	for i := 0; i < 3; i++ {
		assert.Equal(t, []Event{{Token: tokB, Events: Write}}, wait(t, p, 0))
	}

	if p.Backend() == "io_uring" {
		// An io_uring poll holds a reference to its file, so closing the
		// descriptor ends nothing: the package documentation asks for
		// Delete before close on that backend.
		return
	}
	// Closing the fd ends the registration too, and its number can then be
	// added under another token. dup3 closes the pipe end and puts an
	// eventfd under the same number in one step.
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	require.NoError(t, err)
	require.NoError(t, unix.Dup3(efd, w, unix.O_CLOEXEC))
	require.NoError(t, unix.Close(efd))
	assert.Empty(t, wait(t, p, 0), "the closed file's registration is gone")
	require.NoError(t, p.Add(w, tokA+1, Write))
	assert.Equal(t, []Event{{Token: tokA + 1, Events: Write}}, wait(t, p, 0))
}

func TestHupWithoutInterest(t *testing.T) {
	p := newPoller(t)
	var fds [2]int
	require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	r, w := fds[0], fds[1]
	defer unix.Close(r)
	require.NoError(t, p.Add(r, 5, 0))
	assert.Empty(t, wait(t, p, 0))
	require.NoError(t, unix.Close(w))
	// Documented epoll behaviour: Hup is reported even with empty interest.
	assert.Equal(t, []Event{{Token: 5, Events: Hup}}, wait(t, p, 5000))
}

func TestHangup(t *testing.T) {
	p := newPoller(t)
	var fds [2]int
	require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	r, w := fds[0], fds[1]
	defer unix.Close(r)
	require.NoError(t, p.Add(r, 1, Read))
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
	require.NoError(t, p.Add(fds[0], 1, Read))
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
	assert.Zero(t, p.gate.pending.Load(), "wake flag stuck with no wake-up pending")

	require.NoError(t, p.Wake())
	start := time.Now()
	_, err = p.Wait(events, 20000)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "wake-up lost")
}

// TestWakeRacesClose: Wakes from other goroutines while the poller closes
// either land before Close releases the eventfd or return ErrClosed.
func TestWakeRacesClose(t *testing.T) {
	for i := 0; i < 50; i++ {
		p, err := New()
		require.NoError(t, err)
		var wg sync.WaitGroup
		var bad atomic.Value
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 200; j++ {
					if err := p.Wake(); err == ErrClosed {
						return
					} else if err != nil {
						bad.Store(err)
						return
					}
					if j%16 == 0 {
						p.gate.consumed() // let some Wakes reach the eventfd
					}
				}
			}()
		}
		require.NoError(t, p.Close())
		wg.Wait()
		assert.Nil(t, bad.Load())
		assert.Zero(t, p.gate.inWake.Load())
		assert.ErrorIs(t, p.Wake(), ErrClosed)
	}
}

func TestClosedPoller(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	r, _ := pipe(t)
	require.NoError(t, p.Close())
	assert.ErrorIs(t, p.Close(), ErrClosed)
	_, err = p.Wait(make([]Event, 1), 0)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = p.Wait(make([]Event, 1), -1)
	assert.ErrorIs(t, err, ErrClosed, "Wait on a closed poller must not block")
	assert.ErrorIs(t, p.Add(r, 1, Read), ErrClosed)
	assert.ErrorIs(t, p.Modify(r, 1, Read), ErrClosed)
	assert.ErrorIs(t, p.Delete(r), ErrClosed)
	assert.ErrorIs(t, p.Wake(), ErrClosed)
}

func TestBatchLimitedByEvents(t *testing.T) {
	p := newPoller(t)
	for i := 0; i < 3; i++ {
		_, w := pipe(t)
		require.NoError(t, p.Add(w, Token(i), Write))
	}
	events := make([]Event, 2)
	n, err := p.Wait(events, 5000)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

// TestDeleteThenCloseEndsSocket: after Delete and close the peer sees EOF
// without another Wait. An io_uring poll holds a reference to its file,
// so the backend must have removed it by the time Delete returns.
func TestDeleteThenCloseEndsSocket(t *testing.T) {
	p := newPoller(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fds[1])
	require.NoError(t, p.Add(fds[0], 1, Read))
	assert.Empty(t, wait(t, p, 0), "armed, nothing to read")
	require.NoError(t, p.Delete(fds[0]))
	require.NoError(t, unix.Close(fds[0]))
	var buf [1]byte
	n, err := unix.Read(fds[1], buf[:])
	assert.NoError(t, err, "the peer's read sees EOF, not EAGAIN")
	assert.Zero(t, n)
}

// TestWriteInterestAfterPeerShutdown: a registration without Read
// interest on a socket whose peer shut down its writing side is quiet
// while the socket is not writable (io_uring polls for POLLRDHUP whatever
// the mask, so a naive level-triggered emulation would report nothing
// and wake every Wait), and reports Write once it is.
func TestWriteInterestAfterPeerShutdown(t *testing.T) {
	p := newPoller(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	chunk := make([]byte, 64<<10)
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "the send buffer never filled")
		if _, err := unix.Write(fds[0], chunk); err == unix.EAGAIN {
			break
		}
	}
	require.NoError(t, unix.Shutdown(fds[1], unix.SHUT_WR))
	require.NoError(t, p.Add(fds[0], 1, Write))
	// Count the Waits of 20 ms that fit in 100 ms: about 5, a few more
	// when a signal cuts one short (EINTR is a spurious wake-up), but
	// thousands if a poll completes over and over.
	waits := 0
	for start := time.Now(); time.Since(start) < 100*time.Millisecond; waits++ {
		assert.Empty(t, wait(t, p, 20), "not writable: nothing to report")
	}
	assert.Less(t, waits, 50, "Waits return at once: a poll completes over and over")
	for { // the peer drains: writable again
		if _, err := unix.Read(fds[1], chunk); err != nil {
			break
		}
	}
	assert.Equal(t, []Event{{Token: 1, Events: Write}}, wait(t, p, 5000))
	assert.Equal(t, []Event{{Token: 1, Events: Write}}, wait(t, p, 0), "level-triggered again")
}

// TestClosedBehindRegistration: a descriptor closed without Delete ends
// its registration. epoll drops it silently; io_uring, whose poll holds
// the file, finds out when it arms the next poll and reports Err.
func TestClosedBehindRegistration(t *testing.T) {
	p := newPoller(t)
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	require.NoError(t, err)
	require.NoError(t, p.Add(efd, 4, Write))
	assert.Equal(t, []Event{{Token: 4, Events: Write}}, wait(t, p, 5000))
	require.NoError(t, unix.Close(efd))
	if p.Backend() == "io_uring" {
		assert.Equal(t, []Event{{Token: 4, Events: Err}}, wait(t, p, 5000))
	}
	assert.Empty(t, wait(t, p, 0))
	assert.Error(t, p.Delete(efd), "the registration is gone (epoll: EBADF, io_uring: ENOENT)")
}

// TestModifyWhileWaiting changes a registration whose poll is in flight
// (io_uring: armed by the previous Wait): a token-only change and an
// interest change both take effect, and the old token is never reported.
func TestModifyWhileWaiting(t *testing.T) {
	p := newPoller(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	require.NoError(t, p.Add(fds[0], tokA, Read))
	assert.Empty(t, wait(t, p, 0), "nothing to read yet")

	require.NoError(t, p.Modify(fds[0], tokB, Read), "token only")
	_, err = unix.Write(fds[1], []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []Event{{Token: tokB, Events: Read}}, wait(t, p, 5000))

	var buf [8]byte
	_, err = unix.Read(fds[0], buf[:])
	require.NoError(t, err)
	assert.Empty(t, wait(t, p, 0), "drained: the poll is armed again")
	require.NoError(t, p.Modify(fds[0], tokA, Read|Write), "interest")
	assert.Equal(t, []Event{{Token: tokA, Events: Write}}, wait(t, p, 5000))
	require.NoError(t, p.Modify(fds[0], tokB, Read))
	assert.Empty(t, wait(t, p, 0), "Write interest gone")
}

// TestManyRegistrations registers more descriptors than one io_uring
// submission queue holds (1,024) and more than one Wait returns: every
// token is reported, over two Waits at most, and again on the next ones
// (level-triggered).
func TestManyRegistrations(t *testing.T) {
	const n = 1500
	p := newPoller(t)
	for i := 0; i < n; i++ {
		_, w := pipe(t)
		require.NoError(t, p.Add(w, Token(i), Write))
	}
	events := make([]Event, MaxEvents)
	for round := 0; round < 2; round++ {
		seen := make(map[Token]bool, n)
		for w := 0; w < 4 && len(seen) < n; w++ {
			k, err := p.Wait(events, 5000)
			require.NoError(t, err)
			for _, ev := range events[:k] {
				assert.Equal(t, Write, ev.Events)
				seen[ev.Token] = true
			}
		}
		assert.Len(t, seen, n, "round %d", round)
	}
}
