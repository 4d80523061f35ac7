package loop

import "github.com/netloop/netloop/internal/core"

// Group is a set of loops, one per core by default, that a server can
// spread its connections over (server.Options.Group). Each loop runs on
// its own goroutine, locked to an OS thread; each connection lives on one
// loop for its whole life, and its callbacks run there.
//
//	g, _ := loop.NewGroup(0)
//	g.Start()
//	srv := server.New(server.Options{Group: g}, onConnection)
//	...
//	g.Wait() // once everything on every loop is done
//	g.Close()
type Group core.Group

func (g *Group) c() *core.Group { return (*core.Group)(g) }

// NewGroup creates n loops; n <= 0 means one per GOMAXPROCS.
func NewGroup(n int) (*Group, error) {
	g, err := core.NewGroup(n)
	return (*Group)(g), err
}

// Loops returns the group's loops. A group server listens and accepts on
// the first.
func (g *Group) Loops() []*Loop {
	cl := g.c().Loops()
	ls := make([]*Loop, len(cl))
	for i, l := range cl {
		ls[i] = (*Loop)(l)
	}
	return ls
}

// Start runs every loop of the group on its own goroutine; the loops keep
// running, even with nothing to do, until Wait or Stop. Safe from any
// goroutine.
func (g *Group) Start() error { return g.c().Start() }

// Wait lets the loops end once nothing is left on them (servers closed,
// connections gone) and waits for that, like Loop.Run for one loop. It
// returns the errors the loops' Run returned (joined). Call it from a
// goroutine that is not one of the group's loops.
func (g *Group) Wait() error { return g.c().Wait() }

// Stop makes every loop return from Run at the end of its current
// iteration, even with handles open, and waits for them. Call it from a
// goroutine that is not one of the group's loops.
func (g *Group) Stop() error { return g.c().Stop() }

// Close closes every loop (see Loop.Close), once Wait or Stop returned.
func (g *Group) Close() error { return g.c().Close() }

// Pick returns the group's least loaded loop (fewest live connections
// handed out by group servers; ties round-robin), for spreading client
// sockets the way servers spread accepted ones. Safe from any goroutine.
func (g *Group) Pick() *Loop { return (*Loop)(g.c().Loops()[g.c().Pick()]) }

// Load returns, per loop, the live connections counted there: sockets of
// group servers and client sockets created with socket.Options.Group.
// Safe from any goroutine.
func (g *Group) Load() []int {
	n := len(g.c().Loops())
	out := make([]int, n)
	for i := range out {
		out[i] = int(g.c().Load(i))
	}
	return out
}
