package socket

import (
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/loop"
)

// soAcceptConn is Winsock's SO_ACCEPTCONN.
const soAcceptConn = 0x0002

// newHandle classifies a received socket: only TCP sockets travel over a
// Windows IPC pipe, connected or listening.
func newHandle(l *loop.Loop, fd int) *Handle {
	h := &Handle{fd: fd, typ: HandleSocket, tcp: true, l: l}
	if v, err := sys.GetsockoptInt(fd, sys.SOL_SOCKET, soAcceptConn); err == nil && v != 0 {
		h.typ = HandleServer
	}
	return h
}
