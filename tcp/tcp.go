//go:build !windows

package tcp

import (
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/stream"
)

// BindFlags modify Bind.
type BindFlags uint8

const (
	// IPv6Only sets IPV6_V6ONLY, so an IPv6 socket does not accept IPv4.
	IPv6Only BindFlags = 1 << iota
	// ReusePort sets SO_REUSEPORT where the system has it, so several
	// sockets may bind the same address and port.
	ReusePort
)

const (
	optNoDelay uint8 = 1 << iota
	optKeepAlive
)

// TCP is a TCP socket handle.
type TCP struct {
	stream.Stream
	opts     uint8
	keepSecs int32 // keep-alive delay in whole seconds
}

// New creates a TCP handle on l; the socket is created by Bind or Connect.
func New(l *loop.Loop) *TCP {
	t := &TCP{}
	t.Init(l, "tcp", nil)
	return t
}

// Open wraps an existing socket descriptor (made non-blocking and
// close-on-exec); the handle owns it from now on. A connected socket can
// read and write at once; a listening one can Listen.
func Open(l *loop.Loop, fd int) (*TCP, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, errs.Wrap("open", err)
	}
	unix.CloseOnExec(fd)
	t := New(l)
	if err := t.SetFd(fd); err != nil {
		t.Close(nil)
		return nil, err
	}
	t.MarkForeign()
	if _, err := unix.Getpeername(fd); err == nil {
		t.MarkConnected()
	}
	return t, nil
}

func (t *TCP) ensureSocket(family int) error {
	if t.Fd() >= 0 {
		return nil
	}
	if t.IsClosing() {
		return stream.ErrClosed
	}
	fd, err := sys.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := t.SetFd(fd); err != nil {
		sys.Close(fd)
		return err
	}
	return t.applyOptions()
}

func family(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// Bind binds the socket to ip and port (port 0 lets the system choose).
// SO_REUSEADDR is always set; flags add IPV6_V6ONLY or SO_REUSEPORT. An
// IPv6 socket without IPv6Only accepts IPv4 too (dual stack).
func (t *TCP) Bind(ip netip.Addr, port int, flags BindFlags) error {
	if port < 0 || port > 65535 {
		return errs.FromErrno("bind", syscall.EINVAL)
	}
	sa, err := sys.Sockaddr(netip.AddrPortFrom(ip, uint16(port)))
	if err != nil {
		return errs.Wrap("bind", err)
	}
	if err := t.ensureSocket(family(ip)); err != nil {
		return errs.Wrap("bind", err)
	}
	fd := t.Fd()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return errs.Wrap("bind", err)
	}
	if !ip.Is4() {
		v6only := 0
		if flags&IPv6Only != 0 {
			v6only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return errs.Wrap("bind", err)
		}
	}
	if flags&ReusePort != 0 {
		if err := setReusePort(fd); err != nil {
			return errs.Wrap("bind", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return errs.Wrap("bind", err)
	}
	return nil
}

// Listen starts listening with the given backlog, calling onConnection for
// each incoming connection (see stream.Stream.Listen). A socket that was
// not bound is bound to an ephemeral port on all IPv6 and IPv4 addresses.
func (t *TCP) Listen(backlog int, onConnection func(err error)) error {
	if t.Fd() < 0 {
		if err := t.Bind(netip.IPv6Unspecified(), 0, 0); err != nil {
			return err
		}
	}
	return t.Stream.Listen(backlog, onConnection)
}

// Accept hands the pending connection to client, a handle from New.
func (t *TCP) Accept(client *TCP) error {
	if err := t.Stream.Accept(&client.Stream); err != nil {
		return err
	}
	return client.applyOptions()
}

// Connect starts a non-blocking connect to ip:port; cb receives the
// outcome in a later callback, never inside Connect. Writes issued while
// connecting are queued and flushed once connected.
func (t *TCP) Connect(ip netip.Addr, port int, cb stream.Callback) error {
	if port < 0 || port > 65535 {
		return errs.FromErrno("connect", syscall.EINVAL)
	}
	sa, err := sys.Sockaddr(netip.AddrPortFrom(ip, uint16(port)))
	if err != nil {
		return errs.Wrap("connect", err)
	}
	if err := t.ensureSocket(family(ip)); err != nil {
		return errs.Wrap("connect", err)
	}
	if t.IsConnecting() {
		return errs.FromErrno("connect", syscall.EALREADY)
	}
	var cerr error
	for {
		cerr = unix.Connect(t.Fd(), sa)
		if cerr != unix.EINTR {
			break
		}
	}
	return t.StartConnect(cerr, cb)
}

func (t *TCP) applyOptions() error {
	fd := t.Fd()
	if fd < 0 {
		return nil
	}
	if t.opts&optNoDelay != 0 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			return err
		}
	}
	if t.opts&optKeepAlive != 0 {
		return setKeepAlive(fd, true, time.Duration(t.keepSecs)*time.Second)
	}
	return nil
}

// SetNoDelay turns Nagle's algorithm off (true) or on (false). Before the
// socket exists the choice is remembered and applied when it is created.
func (t *TCP) SetNoDelay(enable bool) error {
	if enable {
		t.opts |= optNoDelay
	} else {
		t.opts &^= optNoDelay
	}
	if fd := t.Fd(); fd >= 0 {
		v := 0
		if enable {
			v = 1
		}
		return errs.Wrap("setsockopt", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v))
	}
	return nil
}

// SetKeepAlive enables or disables TCP keep-alive. When enabled, probes
// start after initialDelay of idleness (whole seconds, at least 1), then
// every second, and the connection drops after 10 unanswered probes, as in
// libuv. Before the socket exists the choice is remembered.
func (t *TCP) SetKeepAlive(enable bool, initialDelay time.Duration) error {
	if enable {
		t.opts |= optKeepAlive
		t.keepSecs = int32(keepSeconds(initialDelay))
	} else {
		t.opts &^= optKeepAlive
	}
	if fd := t.Fd(); fd >= 0 {
		return errs.Wrap("setsockopt", setKeepAlive(fd, enable, initialDelay))
	}
	return nil
}

// SockName returns the local address.
func (t *TCP) SockName() (netip.AddrPort, error) {
	if t.Fd() < 0 {
		return netip.AddrPort{}, errs.FromErrno("getsockname", syscall.EBADF)
	}
	sa, err := unix.Getsockname(t.Fd())
	if err != nil {
		return netip.AddrPort{}, errs.Wrap("getsockname", err)
	}
	return sys.AddrPort(sa), nil
}

// PeerName returns the remote address.
func (t *TCP) PeerName() (netip.AddrPort, error) {
	if t.Fd() < 0 {
		return netip.AddrPort{}, errs.FromErrno("getpeername", syscall.EBADF)
	}
	sa, err := unix.Getpeername(t.Fd())
	if err != nil {
		return netip.AddrPort{}, errs.Wrap("getpeername", err)
	}
	return sys.AddrPort(sa), nil
}

// CloseReset closes the handle with SO_LINGER set to zero, so the peer
// receives RST instead of FIN; cb runs in the closing phase.
func (t *TCP) CloseReset(cb func()) error {
	if t.IsClosing() {
		return loop.ErrHandleClosing
	}
	if fd := t.Fd(); fd >= 0 {
		unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	return t.Close(cb)
}
