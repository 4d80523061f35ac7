//go:build !windows

package transport

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// maxRecvFds is how many descriptors one read of an IPC stream can take
// (libuv's UV__CMSG_FD_COUNT); more in one message are closed by the
// kernel (MSG_CTRUNC) and reported as EMSGSIZE.
const maxRecvFds = 64

// ipcFramed is false: a Unix IPC stream's bytes go out as written, the
// descriptors beside them (Windows frames every write, ipc_windows.go).
const ipcFramed = false

// writeFrame is never called on Unix (ipcFramed is false).
func (s *Stream) writeFrame(bufs [][]byte, total, fd int, cb Callback) error {
	return s.write(bufs, total, fd, cb)
}

// ipcState is what an IPC stream (libuv's uv_pipe_init with ipc=1) adds:
// the control buffer its reads use and the descriptors received but not
// taken yet, in arrival order.
type ipcState struct {
	oob     []byte
	pending []int
}

// SetIPC makes a Unix-domain stream carry descriptors: its reads collect
// the ones that arrive (PendingCount, TakePending) and Write2 can send one.
func (s *Stream) SetIPC() error {
	if s.w.Aux&fPipe == 0 || s.w.InRecvMode() {
		// In receive mode (read_recv.go) the kernel reads without
		// recvmsg's control data: descriptors would be lost.
		return errx.FromErrno("open", syscall.EINVAL)
	}
	x := s.ext()
	if x.ipc == nil {
		x.ipc = &ipcState{oob: make([]byte, unix.CmsgSpace(maxRecvFds*4))}
	}
	return nil
}

// readIPC is read(2) for an IPC stream: recvmsg, keeping the descriptors
// that came with the bytes.
func (s *Stream) readIPC(buf []byte) (int, error) {
	ipc := s.x.ipc
	for {
		n, oobn, flags, _, err := unix.Recvmsg(s.Fd(), buf, ipc.oob, recvCloexec)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if oobn > 0 {
			if perr := s.collectRights(ipc, ipc.oob[:oobn]); perr != nil {
				return 0, perr
			}
		}
		if flags&unix.MSG_CTRUNC != 0 {
			return 0, unix.EMSGSIZE
		}
		return n, nil
	}
}

func (s *Stream) collectRights(ipc *ipcState, oob []byte) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return err
	}
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return err
		}
		for _, fd := range fds {
			if recvCloexec == 0 {
				unix.CloseOnExec(fd)
			}
			ipc.pending = append(ipc.pending, fd)
		}
	}
	return nil
}

// Write2 is Write with a descriptor, libuv's uv_write2: fd travels with
// the first bytes of bufs (SCM_RIGHTS). The stream must be an IPC one and
// bufs must hold at least one byte. Write2 takes fd over, success or not:
// it is closed once the kernel holds it, or when the write fails or is
// cancelled. Callers pass a duplicate of a descriptor they keep using.
//
// A socket whose descriptor is sent lives on under a second reference, so
// the stream that owns the original must remove its poller registration
// explicitly when it closes: see MarkShared.
func (s *Stream) Write2(bufs [][]byte, fd int, cb Callback) error {
	total, err := s.checkWrite2(bufs, fd)
	if err != nil {
		return err
	}
	return s.write(bufs, total, fd, cb)
}

// Dup returns a close-on-exec duplicate of s's descriptor, for Write2.
func (s *Stream) Dup() (int, error) {
	if s.Fd() < 0 {
		return -1, errClosed("dup")
	}
	fd, err := unix.FcntlInt(uintptr(s.Fd()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, errx.Wrap("dup", err)
	}
	return fd, nil
}

// MarkShared tells s that its descriptor has (or may get) a duplicate
// elsewhere, so Close removes the poller registration explicitly instead
// of relying on close(2).
func (s *Stream) MarkShared() { s.w.Aux |= fForeignFd }

// sendmsgRights sends bufs with fd attached.
func sendmsgRights(sock int, bufs [][]byte, fd int) (int, error) {
	for {
		n, err := unix.SendmsgBuffers(sock, bufs, unix.UnixRights(fd), nil, 0)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// PendingKind says what the oldest pending descriptor is: TCP or Pipe,
// and false when none is pending (or it is neither).
func (s *Stream) PendingKind() (Kind, bool) {
	if s.PendingCount() == 0 {
		return 0, false
	}
	sa, err := unix.Getsockname(s.x.ipc.pending[0])
	if err != nil {
		return 0, false
	}
	if _, ok := sa.(*unix.SockaddrUnix); ok {
		return Pipe, true
	}
	return TCP, true
}

// AcceptPending gives the oldest pending descriptor to client, a stream
// of the matching kind without a socket (libuv's uv_accept on an IPC
// pipe). It returns EAGAIN when none is pending and EINVAL when client's
// kind differs (the descriptor stays pending).
func (s *Stream) AcceptPending(client *Stream) error {
	k, ok := s.PendingKind()
	if !ok {
		if s.PendingCount() > 0 {
			sys.Close(s.TakePending()) // not a socket we can wrap
			return errx.FromErrno("accept", syscall.ENOTSOCK)
		}
		return errx.FromErrno("accept", syscall.EAGAIN)
	}
	if client.Transport() != k {
		return errx.FromErrno("accept", syscall.EINVAL)
	}
	fd := s.TakePending()
	if err := client.Open(fd); err != nil {
		sys.Close(fd)
		return err
	}
	return nil
}
