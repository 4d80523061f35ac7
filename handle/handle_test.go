package handle_test

import (
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
)

func newLoop(t testing.TB) *loop.Loop { return testutil.TempLoop(t) }

// ---- Timer ----

func TestTimerEqualTimeoutsFireInStartOrder(t *testing.T) {
	l := newLoop(t)
	var order []int
	timers := make([]*handle.Timer, 10)
	for i := range timers {
		timers[i] = handle.NewTimer(l)
		require.NoError(t, timers[i].Start(2*time.Millisecond, 0, func() { order = append(order, i) }))
	}
	// Restarting moves a timer behind the others with the same due time.
	require.NoError(t, timers[0].Start(2*time.Millisecond, 0, func() { order = append(order, 0) }))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, order)
	for _, tm := range timers {
		assert.False(t, tm.IsActive())
	}
}

func TestTimerRepeat(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	n := 0
	require.NoError(t, tm.Start(time.Millisecond, 2*time.Millisecond, func() {
		n++
		assert.True(t, tm.IsActive(), "a repeating timer stays active")
		if n == 3 {
			tm.Stop()
			assert.False(t, tm.IsActive())
		}
	}))
	assert.Equal(t, 2*time.Millisecond, tm.Repeat())
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 3, n)
}

func TestTimerOneShotInactiveInCallback(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	require.NoError(t, tm.Start(0, 0, func() {
		assert.False(t, tm.IsActive())
		assert.Zero(t, tm.DueIn())
	}))
	require.NoError(t, l.Run(loop.RunDefault))
}

func TestTimerAgain(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	assert.ErrorIs(t, tm.Again(), handle.ErrNilCallback, "never started")

	n := 0
	require.NoError(t, tm.Start(time.Hour, 5*time.Millisecond, func() {
		n++
		tm.Stop()
	}))
	require.NoError(t, tm.Again()) // now due in 5ms instead of an hour
	assert.LessOrEqual(t, tm.DueIn(), 5*time.Millisecond)
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	require.NoError(t, l.Run(loop.RunDefault))
	cancel()
	assert.Equal(t, 1, n)

	// Again on a stopped repeating timer restarts it; without repeat it
	// does nothing.
	require.NoError(t, tm.Again())
	assert.True(t, tm.IsActive())
	tm.Stop()
	tm.SetRepeat(0)
	require.NoError(t, tm.Again())
	assert.False(t, tm.IsActive())

	tm.SetRepeat(time.Millisecond)
	require.NoError(t, tm.Close(nil))
	assert.ErrorIs(t, tm.Again(), handle.ErrClosing, "a closing timer must not be rearmed")
	assert.False(t, tm.IsActive())
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 1, n)
}

func TestTimerSetRepeat(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	n := 0
	require.NoError(t, tm.Start(0, time.Millisecond, func() {
		n++
		// Takes effect the next time the timer fires: this firing has
		// already rescheduled it with the old interval.
		tm.SetRepeat(0)
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 2, n)
	assert.Zero(t, tm.Repeat())

	n = 0
	require.NoError(t, tm.Start(0, 0, func() {
		n++
		if n == 1 {
			tm.SetRepeat(time.Millisecond) // a one-shot stays one-shot this time
		}
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 1, n)
}

func TestTimerDueIn(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	assert.Zero(t, tm.DueIn())
	require.NoError(t, tm.Start(time.Hour, 0, func() {}))
	assert.Equal(t, time.Hour, tm.DueIn(), "loop time has not moved")
	l.UpdateTime()
	assert.LessOrEqual(t, tm.DueIn(), time.Hour)
	assert.Greater(t, tm.DueIn(), time.Hour-time.Minute)
	tm.Stop()
	assert.Zero(t, tm.DueIn())
	require.NoError(t, tm.Start(-time.Second, 0, func() {}))
	assert.Zero(t, tm.DueIn(), "negative timeouts count as zero")
	tm.Stop()
}

func TestTimerStopInsideCallback(t *testing.T) {
	l := newLoop(t)
	var log []string
	a, b, c := handle.NewTimer(l), handle.NewTimer(l), handle.NewTimer(l)
	require.NoError(t, a.Start(0, 0, func() {
		log = append(log, "a")
		b.Stop() // due in this same batch: must not fire
		require.NoError(t, c.Close(nil))
	}))
	require.NoError(t, b.Start(0, 0, func() { log = append(log, "b") }))
	require.NoError(t, c.Start(0, 0, func() { log = append(log, "c") }))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, []string{"a"}, log)
	assert.False(t, b.IsActive())

	// A repeating timer stopping itself.
	n := 0
	require.NoError(t, a.Start(0, time.Millisecond, func() {
		n++
		a.Stop()
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 1, n)
}

func TestTimerRestartedInBatchWaitsForNextIteration(t *testing.T) {
	l := newLoop(t)
	var log []string
	a, b := handle.NewTimer(l), handle.NewTimer(l)
	require.NoError(t, a.Start(0, 0, func() {
		log = append(log, "a")
		b.Start(0, 0, func() { log = append(log, "b-restarted") })
	}))
	require.NoError(t, b.Start(0, 0, func() { log = append(log, "b") }))
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, []string{"a"}, log)
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, []string{"a", "b-restarted"}, log)
}

func TestZeroTimerStartedInTimerFiresNextIteration(t *testing.T) {
	l := newLoop(t)
	iteration := 0
	check := handle.NewCheck(l)
	require.NoError(t, check.Start(func() { iteration++ }))
	check.Unref()
	var firedAt []int
	a, b := handle.NewTimer(l), handle.NewTimer(l)
	require.NoError(t, a.Start(0, 0, func() {
		firedAt = append(firedAt, iteration)
		require.NoError(t, b.Start(0, 0, func() { firedAt = append(firedAt, iteration) }))
	}))
	require.NoError(t, l.Run(loop.RunNoWait)) // iteration 1: check, then timers: a
	assert.Equal(t, []int{1}, firedAt, "b must not fire in the batch that started it")
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, []int{1, 2}, firedAt)
}

func TestManyTimersFireInDueOrder(t *testing.T) {
	const n = 100000
	l := newLoop(t)
	rng := rand.New(rand.NewSource(1))
	type fired struct {
		timeout time.Duration
		idx     int
	}
	got := make([]fired, 0, n)
	timers := make([]*handle.Timer, n)
	for i := 0; i < n; i++ {
		timeout := time.Duration(rng.Intn(20)) * time.Millisecond
		timers[i] = handle.NewTimer(l)
		require.NoError(t, timers[i].Start(timeout, 0, func() { got = append(got, fired{timeout, i}) }))
	}
	cancel := testutil.Watchdog(t, l, 30*time.Second)
	require.NoError(t, l.Run(loop.RunDefault))
	cancel()
	require.Len(t, got, n)
	assert.True(t, sort.SliceIsSorted(got, func(i, j int) bool {
		if got[i].timeout != got[j].timeout {
			return got[i].timeout < got[j].timeout
		}
		return got[i].idx < got[j].idx
	}), "timers fired out of (due, start) order")
	for _, tm := range timers {
		tm.Close(nil)
	}
	require.NoError(t, l.Run(loop.RunDefault))
}

func TestTimerErrors(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	assert.ErrorIs(t, tm.Start(0, 0, nil), handle.ErrNilCallback)
	require.NoError(t, tm.Start(0, 0, func() { t.Error("closed timer fired") }))
	closed := 0
	require.NoError(t, tm.Close(func() { closed++ }))
	assert.ErrorIs(t, tm.Close(nil), handle.ErrClosing)
	assert.ErrorIs(t, tm.Start(0, 0, func() {}), handle.ErrClosing)
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 1, closed)
	assert.Equal(t, "timer", tm.Kind())
}

func TestTimerClosedInOwnCallback(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	n, closed := 0, 0
	require.NoError(t, tm.Start(0, time.Millisecond, func() {
		n++
		tm.Close(func() { closed++ })
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, closed)
}

// ---- Idle, Prepare, Check ----

func TestHookHandles(t *testing.T) {
	l := newLoop(t)
	var log []string
	idle, prep, check := handle.NewIdle(l), handle.NewPrepare(l), handle.NewCheck(l)
	assert.ErrorIs(t, idle.Start(nil), handle.ErrNilCallback)
	require.NoError(t, check.Start(func() { log = append(log, "check") }))
	require.NoError(t, prep.Start(func() { log = append(log, "prepare") }))
	require.NoError(t, idle.Start(func() { log = append(log, "idle-old") }))
	require.NoError(t, idle.Start(func() { log = append(log, "idle") })) // replaces the callback
	assert.True(t, idle.IsActive())
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, []string{"idle", "prepare", "check"}, log)

	prep.Stop()
	assert.False(t, prep.IsActive())
	require.NoError(t, idle.Close(nil))
	assert.ErrorIs(t, idle.Start(func() {}), handle.ErrClosing)
	log = nil
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, []string{"check"}, log)
	assert.Equal(t, []string{"idle", "prepare", "check"}, []string{idle.Kind(), prep.Kind(), check.Kind()})
}

func TestIdleKeepsPollFromBlocking(t *testing.T) {
	l := newLoop(t)
	tm := handle.NewTimer(l)
	require.NoError(t, tm.Start(time.Hour, 0, func() {}))
	idle := handle.NewIdle(l)
	n := 0
	require.NoError(t, idle.Start(func() {
		n++
		if n == 100 {
			tm.Stop()
			idle.Stop()
		}
	}))
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	require.NoError(t, l.Run(loop.RunDefault))
	cancel()
	assert.Equal(t, 100, n)
}

// ---- Async ----

func TestAsyncCoalesces(t *testing.T) {
	l := newLoop(t)
	calls := 0
	a, err := handle.NewAsync(l, func() { calls++ })
	require.NoError(t, err)
	assert.True(t, a.IsActive(), "active from creation")
	for i := 0; i < 100; i++ {
		require.NoError(t, a.Send())
	}
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, 1, calls)
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, 1, calls, "no Send, no call")
	require.NoError(t, a.Send())
	require.NoError(t, l.Run(loop.RunNoWait))
	assert.Equal(t, 2, calls)
}

func TestAsyncFromManyGoroutines(t *testing.T) {
	const senders, perSender = 4, 10000
	l := newLoop(t)
	var sent atomic.Int64
	calls := 0
	var a *handle.Async
	a, err := handle.NewAsync(l, func() {
		calls++
		// Every Send before this point is covered by this call; once the
		// last one is, the test is over.
		if sent.Load() == senders*perSender {
			a.Close(nil)
		}
	})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				sent.Add(1)
				assert.NoError(t, a.Send())
			}
		}()
	}
	cancel := testutil.Watchdog(t, l, 30*time.Second)
	require.NoError(t, l.Run(loop.RunDefault)) // ends only if a call ran after the last Send
	cancel()
	wg.Wait()
	assert.GreaterOrEqual(t, calls, 1)
	assert.Less(t, calls, senders*perSender, "Sends coalesce")
	assert.ErrorIs(t, a.Send(), handle.ErrClosing)
}

func TestAsyncClose(t *testing.T) {
	l := newLoop(t)
	_, err := handle.NewAsync(l, nil)
	assert.ErrorIs(t, err, handle.ErrNilCallback)

	calls, closed := 0, 0
	a, err := handle.NewAsync(l, func() { calls++ })
	require.NoError(t, err)
	require.NoError(t, a.Send()) // queued, but the handle closes first
	require.NoError(t, a.Close(func() { closed++ }))
	assert.ErrorIs(t, a.Send(), handle.ErrClosing)
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Zero(t, calls, "no callback after Close")
	assert.Equal(t, 1, closed)
	assert.Equal(t, "async", a.Kind())
}
