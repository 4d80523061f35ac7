package transport

import (
	"net/netip"
	"syscall"
	"time"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// keepSeconds converts a keep-alive delay to whole seconds, at least 1.
func keepSeconds(d time.Duration) int {
	s := int(d / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// BindFlags modify Bind.
type BindFlags uint8

const (
	// IPv6Only sets IPV6_V6ONLY, so an IPv6 socket does not accept IPv4.
	IPv6Only BindFlags = 1 << iota
	// ReusePort sets SO_REUSEPORT where the system has it, so several
	// sockets may bind the same address and port.
	ReusePort
)

func family(a netip.Addr) int {
	if a.Is4() {
		return sys.AF_INET
	}
	return sys.AF_INET6
}

// Bind binds a TCP stream to ip and port (port 0 lets the system choose).
// SO_REUSEADDR is always set; flags add IPV6_V6ONLY or SO_REUSEPORT. An
// IPv6 socket without IPv6Only accepts IPv4 too (dual stack).
func (s *Stream) Bind(ip netip.Addr, port int, flags BindFlags) error {
	if port < 0 || port > 65535 || s.w.Aux&fPipe != 0 {
		return errx.FromErrno("bind", syscall.EINVAL)
	}
	ap := netip.AddrPortFrom(ip, uint16(port))
	if _, err := sys.Sockaddr(ap); err != nil {
		return errx.Wrap("bind", err)
	}
	if err := s.ensureSocket(family(ip)); err != nil {
		return errx.Wrap("bind", err)
	}
	fd := s.Fd()
	if err := sys.SetReuseAddr(fd); err != nil {
		return errx.Wrap("bind", err)
	}
	if !ip.Is4() {
		v6only := 0
		if flags&IPv6Only != 0 {
			v6only = 1
		}
		if err := sys.SetsockoptInt(fd, sys.IPPROTO_IPV6, sys.IPV6_V6ONLY, v6only); err != nil {
			return errx.Wrap("bind", err)
		}
	}
	if flags&ReusePort != 0 {
		if err := setReusePort(fd); err != nil {
			return errx.Wrap("bind", err)
		}
	}
	if err := sys.Bind(fd, ap); err != nil {
		return errx.Wrap("bind", err)
	}
	return nil
}

// Connect starts a non-blocking TCP connect to ip:port; cb receives the
// outcome in a later callback, never inside Connect. Writes issued while
// connecting are queued and flushed once connected.
func (s *Stream) Connect(ip netip.Addr, port int, cb Callback) error {
	if port < 0 || port > 65535 || s.w.Aux&fPipe != 0 {
		return errx.FromErrno("connect", syscall.EINVAL)
	}
	ap := netip.AddrPortFrom(ip, uint16(port))
	if _, err := sys.Sockaddr(ap); err != nil {
		return errx.Wrap("connect", err)
	}
	if err := s.ensureSocket(family(ip)); err != nil {
		return errx.Wrap("connect", err)
	}
	if s.IsConnecting() {
		return errx.FromErrno("connect", syscall.EALREADY)
	}
	return s.trackConnect(sys.Connect(s.Fd(), ap), cb)
}

// applyOptions sets the TCP options chosen before the socket existed (or
// before an accepted socket reached its stream).
func (s *Stream) applyOptions() error {
	fd := s.Fd()
	if fd < 0 || s.w.Aux&(fNoDelay|fKeepAlive) == 0 {
		return nil
	}
	if s.w.Aux&fNoDelay != 0 {
		if err := sys.SetsockoptInt(fd, sys.IPPROTO_TCP, sys.TCP_NODELAY, 1); err != nil {
			return err
		}
	}
	if s.w.Aux&fKeepAlive != 0 {
		return setKeepAlive(fd, true, time.Duration(s.x.keepSecs)*time.Second)
	}
	return nil
}

// SetNoDelay turns Nagle's algorithm off (true) or on (false). Before the
// socket exists the choice is remembered and applied when it is created.
func (s *Stream) SetNoDelay(enable bool) error {
	if enable {
		s.w.Aux |= fNoDelay
	} else {
		s.w.Aux &^= fNoDelay
	}
	if fd := s.Fd(); fd >= 0 {
		v := 0
		if enable {
			v = 1
		}
		return errx.Wrap("setsockopt", sys.SetsockoptInt(fd, sys.IPPROTO_TCP, sys.TCP_NODELAY, v))
	}
	return nil
}

// MarkNoDelay records that the socket has TCP_NODELAY set already (an
// accepted socket that inherited it from its listener), without a system
// call.
func (s *Stream) MarkNoDelay() { s.w.Aux |= fNoDelay }

// SetKeepAlive enables or disables TCP keep-alive. When enabled, probes
// start after initialDelay of idleness (whole seconds, at least 1), then
// every second, and the connection drops after 10 unanswered probes, as in
// libuv. Before the socket exists the choice is remembered.
func (s *Stream) SetKeepAlive(enable bool, initialDelay time.Duration) error {
	if enable {
		s.w.Aux |= fKeepAlive
		s.ext().keepSecs = int32(keepSeconds(initialDelay))
	} else {
		s.w.Aux &^= fKeepAlive
	}
	if fd := s.Fd(); fd >= 0 {
		return errx.Wrap("setsockopt", setKeepAlive(fd, enable, initialDelay))
	}
	return nil
}

// SockName returns a TCP stream's local address.
func (s *Stream) SockName() (netip.AddrPort, error) {
	if s.Fd() < 0 {
		return netip.AddrPort{}, errClosed("getsockname")
	}
	ap, err := sys.SockName(s.Fd())
	if err != nil {
		return netip.AddrPort{}, errx.Wrap("getsockname", err)
	}
	return ap, nil
}

// PeerName returns a TCP stream's remote address.
func (s *Stream) PeerName() (netip.AddrPort, error) {
	if s.Fd() < 0 {
		return netip.AddrPort{}, errClosed("getpeername")
	}
	ap, err := sys.PeerName(s.Fd())
	if err != nil {
		return netip.AddrPort{}, errx.Wrap("getpeername", err)
	}
	return ap, nil
}

// CloseReset closes the stream with SO_LINGER set to zero, so the peer
// receives RST instead of FIN; cb runs in the closing phase. The stream is
// closed even when setting SO_LINGER fails; that error is returned.
func (s *Stream) CloseReset(cb func()) error {
	if s.IsClosing() {
		return s.Close(cb) // core.ErrClosing
	}
	var lerr error
	if fd := s.Fd(); fd >= 0 {
		lerr = sys.SetLingerZero(fd)
	}
	if err := s.Close(cb); err != nil {
		return err
	}
	return errx.Wrap("setsockopt", lerr)
}
