package transport

import (
	"syscall"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// onClose runs inside Close: stop watching and release the descriptor.
func (s *Stream) onClose() {
	if s.flags&fListening != 0 {
		reserveRelease()
		s.Loop().StopTimer(&s.x.backoff)
	}
	s.flags &^= fReading | fListening
	if s.fd >= 0 && s.isNamedPipe() {
		s.npClose()
	}
	if s.fd >= 0 {
		// close(2) removes the epoll registration, unless another
		// descriptor still refers to the socket (one handed to Open may).
		s.w.Close(s.flags&fForeignFd == 0)
		if s.flags&fPipe != 0 {
			s.unlink()
		}
		sys.Close(int(s.fd))
		s.fd = -1
	}
	s.closePending()
	if s.x != nil && s.x.acceptedFd >= 0 {
		sys.Close(s.x.acceptedFd)
		s.x.acceptedFd = -1
	}
}

// onFinish runs in the closing phase before the close callback: deferred
// callbacks are delivered and everything still queued is cancelled.
func (s *Stream) onFinish() {
	canceled := func(op string) error { return errx.FromErrno(op, syscall.ECANCELED) }
	if s.flags&fConnecting != 0 {
		s.x.connectErr = canceled("connect")
		s.flags &^= fConnectDone
		s.completeConnect()
	}
	s.cancelWrites()
	s.runWriteCallbacks()
	if (s.x != nil && s.x.shutdownCb != nil) || s.flags&(fShutting|fShutdownDone) != 0 {
		if s.flags&fShutting != 0 {
			s.x.shutErr = canceled("shutdown")
		}
		s.flags &^= fShutting | fShutdownDone
		s.completeShutdown()
	}
}
