package transport

import (
	"syscall"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// onClose runs inside Close: stop watching and release the descriptor.
func (s *Stream) onClose() {
	if s.w.Aux&fListening != 0 {
		reserveRelease()
		s.Loop().StopTimer(&s.x.backoff)
	}
	s.w.Aux &^= fReading | fListening
	if s.Fd() >= 0 && s.isNamedPipe() {
		s.npClose()
	}
	if fd := s.Fd(); fd >= 0 {
		// close(2) removes the epoll registration, unless another
		// descriptor still refers to the socket (one handed to Open may).
		s.w.Close(s.w.Aux&fForeignFd == 0) // the descriptor is -1 from here
		if s.w.Aux&fPipe != 0 {
			s.unlink()
		}
		sys.Close(fd)
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
	if s.w.Aux&fConnecting != 0 {
		s.x.connectErr = canceled("connect")
		s.w.Aux &^= fConnectDone
		s.completeConnect()
	}
	s.cancelWrites()
	s.runWriteCallbacks()
	if (s.x != nil && s.x.shutdownCb != nil) || s.w.Aux&(fShutting|fShutdownDone) != 0 {
		if s.w.Aux&fShutting != 0 {
			s.x.shutErr = canceled("shutdown")
		}
		s.w.Aux &^= fShutting | fShutdownDone
		s.completeShutdown()
	}
}
