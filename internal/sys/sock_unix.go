//go:build !windows

package sys

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// The errors and socket options the transport compares against and sets,
// under names that every platform defines (see sock_windows.go).
const (
	EAGAIN      = unix.EAGAIN
	EINTR       = unix.EINTR
	EINPROGRESS = unix.EINPROGRESS
	EMFILE      = unix.EMFILE
	ENFILE      = unix.ENFILE

	AF_INET     = unix.AF_INET
	AF_INET6    = unix.AF_INET6
	SOCK_STREAM = unix.SOCK_STREAM

	SOL_SOCKET   = unix.SOL_SOCKET
	IPPROTO_TCP  = unix.IPPROTO_TCP
	IPPROTO_IPV6 = unix.IPPROTO_IPV6
	IPV6_V6ONLY  = unix.IPV6_V6ONLY
	TCP_NODELAY  = unix.TCP_NODELAY
	SO_KEEPALIVE = unix.SO_KEEPALIVE
	SO_ERROR     = unix.SO_ERROR
)

// GetsockoptInt reads an integer socket option.
func GetsockoptInt(fd, level, opt int) (int, error) { return unix.GetsockoptInt(fd, level, opt) }

// Bind binds fd to ap.
func Bind(fd int, ap netip.AddrPort) error {
	sa, err := Sockaddr(ap)
	if err != nil {
		return err
	}
	return unix.Bind(fd, sa)
}

// Connect starts connecting fd to ap (EINPROGRESS on a non-blocking
// socket); EINTR is retried.
func Connect(fd int, ap netip.AddrPort) error {
	sa, err := Sockaddr(ap)
	if err != nil {
		return err
	}
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			return err
		}
	}
}

// Listen marks fd as listening.
func Listen(fd, backlog int) error { return unix.Listen(fd, backlog) }

// SockName returns fd's local IP address (the zero AddrPort for other
// families).
func SockName(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return AddrPort(sa), nil
}

// PeerName returns fd's remote IP address (the zero AddrPort for other
// families).
func PeerName(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return AddrPort(sa), nil
}

// IsLocal reports whether fd is a Unix-domain socket; err when fd is not a
// socket.
func IsLocal(fd int) (bool, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false, err
	}
	_, ok := sa.(*unix.SockaddrUnix)
	return ok, nil
}

// ShutdownWrite shuts down fd's sending side (the peer reads EOF).
func ShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }

// SetLingerZero makes closing fd reset the connection.
func SetLingerZero(fd int) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// SetNonblock makes a descriptor from elsewhere non-blocking and
// close-on-exec.
func SetNonblock(fd int) error {
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	unix.CloseOnExec(fd)
	return nil
}

// SetReuseAddr sets SO_REUSEADDR, which every TCP bind gets (as libuv's).
func SetReuseAddr(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) }
