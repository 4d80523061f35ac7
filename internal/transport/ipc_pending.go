package transport

import (
	"syscall"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// The queue of received descriptors (Unix) or sockets (Windows) of an IPC
// stream, the same on every platform; ipcState.pending holds it.

// IsIPC reports whether SetIPC was called.
func (s *Stream) IsIPC() bool { return s.x != nil && s.x.ipc != nil }

// PendingCount is how many received descriptors wait to be taken.
func (s *Stream) PendingCount() int {
	if !s.IsIPC() {
		return 0
	}
	return len(s.x.ipc.pending)
}

// TakePending removes the oldest received descriptor and returns it; the
// caller owns it. It returns -1 when none is pending.
func (s *Stream) TakePending() int {
	if s.PendingCount() == 0 {
		return -1
	}
	p := s.x.ipc.pending
	fd := p[0]
	copy(p, p[1:])
	s.x.ipc.pending = p[:len(p)-1]
	return fd
}

// closePending closes the descriptors nobody took (at Close).
func (s *Stream) closePending() {
	if !s.IsIPC() {
		return
	}
	for _, fd := range s.x.ipc.pending {
		sys.Close(fd)
	}
	s.x.ipc.pending = nil
}

// checkWrite2 validates a Write2 and returns the bytes of bufs: the
// stream must be writable and an IPC one, and bufs must hold at least one
// byte. On an error fd is closed, since Write2 takes it over either way.
func (s *Stream) checkWrite2(bufs [][]byte, fd int) (int, error) {
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	err := s.writable()
	if err == nil && (!s.IsIPC() || total == 0) {
		err = errx.FromErrno("write", syscall.EINVAL)
	}
	if err != nil {
		sys.Close(fd)
		return 0, err
	}
	return total, nil
}
