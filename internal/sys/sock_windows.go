package sys

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The transport's names for Winsock's errors and options (see
// sock_unix.go). A non-blocking connect reports WSAEWOULDBLOCK, as
// Winsock has no EINPROGRESS for it.
const (
	EAGAIN      = windows.WSAEWOULDBLOCK
	EINTR       = windows.WSAEINTR
	EINPROGRESS = windows.WSAEWOULDBLOCK
	EMFILE      = windows.WSAEMFILE
	ENFILE      = windows.WSAEMFILE

	AF_INET     = windows.AF_INET
	AF_INET6    = windows.AF_INET6
	SOCK_STREAM = windows.SOCK_STREAM

	SOL_SOCKET   = windows.SOL_SOCKET
	IPPROTO_TCP  = windows.IPPROTO_TCP
	IPPROTO_IPV6 = windows.IPPROTO_IPV6
	IPV6_V6ONLY  = windows.IPV6_V6ONLY
	TCP_NODELAY  = windows.TCP_NODELAY
	SO_KEEPALIVE = windows.SO_KEEPALIVE
	SO_ERROR     = 0x1007
)

// SetsockoptInt sets an integer socket option.
func SetsockoptInt(fd, level, opt, value int) error {
	return windows.SetsockoptInt(windows.Handle(fd), level, opt, value)
}

// GetsockoptInt reads an integer socket option.
func GetsockoptInt(fd, level, opt int) (int, error) {
	return windows.GetsockoptInt(windows.Handle(fd), level, opt)
}

// Bind binds fd to ap.
func Bind(fd int, ap netip.AddrPort) error {
	sa, err := Sockaddr(ap)
	if err != nil {
		return err
	}
	return windows.Bind(windows.Handle(fd), sa)
}

// Connect starts connecting fd to ap (WSAEWOULDBLOCK on a non-blocking
// socket).
func Connect(fd int, ap netip.AddrPort) error {
	sa, err := Sockaddr(ap)
	if err != nil {
		return err
	}
	return windows.Connect(windows.Handle(fd), sa)
}

// Listen marks fd as listening.
func Listen(fd, backlog int) error { return windows.Listen(windows.Handle(fd), backlog) }

// SockName returns fd's local IP address.
func SockName(fd int) (netip.AddrPort, error) {
	sa, err := windows.Getsockname(windows.Handle(fd))
	if err != nil {
		return netip.AddrPort{}, err
	}
	return AddrPort(sa), nil
}

// PeerName returns fd's remote IP address.
func PeerName(fd int) (netip.AddrPort, error) {
	sa, err := windows.Getpeername(windows.Handle(fd))
	if err != nil {
		return netip.AddrPort{}, err
	}
	return AddrPort(sa), nil
}

// IsLocal reports whether fd is a Unix-domain socket (never, as netloop
// opens them on Windows); err when fd is not a socket.
func IsLocal(fd int) (bool, error) {
	_, err := windows.Getsockname(windows.Handle(fd))
	return false, err
}

// ShutdownWrite shuts down fd's sending side (the peer reads EOF).
func ShutdownWrite(fd int) error { return windows.Shutdown(windows.Handle(fd), windows.SHUT_WR) }

// SetLingerZero makes closing fd reset the connection.
func SetLingerZero(fd int) error {
	l := windows.Linger{Onoff: 1, Linger: 0}
	return windows.Setsockopt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_LINGER, (*byte)(unsafe.Pointer(&l)), int32(unsafe.Sizeof(l)))
}

// SetReuseAddr does nothing on Windows: SO_REUSEADDR there lets another
// socket take over a port in use, and libuv's Windows bind does not set
// it either.
func SetReuseAddr(fd int) error { return nil }
