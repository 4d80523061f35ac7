//go:build linux

package core_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/poller"
)

// spin keeps the loop's goroutine busy for d.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// Time blocked in the poller is idle, a callback's time is busy and is one
// iteration's delay; time outside Run is neither.
func TestMetricsBusyIdle(t *testing.T) {
	l := newLoop(t)
	m0 := l.Metrics()
	assert.Zero(t, m0.Busy+m0.Idle)
	assert.Zero(t, m0.Iterations)

	var e core.TimerEntry
	l.StartTimer(&e, 30*time.Millisecond, func() {
		spin(20 * time.Millisecond)
		l.StartTimer(&e, 30*time.Millisecond, func() {})
	})
	ka := keepAlive(l)
	l.StartTimer(new(core.TimerEntry), 100*time.Millisecond, func() { ka.Close(nil) })
	require.NoError(t, l.Run(core.RunDefault))
	m := l.Metrics()
	assert.GreaterOrEqual(t, m.Busy, 20*time.Millisecond)
	assert.GreaterOrEqual(t, m.Idle, 50*time.Millisecond)
	assert.GreaterOrEqual(t, m.DelayMax, 20*time.Millisecond)
	assert.GreaterOrEqual(t, m.Iterations, uint64(3))
	assert.Equal(t, m.Iterations, m.Delay.Count())
	assert.GreaterOrEqual(t, m.DelaySum, 20*time.Millisecond)
	assert.LessOrEqual(t, m.DelaySum, m.Busy)

	// Not running: nothing moves.
	time.Sleep(20 * time.Millisecond)
	again := l.Metrics()
	assert.Equal(t, m.Busy, again.Busy)
	assert.Equal(t, m.Idle, again.Idle)
}

// Metrics is safe from another goroutine while the loop runs, and the idle
// time of a wait in progress counts up to the call.
func TestMetricsWhileWaiting(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	var e core.TimerEntry
	l.StartTimer(&e, time.Minute, func() {})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.NoError(t, l.Run(core.RunDefault))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for l.Metrics().Idle == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	m1 := l.Metrics()
	time.Sleep(50 * time.Millisecond)
	m2 := l.Metrics()
	// The loop waited the whole time, but for wake-ups by signals.
	assert.GreaterOrEqual(t, m2.Idle-m1.Idle, 40*time.Millisecond)
	assert.GreaterOrEqual(t, m2.Busy, m1.Busy)
	l.Stop()
	wg.Wait()
	l.StopTimer(&e)
	ka.Close(nil)
	require.NoError(t, l.Run(core.RunNoWait))
	m3 := l.Metrics()
	assert.GreaterOrEqual(t, m3.Idle, m2.Idle)
}

// Events counts what the poller returned, one iteration per Run(RunNoWait).
func TestMetricsEvents(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	fd := eventfd(t)
	defer unix.Close(fd)
	var w core.FuncWatcher
	buf := make([]byte, 8)
	require.NoError(t, l.InitIOWatcher(&w, fd, func(poller.Interest) { unix.Read(fd, buf) }))
	require.NoError(t, w.Start(poller.Read))
	for range 10 {
		signalFd(t, fd)
		require.NoError(t, l.Run(core.RunNoWait))
	}
	require.NoError(t, l.Post(func() {})) // a wake-up is not an event
	require.NoError(t, l.Run(core.RunNoWait))
	m := l.Metrics()
	assert.Equal(t, uint64(10), m.Events)
	assert.Equal(t, uint64(11), m.Iterations)
	assert.Zero(t, m.Idle) // RunNoWait never blocks
	assert.Positive(t, m.Busy)
	w.Close(false)
	ka.Close(nil)
}

// Handles counts open handles by kind until their close callbacks are due.
func TestMetricsHandles(t *testing.T) {
	l := newLoop(t)
	a1, a2, b := &core.Handle{}, &core.Handle{}, &core.Handle{}
	a1.Init(l, "metrics-a", nil)
	a2.Init(l, "metrics-a", nil)
	b.Init(l, "metrics-b", nil)
	m := l.Metrics()
	assert.Equal(t, 2, m.Handles["metrics-a"])
	assert.Equal(t, 1, m.Handles["metrics-b"])
	a1.Close(nil)
	assert.Equal(t, 2, l.Metrics().Handles["metrics-a"], "counted until the closing phase")
	require.NoError(t, l.Run(core.RunNoWait))
	m = l.Metrics()
	assert.Equal(t, 1, m.Handles["metrics-a"])
	a2.Close(nil)
	b.Close(nil)
	require.NoError(t, l.Run(core.RunNoWait))
	m = l.Metrics()
	assert.Equal(t, map[string]int{"metrics-a": 0, "metrics-b": 0}, m.Handles)
}

// A blocking poll (RunOnce with a ready descriptor) keeps the metrics
// without allocating.
func TestAllocsMetricsBlockingPoll(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	fd := eventfd(t)
	defer unix.Close(fd)
	var w core.FuncWatcher
	buf := make([]byte, 8)
	require.NoError(t, l.InitIOWatcher(&w, fd, func(poller.Interest) { unix.Read(fd, buf) }))
	require.NoError(t, w.Start(poller.Read))
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	allocs := testing.AllocsPerRun(1000, func() {
		unix.Write(fd, one)
		l.Run(core.RunOnce)
	})
	assert.Zero(t, allocs)
	m := l.Metrics()
	assert.Equal(t, uint64(1001), m.Events)
	assert.Positive(t, m.Idle)
	w.Close(false)
	ka.Close(nil)
}

// New kinds appear while another goroutine reads the metrics (the race
// detector checks the hand-over).
func TestMetricsKindsConcurrent(t *testing.T) {
	l := newLoop(t)
	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, n := range l.Metrics().Handles {
				assert.GreaterOrEqual(t, n, 0)
			}
			reads.Add(1)
		}
	}()
	// Each new kind is published between two reads.
	waitRead := func() {
		for n := reads.Load(); reads.Load() < n+2; {
			runtime.Gosched()
		}
	}
	hs := make([]core.Handle, 40)
	for i := range hs {
		hs[i].Init(l, fmt.Sprintf("kind-%d", i), nil)
		waitRead()
	}
	for i := range hs {
		hs[i].Close(nil)
	}
	require.NoError(t, l.Run(core.RunNoWait))
	close(stop)
	wg.Wait()
	m := l.Metrics()
	assert.Len(t, m.Handles, 40)
	for k, n := range m.Handles {
		assert.Zero(t, n, k)
	}
}
