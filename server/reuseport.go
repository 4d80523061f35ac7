package server

import (
	"sync/atomic"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/socket"
)

// Balance selects how a server on a loop group (Options.Group) spreads
// its connections over the group's loops. Either way each connection
// lives on one loop for good, and its callbacks run there.
//
// BalanceAcceptor (the default) balances by load: a loop's share follows
// its live connections, whatever the clients' addresses, which suits
// long-lived connections; it costs a hand-off (a Post and a wake-up) per
// connection, and the first loop does every accept. BalanceReusePort has
// no hand-off and accepts on every loop at once, which suits high rates
// of short connections; its balance is the kernel's hash of the
// connections' addresses, so a few connections may land unevenly, and it
// does not follow load. Unix-domain paths, ListenFD and ListenHandle always
// use the acceptor.
type Balance int

const (
	// BalanceAcceptor: the first loop accepts every connection and hands
	// it to the loop with the fewest live connections (ties round-robin).
	BalanceAcceptor Balance = iota
	// BalanceReusePort: every loop listens on a socket of its own, bound
	// with SO_REUSEPORT to the same address, and accepts and serves what
	// the kernel queues there. Where the system has no SO_REUSEPORT
	// listen fails with the bind error.
	BalanceReusePort
)

// reusePort is a BalanceReusePort server's state: one listener per loop.
type reusePort struct {
	fds  []int                   // per loop: the listener's descriptor (0: the first loop's s.st)
	sibs []*transport.Stream     // per loop >= 1: its listener, touched only on that loop
	fns  atomic.Pointer[connFns] // the 'connection' listeners, for every loop
	gen  uint32                  // s.ev.Gen() when fns was taken (first loop)
	hook core.Hook               // refreshes fns on the first loop
}

type connFns []func(*socket.Socket)

// setLimit mirrors MaxConnections for the loops that accept besides the
// first: n+1, or 0 for no limit.
func (s *Server) setLimit() {
	if s.hasMax {
		s.limit.Store(int64(s.maxConns) + 1)
	} else {
		s.limit.Store(0)
	}
}

// reserveConn counts one more connection unless MaxConnections is reached,
// atomically, so loops accepting at once never exceed it together.
func (s *Server) reserveConn() bool {
	for {
		lim, n := s.limit.Load(), s.connections.Load()
		if lim > 0 && n >= lim-1 {
			return false
		}
		if s.connections.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// startReusePort opens a SO_REUSEPORT listener for every loop but the
// first, bound to the first one's address, and has each loop listen on
// its own. On the first loop, right after the first listener listens.
func (s *Server) startReusePort(gs *groupState, o ListenOptions) error {
	ap, err := s.st.SockName()
	if err != nil {
		return errx.UVWithHostPort("listen", errs.ErrnoOf(err), o.Host, o.Port)
	}
	rp := &reusePort{fds: make([]int, len(gs.loops)), sibs: make([]*transport.Stream, len(gs.loops))}
	rp.fds[0] = s.st.Fd()
	for i := 1; i < len(gs.loops); i++ {
		fd, err := reusePortListener(ap, o.IPv6Only, o.Backlog)
		if err != nil {
			for _, fd := range rp.fds[1:i] {
				sys.Close(fd)
			}
			return errx.UVWithHostPort("listen", errs.ErrnoOf(err), ap.Addr().String(), int(ap.Port()))
		}
		rp.fds[i] = fd
	}
	gs.rp = rp
	rp.refresh(s)
	s.core().StartHook(&rp.hook, core.PhaseCheck, func() { rp.refresh(s) })
	for i := 1; i < len(gs.loops); i++ {
		l, fd, backlog := gs.loops[i], rp.fds[i], o.Backlog
		err := l.Post(func() {
			st, err := transport.Open(l, fd, transport.TCP)
			if err == nil {
				st.PlainAccept() // drained with AcceptNow (drainGroup)
				err = st.Listen(backlog, func(err error) { gs.acceptOn(i, st, err) })
				if err != nil {
					st.Close(nil)
				}
			}
			if err != nil {
				sys.Close(fd)
				s.l.Post(func() { s.emitError(err) })
				return
			}
			rp.sibs[i] = st
		})
		if err != nil {
			sys.Close(fd)
		}
	}
	return nil
}

// refresh takes the 'connection' listeners again when they changed, for
// the other loops to call. On the first loop.
func (rp *reusePort) refresh(s *Server) {
	if p := rp.fns.Load(); p != nil && rp.gen == s.ev.Gen() {
		return
	}
	fns := connFns(emitter.Funcs[func(*socket.Socket)](&s.ev, evConnection))
	rp.fns.Store(&fns)
	rp.gen = s.ev.Gen()
}

// acceptOn is a BalanceReusePort listener's onconnection, on loop i.
func (gs *groupState) acceptOn(i int, st *transport.Stream, err error) {
	s := gs.s
	if err != nil {
		s.l.Post(func() { s.emitError(err) })
		return
	}
	fd, err := st.TakeAccepted()
	if err != nil {
		s.l.Post(func() { s.emitError(err) })
		return
	}
	gs.serveHere(i, fd)
}

// serveHere makes an accepted descriptor a Socket on loop i, where it was
// accepted, and emits 'connection' there, or drops it at MaxConnections
// ('drop' on the first loop) or the BlockList. On loop i.
func (gs *groupState) serveHere(i, fd int) {
	s := gs.s
	if !s.reserveConn() {
		info := dropInfoFd(fd)
		sys.Close(fd)
		s.l.Post(func() { emitter.Emit(&s.ev, evDrop, info) })
		return
	}
	if bl := s.opts.BlockList; bl != nil {
		if ap, err := sys.PeerName(fd); err == nil && bl.CheckAddr(ap.Addr()) {
			sys.Close(fd)
			gs.unreserve()
			return
		}
	}
	l := gs.loops[i]
	gs.g.AddLoad(i, 1)
	conn, st := accept.NewConn(l, transport.TCP)
	if err := st.Adopt(fd); err != nil {
		if st.Fd() != fd {
			sys.Close(fd)
		}
		st.Close(nil)
		gs.g.AddLoad(i, -1)
		gs.unreserve()
		return
	}
	sock := accept.NewSocket(conn, st, &gs.opts[i]).(*socket.Socket)
	for _, fn := range *gs.rp.fns.Load() {
		fn(sock)
	}
}

// unreserve gives back a connection reserved by reserveConn.
func (gs *groupState) unreserve() { gs.s.release(&gs.s.connections) }

// release decrements a count that holds 'close' back (connections, or
// listeners still draining) from any loop; the one that brings it to 0
// has the first loop check for 'close'. Until that check has run, the
// reporting count keeps the first loop from emitting 'close' (and so
// from ending) on its own: it must not end with the report still to come.
func (s *Server) release(count *atomic.Int64) {
	s.reporting.Add(1)
	if count.Add(-1) == 0 && s.l.Post(s.reported) == nil {
		return
	}
	s.reporting.Add(-1)
}

// reported is release's report, on the first loop.
func (s *Server) reported() {
	s.reporting.Add(-1)
	s.closeIfArmed()
}

// drainGroup runs as a group server closes, on the first loop, before its
// listener closes. Closing a listener resets the connections the kernel
// completed but nobody accepted yet; instead, every listener of the
// server first stops completing connections (stopSYNs), then the
// connections already queued are accepted and served as if they had come
// before Close, and only then do the listeners close. Clients that come
// later are refused once the listeners are gone.
func (s *Server) drainGroup() {
	gs := s.group
	if gs == nil || s.st == nil || s.st.IsClosing() || s.st.Fd() < 0 {
		return
	}
	rp := gs.rp
	stopSYNs(s.st.Fd())
	if rp != nil {
		for _, fd := range rp.fds[1:] {
			stopSYNs(fd)
		}
	}
	for {
		fd, err := s.st.AcceptNow()
		if err != nil {
			break // EAGAIN: drained (or an error: what is left is lost)
		}
		clearFilter(fd)
		if rp != nil {
			gs.serveHere(0, fd)
		} else {
			s.handOffFd(fd)
		}
	}
	if rp == nil {
		return
	}
	s.core().StopHook(&rp.hook, core.PhaseCheck)
	for i := 1; i < len(gs.loops); i++ {
		s.draining.Add(1)
		err := gs.loops[i].Post(func() {
			if st := rp.sibs[i]; st != nil {
				for {
					fd, err := st.AcceptNow()
					if err != nil {
						break
					}
					clearFilter(fd)
					gs.serveHere(i, fd)
				}
				rp.sibs[i] = nil
				st.Close(nil)
			}
			s.release(&s.draining)
		})
		if err != nil {
			s.draining.Add(-1)
		}
	}
}

// closeIfArmed emits 'close' if Close was called and nothing is left,
// for the other loops' sockets and listeners as they go: a report that
// arrives after the 'close' it could have caused does nothing. On the
// first loop.
func (s *Server) closeIfArmed() {
	if s.closeArmed {
		s.emitCloseIfDrained()
	}
}

// groupRef applies Ref and Unref to a group server: its holds on the
// group's loops and its listeners on the other loops.
func (s *Server) groupRef(on bool) {
	gs := s.group
	if gs == nil {
		return
	}
	if on && gs.releases == nil {
		for _, l := range gs.loops {
			gs.releases = append(gs.releases, l.Hold())
		}
	} else if !on && gs.releases != nil {
		for _, release := range gs.releases {
			release()
		}
		gs.releases = nil
	}
	if rp := gs.rp; rp != nil {
		for i := 1; i < len(gs.loops); i++ {
			gs.loops[i].Post(func() {
				if st := rp.sibs[i]; st != nil && !st.IsClosing() {
					if on {
						st.Ref()
					} else {
						st.Unref()
					}
				}
			})
		}
	}
}
