//go:build !windows

package server

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/socket"
)

// DefaultBacklog is Node's listen backlog (the kernel rounds 511+1 up to
// 512).
const DefaultBacklog = 511

// Options configure a Server (Node's net.createServer options). The zero
// value gives Node's defaults.
type Options struct {
	// Loop runs the server and its connections; nil means loop.Default().
	Loop *loop.Loop
	// AllowHalfOpen keeps accepted sockets writable after the peer's FIN.
	AllowHalfOpen bool
	// PauseOnConnect accepts sockets paused: they read nothing until
	// Resume.
	PauseOnConnect bool
	// NoDelay, KeepAlive and KeepAliveInitialDelay are applied to every
	// accepted TCP socket before 'connection'.
	NoDelay               bool
	KeepAlive             bool
	KeepAliveInitialDelay time.Duration
	// HighWaterMark is the accepted sockets' writable high-water mark (see
	// socket.Options.HighWaterMark).
	HighWaterMark int
	// BlockList closes connections from matching peers silently.
	BlockList *addr.BlockList
}

// ListenOptions are Node's server.listen(options). Give a Port (with
// optional Host), a Path, or an FD.
type ListenOptions struct {
	// Port to listen on; 0 lets the system choose when Host is set (with
	// neither Port, Host, Path nor FD the options are rejected, as Node
	// rejects an object with neither "port" nor "path").
	Port int
	// Host to bind; "" binds :: (dual stack), falling back to 0.0.0.0. A
	// host name is resolved off the loop.
	Host string
	// Path listens on a Unix-domain socket instead.
	Path string
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

// Server is Node's net.Server.
type Server struct {
	l    *loop.Loop
	opts Options
	ev   emitter.Set

	st   *transport.Stream // the listening stream (TCP or pipe), nil when not listening
	path string            // the pipe's path, for Address

	listenSeq   int  // bumped by Close, so an in-flight listen is abandoned
	listenBusy  bool // a listen is in progress (lookup or next tick)
	connections int
	maxConns    int
	hasMax      bool
	unref       bool
	stopCtx     func() bool

	accept accept.Options // handed to every accepted socket (see acceptOptions)
}

// owner is the Server as its accepted sockets' accept.Owner; a separate
// type keeps SocketClosed out of the Server's method set.
type owner Server

// SocketClosed implements accept.Owner: an accepted socket was destroyed.
func (o *owner) SocketClosed() {
	s := (*Server)(o)
	s.connections--
	s.emitCloseIfDrained()
}

// Server implements accept.Owner.
func (o *owner) Server() any { return (*Server)(o) }

// New creates a server; onConnection, if not nil, is added as a
// 'connection' listener.
func New(opts Options, onConnection func(*socket.Socket)) *Server {
	s := &Server{opts: opts, l: opts.Loop}
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
type Listener = emitter.Listener

func (s *Server) add(kind emitter.Kind, fn any, once bool) Listener {
	return s.ev.On(kind, fn, once)
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
// Without one, errors are dropped (Node would throw).
func (s *Server) OnError(fn func(err error)) Listener {
	s.affine("Server.OnError")
	return s.add(evError, fn, false)
}

// OnDrop adds a 'drop' listener: a connection was refused at
// MaxConnections. info is nil for pipe servers.
func (s *Server) OnDrop(fn func(info *DropInfo)) Listener {
	s.affine("Server.OnDrop")
	return s.add(evDrop, fn, false)
}

// SetMaxConnections refuses connections once n are open (0 refuses all);
// a negative n removes the limit (the default).
func (s *Server) SetMaxConnections(n int) *Server {
	s.affine("Server.SetMaxConnections")
	s.maxConns, s.hasMax = n, n >= 0
	return s
}

// MaxConnections returns the limit and whether one is set.
func (s *Server) MaxConnections() (int, bool) {
	s.affine("Server.MaxConnections")
	return s.maxConns, s.hasMax
}

// Listening reports whether the server is accepting connections.
func (s *Server) Listening() bool {
	s.affine("Server.Listening")
	return s.st != nil && !s.listenBusy
}

func (s *Server) handleOpen() bool { return s.st != nil || s.listenBusy }

// Listen listens on port (0: the system chooses) on all addresses; cb, if
// given, is a one-shot 'listening' listener. See ListenOptions for errors.
func (s *Server) Listen(port int, cb ...func()) error {
	s.affine("Server.Listen")
	return s.listen(ListenOptions{Port: port}, true, cb)
}

// ListenHost listens on port at host, with the given backlog (0: 511).
func (s *Server) ListenHost(port int, host string, backlog int, cb ...func()) error {
	s.affine("Server.ListenHost")
	return s.listen(ListenOptions{Port: port, Host: host, Backlog: backlog}, true, cb)
}

// ListenPath listens on a Unix-domain socket at path.
func (s *Server) ListenPath(path string, cb ...func()) error {
	s.affine("Server.ListenPath")
	return s.listen(ListenOptions{Path: path}, false, cb)
}

// ListenFD listens on an already bound socket descriptor (Node's
// listen({fd})); the server owns it from then on.
func (s *Server) ListenFD(fd int, cb ...func()) error {
	s.affine("Server.ListenFD")
	return s.listen(ListenOptions{FD: fd}, false, cb)
}

// ListenHandle takes over the listening handle of another server on the
// same loop (Node's listen(handle)): new connections come to s from now
// on, while other keeps the connections it already has and no longer
// listens. 'listening' follows on s as for any Listen.
func (s *Server) ListenHandle(other *Server, cb ...func()) error {
	s.affine("Server.ListenHandle")
	if s.handleOpen() {
		return errs.ErrServerAlreadyListen
	}
	if other == nil || other == s || other.listenBusy || other.st == nil {
		return errx.New(errs.CodeInvalidArgValue, "The argument 'handle' is invalid: the server is not listening")
	}
	if other.l != s.l {
		return errx.New(errs.CodeInvalidArgValue, "The argument 'handle' is invalid: it belongs to another loop")
	}
	s.st, s.path = other.st, other.path
	other.st, other.path = nil, ""
	other.listenSeq++
	other.dropContext()
	// Already listening: Listen only takes the new callback.
	if err := s.st.Listen(DefaultBacklog, s.onConnection); err != nil {
		s.closeHandle()
		return err
	}
	s.handleRef(!s.unref)
	for _, fn := range cb {
		if fn != nil {
			s.OnceListening(fn)
		}
	}
	s.listenBusy = true
	seq := s.listenSeq
	s.l.NextTick(func() {
		if seq == s.listenSeq && s.listenBusy {
			s.listenBusy = false
			emitter.Emit0(&s.ev, evListening)
		}
	})
	return nil
}

// ListenOptions listens as Node's listen(options).
func (s *Server) ListenOptions(o ListenOptions, cb ...func()) error {
	s.affine("Server.ListenOptions")
	return s.listen(o, false, cb)
}

func badPort(port int) error {
	return errx.New(errs.CodeSocketBadPort, "options.port should be >= 0 and < 65536. Received "+strconv.Itoa(port)+".")
}

func (s *Server) listen(o ListenOptions, portGiven bool, cb []func()) error {
	if s.handleOpen() {
		return errs.ErrServerAlreadyListen
	}
	if o.Port < 0 || o.Port > 65535 {
		return badPort(o.Port)
	}
	if o.FD < 0 {
		return errx.New(errs.CodeInvalidArgValue, "The argument 'options' is invalid. Received {fd: "+strconv.Itoa(o.FD)+"}")
	}
	if !portGiven && o.Path == "" && o.FD == 0 && o.Port == 0 && o.Host == "" {
		return errx.New(errs.CodeInvalidArgValue, `The argument 'options' must have the property "port" or "path". Received {}`)
	}
	if o.Path != "" && pipe.IsAbstract(o.Path) && (o.ReadableAll || o.WritableAll) {
		return errx.New(errs.CodeInvalidArgValue, "The argument 'options' can not set readableAll or writableAll to true when path is abstract unix socket.")
	}
	if o.Backlog <= 0 {
		o.Backlog = DefaultBacklog
	}
	for _, fn := range cb {
		if fn != nil {
			s.OnceListening(fn)
		}
	}
	seq := s.listenSeq
	s.dropContext()
	if o.Context != nil {
		// The context closes this listen only: a later Listen (after an
		// error or Close) is not affected by an earlier context.
		closeThis := func() {
			if seq == s.listenSeq {
				s.Close(nil)
			}
		}
		if o.Context.Err() != nil {
			s.l.NextTick(closeThis)
		} else {
			s.stopCtx = context.AfterFunc(o.Context, func() { s.l.Post(closeThis) })
		}
	}
	s.listenBusy = true
	switch {
	case o.Path != "":
		s.l.NextTick(func() { s.setup(seq, o, netip.Addr{}) })
	case o.FD > 0:
		s.l.NextTick(func() { s.setup(seq, o, netip.Addr{}) })
	case o.Host == "":
		s.l.NextTick(func() { s.setup(seq, o, netip.Addr{}) })
	default:
		if ip, err := netip.ParseAddr(o.Host); err == nil {
			s.l.NextTick(func() { s.setup(seq, o, ip) })
		} else {
			s.resolve(seq, o)
		}
	}
	return nil
}

// resolve looks the host up off the loop, then binds the first address
// that is not IPv6 link-local (or the first one).
func (s *Server) resolve(seq int, o ListenOptions) {
	s.core().ReqStart() // the lookup keeps the loop alive
	go func() {
		ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", o.Host)
		s.l.Post(func() {
			s.core().ReqDone()
			if seq != s.listenSeq {
				return
			}
			if err != nil || len(ips) == 0 {
				code := "ENOTFOUND"
				if dnsErr, ok := err.(*net.DNSError); ok && dnsErr.IsTemporary {
					code = "EAI_AGAIN"
				}
				s.listenFailed(errx.Getaddrinfo(code, o.Host))
				return
			}
			pick := ips[0]
			for _, ip := range ips {
				if !(ip.Is6() && ip.IsLinkLocalUnicast()) {
					pick = ip
					break
				}
			}
			s.setup(seq, o, pick.Unmap())
		})
	}()
}

func (s *Server) listenFailed(err error) {
	s.listenBusy = false
	s.listenSeq++
	s.dropContext()
	s.closeHandle()
	emitter.Emit(&s.ev, evError, err)
}

// setup creates, binds and listens the handle; errors become 'error'.
func (s *Server) setup(seq int, o ListenOptions, ip netip.Addr) {
	if seq != s.listenSeq || !s.listenBusy {
		return
	}
	var err error
	switch {
	case o.Path != "":
		err = s.setupPipe(o)
	case o.FD > 0:
		err = s.setupFD(o.FD, o.Backlog)
	default:
		err = s.setupTCP(o, ip)
	}
	if err != nil {
		s.listenFailed(err)
		return
	}
	s.listenBusy = false
	if s.unref {
		s.handleRef(false)
	}
	emitter.Emit0(&s.ev, evListening)
}

func (s *Server) setupTCP(o ListenOptions, ip netip.Addr) error {
	var flags transport.BindFlags
	if o.IPv6Only {
		flags |= transport.IPv6Only
	}
	if o.ReusePort {
		flags |= transport.ReusePort
	}
	try := func(ip netip.Addr) error {
		t := transport.New(s.core(), transport.TCP)
		s.st = t
		if err := t.Bind(ip, o.Port, flags); err != nil {
			return err
		}
		return t.Listen(o.Backlog, s.onConnection)
	}
	hostForErr := o.Host
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
		err := try(ip)
		if err == nil {
			return nil
		}
		// As Node: any failure on :: but "in use" retries on 0.0.0.0
		// (libuv reports EADDRINUSE at listen, after the bind "worked").
		if errs.ErrnoOf(err) == syscall.EADDRINUSE {
			return errx.UVWithHostPort("listen", errs.ErrnoOf(err), "::", o.Port)
		}
		s.closeHandle()
		ip = netip.IPv4Unspecified()
		hostForErr = "0.0.0.0"
	}
	if err := try(ip); err != nil {
		if hostForErr == "" || hostForErr != ip.String() {
			hostForErr = ip.String()
		}
		return errx.UVWithHostPort("listen", errs.ErrnoOf(err), hostForErr, o.Port)
	}
	return nil
}

func (s *Server) setupPipe(o ListenOptions) error {
	p := transport.New(s.core(), transport.Pipe)
	s.st = p
	s.path = o.Path
	if err := p.BindPath(o.Path); err != nil {
		return errx.UVWithHostPort("listen", errs.ErrnoOf(err), o.Path, -1)
	}
	var mode transport.Mode
	if o.ReadableAll {
		mode |= transport.Readable
	}
	if o.WritableAll {
		mode |= transport.Writable
	}
	if mode != 0 {
		if err := p.Chmod(mode); err != nil {
			return errx.UVWithHostPort("listen", errs.ErrnoOf(err), o.Path, -1)
		}
	}
	if err := p.Listen(o.Backlog, s.onConnection); err != nil {
		return errx.UVWithHostPort("listen", errs.ErrnoOf(err), o.Path, -1)
	}
	return nil
}

func (s *Server) setupFD(fd, backlog int) error {
	st, err := transport.OpenFD(s.core(), fd)
	if err != nil {
		return err
	}
	s.st = st
	if st.Transport() == transport.Pipe {
		s.path, _ = st.PathName()
	}
	return st.Listen(backlog, s.onConnection)
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
		Owner:          (*owner)(s),
	}
	return &s.accept
}

func (s *Server) overLimit() bool { return s.hasMax && s.connections >= s.maxConns }

// onConnection is lib/net.js onconnection, for TCP and pipes alike.
func (s *Server) onConnection(err error) {
	if err != nil {
		emitter.Emit(&s.ev, evError, err)
		return
	}
	k := s.st.Transport()
	c := transport.New(s.core(), k)
	if err := s.st.Accept(c); err != nil {
		c.Close(nil)
		emitter.Emit(&s.ev, evError, err)
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
	sock := accept.NewSocket(s.core(), c, s.acceptOptions()).(*socket.Socket)
	s.connections++
	emitter.Emit(&s.ev, evConnection, sock)
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
	return &DropInfo{
		LocalAddress: local.Addr().String(), LocalPort: int(local.Port()), LocalFamily: addr.FamilyOf(local.Addr()),
		RemoteAddress: remote.Addr().String(), RemotePort: int(remote.Port()), RemoteFamily: addr.FamilyOf(remote.Addr()),
	}
}

// GetConnections calls cb asynchronously with the number of open
// connections.
func (s *Server) GetConnections(cb func(err error, count int)) *Server {
	s.affine("Server.GetConnections")
	n := s.connections
	s.l.NextTick(func() { cb(nil, n) })
	return s
}

// Connections returns the number of open connections.
func (s *Server) Connections() int {
	s.affine("Server.Connections")
	return s.connections
}

// Address returns the bound address ({Address, Family, Port}; for pipes
// only Address, the path), or nil when not listening.
func (s *Server) Address() *socket.AddressInfo {
	s.affine("Server.Address")
	switch {
	case s.listenBusy:
		return nil
	case s.st == nil:
		return nil
	case s.st.Transport() == transport.Pipe:
		return &socket.AddressInfo{Address: s.path}
	default:
		ap, err := s.st.SockName()
		if err != nil {
			return nil
		}
		return &socket.AddressInfo{Address: ap.Addr().String(), Family: addr.FamilyOf(ap.Addr()), Port: int(ap.Port())}
	}
}

// Close stops accepting new connections; existing ones keep working.
// 'close' is emitted (and cb called) once the last connection has gone.
// On a server that is not listening cb receives ERR_SERVER_NOT_RUNNING,
// and 'close' is still emitted.
func (s *Server) Close(cb func(err error)) *Server {
	s.affine("Server.Close")
	if cb != nil {
		if !s.handleOpen() {
			s.OnceClose(func() { cb(errs.ErrServerNotRunning) })
		} else {
			s.OnceClose(func() { cb(nil) })
		}
	}
	s.listenSeq++
	s.listenBusy = false
	s.closeHandle()
	s.dropContext()
	s.emitCloseIfDrained()
	return s
}

// Dispose closes the server if it is listening and succeeds otherwise
// (Node's Symbol.asyncDispose); cb runs once it has closed.
func (s *Server) Dispose(cb func()) {
	s.affine("Server.Dispose")
	if !s.handleOpen() {
		if cb != nil {
			s.l.NextTick(cb)
		}
		return
	}
	s.Close(func(error) {
		if cb != nil {
			cb()
		}
	})
}

// dropContext stops watching the listen context, if any.
func (s *Server) dropContext() {
	if s.stopCtx != nil {
		s.stopCtx()
		s.stopCtx = nil
	}
}

func (s *Server) closeHandle() {
	if s.st != nil {
		if !s.st.IsClosing() {
			s.st.Close(nil)
		}
		s.st = nil
	}
}

func (s *Server) emitCloseIfDrained() {
	if s.handleOpen() || s.connections > 0 {
		return
	}
	// Like Node's emitCloseNT, emit unconditionally: a listen() made in
	// the same tick must not swallow this close (or its callbacks).
	s.l.NextTick(func() { emitter.Emit0(&s.ev, evClose) })
}

// core returns the server's loop as the engine's type.
func (s *Server) core() *core.Loop { return (*core.Loop)(s.l) }

func (s *Server) handleRef(on bool) {
	if st := s.st; st != nil && !st.IsClosing() {
		if on {
			st.Ref()
		} else {
			st.Unref()
		}
	}
}

// Ref keeps the loop alive while the server listens (the default).
// Remembered before Listen.
func (s *Server) Ref() *Server {
	s.affine("Server.Ref")
	s.unref = false
	s.handleRef(true)
	return s
}

// Unref lets the loop exit while the server listens. Remembered before
// Listen.
func (s *Server) Unref() *Server {
	s.affine("Server.Unref")
	s.unref = true
	s.handleRef(false)
	return s
}

// affine checks, in netloopdebug builds, that method runs on the server's
// loop goroutine (see core.Loop.CheckAffinity).
func (s *Server) affine(method string) { s.core().CheckAffinity(method) }
