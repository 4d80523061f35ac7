package core

import "time"

// TimerEntry is a node in the loop's timer heap: a 4-ary min-heap ordered by
// (due time, start sequence), so timers due at the same time fire in the
// order they were started. Timer handles embed one; its zero value is an
// idle entry.
type TimerEntry struct {
	due   time.Duration
	seq   uint64
	index int  // position in the heap while queued
	queue bool // in the heap
	ready bool // popped as due this iteration and not yet run or stopped
	fn    func()
}

// IsActive reports whether the entry will fire: it is in the heap, or it
// is due in the batch the timers phase is running.
func (e *TimerEntry) IsActive() bool { return e.queue || e.ready }

// Due returns the loop time at which the entry fires (meaningful only while
// it is scheduled).
func (e *TimerEntry) Due() time.Duration { return e.due }

// StartTimer schedules e to call fn at loop time Now()+after (negative
// durations count as zero). A scheduled entry is rescheduled. fn runs in the
// timers phase of the iteration in which it is due, never inside StartTimer.
func (l *Loop) StartTimer(e *TimerEntry, after time.Duration, fn func()) {
	e.ready = false
	if e.queue {
		l.timers.remove(e)
	}
	if after < 0 {
		after = 0
	}
	due := l.now + after
	if due < l.now { // overflow: clamp to "never in practice"
		due = 1<<63 - 1
	}
	e.due = due
	e.fn = fn
	l.timerSeq++
	e.seq = l.timerSeq
	l.timers.push(e)
}

// StopTimer removes e from the heap; stopping an idle entry does nothing.
func (l *Loop) StopTimer(e *TimerEntry) {
	e.ready = false
	if e.queue {
		l.timers.remove(e)
	}
}

// runTimers fires the timers due at the current loop time. Timers started by
// those callbacks, even with a zero timeout, wait for the next iteration.
func (l *Loop) runTimers() {
	due := l.due[:0]
	for len(l.timers) > 0 && l.timers[0].due <= l.now {
		e := l.timers.pop()
		e.ready = true
		due = append(due, e)
	}
	for i, e := range due {
		due[i] = nil
		// A callback earlier in this batch may have stopped or restarted e.
		if !e.ready {
			continue
		}
		e.ready = false
		if fn := e.fn; fn != nil {
			fn()
			l.drainTicks()
		}
	}
	l.due = due[:0]
}

type timerHeap []*TimerEntry

func less(a, b *TimerEntry) bool {
	if a.due != b.due {
		return a.due < b.due
	}
	return a.seq < b.seq
}

func (h *timerHeap) push(e *TimerEntry) {
	*h = append(*h, e)
	e.queue = true
	e.index = len(*h) - 1
	h.up(e.index)
}

func (h *timerHeap) pop() *TimerEntry {
	e := (*h)[0]
	h.removeAt(0)
	return e
}

func (h *timerHeap) remove(e *TimerEntry) { h.removeAt(e.index) }

func (h *timerHeap) removeAt(i int) {
	s := *h
	e := s[i]
	last := len(s) - 1
	if i != last {
		s[i] = s[last]
		s[i].index = i
	}
	s[last] = nil
	*h = s[:last]
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
	e.queue = false
	e.index = -1
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 4
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		h[i].index = i
		h[p].index = p
		i = p
	}
}

// down sifts i towards the leaves and reports whether it moved.
func (h timerHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		min := c
		for k := c + 1; k < c+4 && k < n; k++ {
			if less(h[k], h[min]) {
				min = k
			}
		}
		if !less(h[min], h[i]) {
			break
		}
		h[i], h[min] = h[min], h[i]
		h[i].index = i
		h[min].index = min
		i = min
	}
	return i > start
}
