//go:build linux

package handle_test

import (
	"testing"
	"time"

	"github.com/netloop/netloop/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/loop"
)

func TestAllocsTimerStartStop(t *testing.T) {
	testutil.SkipIfDebug(t)
	l := newLoop(t)
	tm := handle.NewTimer(l)
	cb := func() {}
	allocs := testing.AllocsPerRun(1000, func() {
		tm.Start(time.Hour, 0, cb)
		tm.Stop()
	})
	assert.Zero(t, allocs)
}

func TestAllocsIterationWithTimerFiring(t *testing.T) {
	testutil.SkipIfDebug(t)
	l := newLoop(t)
	tm := handle.NewTimer(l)
	n := 0
	cb := func() { n++ }
	allocs := testing.AllocsPerRun(1000, func() {
		tm.Start(0, 0, cb)
		l.Run(loop.RunNoWait)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 1001, n)
}

func TestAllocsRepeatingTimer(t *testing.T) {
	testutil.SkipIfDebug(t)
	l := newLoop(t)
	tm := handle.NewTimer(l)
	n := 0
	require.NoError(t, tm.Start(0, time.Nanosecond, func() { n++ }))
	allocs := testing.AllocsPerRun(1000, func() {
		l.UpdateTime() // make the next firing due
		for l.Now() == 0 {
			l.UpdateTime()
		}
		l.Run(loop.RunNoWait)
	})
	assert.Zero(t, allocs)
	assert.Greater(t, n, 0)
	tm.Stop()
}

func TestAllocsAsyncSend(t *testing.T) {
	testutil.SkipIfDebug(t)
	l := newLoop(t)
	n := 0
	a, err := handle.NewAsync(l, func() { n++ })
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		a.Send()
		a.Send()
		l.Run(loop.RunNoWait)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 1001, n)
	a.Close(nil)
}

func BenchmarkTimerStartStop(b *testing.B) {
	l := newLoop(b)
	tm := handle.NewTimer(l)
	cb := func() {}
	b.ReportAllocs()
	for b.Loop() {
		tm.Start(time.Minute, 0, cb)
		tm.Stop()
	}
}

func BenchmarkTimerFire(b *testing.B) {
	l := newLoop(b)
	tm := handle.NewTimer(l)
	cb := func() {}
	b.ReportAllocs()
	for b.Loop() {
		tm.Start(0, 0, cb)
		l.Run(loop.RunNoWait)
	}
}

func BenchmarkIdleIteration(b *testing.B) {
	l := newLoop(b)
	idle := handle.NewIdle(l)
	idle.Start(func() {})
	b.ReportAllocs()
	for b.Loop() {
		l.Run(loop.RunNoWait)
	}
	idle.Stop()
}

func BenchmarkAsyncSendParallel(b *testing.B) {
	l := newLoop(b)
	a, err := handle.NewAsync(l, func() {})
	require.NoError(b, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(loop.RunDefault)
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Send()
		}
	})
	l.Post(func() { a.Close(nil) })
	<-done
}
