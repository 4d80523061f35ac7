package server

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/socket"
)

// DefaultBacklog is Node's listen backlog (the kernel rounds 511+1 up to
// 512).
const DefaultBacklog = 511

// Options configure a Server (Node's net.createServer options). The zero
// value gives Node's defaults.
type Options struct {
	// Loop runs the server and its connections; nil means loop.Default().
	// Ignored when Group is set.
	Loop *loop.Loop
	// Group spreads the connections over a group of loops (one per core):
	// by default the server listens and accepts on the group's first loop
	// and hands each connection to the loop with the fewest live
	// connections (see Balance for the other way), where it lives for
	// good; its 'connection' event and every callback of the socket run on
	// that loop, so 'connection' listeners may run on several loops at
	// once. 'listening', 'error', 'drop' and 'close' run on the first
	// loop, and the server's methods belong to it. Connections,
	// MaxConnections and Close hold for the whole group. The group must be
	// started (Group.Start); the server keeps every loop of it running
	// while it listens (unless Unref). Closing a group server serves the
	// connections the kernel had already queued instead of resetting them.
	Group *loop.Group
	// Balance selects how a Group server spreads connections: the
	// acceptor (the default) or one SO_REUSEPORT listener per loop.
	Balance Balance
	// AllowHalfOpen keeps accepted sockets writable after the peer's FIN.
	AllowHalfOpen bool
	// PauseOnConnect accepts sockets paused: they read nothing until
	// Resume.
	PauseOnConnect bool
	// NoDelay disables Nagle's algorithm on every accepted TCP socket. On
	// Linux it is set once on the listening socket, whose accepted sockets
	// inherit it.
	NoDelay bool
	// KeepAlive enables TCP keep-alive on every accepted TCP socket.
	KeepAlive bool
	// KeepAliveInitialDelay is the accepted sockets' idleness before the
	// first keep-alive probe (whole seconds, at least 1).
	KeepAliveInitialDelay time.Duration
	// HighWaterMark is the accepted sockets' writable high-water mark (see
	// socket.Options.HighWaterMark).
	HighWaterMark int
	// OwnedData gives the accepted sockets' 'data' listeners copies they
	// may keep (see socket.Options.OwnedData).
	OwnedData bool
	// BlockList closes connections from matching peers silently.
	BlockList *addr.BlockList
}

// ListenOptions are Node's server.listen(options). Give a Port (with
// optional Host), a Path, or an FD.
type ListenOptions struct {
	// Port to listen on. Port 0 counts as "no port given" (Node's
	// undefined) unless PortGiven: without PortGiven, a Path or an FD the
	// options are rejected, as Node rejects an object with neither "port"
	// nor "path".
	Port int
	// PortGiven says Port was given even when it is 0 (Node's {port: 0}):
	// the system picks the port.
	PortGiven bool
	// Host to bind; "" binds :: (dual stack), falling back to 0.0.0.0. A
	// host name is resolved off the loop.
	Host string
	// Path listens on a Unix-domain socket instead. A path longer than
	// sun_path holds (107 bytes on Linux, 103 on macOS and the BSDs) is cut
	// to fit, as Node does; Address still reports Path as given.
	Path string
	// StrictPath refuses a Path longer than sun_path holds with EINVAL
	// instead of cutting it (libuv's UV_PIPE_NO_TRUNCATE).
	StrictPath bool
	// FD listens on an already bound (or listening) socket descriptor.
	FD int
	// Backlog is the listen queue length; 0 means DefaultBacklog.
	Backlog int
	// Exclusive matters only for Node's cluster module; accepted and ignored.
	Exclusive bool
	// ReadableAll and WritableAll make a Path socket usable by every user.
	ReadableAll, WritableAll bool
	// IPv6Only refuses IPv4 on an IPv6 address.
	IPv6Only bool
	// ReusePort sets SO_REUSEPORT so several servers share the port.
	ReusePort bool
	// Context closes the server when it is done (Node's signal).
	Context context.Context
}

// DropInfo describes a connection dropped at MaxConnections (nil for
// pipes, which have no addresses).
type DropInfo struct {
	LocalAddress  string
	LocalPort     int
	LocalFamily   string
	RemoteAddress string
	RemotePort    int
	RemoteFamily  string
}

const (
	evListening emitter.Kind = iota
	evConnection
	evClose
	evError
	evDrop
)

// New creates a server; onConnection, if not nil, is added as a
// 'connection' listener.
func New(opts Options, onConnection func(*socket.Socket)) *Server {
	s := &Server{opts: opts, l: opts.Loop}
	if g := opts.Group; g != nil {
		s.l = g.Loops()[0]
	}
	if s.l == nil {
		s.l = loop.Default()
	}
	if onConnection != nil {
		s.OnConnection(onConnection)
	}
	return s
}

// Loop returns the server's loop.
func (s *Server) Loop() *loop.Loop { return s.l }

// Listener is returned by every On/Once method: call its Remove method to
// unregister that listener.
type Listener struct{ l emitter.Listener }

// Remove unregisters the listener (Node's removeListener); removing it
// twice, or after a Once listener ran, does nothing.
func (l Listener) Remove() { l.l.Remove() }

// add registers fn for an event; every On and Once method goes through it.
func (s *Server) add(kind emitter.Kind, fn any, once bool) Listener {
	return Listener{s.ev.On(kind, fn, once)}
}

// OnListening adds a 'listening' listener.
func (s *Server) OnListening(fn func()) Listener {
	s.affine("Server.OnListening")
	return s.add(evListening, fn, false)
}

// OnceListening adds a one-shot 'listening' listener.
func (s *Server) OnceListening(fn func()) Listener {
	s.affine("Server.OnceListening")
	return s.add(evListening, fn, true)
}

// OnConnection adds a 'connection' listener.
func (s *Server) OnConnection(fn func(*socket.Socket)) Listener {
	s.affine("Server.OnConnection")
	return s.add(evConnection, fn, false)
}

// OnceConnection adds a one-shot 'connection' listener.
func (s *Server) OnceConnection(fn func(*socket.Socket)) Listener {
	s.affine("Server.OnceConnection")
	return s.add(evConnection, fn, true)
}

// OnClose adds a 'close' listener: the server stopped listening and its
// last connection has gone.
func (s *Server) OnClose(fn func()) Listener {
	s.affine("Server.OnClose")
	return s.add(evClose, fn, false)
}

// OnceClose adds a one-shot 'close' listener.
func (s *Server) OnceClose(fn func()) Listener {
	s.affine("Server.OnceClose")
	return s.add(evClose, fn, true)
}

// OnError adds an 'error' listener (listen failures, accept errors).
// Without one, an error stops the loop and Run returns it (Node would
// throw), unless the loop has an OnUnhandledError handler.
func (s *Server) OnError(fn func(err error)) Listener {
	s.affine("Server.OnError")
	return s.add(evError, fn, false)
}

// OnceError adds a one-shot 'error' listener.
func (s *Server) OnceError(fn func(err error)) Listener {
	s.affine("Server.OnceError")
	return s.add(evError, fn, true)
}

// OnDrop adds a 'drop' listener: a connection was refused at
// MaxConnections. info is nil for pipe servers.
func (s *Server) OnDrop(fn func(info *DropInfo)) Listener {
	s.affine("Server.OnDrop")
	return s.add(evDrop, fn, false)
}

// OnceDrop adds a one-shot 'drop' listener.
func (s *Server) OnceDrop(fn func(info *DropInfo)) Listener {
	s.affine("Server.OnceDrop")
	return s.add(evDrop, fn, true)
}

// core returns the server's loop as the engine's type.
func (s *Server) core() *core.Loop { return (*core.Loop)(s.l) }

// affine checks, in netloopdebug builds, that method runs on the server's
// loop goroutine (see core.Loop.CheckAffinity).
func (s *Server) affine(method string) { s.core().CheckAffinity(method) }

// emitError emits 'error'; with no listener the loop's unhandled-error
// handler gets it, or Run returns it (Node would crash with it).
func (s *Server) emitError(err error) {
	if !emitter.Emit(&s.ev, evError, err) {
		src := "server"
		if a := s.Address(); a != nil {
			if a.Port > 0 {
				src += " " + net.JoinHostPort(a.Address, strconv.Itoa(a.Port))
			} else {
				src += " " + a.Address
			}
		}
		s.core().ReportUnhandled(&loop.UnhandledError{Source: src, Err: err})
	}
}
