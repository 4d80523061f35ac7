//go:build linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read reads from a non-blocking fd; EINTR is retried.
func Read(fd int, p []byte) (int, error) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(ptr(p)), uintptr(len(p)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, errnoErr(e)
		}
		return int(r), nil
	}
}

// Write writes to a non-blocking fd; EINTR is retried.
func Write(fd int, p []byte) (int, error) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(ptr(p)), uintptr(len(p)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, errnoErr(e)
		}
		return int(r), nil
	}
}

// Writev writes the iovecs to a non-blocking fd; EINTR is retried.
func Writev(fd int, iov []Iov) (int, error) {
	for {
		r, _, e := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, errnoErr(e)
		}
		return int(r), nil
	}
}

// Accept accepts a connection as a non-blocking, close-on-exec fd without
// fetching the peer address (ask getpeername when it is needed).
func Accept(fd int) (int, error) {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e == unix.EINTR || e == unix.ECONNABORTED {
			continue
		}
		if e != 0 {
			return -1, errnoErr(e)
		}
		return int(r), nil
	}
}

// Close closes fd. Sockets here never linger with a timeout, so close does
// not block.
func Close(fd int) error {
	_, _, e := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Socket creates a non-blocking, close-on-exec socket.
func Socket(domain, typ, proto int) (int, error) {
	return unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// SetsockoptInt sets an integer socket option. It is a raw system call
// (setsockopt never blocks), which spares the scheduler hand-off of a
// normal one: every accepted connection makes one (TCP_NODELAY).
func SetsockoptInt(fd, level, opt, value int) error {
	v := int32(value)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v)), 4, 0)
	if e != 0 {
		return errnoErr(e)
	}
	return nil
}
