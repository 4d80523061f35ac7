package loop_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
)

// spin keeps the loop's goroutine busy for d.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// checkMetrics checks what holds for every snapshot.
func checkMetrics(t *testing.T, m loop.Metrics) {
	t.Helper()
	assert.GreaterOrEqual(t, m.Utilization, 0.0)
	assert.LessOrEqual(t, m.Utilization, 1.0)
	assert.GreaterOrEqual(t, m.BusyTime, time.Duration(0))
	assert.GreaterOrEqual(t, m.IdleTime, time.Duration(0))
	assert.LessOrEqual(t, m.DelayP50, m.DelayP99)
	assert.LessOrEqual(t, m.DelayP99, m.DelayMax)
	assert.LessOrEqual(t, m.DelayMean, m.DelayMax)
	assert.Equal(t, m.Handles["tcp"]+m.Handles["pipe"], m.Streams)
	if m.Iterations > 0 {
		assert.InDelta(t, float64(m.Events)/float64(m.Iterations), m.EventsPerIteration, 1e-9)
	}
}

func TestMetricsZero(t *testing.T) {
	l := testutil.NewLoop(t)
	m := l.Metrics()
	checkMetrics(t, m)
	assert.Zero(t, m.Iterations)
	assert.Zero(t, m.Utilization)
	assert.Zero(t, m.DelayMax)
	assert.Zero(t, m.EventsPerIteration)
	assert.Empty(t, m.Handles)
}

// Busy time grows with the work callbacks do; waiting for a timer is idle.
func TestMetricsUtilization(t *testing.T) {
	l := testutil.NewLoop(t)
	work := func() {
		testutil.After(t, l, 20*time.Millisecond, func() { spin(15 * time.Millisecond) })
		require.NoError(t, l.Run(loop.RunDefault))
	}
	work()
	m1 := l.Metrics()
	checkMetrics(t, m1)
	assert.GreaterOrEqual(t, m1.BusyTime, 15*time.Millisecond)
	assert.GreaterOrEqual(t, m1.IdleTime, 10*time.Millisecond)
	assert.Positive(t, m1.Utilization)
	assert.Less(t, m1.Utilization, 1.0)
	assert.GreaterOrEqual(t, m1.DelayMax, 15*time.Millisecond)
	assert.Equal(t, m1.DelayMax, m1.DelayPercentile(100))

	work()
	m2 := l.Metrics()
	checkMetrics(t, m2)
	assert.GreaterOrEqual(t, m2.BusyTime-m1.BusyTime, 15*time.Millisecond)
	assert.Greater(t, m2.Iterations, m1.Iterations)

	// The interval's figures.
	d := m2.Since(m1)
	checkMetrics(t, d)
	assert.Equal(t, m2.Iterations-m1.Iterations, d.Iterations)
	assert.Equal(t, m2.BusyTime-m1.BusyTime, d.BusyTime)
	assert.Equal(t, m2.IdleTime-m1.IdleTime, d.IdleTime)
	assert.InDelta(t, float64(d.BusyTime)/float64(d.BusyTime+d.IdleTime), d.Utilization, 1e-9)
	assert.GreaterOrEqual(t, d.DelayMax, 15*time.Millisecond)
	assert.Equal(t, m2, m2.Since(loop.Metrics{}))
}

// Work done by a prepare hook right before a blocking wait is busy time,
// also in an iteration that follows one ended without a timer due (here
// a Post's): a wait that took its start from the loop's cached time, to
// save a clock reading, would count the hook's work as idle.
func TestMetricsHookBeforeWaitIsBusy(t *testing.T) {
	l := testutil.NewLoop(t)
	calls := 0
	p := handle.NewPrepare(l)
	require.NoError(t, p.Start(func() {
		calls++
		if calls == 2 {
			spin(15 * time.Millisecond)
			p.Stop()
		}
	}))
	testutil.After(t, l, 60*time.Millisecond, func() { p.Close(nil) })
	go func() {
		time.Sleep(10 * time.Millisecond)
		l.Post(func() {})
	}()
	require.NoError(t, l.Run(loop.RunDefault))
	require.GreaterOrEqual(t, calls, 2)
	m := l.Metrics()
	checkMetrics(t, m)
	assert.GreaterOrEqual(t, m.BusyTime, 15*time.Millisecond)
}

// A loop blocked in a callback shows in the delay percentiles: most
// iterations are short, one is long.
func TestMetricsDelayPercentiles(t *testing.T) {
	l := testutil.NewLoop(t)
	idle := handle.NewIdle(l) // keeps the poll from blocking: many short iterations
	n := 0
	require.NoError(t, idle.Start(func() {
		n++
		if n == 500 {
			spin(20 * time.Millisecond)
		}
		if n == 1000 {
			idle.Close(nil)
		}
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	m := l.Metrics()
	checkMetrics(t, m)
	assert.GreaterOrEqual(t, m.Iterations, uint64(1000))
	assert.GreaterOrEqual(t, m.DelayMax, 20*time.Millisecond)
	assert.Less(t, m.DelayP50, 20*time.Millisecond)
	assert.LessOrEqual(t, m.DelayPercentile(10), m.DelayP50)
	assert.Zero(t, m.IdleTime)
	assert.Equal(t, 1.0, m.Utilization)
}
