//go:build !windows

package socket

import (
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/loop"
)

// newHandle classifies a received descriptor.
func newHandle(l *loop.Loop, fd int) *Handle {
	h := &Handle{fd: fd, typ: HandleSocket, l: l}
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil && v != 0 {
		h.typ = HandleServer
	}
	if sa, err := unix.Getsockname(fd); err == nil {
		switch sa.(type) {
		case *unix.SockaddrInet4, *unix.SockaddrInet6:
			h.tcp = true
		}
	}
	return h
}
