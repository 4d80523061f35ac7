//go:build linux

package poller

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/uring"
)

// TestPollArmedByExitedThread arms a registration's poll on an OS thread
// that then exits (a goroutine that ends while locked to its thread takes
// the thread with it), and checks that the registration still reports
// readiness, and nothing else, from another thread.
func TestPollArmedByExitedThread(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	require.NoError(t, p.Add(r, tokA, Read))
	armOnExitingThread(t, p)
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, wait(t, p, 5000))
}

// waitThreadGone waits (5 s at most) until thread tid of this process has
// exited.
func waitThreadGone(t *testing.T, tid int) {
	t.Helper()
	path := "/proc/self/task/" + strconv.Itoa(tid)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
		require.True(t, time.Now().Before(deadline), "thread %d did not exit", tid)
		time.Sleep(time.Millisecond)
	}
}

// armOnExitingThread runs a Wait (which arms the queued polls) on an OS
// thread that exits right after, and returns once it is gone. Go keeps
// the main thread alive instead of ending it, so a goroutine that lands
// there does not Wait, and another one is started.
func armOnExitingThread(t *testing.T, p *Poller) {
	t.Helper()
	for i := 0; ; i++ {
		require.Less(t, i, 10, "no goroutine ran off the main thread")
		tid := make(chan int, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			if unix.Gettid() != unix.Getpid() {
				events := make([]Event, 8)
				_, err := p.Wait(events, 0)
				assert.NoError(t, err)
			}
			tid <- unix.Gettid()
		}()
		if id := <-tid; id != unix.Getpid() {
			waitThreadGone(t, id)
			return
		}
	}
}

// TestUnopenedDescriptorNumbers gives Add, Modify and Delete descriptor
// numbers far above any open descriptor: they fail as epoll does (EBADF
// for Add; ENOENT or EBADF for the others), and the io_uring backend's
// per-descriptor table does not grow to the number (it used to allocate
// a record for every number up to it: gigabytes for 1<<30).
func TestUnopenedDescriptorNumbers(t *testing.T) {
	p := newPoller(t)
	for _, fd := range []int{1 << 20, 1 << 30} {
		assert.ErrorIs(t, p.Add(fd, tokA, Read), unix.EBADF)
		err := p.Modify(fd, tokA, Read)
		assert.True(t, errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EBADF), "Modify: %v", err)
		err = p.Delete(fd)
		assert.True(t, errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EBADF), "Delete: %v", err)
	}
	if p.u != nil {
		assert.Less(t, len(p.u.recs), 1<<16, "the record table grew for descriptors that are not open")
	}
}

// TestPollerDescriptorsCloseOnExec checks that every descriptor a Poller
// owns (epoll or io_uring instance, wake-up eventfd) has FD_CLOEXEC, so a
// child started with fork+exec inherits none of them.
func TestPollerDescriptorsCloseOnExec(t *testing.T) {
	p := newPoller(t)
	owned := []int{p.wakefd, p.epfd}
	if p.u != nil {
		owned[1] = p.u.ring.Fd()
	}
	for _, fd := range owned {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		require.NoError(t, err)
		assert.NotZero(t, flags&unix.FD_CLOEXEC, "descriptor %d of the %s poller lacks FD_CLOEXEC", fd, p.Backend())
	}
}

// TestCloseWithPollsInFlight closes a poller whose polls are armed (on
// io_uring they hold references to their files): the poller's own
// descriptors are all closed, and the files the polls referenced are
// released, so closing a socket afterwards shows its peer EOF.
func TestCloseWithPollsInFlight(t *testing.T) {
	before := openDescriptors(t)
	p, err := New()
	require.NoError(t, err)
	const n = 8
	var own, peers [n]int
	for i := range own {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		own[i], peers[i] = fds[0], fds[1]
		t.Cleanup(func() { unix.Close(fds[1]) })
		require.NoError(t, p.Add(fds[0], Token(i), Read))
	}
	assert.Empty(t, wait(t, p, 0), "nothing to read: every poll is armed")
	require.NoError(t, p.Close())
	assert.Equal(t, len(before)+2*n, len(openDescriptors(t)), "the poller's descriptors are closed")
	for i := range own {
		require.NoError(t, unix.Close(own[i]))
	}
	assert.Equal(t, len(before)+n, len(openDescriptors(t)), "only the peers are left")
	var buf [1]byte
	for i, fd := range peers {
		deadline := time.Now().Add(5 * time.Second)
		for {
			k, err := unix.Read(fd, buf[:])
			if err == nil {
				assert.Zero(t, k, "peer %d reads EOF", i)
				break
			}
			require.ErrorIs(t, err, unix.EAGAIN)
			require.True(t, time.Now().Before(deadline), "peer %d: its socket was never released (a poll kept it open)", i)
			time.Sleep(time.Millisecond)
		}
	}
}

// openDescriptors lists this process's open descriptors (with the one
// that reads the listing, which is closed when it returns).
func openDescriptors(t *testing.T) map[int]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	fds := make(map[int]bool, len(ents))
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		fds[fd] = true
	}
	return fds
}

// TestEnterRefusedWithChangesQueued makes io_uring_enter fail with EAGAIN
// and EBUSY (a kernel out of memory for requests; an older kernel with
// overflowed completions) while more changes are queued than the
// submission queue holds: Wait and Delete return instead of spinning
// until the kernel recovers, Delete ends the registration, and once the
// kernel takes submissions again every registration is armed and
// reported.
func TestEnterRefusedWithChangesQueued(t *testing.T) {
	p := newPoller(t)
	if p.u == nil {
		t.Skip("the io_uring backend is not in use (" + envIOUring + " unset, or the kernel refused it)")
	}
	for _, errno := range []unix.Errno{unix.EAGAIN, unix.EBUSY} {
		t.Run(errno.Error(), func(t *testing.T) {
			p := newPoller(t)
			const n = 1500 // more than the 1,024 entries of the submission queue
			r0, w0 := pipe(t)
			require.NoError(t, p.Add(r0, tokA, Read))
			assert.Empty(t, wait(t, p, 0), "tokA's poll is armed")
			for i := 0; i < n; i++ {
				_, w := pipe(t)
				require.NoError(t, p.Add(w, Token(i), Write))
			}
			restore := uring.InjectEnterError(errno)
			done := make(chan error, 1)
			go func() {
				events := make([]Event, MaxEvents)
				_, err := p.Wait(events, 0)
				done <- err
			}()
			select {
			case err := <-done:
				assert.NoError(t, err, "Wait while the kernel refuses submissions")
			case <-time.After(10 * time.Second):
				restore() // let the spinning Wait finish
				<-done
				t.Fatal("Wait spun while the kernel refused submissions")
			}
			assert.NoError(t, p.Delete(r0), "Delete while the kernel refuses submissions")
			restore()
			_, err := unix.Write(w0, []byte("x"))
			require.NoError(t, err)
			seen := make(map[Token]bool, n)
			events := make([]Event, MaxEvents)
			for round := 0; round < 8 && len(seen) < n; round++ {
				k, err := p.Wait(events, 5000)
				require.NoError(t, err)
				for _, ev := range events[:k] {
					require.NotEqual(t, tokA, ev.Token, "a deleted registration reported")
					seen[ev.Token] = true
				}
			}
			assert.Len(t, seen, n)
		})
	}
}

// TestCompletionQueueOverflow registers more always-ready descriptors than
// the io_uring completion queue holds (4,096), so the completions of one
// round of polls overflow it and the kernel keeps the rest aside
// (IORING_FEAT_NODROP): none is lost, every token is reported within a
// few Waits, and again in the next rounds (level-triggered).
func TestCompletionQueueOverflow(t *testing.T) {
	const n = 5000
	p := newPoller(t)
	for i := 0; i < n; i++ {
		_, w := pipe(t)
		require.NoError(t, p.Add(w, Token(i), Write))
	}
	events := make([]Event, MaxEvents)
	for round := 0; round < 3; round++ {
		seen := make(map[Token]bool, n)
		for w := 0; w < 2*n/MaxEvents+4 && len(seen) < n; w++ {
			k, err := p.Wait(events, 5000)
			require.NoError(t, err)
			for _, ev := range events[:k] {
				require.Equal(t, Write, ev.Events)
				seen[ev.Token] = true
			}
		}
		require.Len(t, seen, n, "round %d", round)
	}
	if p.u != nil {
		assert.Zero(t, p.u.ring.Dropped(), "completions kept aside, not dropped")
	}
}

// TestCompletedPollOfDeletedRegistration deletes a registration while its
// poll's completion may already wait in the completion queue, closes the
// descriptor and registers its number again under another token: the old
// completion reaches nobody, the new registration reports only its own
// readiness.
func TestCompletedPollOfDeletedRegistration(t *testing.T) {
	p := newPoller(t)
	for i := 0; i < 20; i++ {
		var fds [2]int
		require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
		r, w := fds[0], fds[1]
		require.NoError(t, p.Add(r, tokA, Read))
		assert.Empty(t, wait(t, p, 0), "the poll is armed")
		_, err := unix.Write(w, []byte("x")) // the poll completes
		require.NoError(t, err)
		require.NoError(t, p.Delete(r))
		require.NoError(t, unix.Close(r))
		require.NoError(t, unix.Close(w))

		require.NoError(t, unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
		r2, w2 := fds[0], fds[1]
		require.Equal(t, r, r2, "the number is reused")
		require.NoError(t, p.Add(r2, tokB, Read))
		assert.Empty(t, wait(t, p, 0), "the new pipe is empty; tokA is gone")
		_, err = unix.Write(w2, []byte("y"))
		require.NoError(t, err)
		assert.Equal(t, []Event{{Token: tokB, Events: Read}}, wait(t, p, 5000))
		require.NoError(t, p.Delete(r2))
		require.NoError(t, unix.Close(r2))
		require.NoError(t, unix.Close(w2))
	}
}

// TestReadinessBetweenWaits: readiness that arrives after a Wait reported
// and the caller drained the descriptor, but before the next Wait (on
// io_uring: between the one-shot poll's completion and its re-arm), is
// reported by the next Wait.
func TestReadinessBetweenWaits(t *testing.T) {
	p := newPoller(t)
	r, w := pipe(t)
	require.NoError(t, p.Add(r, tokA, Read))
	var buf [16]byte
	for i := 0; i < 100; i++ {
		_, err := unix.Write(w, []byte("x"))
		require.NoError(t, err)
		require.Equal(t, []Event{{Token: tokA, Events: Read}}, wait(t, p, 5000), "round %d", i)
		_, err = unix.Read(r, buf[:])
		require.NoError(t, err)
	}
	assert.Empty(t, wait(t, p, 0), "drained")
}

// TestWakeArmedWhenSubmissionQueueFull: the wake-up's poll must be armed
// again (here: it was cancelled when the thread that armed it exited)
// while the submission queue is full (here: io_uring_enter refused
// submissions for a while). The next blocking Wait must not sleep before
// the wake-up poll is in, or a Wake would not end it.
func TestWakeArmedWhenSubmissionQueueFull(t *testing.T) {
	p := newPoller(t)
	if p.u == nil {
		t.Skip("the io_uring backend is not in use (" + envIOUring + " unset, or the kernel refused it)")
	}
	armOnExitingThread(t, p)
	const n = 1500 // more than the 1,024 entries of the submission queue
	var writers []int
	for i := 0; i < n; i++ {
		r, w := pipe(t)
		writers = append(writers, w)
		require.NoError(t, p.Add(r, Token(i), Read))
	}
	restore := uring.InjectEnterError(unix.EAGAIN)
	// The wake-up poll is cancelled when it fires: its task work finds
	// the thread gone (the kernel then runs it from a worker).
	require.NoError(t, p.Wake())
	for deadline := time.Now().Add(5 * time.Second); p.u.wakeArmed; {
		require.True(t, time.Now().Before(deadline), "the wake-up poll was never cancelled")
		assert.Empty(t, wait(t, p, 0), "the kernel refuses submissions: the queue stays full")
		time.Sleep(time.Millisecond)
	}
	restore()

	done := make(chan error, 1)
	go func() {
		events := make([]Event, MaxEvents)
		_, err := p.Wait(events, -1)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it block (not required for the check)
	require.NoError(t, p.Wake())
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		_, err := unix.Write(writers[0], []byte("x")) // end the Wait another way
		require.NoError(t, err)
		<-done
		t.Fatal("Wake did not end a Wait: the wake-up poll was not armed")
	}
}

// TestIOUringWithoutMultishotPollFallsBackToEpoll plays a kernel that has
// EXT_ARG but not multishot polls (Linux 5.11 and 5.12 refuse the flag
// with EINVAL): New falls back to epoll instead of an io_uring backend
// whose wake-up poll fails at every Wait.
func TestIOUringWithoutMultishotPollFallsBackToEpoll(t *testing.T) {
	// Only in the suite's io_uring run: a thread that submitted to a ring
	// gets task work when the ring is closed, which interrupts its next
	// blocking system call (EINTR), and the epoll run's timing tests
	// would see that as an early return.
	if p := newPoller(t); p.Backend() != "io_uring" {
		t.Skip("the io_uring backend is not in use (" + envIOUring + " unset, or the kernel refused it)")
	} else {
		// The probe on a kernel that has multishot polls leaves no
		// completion behind, and the wake-up poll for the first Wait.
		assert.Zero(t, p.u.ring.CQReady(), "completions left by the probe")
		assert.Equal(t, uint32(1), p.u.ring.Pending(), "the wake-up poll waits for the first Wait")
	}
	old := pollAddMulti
	pollAddMulti |= 1 << 31 // a flag no kernel knows: refused as 5.12 refuses MULTI
	defer func() { pollAddMulti = old }()
	p := newPoller(t)
	assert.Equal(t, "epoll", p.Backend())
	r, w := pipe(t)
	require.NoError(t, p.Add(r, tokA, Read))
	assert.Empty(t, wait(t, p, 0))
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, wait(t, p, 5000))
}

// TestDroppedCompletionsRecovered plays the kernel dropping a completion
// (IORING_FEAT_NODROP keeps overflowing completions aside, unless it
// cannot allocate, and then io_uring_enter fails once with EBADR): the
// Wait that sees EBADR succeeds, and the registration whose one-shot
// poll completion was lost is armed again and reports its readiness
// instead of staying silent.
func TestDroppedCompletionsRecovered(t *testing.T) {
	p := newPoller(t)
	if p.u == nil {
		t.Skip("the io_uring backend is not in use (" + envIOUring + " unset, or the kernel refused it)")
	}
	r, w := pipe(t)
	require.NoError(t, p.Add(r, tokA, Read))
	assert.Empty(t, wait(t, p, 0), "the poll is armed")
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	// The completion reaches the queue once this thread enters the
	// kernel (task work); drop it as the kernel would.
	for deadline := time.Now().Add(5 * time.Second); p.u.ring.CQReady() == 0; {
		require.True(t, time.Now().Before(deadline), "the poll never completed")
		_, err := p.u.ring.Submit()
		require.NoError(t, err)
		time.Sleep(time.Millisecond)
	}
	for p.u.ring.CQReady() > 0 {
		p.u.ring.Advance(1)
	}
	restore := uring.InjectEnterError(unix.EBADR)
	events := make([]Event, 8)
	n, err := p.Wait(events, 0)
	restore()
	assert.NoError(t, err, "a Wait that learns of dropped completions")
	assert.Zero(t, n)
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, wait(t, p, 5000))
}
