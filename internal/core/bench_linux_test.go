//go:build linux

package core_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/poller"
)

// ---- steady-state allocation checks ----

func TestAllocsTimerStartStop(t *testing.T) {
	l := newLoop(t)
	var e core.TimerEntry
	fn := func() {}
	allocs := testing.AllocsPerRun(1000, func() {
		l.StartTimer(&e, time.Hour, fn)
		l.StopTimer(&e)
	})
	assert.Zero(t, allocs)
}

func TestAllocsIterationWithTimer(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	var e core.TimerEntry
	fired := 0
	var fn func()
	fn = func() { fired++ }
	allocs := testing.AllocsPerRun(1000, func() {
		l.StartTimer(&e, 0, fn)
		l.Run(core.RunNoWait)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 1001, fired) // AllocsPerRun warms up with one extra run
	ka.Close(nil)
}

func TestAllocsIOWatcherDispatch(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	fd := eventfd(t)
	defer unix.Close(fd)
	var w core.FuncWatcher
	buf := make([]byte, 8)
	calls := 0
	require.NoError(t, l.InitIOWatcher(&w, fd, func(poller.Interest) {
		calls++
		unix.Read(fd, buf)
	}))
	require.NoError(t, w.Start(poller.Read))
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	allocs := testing.AllocsPerRun(1000, func() {
		unix.Write(fd, one)
		l.Run(core.RunNoWait)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 1001, calls)
	w.Close(false)
	ka.Close(nil)
}

// TestAllocsIOWatcherInterestChange: queued changes (epoll_ctl MOD, DEL)
// and the immediate first registration (ADD) allocate nothing.
func TestAllocsIOWatcherInterestChange(t *testing.T) {
	l := newLoop(t)
	ka := keepAlive(l)
	fd := eventfd(t)
	defer unix.Close(fd)
	var w core.FuncWatcher
	calls := 0
	require.NoError(t, l.InitIOWatcher(&w, fd, func(poller.Interest) { calls++ }))
	require.NoError(t, w.Start(poller.Read))
	allocs := testing.AllocsPerRun(1000, func() {
		w.Start(poller.Write) // queued: modified before the poll, then writable
		l.Run(core.RunNoWait)
		w.Stop(poller.Read | poller.Write) // queued: deleted before the poll
		l.Run(core.RunNoWait)
		w.Start(poller.Read) // registered at once
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 1001, calls)
	assert.NoError(t, w.Err())
	w.Close(false)
	ka.Close(nil)
}

// TestAllocsIOWatcherInitClose: a closed watcher's slot is reused, so a
// steady churn of watchers does not grow the table.
func TestAllocsIOWatcherInitClose(t *testing.T) {
	l := newLoop(t)
	fd := eventfd(t)
	defer unix.Close(fd)
	var w core.FuncWatcher
	cb := func(poller.Interest) {}
	allocs := testing.AllocsPerRun(1000, func() {
		l.InitIOWatcher(&w, fd, cb)
		w.Start(poller.Read)
		w.Close(false)
	})
	assert.Zero(t, allocs)
}

func TestAllocsNextTick(t *testing.T) {
	l := newLoop(t)
	n := 0
	tick := func() { n++ }
	cb := func() { l.NextTick(tick) }
	allocs := testing.AllocsPerRun(1000, func() { l.Invoke(cb) })
	assert.Zero(t, allocs)
	assert.Equal(t, 1001, n)
}

func TestAllocsPost(t *testing.T) {
	l := newLoop(t)
	n := 0
	fn := func() { n++ }
	allocs := testing.AllocsPerRun(1000, func() {
		l.Post(fn)
		l.Post(fn)
		l.Run(core.RunNoWait)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 2002, n)
}

// ---- benchmarks ----

func BenchmarkTimerStartStop(b *testing.B) {
	l := newLoop(b)
	var e core.TimerEntry
	fn := func() {}
	// A populated heap, as in a server with many connections' timers.
	others := make([]core.TimerEntry, 1000)
	for i := range others {
		l.StartTimer(&others[i], time.Duration(i)*time.Millisecond+time.Hour, fn)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.StartTimer(&e, time.Minute, fn)
		l.StopTimer(&e)
	}
	for i := range others {
		l.StopTimer(&others[i])
	}
}

func BenchmarkPostParallel(b *testing.B) {
	l := newLoop(b)
	ka := keepAlive(l)
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		l.Run(core.RunDefault)
	}()
	n := 0
	fn := func() { n++ }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Post(fn)
		}
	})
	l.Post(func() { ka.Close(nil) })
	done.Wait()
}

func BenchmarkEmptyIteration(b *testing.B) {
	l := newLoop(b)
	ka := keepAlive(l)
	b.ReportAllocs()
	for b.Loop() {
		l.Run(core.RunNoWait)
	}
	ka.Close(nil)
}

func BenchmarkIOWatcherDispatch(b *testing.B) {
	l := newLoop(b)
	ka := keepAlive(l)
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	require.NoError(b, err)
	defer unix.Close(fd)
	var w core.FuncWatcher
	buf := make([]byte, 8)
	require.NoError(b, l.InitIOWatcher(&w, fd, func(poller.Interest) { unix.Read(fd, buf) }))
	require.NoError(b, w.Start(poller.Read))
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	b.ReportAllocs()
	for b.Loop() {
		unix.Write(fd, one)
		l.Run(core.RunNoWait)
	}
	w.Close(false)
	ka.Close(nil)
}

func BenchmarkNextTick(b *testing.B) {
	l := newLoop(b)
	tick := func() {}
	cb := func() { l.NextTick(tick) }
	b.ReportAllocs()
	for b.Loop() {
		l.Invoke(cb)
	}
}
