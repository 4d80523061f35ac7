//go:build linux

package core_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/poller"
)

func newLoop(t testing.TB) *core.Loop { return (*core.Loop)(testutil.TempLoop(t)) }

// pub returns l as the public loop type, for the handle package.
func pub(l *core.Loop) *loop.Loop { return (*loop.Loop)(l) }

// keepAlive returns an active, referenced bare handle: the loop stays alive
// until it is closed.
func keepAlive(l *core.Loop) *core.Handle {
	h := &core.Handle{}
	h.Init(l, "test", nil)
	h.SetActive(true)
	return h
}

func eventfd(t *testing.T) int {
	t.Helper()
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	require.NoError(t, err)
	return fd
}

func signalFd(t testing.TB, fd int) {
	t.Helper()
	one := [8]byte{1}
	_, err := unix.Write(fd, one[:])
	require.NoError(t, err)
}

// ---- run modes and liveness ----

func TestRunDefaultNothingToDo(t *testing.T) {
	l := newLoop(t)
	assert.False(t, l.Alive())
	require.NoError(t, l.Run(core.RunDefault))
	require.NoError(t, l.Run(core.RunOnce))
	require.NoError(t, l.Run(core.RunNoWait))
}

func TestRunDefaultUntilTimersDone(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(pub(l))
	n := 0
	require.NoError(t, tm.Start(5*time.Millisecond, 5*time.Millisecond, func() {
		n++
		if n == 3 {
			tm.Stop()
		}
	}))
	start := time.Now()
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, 3, n)
	assert.GreaterOrEqual(t, time.Since(start), 10*time.Millisecond)
	assert.False(t, l.Alive())
}

func TestRunOnceBlocksForTimer(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(pub(l))
	fired := false
	require.NoError(t, tm.Start(30*time.Millisecond, 0, func() { fired = true }))
	start := time.Now()
	require.NoError(t, l.Run(core.RunOnce))
	assert.True(t, fired, "RunOnce waits for the only timer")
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestRunOnceBlocksUntilPost(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	ran := false
	go func() {
		time.Sleep(30 * time.Millisecond)
		l.Post(func() { ran = true })
	}()
	start := time.Now()
	require.NoError(t, l.Run(core.RunOnce))
	assert.True(t, ran)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond, "RunOnce blocks when nothing is pending")
	ka.Close(nil)
}

func TestRunOnceDoesNotBlockWhenWorkIsPending(t *testing.T) {
	cases := map[string]func(l *core.Loop, ran *int){
		"pending": func(l *core.Loop, ran *int) { l.QueuePending(func() { *ran++ }) },
		"posted":  func(l *core.Loop, ran *int) { l.Post(func() { *ran++ }) },
		"timer": func(l *core.Loop, ran *int) {
			tm := handle.NewTimer(pub(l))
			tm.Start(0, 0, func() { *ran++; tm.Close(nil) })
		},
		"idle": func(l *core.Loop, ran *int) {
			id := handle.NewIdle(pub(l))
			id.Start(func() { *ran++; id.Close(nil) })
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			l := newLoop(t)
			ka := keepAlive(l) // without pending work, RunOnce would block forever
			cancel := testutil.Watchdog(t, l, 10*time.Second)
			defer cancel()
			ran := 0
			setup(l, &ran)
			require.NoError(t, l.Run(core.RunOnce))
			assert.Equal(t, 1, ran)
			ka.Close(nil)
		})
	}
}

func TestRunNoWaitDoesNotBlock(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	tm := handle.NewTimer(pub(l))
	fired := false
	require.NoError(t, tm.Start(time.Hour, 0, func() { fired = true }))
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	defer cancel()
	for i := 0; i < 100; i++ {
		require.NoError(t, l.Run(core.RunNoWait))
	}
	assert.False(t, fired)
	assert.True(t, l.Alive())
	ka.Close(nil)
}

func TestUnrefHandlesDoNotKeepLoopAlive(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(pub(l))
	require.NoError(t, tm.Start(time.Hour, 0, func() { t.Error("timer fired") }))
	tm.Unref()
	idle := handle.NewIdle(pub(l))
	idleRuns := 0
	require.NoError(t, idle.Start(func() { idleRuns++ }))
	idle.Unref()
	a, err := handle.NewAsync(pub(l), func() {})
	require.NoError(t, err)
	a.Unref()
	assert.False(t, l.Alive())
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	defer cancel()
	require.NoError(t, l.Run(core.RunDefault))
	assert.Zero(t, idleRuns, "a loop that is not alive runs no iteration")
	assert.True(t, tm.IsActive())

	// Referencing one of them makes the loop alive again.
	tm.Ref()
	assert.True(t, l.Alive())
	tm.Unref()
	assert.False(t, l.Alive())
}

func TestRefUnrefRememberedBeforeActive(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(pub(l))
	tm.Unref()
	assert.False(t, tm.HasRef())
	assert.False(t, l.Alive())
	require.NoError(t, tm.Start(time.Hour, 0, func() {}))
	assert.False(t, l.Alive(), "Unref before Start still applies")
	tm.Stop()
	tm.Ref()
	assert.True(t, tm.HasRef())
	assert.False(t, l.Alive(), "a stopped handle does not count")
	require.NoError(t, tm.Start(time.Hour, 0, func() {}))
	assert.True(t, l.Alive())
	tm.Unref()
	tm.Unref() // idempotent
	assert.False(t, l.Alive())
	tm.Ref()
	tm.Ref()
	assert.True(t, l.Alive())
	require.NoError(t, tm.Close(nil))
	assert.True(t, l.Alive(), "a closing handle keeps the loop alive until its close callback")
	require.NoError(t, l.Run(core.RunDefault))
	assert.False(t, l.Alive())
}

// ---- Post ----

func TestPostManyGoroutines(t *testing.T) {
	const goroutines, perG = 100, 1000
	l := newLoop(t)
	ka := keepAlive(l)
	got := make([][]int, goroutines) // touched only on the loop
	var senders sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := 0; i < perG; i++ {
				require.NoError(t, l.Post(func() { got[g] = append(got[g], i) }))
			}
		}()
	}
	go func() {
		senders.Wait()
		l.Post(func() { ka.Close(nil) })
	}()
	cancel := testutil.Watchdog(t, l, 30*time.Second)
	defer cancel()
	require.NoError(t, l.Run(core.RunDefault))
	for g := 0; g < goroutines; g++ {
		require.Len(t, got[g], perG, "goroutine %d", g)
		for i := 0; i < perG; i++ {
			require.Equal(t, i, got[g][i], "goroutine %d out of order", g)
		}
	}
}

func TestPostKeepsLoopAlive(t *testing.T) {
	l := newLoop(t)
	ran := false
	require.NoError(t, l.Post(func() { ran = true }))
	assert.True(t, l.Alive())
	require.NoError(t, l.Run(core.RunDefault))
	assert.True(t, ran)
}

func TestPostErrors(t *testing.T) {
	l, err := core.New()
	require.NoError(t, err)
	assert.Error(t, l.Post(nil))
	require.NoError(t, l.Close())
	assert.ErrorIs(t, l.Post(func() { t.Error("ran on a closed loop") }), core.ErrClosed)
	assert.ErrorIs(t, l.Run(core.RunDefault), core.ErrClosed)
	assert.ErrorIs(t, l.Close(), core.ErrClosed)
	l.Stop() // harmless on a closed loop
}

func TestCloseWithPostedFunctionsIsBusy(t *testing.T) {
	l := newLoop(t)
	require.NoError(t, l.Post(func() {}))
	err := l.Close()
	require.Error(t, err)
	assert.True(t, errors.Is(err, core.ErrBusy))
	assert.Contains(t, err.Error(), "1 posted")
	require.NoError(t, l.Run(core.RunDefault))
}

// ---- NextTick ----

func TestNextTickRunsBetweenCallbacks(t *testing.T) {
	l := newLoop(t)
	var log []string
	a, b := handle.NewCheck(pub(l)), handle.NewCheck(pub(l))
	require.NoError(t, a.Start(func() {
		log = append(log, "A")
		l.NextTick(func() {
			log = append(log, "tick1")
			l.NextTick(func() { log = append(log, "tick2") }) // same drain
		})
		a.Close(nil)
	}))
	require.NoError(t, b.Start(func() {
		log = append(log, "B")
		b.Close(nil)
	}))
	ka := keepAlive(l)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, []string{"A", "tick1", "tick2", "B"}, log)
	ka.Close(nil)
}

func TestNextTickAfterEveryKindOfCallback(t *testing.T) {
	l := newLoop(t)
	var log []string
	tick := func(name string) func() {
		return func() {
			log = append(log, name)
			l.NextTick(func() { log = append(log, name+"-tick") })
		}
	}
	tm1, tm2 := handle.NewTimer(pub(l)), handle.NewTimer(pub(l))
	tm1.Start(0, 0, tick("timer1"))
	tm2.Start(0, 0, tick("timer2"))
	l.QueuePending(tick("pending"))
	l.Post(tick("posted1"))
	l.Post(tick("posted2"))
	ka := keepAlive(l)
	ka.Close(tick("close"))
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, []string{
		"pending", "pending-tick",
		"posted1", "posted1-tick", "posted2", "posted2-tick",
		"close", "close-tick",
		"timer1", "timer1-tick", "timer2", "timer2-tick",
	}, log)
}

func TestNextTickBeforeRunRunsFirst(t *testing.T) {
	l := newLoop(t)
	var log []string
	tm := handle.NewTimer(pub(l))
	tm.Start(0, 0, func() { log = append(log, "timer") })
	l.NextTick(func() { log = append(log, "tick") })
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, []string{"tick", "timer"}, log)

	// Invoke drains the ticks its function queues.
	l.Invoke(func() { l.NextTick(func() { log = append(log, "invoked-tick") }) })
	assert.Equal(t, []string{"tick", "timer", "invoked-tick"}, log)
}

// ---- phases ----

// TestPhaseOrder documents one iteration of the loop: deferred (pending)
// callbacks, idle, prepare, poll (I/O callbacks, then posted functions),
// check, closing callbacks, and timers last. RunDefault also runs the
// timers that are due before its first iteration.
func TestPhaseOrder(t *testing.T) {
	l := newLoop(t)
	var log []string
	rec := func(s string) func() { return func() { log = append(log, s) } }

	fd := eventfd(t)
	var w core.FuncWatcher
	require.NoError(t, l.InitIOWatcher(&w, fd, func(poller.Interest) { log = append(log, "io") }))
	require.NoError(t, w.Start(poller.Read))
	signalFd(t, fd)

	idle, prep, check := handle.NewIdle(pub(l)), handle.NewPrepare(pub(l)), handle.NewCheck(pub(l))
	require.NoError(t, idle.Start(rec("idle")))
	require.NoError(t, prep.Start(rec("prepare")))
	require.NoError(t, check.Start(rec("check")))
	tm := handle.NewTimer(pub(l))
	require.NoError(t, tm.Start(0, 0, rec("timer")))
	closed := keepAlive(l)
	require.NoError(t, closed.Close(rec("close")))
	l.QueuePending(rec("pending"))
	require.NoError(t, l.Post(rec("posted")))

	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, []string{"pending", "idle", "prepare", "io", "posted", "check", "close", "timer"}, log)

	log = nil
	require.NoError(t, tm.Start(0, 0, rec("timer")))
	require.NoError(t, check.Start(func() {
		log = append(log, "check")
		l.Stop()
	}))
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, []string{"timer", "idle", "prepare", "io", "check"}, log,
		"RunDefault runs due timers first")

	w.Close(false)
	unix.Close(fd)
}

func TestHookStoppedDuringPhaseDoesNotRun(t *testing.T) {
	l := newLoop(t)
	var log []string
	a, b, c := handle.NewCheck(pub(l)), handle.NewCheck(pub(l)), handle.NewCheck(pub(l))
	require.NoError(t, a.Start(func() {
		log = append(log, "A")
		b.Stop()
	}))
	require.NoError(t, b.Start(func() { log = append(log, "B") }))
	require.NoError(t, c.Start(func() {
		log = append(log, "C")
		if !a.IsClosing() {
			require.NoError(t, a.Close(nil)) // closing stops it too
		}
	}))
	require.NoError(t, l.Run(core.RunNoWait))
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, []string{"A", "C", "C"}, log, "B stopped by A, A closed by C")
	assert.False(t, b.IsActive())
}

// ---- handles and closing ----

func TestCloseCallbackRunsOnceInClosingPhase(t *testing.T) {
	l := newLoop(t)
	h := keepAlive(l)
	calls := 0
	require.NoError(t, h.Close(func() { calls++ }))
	assert.Zero(t, calls, "not inside Close")
	assert.True(t, h.IsClosing())
	assert.False(t, h.IsClosed())
	assert.ErrorIs(t, h.Close(func() { calls += 100 }), core.ErrClosing)
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, 1, calls)
	assert.True(t, h.IsClosed())
	assert.ErrorIs(t, h.Close(nil), core.ErrClosing)
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, 1, calls)
}

func TestHandleCloseHooksOrder(t *testing.T) {
	l := newLoop(t)
	var log []string
	h := &core.Handle{}
	h.Init(l, "test", &core.KindHooks{
		Close: func(got *core.Handle) {
			assert.Same(t, h, got)
			log = append(log, "onClose")
		},
		Finish: func(got *core.Handle) {
			assert.Same(t, h, got)
			log = append(log, "onFinish")
		},
	})
	require.NoError(t, h.Close(func() { log = append(log, "cb") }))
	assert.Equal(t, []string{"onClose"}, log)
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, []string{"onClose", "onFinish", "cb"}, log)
}

func TestCloseCallbackClosingAnotherHandle(t *testing.T) {
	l := newLoop(t)
	a, b := keepAlive(l), keepAlive(l)
	var log []string
	require.NoError(t, a.Close(func() {
		log = append(log, "a")
		require.NoError(t, b.Close(func() { log = append(log, "b") }))
		assert.Equal(t, []string{"a"}, log, "b's callback waits for the next closing phase")
	}))
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, []string{"a", "b"}, log)
}

func TestLoopCloseWithOpenHandles(t *testing.T) {
	l, err := core.New()
	require.NoError(t, err)
	tm := handle.NewTimer(pub(l))
	err = l.Close()
	require.Error(t, err)
	assert.True(t, errors.Is(err, core.ErrBusy))
	assert.Contains(t, err.Error(), "1 timer")

	t2 := handle.NewTimer(pub(l))
	id := handle.NewIdle(pub(l))
	err = l.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 timer")
	assert.Contains(t, err.Error(), "1 idle")
	assert.False(t, errors.Is(errors.New("other"), core.ErrBusy))

	var kinds []string
	l.Walk(func(h *core.Handle) { kinds = append(kinds, h.Kind()) })
	assert.Equal(t, []string{"timer", "timer", "idle"}, kinds)

	require.NoError(t, tm.Close(nil))
	require.NoError(t, t2.Close(nil))
	require.NoError(t, id.Close(nil))
	err = l.Close()
	assert.True(t, errors.Is(err, core.ErrBusy), "close callbacks have not run yet")
	require.NoError(t, l.Run(core.RunDefault))
	require.NoError(t, l.Close())
}

// ---- concurrency ----

func TestStopFromAnotherGoroutine(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	go func() {
		time.Sleep(20 * time.Millisecond)
		l.Stop()
	}()
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	require.NoError(t, l.Run(core.RunDefault))
	cancel()
	assert.True(t, l.Alive())

	// Stop inside a callback ends the run after the current iteration, and
	// the next Run starts afresh.
	n := 0
	idle := handle.NewIdle(pub(l))
	idle.Start(func() {
		n++
		if n == 3 {
			l.Stop()
		}
	})
	require.NoError(t, l.Run(core.RunDefault))
	assert.Equal(t, 3, n)
	idle.Close(nil)
	ka.Close(nil)
	require.NoError(t, l.Run(core.RunDefault))
}

func TestRunWhileRunning(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	var inner, fromOther, closeErr error
	started := make(chan struct{})
	l.Post(func() {
		inner = l.Run(core.RunNoWait)
		closeErr = l.Close()
		close(started)
	})
	go func() {
		<-started
		fromOther = l.Run(core.RunNoWait)
		l.Post(func() { ka.Close(nil) })
	}()
	require.NoError(t, l.Run(core.RunDefault))
	assert.ErrorIs(t, inner, core.ErrRunning)
	assert.ErrorIs(t, fromOther, core.ErrRunning)
	assert.ErrorIs(t, closeErr, core.ErrRunning)
}

func TestTwoLoopsInParallel(t *testing.T) {
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := 0; i < 2; i++ {
		l := newLoop(t)
		tm := handle.NewTimer(pub(l))
		require.NoError(t, tm.Start(0, time.Millisecond, func() {
			counts[i]++
			if counts[i] == 50 {
				tm.Close(nil)
			}
		}))
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, l.Run(core.RunDefault))
		}()
	}
	wg.Wait()
	assert.Equal(t, []int{50, 50}, counts)
}

// ---- I/O watchers ----

func TestIOWatcherReadable(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	fd := eventfd(t)
	defer unix.Close(fd)
	var w core.FuncWatcher
	calls := 0
	var got poller.Interest
	require.NoError(t, l.InitIOWatcher(&w, fd, func(ev poller.Interest) {
		calls++
		got = ev
		w.Stop(poller.Read) // without draining: level-triggered, but stopped
	}))
	assert.Equal(t, fd, w.Fd())
	var other core.FuncWatcher
	assert.ErrorIs(t, l.InitIOWatcher(&other, fd, func(poller.Interest) {}), core.ErrWatcherBusy)

	require.NoError(t, w.Start(poller.Read))
	assert.Equal(t, poller.Read, w.Interest())
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Zero(t, calls, "not readable yet")

	signalFd(t, fd)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, 1, calls)
	assert.Equal(t, poller.Read, got)
	for i := 0; i < 3; i++ {
		require.NoError(t, l.Run(core.RunNoWait))
	}
	assert.Equal(t, 1, calls, "not called after Stop(Read)")

	require.NoError(t, w.Start(poller.Read))
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, 2, calls, "called again once restarted")
	w.Close(false)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, 2, calls)
	ka.Close(nil)
}

func TestIOWatcherStartFailsForRegularFile(t *testing.T) {
	l := newLoop(t)
	fd, err := unix.Open("/proc/self/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	var w core.FuncWatcher
	require.NoError(t, l.InitIOWatcher(&w, fd, func(poller.Interest) {}))
	assert.ErrorIs(t, w.Start(poller.Read), unix.EPERM)
	assert.Zero(t, w.Interest())
	w.Close(false)
}

// TestIOWatcherClosedMidBatch: two descriptors are ready in one batch. The
// first callback closes the other watcher and its descriptor, then puts a
// new descriptor under the same number with a new watcher. The old watcher
// must not be called, and the new one must not get the old event.
func TestIOWatcherClosedMidBatch(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	fds := [2]int{eventfd(t), eventfd(t)}
	var ws [2]core.FuncWatcher
	var replacement core.FuncWatcher
	replacementFd := -1
	calls := [2]int{}
	replacementCalls := 0
	first := -1
	for i := range ws {
		require.NoError(t, l.InitIOWatcher(&ws[i], fds[i], func(poller.Interest) {
			calls[i]++
			if first >= 0 {
				return
			}
			first = i
			other := 1 - i
			ws[other].Close(true)
			// A new, not readable eventfd under the closed one's number.
			nfd := eventfd(t)
			require.NoError(t, unix.Dup3(nfd, fds[other], unix.O_CLOEXEC))
			require.NoError(t, unix.Close(nfd))
			replacementFd = fds[other]
			require.NoError(t, l.InitIOWatcher(&replacement, replacementFd, func(poller.Interest) { replacementCalls++ }))
			require.NoError(t, replacement.Start(poller.Read))
		}))
		require.NoError(t, ws[i].Start(poller.Read))
		signalFd(t, fds[i])
	}
	require.NoError(t, l.Run(core.RunNoWait))
	require.GreaterOrEqual(t, first, 0)
	assert.Equal(t, 1, calls[first])
	assert.Zero(t, calls[1-first], "closed watcher called for the rest of its batch")
	assert.Zero(t, replacementCalls, "new watcher got the stale event")

	// The replacement works normally afterwards.
	signalFd(t, replacementFd)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, 1, replacementCalls)

	ws[first].Close(false)
	replacement.Close(false)
	unix.Close(fds[0])
	unix.Close(fds[1])
	ka.Close(nil)
}

func TestIOWatcherWriteAndHangup(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	r, wfd := p[0], p[1]
	var rw, ww core.FuncWatcher
	var rEv, wEv poller.Interest
	require.NoError(t, l.InitIOWatcher(&ww, wfd, func(ev poller.Interest) {
		wEv = ev
		ww.Close(true)
		unix.Close(wfd)
	}))
	require.NoError(t, l.InitIOWatcher(&rw, r, func(ev poller.Interest) { rEv |= ev }))
	require.NoError(t, ww.Start(poller.Write))
	require.NoError(t, rw.Start(poller.Read))
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, poller.Write, wEv)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.NotZero(t, rEv&poller.Hup, "reader sees the hang-up: %b", rEv)
	rw.Close(false)
	unix.Close(r)
	ka.Close(nil)
}

// TestIOWatcherDeferredChangeError: an interest change applied before the
// next poll that the poller refuses reaches the watcher as an Err event,
// once, and stays readable from Err until a change succeeds.
func TestIOWatcherDeferredChangeError(t *testing.T) {
	l := newLoop(t)
	if l.Backend() == "io_uring" {
		t.Skip("epoll-specific: the poller refuses a change after the descriptor was closed behind the watcher; " +
			"io_uring learns of the close only when the poll fails, and reports Err then (poller's TestIOUringClosedBehindRegistration)")
	}
	ka := keepAlive(l)
	fd := eventfd(t)
	var w core.FuncWatcher
	var got []poller.Interest
	require.NoError(t, l.InitIOWatcher(&w, fd, func(ev poller.Interest) { got = append(got, ev) }))
	require.NoError(t, w.Start(poller.Read))
	assert.NoError(t, w.Err())
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	defer cancel()

	// Close the fd behind the watcher's back: the next change is queued,
	// and epoll_ctl refuses it when the loop flushes before polling.
	require.NoError(t, unix.Close(fd))
	require.NoError(t, w.Start(poller.Write), "deferred: nothing fails yet")
	require.NoError(t, l.Run(core.RunOnce), "an owed Err event keeps RunOnce from blocking")
	assert.Equal(t, []poller.Interest{poller.Err}, got)
	assert.ErrorIs(t, w.Err(), unix.EBADF)
	assert.Equal(t, poller.Read|poller.Write, w.Interest(), "Interest keeps what was asked for")
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Len(t, got, 1, "delivered once")

	// A new eventfd under the same number. Removing all interest fails too
	// (the registration went with the closed file), but a watcher without
	// interest is not called; the error is recorded all the same.
	if nfd := eventfd(t); nfd != fd { // usually it gets the freed number
		require.NoError(t, unix.Dup3(nfd, fd, unix.O_CLOEXEC))
		require.NoError(t, unix.Close(nfd))
	}
	defer unix.Close(fd)
	w.Stop(poller.Read | poller.Write)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Len(t, got, 1)
	assert.ErrorIs(t, w.Err(), unix.ENOENT)

	// The next successful change clears the error, and events flow again.
	require.NoError(t, w.Start(poller.Write))
	assert.NoError(t, w.Err())
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, []poller.Interest{poller.Err, poller.Write}, got)
	w.Close(false)
	ka.Close(nil)
}

// TestIOWatcherClosedBeforeOwedErr: two watchers' changes fail in the same
// flush; the first Err callback closes the other watcher, which must then
// not be called for its own failure.
func TestIOWatcherClosedBeforeOwedErr(t *testing.T) {
	l := newLoop(t)
	if l.Backend() == "io_uring" {
		t.Skip("epoll-specific: the poller refuses a change after the descriptor was closed behind the watcher; " +
			"io_uring learns of the close only when the poll fails, and reports Err then (poller's TestIOUringClosedBehindRegistration)")
	}
	ka := keepAlive(l)
	fds := [2]int{eventfd(t), eventfd(t)}
	var ws [2]core.FuncWatcher
	calls := [2]int{}
	for i := range ws {
		require.NoError(t, l.InitIOWatcher(&ws[i], fds[i], func(ev poller.Interest) {
			assert.Equal(t, poller.Err, ev)
			calls[i]++
			ws[1-i].Close(true)
		}))
		require.NoError(t, ws[i].Start(poller.Read))
	}
	for i := range ws {
		require.NoError(t, unix.Close(fds[i]))
		require.NoError(t, ws[i].Start(poller.Write))
	}
	require.NoError(t, l.Run(core.RunNoWait))
	assert.Equal(t, [2]int{1, 0}, calls, "the second Err was owed to a closed watcher")
	ws[0].Close(true)
	ka.Close(nil)
}

// TestIOWatcherReinit: initialising an open watcher again closes it first,
// so its old descriptor is unregistered and free for another watcher.
func TestIOWatcherReinit(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	a, b := eventfd(t), eventfd(t)
	defer unix.Close(a)
	defer unix.Close(b)
	var w, other core.FuncWatcher
	var got []int
	require.NoError(t, l.InitIOWatcher(&w, a, func(poller.Interest) { got = append(got, a) }))
	require.NoError(t, w.Start(poller.Read))
	require.NoError(t, l.InitIOWatcher(&w, b, func(poller.Interest) { got = append(got, b) }))
	assert.Equal(t, b, w.Fd())
	assert.Zero(t, w.Interest())
	require.NoError(t, l.InitIOWatcher(&other, a, func(poller.Interest) { got = append(got, -a) }))
	require.NoError(t, other.Start(poller.Read), "the old registration of a is gone")
	require.NoError(t, w.Start(poller.Read))
	signalFd(t, a)
	signalFd(t, b)
	require.NoError(t, l.Run(core.RunNoWait))
	assert.ElementsMatch(t, []int{-a, b}, got)
	w.Close(false)
	other.Close(false)
	ka.Close(nil)
}

func TestDescribeOpenNamesKinds(t *testing.T) {
	l := newLoop(t)
	h := &core.Handle{}
	h.Init(l, "tcp", nil)
	err := l.Close()
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "1 tcp"), err.Error())
}

// TestFuncWatcherReinitOnOtherLoop: re-initialising an open watcher on
// another loop closes it on the loop it was on; the new loop's other
// watchers keep their events.
func TestFuncWatcherReinitOnOtherLoop(t *testing.T) {
	l1, l2 := newLoop(t), newLoop(t)
	ka := keepAlive(l2)
	defer ka.Close(nil)
	fa, fw, fc := eventfd(t), eventfd(t), eventfd(t)
	defer unix.Close(fa)
	defer unix.Close(fw)
	defer unix.Close(fc)
	var a, w core.FuncWatcher
	gotA := 0
	buf := make([]byte, 8)
	require.NoError(t, l2.InitIOWatcher(&a, fa, func(poller.Interest) { gotA++; unix.Read(fa, buf) }))
	require.NoError(t, a.Start(poller.Read))
	require.NoError(t, l1.InitIOWatcher(&w, fw, func(poller.Interest) {}))
	require.NoError(t, w.Start(poller.Read))
	require.NoError(t, l2.InitIOWatcher(&w, fc, func(poller.Interest) {}))
	signalFd(t, fa)
	require.NoError(t, l2.Run(core.RunNoWait))
	assert.Equal(t, 1, gotA, "a's event on l2")
	w.Close(false)
	a.Close(false)
}
