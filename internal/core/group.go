package core

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Group is a set of loops that share a server's connections, each loop on
// its own goroutine (locked to an OS thread while it runs). The loops keep
// running while the group is started (each is held), and a connection
// lives on one loop for its whole life.
type Group struct {
	loops []*Loop
	load  []atomic.Int64 // live connections per loop, for Pick
	rr    atomic.Uint32  // round-robin start among equally loaded loops

	mu       sync.Mutex
	started  bool
	releases []func()
	wg       sync.WaitGroup
	errs     []error
}

// NewGroup creates n loops (n <= 0: one per GOMAXPROCS).
func NewGroup(n int) (*Group, error) {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	g := &Group{loops: make([]*Loop, n), load: make([]atomic.Int64, n)}
	for i := range g.loops {
		l, err := New()
		if err != nil {
			for _, m := range g.loops[:i] {
				m.Close()
			}
			return nil, fmt.Errorf("loop group: %w", err)
		}
		l.group, l.groupIndex = g, i
		g.loops[i] = l
	}
	return g, nil
}

// Loops returns the group's loops; index 0 is where a group server
// listens and accepts.
func (g *Group) Loops() []*Loop { return g.loops }

// Start runs every loop on its own goroutine, each held alive until Wait
// or Stop. Safe from any goroutine.
func (g *Group) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return ErrRunning
	}
	g.started = true
	g.errs = make([]error, len(g.loops))
	g.releases = g.releases[:0]
	for i, l := range g.loops {
		g.releases = append(g.releases, l.Hold())
		g.wg.Add(1)
		go func(i int, l *Loop) {
			defer g.wg.Done()
			g.errs[i] = l.Run(RunDefault)
		}(i, l)
	}
	return nil
}

// Wait releases the group's holds and waits until every loop's Run has
// returned, that is until nothing is left on any of them (servers closed,
// connections gone), like Run for one loop. It returns the first error a
// loop's Run returned. Safe from any goroutine but a loop of the group.
func (g *Group) Wait() error {
	g.mu.Lock()
	if !g.started {
		g.mu.Unlock()
		return nil
	}
	for _, release := range g.releases {
		release()
	}
	g.releases = nil
	g.mu.Unlock()
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.started = false
	return errors.Join(g.errs...)
}

// Stop makes every loop's Run return at the end of its current iteration,
// with handles still open, and waits for them. Safe from any goroutine
// but a loop of the group.
func (g *Group) Stop() error {
	for _, l := range g.loops {
		l.Stop()
	}
	return g.Wait()
}

// Close closes every loop (see Loop.Close); call it once Wait or Stop has
// returned.
func (g *Group) Close() error {
	var errs []error
	for _, l := range g.loops {
		if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Pick returns the index of the loop with the fewest live connections,
// ties broken round-robin. Safe from any goroutine.
func (g *Group) Pick() int {
	n := len(g.loops)
	start := int(g.rr.Add(1)) % n
	best, min := start, g.load[start].Load()
	for k := 1; k < n; k++ {
		i := (start + k) % n
		if v := g.load[i].Load(); v < min {
			best, min = i, v
		}
	}
	return best
}

// AddLoad counts delta live connections on loop i. Safe from any
// goroutine.
func (g *Group) AddLoad(i int, delta int64) { g.load[i].Add(delta) }

// Load returns loop i's live connection count.
func (g *Group) Load(i int) int64 { return g.load[i].Load() }

// Group returns the group l belongs to and its index there, or nil.
func (l *Loop) Group() (*Group, int) { return l.group, l.groupIndex }
