package transport

import (
	"syscall"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// Open wraps an existing socket descriptor of kind k (made non-blocking and
// close-on-exec), libuv's uv__stream_open for both tcp and pipe; the stream
// owns it from now on. A connected socket can read and write at once; a
// listening one can Listen.
func Open(l *core.Loop, fd int, k Kind) (*Stream, error) {
	s := New(l, k)
	if err := s.Open(fd); err != nil {
		s.Close(nil)
		return nil, err
	}
	return s, nil
}

// Open gives s, a stream from New or Init without a socket, the descriptor
// fd, as the function Open does. On error s keeps no descriptor and fd is
// left open.
func (s *Stream) Open(fd int) error {
	if s.isNamedPipe() {
		return errx.FromErrno("open", syscall.ENOTSUP) // not ported: libuv's uv_pipe_open of a pipe handle
	}
	if err := sys.SetNonblock(fd); err != nil {
		return errx.Wrap("open", err)
	}
	if err := s.setFd(fd); err != nil {
		return err
	}
	// Close removes it from the poller explicitly: a duplicate of the
	// descriptor may outlive this stream.
	s.w.Aux |= fForeignFd
	if _, err := sys.PeerName(fd); err == nil {
		s.w.Aux |= fConnected
	}
	return nil
}

// OpenFD is Open with the kind taken from the socket's address family:
// Pipe for AF_UNIX, TCP otherwise. A descriptor that is not a socket gives
// ERR_INVALID_FD_TYPE.
func OpenFD(l *core.Loop, fd int) (*Stream, error) {
	local, err := sys.IsLocal(fd)
	if err != nil {
		return nil, errx.New(errs.CodeInvalidFDType, "Unsupported fd type: "+err.Error())
	}
	k := TCP
	if local {
		k = Pipe
	}
	return Open(l, fd, k)
}

// ensureSocket creates the stream's socket in the given address family if
// it has none yet, and applies the options remembered before it existed.
func (s *Stream) ensureSocket(family int) error {
	if s.Fd() >= 0 {
		return nil
	}
	if s.IsClosing() {
		return errClosed("socket")
	}
	fd, err := sys.Socket(family, sys.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := s.setFd(fd); err != nil {
		sys.Close(fd)
		return err
	}
	return s.applyOptions()
}
