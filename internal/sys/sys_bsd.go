//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sys

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read reads from a non-blocking fd; EINTR is retried.
func Read(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// Write writes to a non-blocking fd; EINTR is retried.
func Write(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// Writev writes the iovecs to a non-blocking fd; EINTR is retried.
func Writev(fd int, iov []Iov) (int, error) {
	for {
		r, _, e := syscall.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, errnoErr(unix.Errno(e))
		}
		return int(r), nil
	}
}

// Accept accepts a connection and makes it non-blocking and close-on-exec.
func Accept(fd int) (int, error) {
	for {
		nfd, _, err := unix.Accept(fd)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return -1, err
		}
		unix.CloseOnExec(nfd)
		if err := unix.SetNonblock(nfd, true); err != nil {
			unix.Close(nfd)
			return -1, err
		}
		return nfd, nil
	}
}

// SetsockoptInt sets an integer socket option.
func SetsockoptInt(fd, level, opt, value int) error { return unix.SetsockoptInt(fd, level, opt, value) }

// Close closes fd.
func Close(fd int) error { return unix.Close(fd) }

// Socket creates a non-blocking, close-on-exec socket.
func Socket(domain, typ, proto int) (int, error) {
	fd, err := unix.Socket(domain, typ, proto)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
