package socket

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
	"github.com/netloop/netloop/internal/transport"
)

const epipe = syscall.EPIPE

// ConnectTCP connects to port on host ("" = localhost); cb, if given, is
// a one-shot 'connect' listener. Port 0 is allowed and fails
// asynchronously, as in Node.
func (s *Socket) ConnectTCP(port int, host string, cb ...func()) error {
	s.affine("Socket.ConnectTCP")
	return s.Connect(ConnectOptions{Port: port, Host: host, PortGiven: true}, cb...)
}

// ConnectPath connects to the Unix-domain socket at path.
func (s *Socket) ConnectPath(path string, cb ...func()) error {
	s.affine("Socket.ConnectPath")
	return s.Connect(ConnectOptions{Path: path}, cb...)
}

// Connect starts connecting (Node's socket.connect(options[, cb])). Bad
// arguments return an error at once (ERR_MISSING_ARGS,
// ERR_SOCKET_BAD_PORT, ERR_INVALID_IP_ADDRESS, ERR_OUT_OF_RANGE for a
// negative AutoSelectFamilyAttemptTimeout); everything else, including
// DNS and connection errors, arrives later as 'error' then 'close'. A
// Socket may connect again after 'close'.
func (s *Socket) Connect(o ConnectOptions, cb ...func()) error {
	s.affine("Socket.Connect")
	if o.Path == "" {
		if !o.PortGiven && o.Port == 0 {
			return errx.New(errs.CodeMissingArgs, `The "options" or "port" or "path" argument must be specified`)
		}
		if o.Port < 0 || o.Port > 65535 {
			return errx.New(errs.CodeSocketBadPort, "Port should be >= 0 and < 65536. Received "+strconv.Itoa(o.Port)+".")
		}
		if o.LocalAddress != "" && addr.IsIP(o.LocalAddress) == 0 {
			return errx.New(errs.CodeInvalidIPAddress, "Invalid IP address: "+o.LocalAddress)
		}
		if o.LocalPort < 0 || o.LocalPort > 65535 {
			return errx.New(errs.CodeSocketBadPort, "Port should be >= 0 and < 65536. Received "+strconv.Itoa(o.LocalPort)+".")
		}
		if o.Family != 0 && o.Family != 4 && o.Family != 6 {
			return errx.New(errs.CodeInvalidArgValue, "The property 'options.family' must be one of: 4, 6, 0. Received "+strconv.Itoa(o.Family))
		}
		d, err := attemptTimeout(o.AutoSelectFamilyAttemptTimeout)
		if err != nil {
			return err
		}
		o.AutoSelectFamilyAttemptTimeout = d
	}
	if s.state&sConnecting != 0 {
		return errx.FromErrno("connect", syscall.EALREADY)
	}
	if s.state&sClosed != 0 {
		s.reset()
	} else if s.state&sDestroyed != 0 {
		return errs.ErrSocketClosed
	}
	if s.st != nil {
		return errx.FromErrno("connect", syscall.EISCONN)
	}
	if s.state&sIPC != 0 && o.Path == "" {
		return errIPCNeedsPipe()
	}
	for _, fn := range cb {
		if fn != nil {
			s.OnceConnect(fn)
		}
	}
	s.state |= sConnecting
	if o.Timeout > 0 {
		s.SetTimeout(o.Timeout)
	}
	if o.Path != "" {
		s.ext().path = o.Path
		p := transport.New(s.core(), transport.Pipe)
		s.attach(p)
		if s.state&sIPC != 0 {
			if err := p.SetIPC(); err != nil {
				s.l.NextTick(func() { s.destroyWith(err) })
				return nil
			}
		}
		s.emitAttempt(evConnectionAttempt, o.Path, 0, 0)
		if s.state&sDestroyed != 0 {
			return nil
		}
		if err := p.ConnectPath(o.Path, o.StrictPath, s.afterConnectFn(o, o.Path, 0, 0)); err != nil {
			s.l.NextTick(func() { s.destroyWith(err) })
		}
		return nil
	}
	host := o.Host
	if host == "" {
		host = "localhost"
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		// An IP literal skips the lookup; connect on the next tick.
		gen := s.gen
		s.l.NextTick(func() {
			if gen == s.gen && s.state&sConnecting != 0 && s.state&sDestroyed == 0 {
				s.connectTCP(o, ip)
			}
		})
		return nil
	}
	s.lookup(o, host)
	return nil
}

// lookup resolves host off the loop and connects to the answer.
func (s *Socket) lookup(o ConnectOptions, host string) {
	lookupFn := o.Lookup
	if lookupFn == nil {
		lookupFn = defaultLookup
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.ext().stopLookup = cancel
	s.core().ReqStart() // the lookup keeps the loop alive
	gen := s.gen
	go func() {
		answers, err := lookupFn(ctx, host, o.Family)
		s.l.Post(func() {
			s.core().ReqDone()
			cancel()
			if gen != s.gen {
				return // an earlier connection's lookup
			}
			s.ext().stopLookup = nil
			if s.state&sConnecting == 0 || s.state&sDestroyed != 0 {
				return
			}
			s.afterLookup(o, host, answers, err)
		})
	}()
}

func (s *Socket) afterLookup(o ConnectOptions, host string, answers []LookupAddress, err error) {
	if err == nil && len(answers) == 0 {
		err = errx.Getaddrinfo("ENOTFOUND", host)
	}
	if err != nil {
		if _, ok := err.(*errs.Error); !ok {
			err = lookupError(host, err)
		}
		emitter.Emit4(&s.ev, evLookup, err, "", 0, host)
		s.destroyWith(err)
		return
	}
	if o.autoSelect() {
		s.afterLookupMultiple(o, host, answers)
		return
	}
	// Without Happy Eyeballs Node asks for one address: the first.
	a := answers[0]
	emitter.Emit4(&s.ev, evLookup, error(nil), a.Address, a.Family, host)
	if s.state&sConnecting == 0 || s.state&sDestroyed != 0 {
		return
	}
	ip, perr := netip.ParseAddr(a.Address)
	if perr != nil {
		s.destroyWith(errx.InvalidIPAddress(a.Address))
		return
	}
	if a.Family != 4 && a.Family != 6 {
		s.destroyWith(invalidFamily(a.Family, host, o.Port))
		return
	}
	s.connectTCP(o, ip)
}

func lookupError(host string, err error) error {
	code := "ENOTFOUND"
	if dnsErr, ok := err.(*net.DNSError); ok && dnsErr.IsTemporary {
		code = "EAI_AGAIN"
	}
	return errx.Getaddrinfo(code, host)
}

// defaultLookup uses Go's resolver.
func defaultLookup(ctx context.Context, host string, family int) ([]LookupAddress, error) {
	network := "ip"
	switch family {
	case 4:
		network = "ip4"
	case 6:
		network = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	out := make([]LookupAddress, 0, len(ips))
	for _, ip := range ips {
		ip = ip.Unmap()
		f := 6
		if ip.Is4() {
			f = 4
		}
		out = append(out, LookupAddress{Address: ip.String(), Family: f})
	}
	return out, nil
}

// connectTCP connects to ip (Node's internalConnect): bind if asked,
// 'connectionAttempt', the BlockList check, then the connect.
func (s *Socket) connectTCP(o ConnectOptions, ip netip.Addr) {
	t := transport.New(s.core(), transport.TCP)
	s.attach(t)
	if o.LocalAddress != "" || o.LocalPort != 0 {
		local := o.LocalAddress
		if local == "" {
			if ip.Is4() {
				local = "0.0.0.0"
			} else {
				local = "::"
			}
		}
		lip, _ := netip.ParseAddr(local)
		if err := t.Bind(lip, o.LocalPort, 0); err != nil {
			e := errx.WithHostPort("bind", errs.ErrnoOf(err), local, o.LocalPort)
			s.destroyWith(e)
			return
		}
	}
	family := 6
	if ip.Is4() {
		family = 4
	}
	s.emitAttempt(evConnectionAttempt, ip.String(), o.Port, family)
	if s.state&sConnecting == 0 || s.state&sDestroyed != 0 {
		return
	}
	if s.blockList != nil && s.blockList.CheckAddr(ip) {
		s.destroyWith(errx.IPBlocked(ip.String()))
		return
	}
	if err := t.Connect(ip, o.Port, s.afterConnectFn(o, ip.String(), o.Port, family)); err != nil {
		s.destroyWith(errx.WithHostPort("connect", errs.ErrnoOf(err), ip.String(), o.Port))
	}
}

// afterConnectFn returns the callback of a single connect to address
// (a path for IPC, with port and family 0).
func (s *Socket) afterConnectFn(o ConnectOptions, address string, port, family int) transport.Callback {
	return func(err error) {
		if s.state&sDestroyed != 0 {
			return
		}
		if err != nil {
			if o.Path != "" {
				err = errx.WithHostPort("connect", errs.ErrnoOf(err), o.Path, -1)
			} else {
				e := errx.WithHostPort("connect", errs.ErrnoOf(err), address, port)
				if o.LocalAddress != "" || o.LocalPort != 0 {
					e = errx.WithLocal(e, o.LocalAddress, o.LocalPort)
				}
				err = e
			}
			s.emitAttemptFailed(address, port, family, err)
			s.destroyWith(err)
			return
		}
		if s.ctx != nil && s.ctx.Err() != nil {
			// Cancelled while connecting; its AfterFunc has not reached
			// the loop yet. Node aborts synchronously: no 'connect'.
			s.destroyWith(errx.Abort(context.Cause(s.ctx)))
			return
		}
		s.afterConnect(o)
	}
}

func (s *Socket) afterConnect(o ConnectOptions) {
	if s.tcp() != nil {
		// Still connecting: these are only remembered, and
		// applyTCPOptions sets each option once.
		if o.NoDelay {
			s.SetNoDelay(true)
		}
		if o.KeepAlive {
			s.SetKeepAlive(true, o.KeepAliveInitialDelay)
		}
	}
	s.state = s.state&^sConnecting | sConnected
	if s.tcp() != nil {
		s.ext().remote, _ = s.tcp().PeerName()
		s.applyTCPOptions()
	}
	if s.state&sResetOnConnect != 0 {
		s.ResetAndDestroy()
		return
	}
	if s.corked == 0 {
		s.flushPending()
	}
	if s.state&sDestroyed != 0 {
		return
	}
	s.touch()
	// As in Node, 'ready' always follows 'connect' in the same tick, even
	// when a 'connect' listener destroyed the socket ('close' comes later).
	emitter.Emit0(&s.ev, evConnect)
	emitter.Emit0(&s.ev, evReady)
	if s.state&sDestroyed != 0 {
		return
	}
	if s.state&sEnding != 0 {
		s.shutdown()
	}
	s.startReading()
}

// reset clears per-connection state so a closed Socket can connect again.
func (s *Socket) reset() {
	// Options the user set on the socket survive a reconnect, as in Node.
	keep := s.state & (sAllowHalfOpen | sUnref | sPaused | sFlowing | sNoDelay | sKeepAlive | sReadableMode)
	if keep&sReadableMode != 0 {
		keep |= sNeedReadable // the 'readable' listeners stay: paused mode starts afresh
	}
	s.state = keep
	s.countInGroup(1)
	s.gen++ // late lookups, connects and aborts of the last connection are ignored
	s.st = nil
	s.bytesRead, s.bytesWritten = 0, 0
	if s.sockExtra != &noExtra {
		s.readHi, s.writtenHi = 0, 0
	}
	if s.acc != nil {
		if s.acc.HighWaterMark != 0 {
			s.ext().hwm = s.acc.HighWaterMark // the server's mark stays the socket's
		}
		s.acc = nil // a reconnected socket no longer counts for the server
	}
	s.ext().remote = netip.AddrPort{}
	s.ext().path = ""
	s.ext().buffered, s.ext().bufSize = nil, 0
	s.ext().destroyErr = nil
	s.ext().he, s.ext().attempted = nil, nil
}
