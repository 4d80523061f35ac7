package transport

import (
	"errors"
	"syscall"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/poller"
)

// trackConnect records a connect(2) issued by Connect or ConnectPath; err is
// the system call's result. Success, EINPROGRESS or a failure are all
// reported to cb in the pending or poll phase, never inside this call.
// Writes issued meanwhile are queued and flushed once connected; if the
// connect fails they fail with ECANCELED right after cb, and a Shutdown
// issued meanwhile fails too.
func (s *Stream) trackConnect(err error, cb Callback) error {
	if s.w.Aux&fConnecting != 0 {
		return errx.FromErrno("connect", syscall.EALREADY)
	}
	if s.Fd() < 0 || s.IsClosing() {
		return errClosed("connect")
	}
	s.w.Aux |= fConnecting
	s.ext().connectCb = cb
	s.Loop().ReqStart()
	s.updateActive()
	if err == nil || errors.Is(err, sys.EINPROGRESS) {
		if err == nil {
			s.w.Aux |= fConnectDone
			s.queuePending()
			return nil
		}
		if werr := s.w.Start(poller.Write); werr == nil {
			return nil
		} else {
			err = werr
		}
	}
	s.ext().connectErr = errx.Wrap("connect", err)
	s.w.Aux |= fConnectDone
	s.queuePending()
	return nil
}

func (s *Stream) connectReady() {
	errno, err := sys.GetsockoptInt(s.Fd(), sys.SOL_SOCKET, sys.SO_ERROR)
	if err == nil && errno != 0 {
		err = syscall.Errno(errno)
	}
	if err == sys.EINPROGRESS {
		return
	}
	s.ext().connectErr = errx.Wrap("connect", err)
	s.completeConnect()
}

func (s *Stream) completeConnect() {
	if s.w.Aux&fConnecting == 0 {
		return
	}
	s.w.Aux &^= fConnecting
	err := s.x.connectErr
	s.x.connectErr = nil
	cb := s.x.connectCb
	s.x.connectCb = nil
	if err == nil {
		s.w.Aux |= fConnected
		if s.unsent() != nil {
			if werr := s.w.Start(poller.Write); werr != nil {
				s.failHead(errx.Wrap("write", werr))
			}
		} else {
			s.w.Stop(poller.Write)
			if s.w.Aux&fShutting != 0 {
				s.doShutdown()
			}
		}
	} else {
		s.w.Stop(poller.Write)
	}
	s.updateActive()
	s.npUpdate()
	s.Loop().ReqDone()
	if cb != nil {
		cb(err)
	}
	if err != nil && !s.IsClosing() {
		// As libuv: what was queued behind a failed connect is cancelled
		// now, and a pending shutdown fails, instead of waiting for Close.
		s.cancelWrites()
		if s.w.Aux&fShutting != 0 {
			s.doShutdown()
		}
	}
}

// cancelWrites fails every queued write with ECANCELED.
func (s *Stream) cancelWrites() {
	for s.unsent() != nil {
		r := s.q.wqHead
		s.q.size -= len(r.buf) - r.off
		s.popHead()
		r.err = errx.FromErrno("write", syscall.ECANCELED)
		s.finishQueued(r)
	}
	s.updateActive()
}
