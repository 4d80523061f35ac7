package transport

import (
	"time"

	"golang.org/x/sys/windows"
)

// What the Unix build does that Windows does not: descriptor passing
// with SCM_RIGHTS (Windows pipes are named pipes, npipe_windows.go, and
// carry sockets in frames, ipc_windows.go), and the spare-descriptor
// EMFILE trick (Winsock has no per-process descriptor table to run out
// of the same way).

func (s *Stream) readIPC(buf []byte) (int, error) { return 0, windows.WSAEOPNOTSUPP }

func sendmsgRights(sock int, bufs [][]byte, fd int) (int, error) { return 0, windows.WSAEOPNOTSUPP }

func (s *Stream) unlink() {}

func reserveAcquire() {}

func reserveRelease() {}

func reserveRestore() {}

// shedConnections cannot shed without a spare: report the error.
func shedConnections(lfd int) error { return windows.WSAEMFILE }

// emfileBackoff is how long a listener out of sockets stops accepting.
const emfileBackoff = 100 * time.Millisecond
