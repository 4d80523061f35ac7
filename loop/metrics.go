package loop

import (
	"time"

	"github.com/netloop/netloop/internal/core"
)

// Metrics is what a loop has done since it was created: Node's
// performance.eventLoopUtilization() and monitorEventLoopDelay() in one
// value, plus handle and byte counts. Get one with Loop.Metrics; the
// figures for an interval are m.Since(prev).
//
// Time inside Run is split in two. IdleTime is the time the loop spent
// blocked in the poller waiting for I/O or a timer (a poll that cannot
// block, because work is pending or in RunNoWait, is not idle); BusyTime is
// the rest: callbacks and the loop's own work. Time outside Run counts as
// neither.
//
// The loop delay of an iteration is its busy time: from one timers phase
// to the next, without the time blocked in the poller. It is how long an
// event that became ready right after the poll returned waited, at most,
// before the loop looked for events again, and how late a timer due then
// ran; a callback that blocks for 200 ms makes one sample of at least
// 200 ms. The percentiles come from a histogram with buckets 12.5% wide
// (64 ns below 512 ns) and are rounded up to their bucket's bound; DelayMax
// is exact.
type Metrics struct {
	// Iterations is the number of loop iterations run (one poll each).
	Iterations uint64
	// Events is the number of readiness events the poller returned
	// (wake-ups by Post, Stop and the like are not counted).
	Events uint64
	// EventsPerIteration is Events / Iterations (0 before the first
	// iteration).
	EventsPerIteration float64

	// BusyTime is the time inside Run not spent blocked in the poller.
	BusyTime time.Duration
	// IdleTime is the time inside Run spent blocked in the poller.
	IdleTime time.Duration
	// Utilization is BusyTime / (BusyTime + IdleTime), in [0, 1] (0 before
	// the loop first ran): Node's eventLoopUtilization().utilization.
	Utilization float64

	// DelayP50 and DelayP99 are the median and the 99th percentile of the
	// loop delay (one sample per iteration; see the type's doc).
	DelayP50, DelayP99 time.Duration
	// DelayMax is the longest loop delay seen.
	DelayMax time.Duration
	// DelayMean is the mean loop delay.
	DelayMean time.Duration

	// Handles counts open handles (initialised, close callback not yet
	// run) by kind: "timer", "idle", "prepare", "check", "async",
	// "signal", "tcp", "pipe"... Every kind the loop has seen is present,
	// possibly at 0.
	Handles map[string]int
	// Streams is Handles["tcp"] + Handles["pipe"]: open TCP and pipe
	// streams, which are the connections plus each listening server's
	// stream and client streams not connected yet. (A Node-level client
	// socket still resolving its host has no stream yet.)
	Streams int

	// BytesRead is the number of bytes read from streams on this loop.
	BytesRead int64
	// BytesWritten is the number of bytes the kernel took from writes to
	// streams on this loop (bytes still queued are not counted).
	BytesWritten int64

	delay    core.DelayHistogram
	delaySum time.Duration
}

// Metrics returns what the loop has done since it was created. It is safe
// from any goroutine, while the loop runs or not, and neither wakes the loop
// nor waits for it: counters are as of the loop's last update (within the
// current iteration), and BusyTime and IdleTime are exact to the call,
// counting a wait or a callback in progress. It allocates the Handles map;
// keeping the figures costs the loop a few nanoseconds per iteration and
// no allocation (docs/core.md, Metrics).
func (l *Loop) Metrics() Metrics {
	s := l.c().Metrics()
	m := Metrics{
		Iterations:   s.Iterations,
		Events:       s.Events,
		BusyTime:     s.Busy,
		IdleTime:     s.Idle,
		DelayMax:     s.DelayMax,
		Handles:      s.Handles,
		Streams:      s.Handles["tcp"] + s.Handles["pipe"],
		BytesRead:    s.BytesRead,
		BytesWritten: s.BytesWritten,
		delay:        s.Delay,
		delaySum:     s.DelaySum,
	}
	m.derive()
	return m
}

// derive computes the ratios and percentiles from the counters.
func (m *Metrics) derive() {
	m.EventsPerIteration, m.Utilization, m.DelayMean = 0, 0, 0
	if m.Iterations > 0 {
		m.EventsPerIteration = float64(m.Events) / float64(m.Iterations)
	}
	if t := m.BusyTime + m.IdleTime; t > 0 {
		m.Utilization = float64(m.BusyTime) / float64(t)
	}
	if n := m.delay.Count(); n > 0 {
		m.DelayMean = m.delaySum / time.Duration(n)
	}
	m.DelayP50 = m.delay.Percentile(50, m.DelayMax)
	m.DelayP99 = m.delay.Percentile(99, m.DelayMax)
}

// DelayPercentile returns the p-th percentile (0 < p <= 100, as Node's
// histogram.percentile) of the loop delay samples m covers, rounded up to
// its histogram bucket's bound (at most 12.5% or 64 ns above) and capped
// at DelayMax; 0 without samples.
func (m Metrics) DelayPercentile(p float64) time.Duration {
	return m.delay.Percentile(p, m.DelayMax)
}

// Since returns the figures for the interval between prev and m, two
// snapshots of the same loop, prev taken first (Node's
// eventLoopUtilization(elu2, elu1)): counters, times, utilization and delay
// percentiles cover only what happened in between. DelayMax is exact when
// the interval holds a new maximum, else it is the bound of the highest
// bucket the interval's samples fell into. Handles and Streams are m's
// (they are gauges). A zero prev gives m.
func (m Metrics) Since(prev Metrics) Metrics {
	d := m
	d.Iterations -= prev.Iterations
	d.Events -= prev.Events
	d.BusyTime = max(0, m.BusyTime-prev.BusyTime)
	d.IdleTime = max(0, m.IdleTime-prev.IdleTime)
	d.BytesRead -= prev.BytesRead
	d.BytesWritten -= prev.BytesWritten
	d.delay = m.delay.Sub(&prev.delay)
	if m.DelayMax <= prev.DelayMax {
		d.DelayMax = min(d.delay.High(), m.DelayMax)
	}
	d.delaySum = max(0, m.delaySum-prev.delaySum)
	d.derive()
	return d
}
