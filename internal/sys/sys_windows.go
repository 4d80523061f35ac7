// Package sys wraps the system calls netloop's streams make on
// non-blocking sockets. On Windows they are Winsock's, on SOCKET handles
// passed as ints (handles have 32 significant bits), called through
// syscall.SyscallN: LazyProc.Call's variadic slice would cost the read and
// write paths an allocation each.
package sys

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	ws2             = windows.NewLazySystemDLL("ws2_32.dll")
	procRecv        = ws2.NewProc("recv")
	procSend        = ws2.NewProc("send")
	procAccept      = ws2.NewProc("accept")
	procIoctlsocket = ws2.NewProc("ioctlsocket")
	procWSASend     = ws2.NewProc("WSASend")
)

// errWouldBlock is WSAEWOULDBLOCK already in an interface, so the
// would-block result of the hot paths allocates nothing.
var errWouldBlock error = windows.WSAEWOULDBLOCK

const fionbio = 0x8004667e

// Iov is one buffer of a vectored write (Writev).
type Iov = windows.WSABuf

// Iovec builds a WSABUF for p (p must be non-empty).
func Iovec(p []byte) Iov { return Iov{Len: uint32(len(p)), Buf: &p[0]} }

// sockErr is the error of a failed Winsock call (0 should not happen:
// reported as WSAEINVAL rather than as success).
func sockErr(e syscall.Errno) error {
	switch e {
	case 0:
		return windows.WSAEINVAL
	case windows.WSAEWOULDBLOCK:
		return errWouldBlock
	}
	return e
}

// Read receives from a non-blocking socket: 0, nil at EOF.
func Read(fd int, p []byte) (int, error) {
	r, _, err := syscall.SyscallN(procRecv.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0)
	if int32(r) < 0 {
		return 0, sockErr(err)
	}
	return int(r), nil
}

// Write sends on a non-blocking socket.
func Write(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r, _, err := syscall.SyscallN(procSend.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0)
	if int32(r) < 0 {
		return 0, sockErr(err)
	}
	return int(r), nil
}

// Writev sends the buffers in one WSASend.
func Writev(fd int, iov []Iov) (int, error) {
	var n uint32
	r, _, err := syscall.SyscallN(procWSASend.Addr(), uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)),
		uintptr(unsafe.Pointer(&n)), 0, 0, 0)
	if r != 0 {
		return 0, sockErr(err)
	}
	return int(n), nil
}

// Accept accepts a connection as a non-blocking socket.
func Accept(fd int) (int, error) {
	r, _, err := syscall.SyscallN(procAccept.Addr(), uintptr(fd), 0, 0)
	if windows.Handle(r) == windows.InvalidHandle {
		return -1, sockErr(err)
	}
	if err := SetNonblock(int(r)); err != nil {
		windows.Closesocket(windows.Handle(r))
		return -1, err
	}
	return int(r), nil
}

// Close closes a socket.
func Close(fd int) error { return windows.Closesocket(windows.Handle(fd)) }

// Socket creates a non-blocking, non-inheritable socket.
func Socket(domain, typ, proto int) (int, error) {
	h, err := windows.WSASocket(int32(domain), int32(typ), int32(proto), nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return -1, err
	}
	if err := SetNonblock(int(h)); err != nil {
		windows.Closesocket(h)
		return -1, err
	}
	return int(h), nil
}

// SetNonblock makes a socket non-blocking.
func SetNonblock(fd int) error {
	on := uint32(1)
	if r, _, err := syscall.SyscallN(procIoctlsocket.Addr(), uintptr(fd), fionbio, uintptr(unsafe.Pointer(&on))); r != 0 {
		return sockErr(err)
	}
	return nil
}

// Sockaddr converts ap to a windows.Sockaddr: AF_INET for IPv4, AF_INET6
// otherwise.
func Sockaddr(ap netip.AddrPort) (windows.Sockaddr, error) {
	a := ap.Addr()
	if a.Is4() {
		return &windows.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, nil
	}
	sa := &windows.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		ifi, err := net.InterfaceByName(z)
		if err != nil {
			return nil, windows.WSAEINVAL
		}
		sa.ZoneId = uint32(ifi.Index)
	}
	return sa, nil
}

// AddrPort converts an IP socket address back; other families give the
// zero AddrPort.
func AddrPort(sa windows.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *windows.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	return netip.AddrPort{}
}
