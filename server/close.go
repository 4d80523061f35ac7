package server

import (
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/emitter"
)

// Close stops accepting new connections; existing ones keep working.
// 'close' is emitted (and cb called) once the last connection has gone.
// On a server that is not listening cb receives ERR_SERVER_NOT_RUNNING,
// and 'close' is still emitted.
func (s *Server) Close(cb func(err error)) *Server {
	s.affine("Server.Close")
	if cb != nil {
		if !s.handleOpen() {
			s.OnceClose(func() { cb(errs.ErrServerNotRunning) })
		} else {
			s.OnceClose(func() { cb(nil) })
		}
	}
	s.listenSeq++
	s.listenBusy = false
	s.closeArmed = true
	s.drainGroup()
	s.closeHandle()
	s.dropContext()
	s.emitCloseIfDrained()
	return s
}

// Dispose closes the server if it is listening and succeeds otherwise
// (Node's Symbol.asyncDispose); cb runs once it has closed.
func (s *Server) Dispose(cb func()) {
	s.affine("Server.Dispose")
	if !s.handleOpen() {
		if cb != nil {
			s.l.NextTick(cb)
		}
		return
	}
	s.Close(func(error) {
		if cb != nil {
			cb()
		}
	})
}

// dropContext stops watching the listen context, if any.
func (s *Server) dropContext() {
	if s.stopCtx != nil {
		s.stopCtx()
		s.stopCtx = nil
	}
}

func (s *Server) closeHandle() {
	s.stopGroup()
	if s.st != nil {
		if !s.st.IsClosing() {
			s.st.Close(nil)
		}
		s.st = nil
	}
}

func (s *Server) emitCloseIfDrained() {
	// The counts before reporting: see Server.release.
	if s.handleOpen() || s.connections.Load() > 0 || s.draining.Load() > 0 || s.reporting.Load() > 0 {
		return
	}
	s.closeArmed = false
	// Like Node's emitCloseNT, emit unconditionally: a listen() made in
	// the same tick must not swallow this close (or its callbacks).
	release := s.drained
	s.drained = nil
	s.l.NextTick(func() {
		emitter.Emit0(&s.ev, evClose)
		if release != nil {
			release()
		}
	})
}

func (s *Server) handleRef(on bool) {
	s.groupRef(on)
	if st := s.st; st != nil && !st.IsClosing() {
		if on {
			st.Ref()
		} else {
			st.Unref()
		}
	}
}

// Ref keeps the loop alive while the server listens (the default).
// Remembered before Listen.
func (s *Server) Ref() *Server {
	s.affine("Server.Ref")
	s.unref = false
	s.handleRef(true)
	return s
}

// Unref lets the loop exit while the server listens. Remembered before
// Listen.
func (s *Server) Unref() *Server {
	s.affine("Server.Unref")
	s.unref = true
	s.handleRef(false)
	return s
}
