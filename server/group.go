package server

import (
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/socket"
)

// groupState is what a server listening on a loop group keeps for the
// hand-off of accepted connections (mode "acceptor": the first loop
// accepts, the least loaded loop gets the connection).
type groupState struct {
	s        *Server
	rp       *reusePort // BalanceReusePort's listeners, nil for the acceptor
	g        *core.Group
	loops    []*core.Loop
	opts     []accept.Options // per loop: the Owner knows the loop's index
	owners   []groupOwner
	releases []func() // the holds that keep every loop running while listening (nil while unref'd)

	connFns []func(*socket.Socket) // snapshot of the 'connection' listeners
	connGen uint32                 // the listener set's Gen when taken
	fresh   bool
}

// groupOwner is a group server as the accept.Owner of one loop's sockets.
type groupOwner struct {
	s *Server
	i int
}

// SocketClosed implements accept.Owner; it runs on the socket's loop.
func (o *groupOwner) SocketClosed() {
	s := o.s
	s.group0().AddLoad(o.i, -1)
	s.release(&s.connections) // 'close' belongs to the first loop
}

// Server implements accept.Owner.
func (o *groupOwner) Server() any { return o.s }

// group0 returns the group of Options.Group.
func (s *Server) group0() *core.Group { return (*core.Group)(s.opts.Group) }

// startGroup prepares the hand-off once the server listens on a group
// (and, for BalanceReusePort on a TCP address it bound itself, the other
// loops' listeners; a listener taken over, o nil, is always the
// acceptor's). On error nothing of it is left.
func (s *Server) startGroup(o *ListenOptions) error {
	if s.opts.Group == nil || s.group != nil {
		return nil
	}
	g := s.group0()
	gs := &groupState{s: s, g: g, loops: g.Loops()}
	gs.opts = make([]accept.Options, len(gs.loops))
	gs.owners = make([]groupOwner, len(gs.loops))
	for i := range gs.loops {
		gs.owners[i] = groupOwner{s: s, i: i}
		gs.opts[i] = *s.acceptOptions()
		gs.opts[i].Owner = &gs.owners[i]
	}
	if o != nil && s.reusePortWanted() && o.Path == "" && o.FD == 0 && len(gs.loops) > 1 {
		if err := s.startReusePort(gs, *o); err != nil {
			return err
		}
		// The other loops accept on listeners of their own, fresh
		// sockets without the first one's TCP_NODELAY.
		for i := 1; i < len(gs.opts); i++ {
			gs.opts[i].ListenerNoDelay = false
		}
	}
	for _, l := range gs.loops {
		gs.releases = append(gs.releases, l.Hold())
	}
	s.group = gs
	return nil
}

// reusePortWanted says the server's TCP listeners get SO_REUSEPORT, one
// per loop.
func (s *Server) reusePortWanted() bool {
	return s.opts.Group != nil && s.opts.Balance == BalanceReusePort
}

// stopGroup lets the group's loops end once their connections are gone.
// The first loop stays held until 'close' is emitted there: the last
// socket to close, on any loop, posts that to it.
func (s *Server) stopGroup() {
	if gs := s.group; gs != nil {
		s.drained = s.l.Hold()
		for _, release := range gs.releases {
			release()
		}
		gs.releases = nil
		s.group = nil
	}
}

// connectionListeners returns the 'connection' listeners as a slice other
// loops may call, taken again only when the listeners changed.
func (s *Server) connectionListeners() []func(*socket.Socket) {
	gs := s.group
	if !gs.fresh || gs.connGen != s.ev.Gen() {
		gs.connFns = emitter.Funcs[func(*socket.Socket)](&s.ev, evConnection)
		gs.connGen, gs.fresh = s.ev.Gen(), true
	}
	return gs.connFns
}

// handOff is onconnection for a group server, on the first loop: the
// descriptor goes to the least loaded loop, which builds the Socket and
// emits 'connection' there.
func (s *Server) handOff() {
	fd, err := s.st.TakeAccepted()
	if err != nil {
		s.emitError(err)
		return
	}
	if s.group.rp != nil {
		s.group.serveHere(0, fd) // BalanceReusePort: served where accepted
		return
	}
	s.handOffFd(fd)
}

// handOffFd hands an accepted descriptor to the least loaded loop, or
// drops it at MaxConnections or the BlockList. On the first loop.
func (s *Server) handOffFd(fd int) {
	gs := s.group
	k := s.st.Transport()
	if s.overLimit() {
		var info *DropInfo
		if k == transport.TCP {
			info = dropInfoFd(fd)
		}
		sys.Close(fd)
		emitter.Emit(&s.ev, evDrop, info)
		return
	}
	if bl := s.opts.BlockList; bl != nil && k == transport.TCP {
		if ap, err := sys.PeerName(fd); err == nil && bl.CheckAddr(ap.Addr()) {
			sys.Close(fd)
			return
		}
	}
	i := gs.g.Pick()
	gs.g.AddLoad(i, 1)
	s.connections.Add(1)
	target, opts, fns := gs.loops[i], &gs.opts[i], s.connectionListeners()
	release := func() {
		gs.g.AddLoad(i, -1)
		s.release(&s.connections)
	}
	err := target.Post(func() {
		conn, st := accept.NewConn(target, k)
		if err := st.Adopt(fd); err != nil {
			if st.Fd() != fd {
				sys.Close(fd)
			}
			st.Close(nil)
			release()
			return
		}
		sock := accept.NewSocket(conn, st, opts).(*socket.Socket)
		for _, fn := range fns {
			fn(sock)
		}
	})
	if err != nil {
		sys.Close(fd)
		release()
	}
}

// dropInfoFd is dropInfo for a descriptor not yet in a stream.
func dropInfoFd(fd int) *DropInfo {
	local, lerr := sys.SockName(fd)
	remote, rerr := sys.PeerName(fd)
	if lerr != nil || rerr != nil {
		return nil
	}
	return dropInfoOf(local, remote)
}
