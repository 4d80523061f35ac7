package server

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/socket"
)

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
// listen({fd})); the server owns it from then on. A descriptor that is not
// a TCP or Unix-domain socket gives 'error' "listen EINVAL" (as Node) and
// stays the caller's.
func (s *Server) ListenFD(fd int, cb ...func()) error {
	s.affine("Server.ListenFD")
	return s.listen(ListenOptions{FD: fd}, false, cb)
}

// ListenHandle takes over the listening handle of another server on the
// same loop (Node's listen(handle)): new connections come to s from now
// on, while other keeps the connections it already has and no longer
// listens. 'listening' follows on s as for any Listen. A group server
// (Options.Group) hands the connections out over its loops as the
// acceptor does (BalanceAcceptor), whatever its Balance.
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
	s.listenerNoDelay = other.listenerNoDelay
	other.st, other.path = nil, ""
	other.listenSeq++
	other.dropContext()
	// Already listening: Listen only takes the new callback (and a
	// group server's accept mode is ended, see listenOn).
	if err := s.listenOn(s.st, DefaultBacklog); err != nil {
		s.closeHandle()
		return err
	}
	// A group server hands the connections out over its loops, as after
	// any other listen.
	if err := s.startGroup(nil); err != nil {
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
	if !portGiven && !o.PortGiven && o.Path == "" && o.FD == 0 && o.Port == 0 {
		return errx.New(errs.CodeInvalidArgValue, `The argument 'options' must have the property "port" or "path". Received {}`)
	}
	if o.Path != "" && transport.IsAbstract(o.Path) && (o.ReadableAll || o.WritableAll) {
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
	s.listenerNoDelay = false
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
	// As Node: a path, a descriptor, no host or an IP literal bind and
	// listen right here (Address and Listening are valid when Listen
	// returns); only a host name waits for its lookup. 'listening' or the
	// bind error follows on the next tick either way.
	if o.Path != "" || o.FD > 0 || o.Host == "" {
		s.setup(seq, o, netip.Addr{})
	} else if ip, err := netip.ParseAddr(o.Host); err == nil {
		s.setup(seq, o, ip)
	} else {
		s.resolve(seq, o)
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

// listenFailed undoes a listen at once and emits err as 'error' on the
// next tick (Node's emitErrorNT), never inside the Listen call.
func (s *Server) listenFailed(err error) {
	s.listenBusy = false
	s.listenSeq++
	s.dropContext()
	s.closeHandle()
	s.l.NextTick(func() { s.emitError(err) })
}

func (s *Server) setupTCP(o ListenOptions, ip netip.Addr) error {
	var flags transport.BindFlags
	if o.IPv6Only {
		flags |= transport.IPv6Only
	}
	if o.ReusePort || s.reusePortWanted() {
		flags |= transport.ReusePort
	}
	try := func(ip netip.Addr) error {
		t := transport.New(s.core(), transport.TCP)
		s.st = t
		if err := t.Bind(ip, o.Port, flags); err != nil {
			return err
		}
		// Set once on the listener, TCP_NODELAY reaches every accepted
		// socket without a system call each (Linux copies it at accept).
		if s.opts.NoDelay && listenerOptionsInherited {
			_ = t.SetNoDelay(true) // readListenerNoDelay sees whether it took
		}
		s.readListenerNoDelay(t)
		return s.listenOn(t, o.Backlog)
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
	if err := p.BindPath(o.Path, o.StrictPath); err != nil {
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
	if err := s.listenOn(p, o.Backlog); err != nil {
		return errx.UVWithHostPort("listen", errs.ErrnoOf(err), o.Path, -1)
	}
	return nil
}

func (s *Server) setupFD(fd, backlog int) error {
	st, err := transport.OpenFD(s.core(), fd)
	if err != nil {
		if errs.CodeOf(err) == errs.CodeInvalidFDType {
			// As Node's createServerHandle: not a descriptor to listen on.
			// Nothing of ours is open; the descriptor stays the caller's.
			return errx.UVWithHostPort("listen", syscall.EINVAL, "", -1)
		}
		return err
	}
	s.st = st
	if st.Transport() == transport.Pipe {
		s.path, _ = st.PathName()
	}
	// A listener from elsewhere (another server's, sent or duplicated)
	// may have TCP_NODELAY set already.
	s.readListenerNoDelay(st)
	return s.listenOn(st, backlog)
}

// listenOn starts listening on st. A group server's listeners accept with
// accept4 on readiness: its Close drains them with AcceptNow (drainGroup).
func (s *Server) listenOn(st *transport.Stream, backlog int) error {
	if s.opts.Group != nil {
		st.PlainAccept()
	}
	return st.Listen(backlog, s.onConnection)
}

// readListenerNoDelay records whether st, the listener, has TCP_NODELAY
// set where accepted sockets inherit it (accept.Options.ListenerNoDelay:
// newAccepted then keeps or clears it without a system call of its own).
func (s *Server) readListenerNoDelay(st *transport.Stream) {
	s.listenerNoDelay = false
	if listenerOptionsInherited && st.Transport() == transport.TCP {
		v, err := sys.GetsockoptInt(st.Fd(), sys.IPPROTO_TCP, sys.TCP_NODELAY)
		s.listenerNoDelay = err == nil && v != 0
	}
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

// ListenOptions listens as Node's listen(options).
func (s *Server) ListenOptions(o ListenOptions, cb ...func()) error {
	s.affine("Server.ListenOptions")
	return s.listen(o, false, cb)
}

func badPort(port int) error {
	return errx.New(errs.CodeSocketBadPort, "options.port should be >= 0 and < 65536. Received "+strconv.Itoa(port)+".")
}

// setup creates, binds and listens the handle; errors become 'error'.
func (s *Server) setup(seq int, o ListenOptions, ip netip.Addr) {
	if seq != s.listenSeq || !s.listenBusy {
		return
	}
	var err error
	switch {
	case o.Path != "":
		if err = s.pipeGroupErr(o.Path); err == nil {
			err = s.setupPipe(o)
		}
	case o.FD > 0:
		err = s.setupFD(o.FD, o.Backlog)
	default:
		err = s.setupTCP(o, ip)
	}
	if err != nil {
		s.listenFailed(err)
		return
	}
	if err := s.startGroup(&o); err != nil {
		s.listenFailed(err)
		return
	}
	s.listenBusy = false
	if s.unref {
		s.handleRef(false)
	}
	seq = s.listenSeq
	s.l.NextTick(func() {
		// Node's emitListeningNT: not after a Close in the meantime.
		if seq == s.listenSeq && s.st != nil {
			emitter.Emit0(&s.ev, evListening)
		}
	})
}
