package transport

import (
	"syscall"
	"time"

	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// What the Unix build does that Windows does not (yet): descriptor
// passing over pipes (Windows pipes are named pipes, npipe_windows.go),
// and the spare-descriptor EMFILE trick (Winsock has no per-process
// descriptor table to run out of the same way).

type ipcState struct{}

func (s *Stream) readIPC(buf []byte) (int, error) { return 0, windows.WSAEOPNOTSUPP }

func sendmsgRights(sock int, bufs [][]byte, fd int) (int, error) { return 0, windows.WSAEOPNOTSUPP }

func (s *Stream) closePending() {}

func (s *Stream) unlink() {}

func reserveAcquire() {}

func reserveRelease() {}

func reserveRestore() {}

// shedConnections cannot shed without a spare: report the error.
func shedConnections(lfd int) error { return windows.WSAEMFILE }

// emfileBackoff is how long a listener out of sockets stops accepting.
const emfileBackoff = 100 * time.Millisecond

// errNoPipes is what the Unix-domain operations give on Windows.
func errNoPipes(op string) error { return errx.FromErrno(op, syscall.EAFNOSUPPORT) }

// SetIPC fails on Windows: descriptor passing is Unix-only.
func (s *Stream) SetIPC() error { return errNoPipes("open") }

// IsIPC is false on Windows.
func (s *Stream) IsIPC() bool { return false }

// PendingCount is 0 on Windows.
func (s *Stream) PendingCount() int { return 0 }

// TakePending returns -1 on Windows.
func (s *Stream) TakePending() int { return -1 }

// Write2 fails on Windows; it closes fd as on Unix.
func (s *Stream) Write2(bufs [][]byte, fd int, cb Callback) error {
	sys.Close(fd)
	return errNoPipes("write")
}

// Dup fails on Windows.
func (s *Stream) Dup() (int, error) { return -1, errNoPipes("dup") }

// MarkShared does nothing on Windows, where every close deletes its
// registration anyway.
func (s *Stream) MarkShared() {}
