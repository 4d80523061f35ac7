package core

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Loop metrics (Node's performance.eventLoopUtilization and
// monitorEventLoopDelay, libuv's uv_metrics_info).
//
// The loop keeps them with the clock readings it takes anyway: the
// UpdateTime after a poll that could block, the one before the timers,
// and RunDefault's first. It adds one reading before a poll that may
// block (libuv takes the same one for its idle time), one when
// RunOnce or RunNoWait starts, and one when Run returns right after timers
// fired. Everything a reader needs is held in atomics that only the loop's
// goroutine writes, so Metrics is safe from any goroutine and the loop
// never waits for a reader.
//
// Time inside Run is split in two: idle is the time blocked in the
// poller's Wait with a non-zero timeout (waiting for I/O or a timer);
// everything else is busy (callbacks, the loop's own work, polls that
// do not block). Time outside Run counts as neither. The loop delay of an
// iteration is its busy time: from the timers phase of the previous
// iteration (or the start of Run) to the timers phase of this one, minus
// the time blocked in the poller. An event that became ready just after
// the poll returned waited that long before the loop could look for it.

// loopMetrics is a Loop's bookkeeping for Metrics.
type loopMetrics struct {
	// Owned by the loop's goroutine.
	runTotal  time.Duration // time inside Run, over the runs that returned
	runStart  time.Duration // loop time at which the current Run started
	idle      time.Duration // time blocked in the poller, all runs
	waitStart time.Duration // loop time at which the current blocking wait began
	mark      time.Duration // loop time at which the current delay sample began
	markIdle  time.Duration // idle at mark
	maxDelay  time.Duration // delayMax, for the loop's own comparisons
	waiting   bool          // in a blocking wait (waitStart is set)
	stale     bool          // work may have run since l.now was read
	starting  bool          // Run started; its clock starts at the next hook (RunDefault)
	names     []string      // the kind names last published in kindNames

	// Written by the loop's goroutine only, read by any.
	runEnc       atomic.Int64 // run time, see encodeClock
	idleEnc      atomic.Int64 // idle time, see encodeClock
	events       atomic.Uint64
	bytesRead    atomic.Int64
	bytesWritten atomic.Int64
	delaySum     atomic.Int64
	delayMax     atomic.Int64
	delay        [DelayBuckets]atomic.Uint64
	kindCount    [256]atomic.Int32 // open handles by kind index
	kindNames    atomic.Pointer[[]string]
}

// encodeClock packs a duration that may be growing with the clock into one
// word a reader can load at once: a settled total, or (live) an offset to
// which the reader adds its own reading of the loop's clock. The low bit
// tells which.
func encodeClock(v time.Duration, live bool) int64 {
	x := int64(v) << 1
	if live {
		x |= 1
	}
	return x
}

func decodeClock(x int64, now time.Duration) time.Duration {
	v := time.Duration(x >> 1)
	if x&1 != 0 {
		v += now
	}
	return v
}

// metricsEnter starts the accounting of a Run. RunDefault reads the
// clock before its first timers anyway: the run starts at that reading,
// taken up by metricsStart from the first hook after it. The other modes
// read the clock here.
func (l *Loop) metricsEnter(mode RunMode) {
	m := &l.m
	m.stale = true
	if mode == RunDefault {
		m.starting = true
		return
	}
	l.metricsStart(time.Since(l.base))
}

// metricsStart starts the run's clock at loop time t.
func (l *Loop) metricsStart(t time.Duration) {
	m := &l.m
	m.starting = false
	m.runStart, m.mark, m.markIdle = t, t, m.idle
	m.runEnc.Store(encodeClock(m.runTotal-t, true))
}

// metricsExit ends the accounting of a Run. l.now is the time of the last
// reading; it is only read again if callbacks may have run since (timers
// were due), the poll failed mid-wait, or no iteration ran.
func (l *Loop) metricsExit() {
	m := &l.m
	if m.starting {
		l.metricsStart(l.now)
	}
	t := l.now
	if m.stale || m.waiting || t < m.runStart {
		t = time.Since(l.base)
	}
	if m.waiting {
		m.waiting = false
		m.idle += t - m.waitStart
		m.idleEnc.Store(encodeClock(m.idle, false))
	}
	m.runTotal += t - m.runStart
	m.runEnc.Store(encodeClock(m.runTotal, false))
}

// leaveRun is Run's deferred exit: metricsExit, then exitRun.
func (l *Loop) leaveRun() {
	l.metricsExit()
	l.exitRun()
}

// metricsWaitStart is called right before the poller's Wait: a wait that
// may block is idle time.
func (l *Loop) metricsWaitStart(timeout int) {
	if timeout != 0 || l.m.starting {
		l.metricsWaitStartSlow(timeout)
	}
}

func (l *Loop) metricsWaitStartSlow(timeout int) {
	m := &l.m
	if m.starting {
		l.metricsStart(l.now) // RunDefault's first reading
	}
	if timeout == 0 {
		return
	}
	t := time.Since(l.base)
	m.waitStart, m.waiting = t, true
	m.idleEnc.Store(encodeClock(m.idle-t, true))
}

// metricsWaitEnd is called after Wait returned n events and l.now was
// updated (which poll does whenever the wait could block).
func (l *Loop) metricsWaitEnd(n int) {
	m := &l.m
	if m.waiting {
		m.waiting = false
		m.idle += l.now - m.waitStart
		m.idleEnc.Store(encodeClock(m.idle, false))
	}
	if n > 0 {
		m.events.Add(uint64(n))
	}
}

// metricsIteration closes an iteration's delay sample; it is called right
// after the UpdateTime that precedes the timers phase.
func (l *Loop) metricsIteration() {
	m := &l.m
	now := l.now
	d := (now - m.mark) - (m.idle - m.markIdle)
	m.mark, m.markIdle = now, m.idle
	m.stale = len(l.timers) > 0 && l.timers[0].due <= now
	if d < 0 {
		d = 0
	}
	m.delay[delayBucket(d)].Add(1) // one sample per iteration: the count of iterations
	m.delaySum.Add(int64(d))
	if d > m.maxDelay {
		m.maxDelay = d
		m.delayMax.Store(int64(d))
	}
}

// metricsHandleOpened counts a handle of kind index k that Init registered.
func (l *Loop) metricsHandleOpened(k uint8) {
	m := &l.m
	if int(k) >= len(m.names) || m.names[k] != l.kinds[k].name {
		// A kind seen for the first time (or slot 255 renamed "other"):
		// publish a new copy of the names, the readers' view of l.kinds.
		names := make([]string, len(l.kinds))
		for i, kind := range l.kinds {
			names[i] = kind.name
		}
		m.names = names
		m.kindNames.Store(&names)
	}
	m.kindCount[k].Add(1)
}

// metricsHandleClosed uncounts a handle whose close callback is due.
func (l *Loop) metricsHandleClosed(k uint8) { l.m.kindCount[k].Add(-1) }

// AddBytesRead counts n bytes read from a stream (n <= 0 counts nothing).
// For stream implementations; loop-affine.
func (l *Loop) AddBytesRead(n int) {
	if n > 0 {
		l.m.bytesRead.Add(int64(n))
	}
}

// AddBytesWritten counts n bytes the kernel took for a stream (n <= 0
// counts nothing). For stream implementations; loop-affine.
func (l *Loop) AddBytesWritten(n int) {
	if n > 0 {
		l.m.bytesWritten.Add(int64(n))
	}
}

// Metrics is a snapshot of a loop's counters; see Loop.Metrics.
type Metrics struct {
	Iterations   uint64
	Events       uint64
	Busy, Idle   time.Duration
	BytesRead    int64
	BytesWritten int64
	DelaySum     time.Duration // sum of the delay samples (one per iteration)
	DelayMax     time.Duration
	Delay        DelayHistogram
	Handles      map[string]int // open handles by kind, including kinds now at 0
}

// Metrics returns the loop's counters. It is safe from any goroutine and
// does not wait for the loop: counters are as of the loop's last update
// (at most one iteration old), and busy and idle time are exact to now,
// including a wait or a callback in progress.
func (l *Loop) Metrics() Metrics {
	m := &l.m
	var s Metrics
	// Run and idle time come from two words; if Run started or returned
	// between the loads, load again.
	for try := 0; ; try++ {
		r := m.runEnc.Load()
		i := m.idleEnc.Load()
		now := time.Since(l.base)
		if m.runEnc.Load() != r && try < 3 {
			continue
		}
		run, idle := decodeClock(r, now), decodeClock(i, now)
		idle = max(0, min(idle, run))
		s.Busy, s.Idle = run-idle, idle
		break
	}
	s.Events = m.events.Load()
	s.BytesRead = m.bytesRead.Load()
	s.BytesWritten = m.bytesWritten.Load()
	s.DelaySum = time.Duration(m.delaySum.Load())
	s.DelayMax = time.Duration(m.delayMax.Load())
	for i := range s.Delay {
		s.Delay[i] = m.delay[i].Load()
	}
	s.Iterations = s.Delay.Count()
	s.Handles = map[string]int{}
	if p := m.kindNames.Load(); p != nil {
		for i, name := range *p {
			s.Handles[name] += int(m.kindCount[i].Load())
		}
	}
	return s
}

// The delay histogram: log-linear buckets (HDR-like) over units of
// 64 ns, 8 buckets per power of two, so a bucket's bounds are within
// 12.5% of each other (64 ns below 512 ns). Samples of 2^33 units (about
// 9 minutes) and more share the last bucket.
const (
	delayUnitShift = 6
	delaySubBits   = 3
	delayMaxBits   = 33
	// DelayBuckets is the number of buckets of a DelayHistogram.
	DelayBuckets = (delayMaxBits-delaySubBits)<<delaySubBits + 1<<delaySubBits
)

// DelayHistogram counts delay samples by bucket.
type DelayHistogram [DelayBuckets]uint64

func delayBucket(d time.Duration) int {
	u := uint64(d) >> delayUnitShift
	if u >= 1<<delayMaxBits {
		return DelayBuckets - 1
	}
	if u < 1<<delaySubBits {
		return int(u)
	}
	n := bits.Len64(u)
	e := n - delaySubBits - 1
	return (n-delaySubBits)<<delaySubBits + int(u>>e)&(1<<delaySubBits-1)
}

// delayBucketHigh is the (exclusive) upper bound of bucket i.
func delayBucketHigh(i int) time.Duration {
	if i < 1<<delaySubBits {
		return time.Duration(i+1) << delayUnitShift
	}
	e := i>>delaySubBits - 1
	low := uint64(1<<delaySubBits|i&(1<<delaySubBits-1)) << e
	return time.Duration((low + 1<<e) << delayUnitShift)
}

// Count returns the number of samples.
func (h *DelayHistogram) Count() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// Sub returns h minus prev, bucket by bucket (the samples recorded since
// prev was taken, when both come from the same loop).
func (h *DelayHistogram) Sub(prev *DelayHistogram) DelayHistogram {
	var d DelayHistogram
	for i := range h {
		if h[i] > prev[i] {
			d[i] = h[i] - prev[i]
		}
	}
	return d
}

// Percentile returns the smallest bucket bound below which at least p
// percent (0 < p <= 100) of the samples lie, capped at maxSample; 0
// without samples. The bound is at most 12.5% (or 64 ns) above the true
// percentile.
func (h *DelayHistogram) Percentile(p float64, maxSample time.Duration) time.Duration {
	total := h.Count()
	if total == 0 {
		return 0
	}
	p = max(0, min(p, 100))
	rank := uint64(p / 100 * float64(total))
	if float64(rank) < p/100*float64(total) {
		rank++
	}
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h {
		seen += c
		if seen >= rank {
			return min(delayBucketHigh(i), maxSample)
		}
	}
	return maxSample
}

// High returns the upper bound of the highest bucket holding a sample, 0
// without samples.
func (h *DelayHistogram) High() time.Duration {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i] != 0 {
			return delayBucketHigh(i)
		}
	}
	return 0
}
