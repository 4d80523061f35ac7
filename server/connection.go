package server

import (
	"net/netip"
	"sync/atomic"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/socket"
)

// Server is Node's net.Server.
type Server struct {
	l    *loop.Loop
	opts Options
	ev   emitter.Set

	st   *transport.Stream // the listening stream (TCP or pipe), nil when not listening
	path string            // the pipe's path, for Address

	listenSeq       int          // bumped by Close, so an in-flight listen is abandoned
	listenBusy      bool         // a listen is in progress (lookup or next tick)
	listenerNoDelay bool         // the listening socket has TCP_NODELAY set (accept.Options.ListenerNoDelay)
	connections     atomic.Int64 // open accepted sockets, on every loop of a group
	maxConns        int
	hasMax          bool
	unref           bool
	stopCtx         func() bool

	accept accept.Options // handed to every accepted socket (see acceptOptions)

	group   *groupState // Options.Group's hand-off state while listening, nil otherwise
	drained func()      // releases the first loop of a closed group server once 'close' is out

	limit      atomic.Int64 // MaxConnections+1 (0: none), for loops other than the first
	draining   atomic.Int64 // other loops' listeners still draining after Close
	reporting  atomic.Int64 // reports to the first loop under way (see release)
	closeArmed bool         // Close was called and 'close' is not out yet
}

// owner is the Server as its accepted sockets' accept.Owner; a separate
// type keeps SocketClosed out of the Server's method set.
type owner Server

// SocketClosed implements accept.Owner: an accepted socket was destroyed.
func (o *owner) SocketClosed() {
	s := (*Server)(o)
	s.connections.Add(-1)
	s.emitCloseIfDrained()
}

// Server implements accept.Owner.
func (o *owner) Server() any { return (*Server)(o) }

// SetMaxConnections refuses connections once n are open (0 refuses all);
// a negative n removes the limit (the default).
func (s *Server) SetMaxConnections(n int) *Server {
	s.affine("Server.SetMaxConnections")
	s.maxConns, s.hasMax = n, n >= 0
	s.setLimit()
	return s
}

// MaxConnections returns the limit and whether one is set.
func (s *Server) MaxConnections() (int, bool) {
	s.affine("Server.MaxConnections")
	return s.maxConns, s.hasMax
}

// acceptOptions returns the options every accepted socket gets, kept in
// the server so no connection allocates its own.
func (s *Server) acceptOptions() *accept.Options {
	s.accept = accept.Options{
		AllowHalfOpen:  s.opts.AllowHalfOpen,
		PauseOnConnect: s.opts.PauseOnConnect,
		NoDelay:        s.opts.NoDelay,
		KeepAlive:      s.opts.KeepAlive,
		KeepAliveDelay: s.opts.KeepAliveInitialDelay,
		HighWaterMark:  s.opts.HighWaterMark,
		OwnedData:      s.opts.OwnedData,
		Owner:          (*owner)(s),

		ListenerNoDelay: s.listenerNoDelay,
	}
	return &s.accept
}

func (s *Server) overLimit() bool { return s.hasMax && s.connections.Load() >= int64(s.maxConns) }

// onConnection is lib/net.js onconnection, for TCP and pipes alike.
func (s *Server) onConnection(err error) {
	if err != nil {
		s.emitError(err)
		return
	}
	if s.group != nil {
		s.handOff()
		return
	}
	k := s.st.Transport()
	sock, c := accept.NewConn(s.core(), k)
	if err := s.st.Accept(c); err != nil {
		c.Close(nil)
		s.emitError(err)
		return
	}
	if s.overLimit() {
		info := dropInfo(c)
		c.Close(nil)
		emitter.Emit(&s.ev, evDrop, info)
		return
	}
	if bl := s.opts.BlockList; bl != nil && k == transport.TCP {
		if remote, err := c.PeerName(); err == nil && bl.CheckAddr(remote.Addr()) {
			c.Close(nil)
			return
		}
	}
	s.connections.Add(1)
	emitter.Emit(&s.ev, evConnection, accept.NewSocket(sock, c, s.acceptOptions()).(*socket.Socket))
}

// dropInfo describes a dropped TCP connection (nil for pipes, as in Node).
func dropInfo(c *transport.Stream) *DropInfo {
	if c.Transport() != transport.TCP {
		return nil
	}
	local, lerr := c.SockName()
	remote, rerr := c.PeerName()
	if lerr != nil || rerr != nil {
		return nil
	}
	return dropInfoOf(local, remote)
}

func dropInfoOf(local, remote netip.AddrPort) *DropInfo {
	return &DropInfo{
		LocalAddress: local.Addr().String(), LocalPort: int(local.Port()), LocalFamily: addr.FamilyOf(local.Addr()),
		RemoteAddress: remote.Addr().String(), RemotePort: int(remote.Port()), RemoteFamily: addr.FamilyOf(remote.Addr()),
	}
}

// GetConnections calls cb asynchronously with the number of open
// connections.
func (s *Server) GetConnections(cb func(err error, count int)) *Server {
	s.affine("Server.GetConnections")
	n := int(s.connections.Load())
	s.l.NextTick(func() { cb(nil, n) })
	return s
}

// Connections returns the number of open connections.
func (s *Server) Connections() int {
	s.affine("Server.Connections")
	return int(s.connections.Load())
}
