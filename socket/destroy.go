package socket

import (
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
)

// Destroy closes the socket at once: nothing more is read or written,
// queued writes fail, and 'close' follows (after 'error' when err is not
// nil). Destroying twice is harmless; 'close' comes exactly once.
func (s *Socket) Destroy(err error) *Socket {
	s.affine("Socket.Destroy")
	s.destroyWith(err)
	return s
}

// Destroyed reports whether Destroy was called (or an error destroyed the
// socket).
func (s *Socket) Destroyed() bool {
	s.affine("Socket.Destroyed")
	return s.state&sDestroyed != 0
}

func (s *Socket) destroyWith(err error) {
	if s.state&sDestroyed != 0 {
		return
	}
	s.state |= sDestroyed
	if err != nil {
		s.state |= sHadError
		s.ext().destroyErr = err
		s.cacheRemote() // names the socket if nobody handles the error
	}
	wasConnecting := s.state&sConnecting != 0
	s.state &^= sConnecting
	if s.stopLookup != nil {
		s.stopLookup()
		s.ext().stopLookup = nil
	}
	if s.he != nil {
		s.he.release() // pending Happy Eyeballs attempt and its timer
	}
	if s.stopCtx != nil {
		s.stopCtx()
		s.ext().stopCtx = nil
	}
	s.stopTimer()
	if s.layer != nil {
		s.layer.Destroyed()
	}
	if cbs := s.onFinished; len(cbs) > 0 {
		// End's callbacks still waiting for 'finish' get the error that
		// destroyed the socket (Node's errorBuffer), on the next tick.
		s.ext().onFinished = nil
		cerr := err
		if cerr == nil {
			cerr = errEndDestroyed()
		}
		s.l.NextTick(func() {
			for _, fn := range cbs {
				fn(cerr)
			}
		})
	}
	if len(s.pending) > 0 {
		perr := error(errs.ErrStreamDestroyed)
		if wasConnecting {
			perr = errs.ErrSocketClosedBeforeConnection
		}
		s.failPending(perr)
	}
	if err != nil {
		s.l.NextTick(func() { s.emitError(err) })
	}
	if s.acc != nil {
		s.acc.Owner.SocketClosed()
	}
	switch {
	case s.st != nil && s.st.IsClosing():
		s.core().NextTickTask((*closeTask)(s))
	case s.state&sReset != 0 && s.tcp() != nil:
		s.tcp().CloseReset(s.emitClose)
	case s.st != nil:
		s.st.CloseToHandler()
	default:
		s.core().NextTickTask((*closeTask)(s))
	}
}

func (s *Socket) emitClose() {
	if s.state&sClosed != 0 {
		return
	}
	s.state |= sClosed
	s.closeTimer()
	s.countInGroup(-1)
	emitter.Emit(&s.ev, evClose, s.state&sHadError != 0)
}

// ResetAndDestroy closes a TCP socket with RST instead of FIN (the peer
// sees ECONNRESET) and destroys it. While connecting it waits for the
// connection first. It fails with ERR_INVALID_HANDLE_TYPE on a pipe
// socket, and emits 'error' ERR_SOCKET_CLOSED when there is no handle.
func (s *Socket) ResetAndDestroy() (*Socket, error) {
	s.affine("Socket.ResetAndDestroy")
	if s.pipe() != nil {
		return s, errx.New(errs.CodeInvalidHandleType, "Handle type is not a TCP handle")
	}
	if s.state&sDestroyed != 0 {
		return s, nil
	}
	if s.tcp() == nil {
		if s.state&sConnecting != 0 {
			s.state |= sResetOnConnect
			return s, nil
		}
		s.destroyWith(errs.ErrSocketClosed)
		return s, nil
	}
	if s.state&sConnecting != 0 {
		s.state |= sResetOnConnect
		return s, nil
	}
	s.state |= sReset
	s.destroyWith(nil)
	return s, nil
}
