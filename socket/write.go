package socket

import (
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/encoding"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// errEndDestroyed is End's callback error on a destroyed socket.
func errEndDestroyed() error {
	return errx.New(errs.CodeStreamDestroyed, "Cannot call end after a stream was destroyed")
}

// errWriteAfterFIN is Node's EPIPE for writes after the automatic end.
func errWriteAfterFIN() error {
	e := errx.New("EPIPE", "This socket has been ended by the other party")
	e.Errno = epipe
	return e
}

// Write queues data and reports whether the caller may keep writing: false
// once the buffered amount reaches the high-water mark, after which 'drain'
// follows. Writes made while connecting are queued and flushed in order
// once connected. cb, if given, runs once the data was handed to the
// kernel, or with the error. Write never emits 'error' inside the call.
func (s *Socket) Write(data []byte, cb ...func(err error)) bool {
	s.affine("Socket.Write")
	var fn func(error)
	if len(cb) > 0 {
		fn = cb[0]
	}
	return s.write(data, fn)
}

// WriteString encodes text with the given encoding ("" means utf8) and
// writes it. An unknown encoding fails through cb with
// ERR_UNKNOWN_ENCODING.
func (s *Socket) WriteString(text, enc string, cb ...func(err error)) bool {
	s.affine("Socket.WriteString")
	var fn func(error)
	if len(cb) > 0 {
		fn = cb[0]
	}
	e := encoding.UTF8
	if enc != "" {
		var ok bool
		if e, ok = encoding.Parse(enc); !ok {
			s.failWrite(fn, errx.New(errs.CodeUnknownEncoding, "Unknown encoding: "+enc), false)
			return false
		}
	}
	return s.write(encoding.Encode(e, text), fn)
}

// failWrite reports a refused write through its callback (and as 'error'
// when Node would), always after the call returns. As in Node, the socket
// is destroyed at once (so nothing else can close it cleanly first); the
// callback and then 'error' follow on the next tick.
func (s *Socket) failWrite(cb func(error), err error, emit bool) {
	if cb != nil {
		s.l.NextTick(func() { cb(err) })
	}
	if emit {
		s.destroyWith(err)
	}
}

func (s *Socket) write(data []byte, cb func(error)) bool {
	return s.writeFD(data, -1, cb)
}

// writeFD is write with a descriptor to send (SendHandle), or -1. The
// descriptor is the write's own: sent, or closed when the write fails.
func (s *Socket) writeFD(data []byte, fd int, cb func(error)) bool {
	if fd >= 0 {
		// Every refusal below hands cb the error; the descriptor goes
		// with it unless the write reaches the stream.
		defer func() {
			if fd >= 0 {
				sys.Close(fd)
			}
		}()
	}
	switch {
	case s.state&sDestroyed != 0:
		s.failWrite(cb, errs.ErrStreamDestroyed, false)
		return false
	case s.state&(sEnding|sEndEmitted|sAllowHalfOpen) == sEnding|sEndEmitted:
		// Node's writeAfterFIN: after 'end', a socket without
		// allowHalfOpen whose writable side has ended (by End or by the
		// automatic end) fails writes with EPIPE and is destroyed.
		s.failWrite(cb, errWriteAfterFIN(), true)
		return false
	case s.state&sEnding != 0:
		s.failWrite(cb, errs.ErrStreamWriteAfterEnd, true)
		return false
	case s.state&sNotWritable != 0:
		s.failWrite(cb, errs.ErrSocketClosed, false)
		return false
	}
	s.countWritten(len(data))
	if s.state&sWriteErrored != 0 {
		// As Node buffers writes behind an errored one: they fail when
		// the socket is destroyed, right after the failed write's callback.
		s.ext().pending = append(s.pending, pendingWrite{cb: cb})
		return false
	}
	if s.st == nil || s.state&sConnecting != 0 || s.corked > 0 {
		if s.st == nil && s.state&sConnecting == 0 {
			s.failWrite(cb, errs.ErrSocketClosed, true)
			return false
		}
		s.ext().pending = append(s.pending, pendingWrite{data: append([]byte(nil), data...), cb: cb, fd1: fd + 1})
		fd = -1
		s.ext().pendingSize += len(data)
		return s.checkHighWater()
	}
	s.touch()
	var err error
	if fd >= 0 {
		err = s.st.Write2([][]byte{data}, fd, cb)
		fd = -1
	} else {
		err = s.streamWriteOne(data, cb)
	}
	if err != nil {
		s.failWrite(cb, err, true)
		return false
	}
	if s.st.WriteFailed() {
		// Node's write returns false once the stream errored; the error
		// reaches cb, then 'error' and 'close', from the pending phase.
		s.state |= sWriteErrored
		return false
	}
	s.wroteAsync()
	return s.checkHighWater()
}

func (s *Socket) checkHighWater() bool {
	if s.WritableLength() < s.highWaterMark() {
		return true
	}
	s.state |= sNeedDrain
	return false
}

// flushPending hands the writes queued before connect to the handle.
func (s *Socket) flushPending() {
	if s.state&sWriteErrored != 0 {
		return // the destroy that follows fails them
	}
	p := s.pending
	s.ext().pending, s.ext().pendingSize = nil, 0
	if len(p) > 1 && !carriesFD(p) {
		// One vectored write (as Node's writev after cork or connect);
		// each callback runs once it completed, in order.
		bufs := make([][]byte, len(p))
		for i, w := range p {
			bufs[i] = w.data
		}
		batch := p
		cb := func(err error) {
			for _, w := range batch {
				if w.cb != nil {
					w.cb(err)
				}
			}
		}
		s.touch()
		if err := s.streamWrite(bufs, cb); err != nil {
			s.failWrite(cb, err, true)
		}
		p = nil
	}
	for _, w := range p {
		var err error
		if w.fd1 != 0 {
			err = s.st.Write2([][]byte{w.data}, w.fd1-1, w.cb)
		} else {
			err = s.streamWriteOne(w.data, w.cb)
		}
		if err != nil {
			s.failWrite(w.cb, err, true)
		}
	}
	s.wroteAsync()
	if s.st.WriteQueueSize() == 0 {
		s.onHandleDrain()
	}
}

// Cork buffers every later Write in memory until Uncork (called as many
// times as Cork) or End, which hand them to the kernel as one vectored
// write: cork, Write("pi"), Write("ng"), End() reaches the peer as one
// "ping" chunk.
func (s *Socket) Cork() {
	s.affine("Socket.Cork")
	s.ext().corked++
}

// Uncork undoes one Cork; the last one flushes the buffered writes.
func (s *Socket) Uncork() {
	s.affine("Socket.Uncork")
	if s.corked == 0 {
		return
	}
	s.ext().corked--
	if s.corked == 0 && len(s.pending) > 0 && s.st != nil &&
		s.state&(sConnecting|sDestroyed) == 0 {
		s.flushPending()
	}
}

// WritableCorked returns how many Uncork calls would flush the writes.
func (s *Socket) WritableCorked() int {
	s.affine("Socket.WritableCorked")
	return s.corked
}

// failPending fails the writes queued before connect.
func (s *Socket) failPending(err error) {
	p := s.pending
	s.ext().pending, s.ext().pendingSize = nil, 0
	for _, w := range p {
		if w.fd1 != 0 {
			sys.Close(w.fd1 - 1)
		}
		if w.cb != nil {
			cb := w.cb
			s.l.NextTick(func() { cb(err) })
		}
	}
}

func (s *Socket) onHandleDrain() {
	if s.state&sNeedDrain == 0 || s.WritableLength() > 0 {
		return
	}
	s.state &^= sNeedDrain
	s.core().QueuePending(func() {
		if s.state&sDestroyed == 0 {
			emitter.Emit0(&s.ev, evDrain)
		}
	})
}

func (s *Socket) onHandleWriteError(err error) { s.destroyWith(err) }

// EndString is End with text encoded in enc ("" means utf8), Node's
// end(data, encoding, cb). An unknown encoding returns ERR_UNKNOWN_ENCODING
// and ends nothing, as Node throws before ending.
func (s *Socket) EndString(text, enc string, cb ...func(err error)) error {
	s.affine("Socket.EndString")
	e := encoding.UTF8
	if enc != "" {
		var ok bool
		if e, ok = encoding.Parse(enc); !ok {
			return errx.UnknownEncoding(enc)
		}
	}
	var data []byte
	if text != "" {
		data = encoding.Encode(e, text)
	}
	s.End(data, cb...)
	return nil
}

// End half-closes the socket: data (which may be nil) is written, then the
// FIN is sent once everything queued is flushed, then 'finish' is emitted.
// cb, if given, runs once: just before 'finish' with a nil error, or with
// the error that destroyed the socket first (ERR_STREAM_DESTROYED if none);
// on a socket that already finished it gets ERR_STREAM_ALREADY_FINISHED and
// on a destroyed one ERR_STREAM_DESTROYED, on the next tick, as in Node.
// The socket keeps reading until the peer ends too. End while connecting
// waits for the connection; End on a socket that never connected just
// finishes.
func (s *Socket) End(data []byte, cb ...func(err error)) *Socket {
	s.affine("Socket.End")
	if len(data) > 0 {
		s.write(data, nil)
	}
	var fn func(error)
	if len(cb) > 0 {
		fn = cb[0]
	}
	if fn != nil {
		switch {
		case s.state&sFinished != 0:
			err := errx.New(errs.CodeStreamAlreadyFinished, "Cannot call end after a stream was finished")
			s.l.NextTick(func() { fn(err) })
		case s.state&sDestroyed != 0:
			err := errEndDestroyed()
			s.l.NextTick(func() { fn(err) })
		default:
			s.ext().onFinished = append(s.onFinished, fn)
		}
	}
	if s.state&(sEnding|sDestroyed) != 0 {
		return s
	}
	if s.corked > 0 {
		s.ext().corked = 1
		s.Uncork()
	}
	s.state |= sEnding
	switch {
	case s.state&sConnecting != 0:
		// shutdown follows the connection (see afterConnect).
	case s.st == nil:
		s.core().NextTickTask((*finishTask)(s))
	default:
		s.shutdown()
	}
	return s
}

// shutdown sends the FIN once queued data is flushed.
func (s *Socket) shutdown() {
	if s.state&sShutdown != 0 || s.st == nil {
		return
	}
	s.state |= sShutdown
	if s.state&sNotWritable != 0 {
		s.core().NextTickTask((*finishTask)(s))
		return
	}
	if s.state&sEndEmitted != 0 && s.st.WriteQueueSize() == 0 && s.layer == nil {
		// The peer has ended and nothing is queued, so 'finish' is followed
		// at once by destroy, whose close(2) sends the FIN: a shutdown(2)
		// first would only cost another trip through the TCP stack.
		s.core().QueuePendingTask((*finishTask)(s))
		return
	}
	if err := s.streamShutdown(func(err error) {
		if err != nil && errs.CodeOf(err) != "ENOTCONN" {
			s.destroyWith(err)
			return
		}
		s.finish()
	}); err != nil {
		// Not connected (ENOTCONN): nothing to shut down.
		s.core().NextTickTask((*finishTask)(s))
	}
}

func (s *Socket) finish() {
	if s.state&(sFinished|sDestroyed) != 0 {
		return
	}
	s.state |= sFinished
	if cbs := s.onFinished; len(cbs) > 0 {
		// As Node: End's callbacks run just before 'finish'.
		s.ext().onFinished = nil
		for _, fn := range cbs {
			fn(nil)
		}
	}
	emitter.Emit0(&s.ev, evFinish)
	if s.state&sDestroyed != 0 {
		return
	}
	// Both sides done, or there was never a connection: destroy.
	if s.state&sEndEmitted != 0 || s.st == nil || s.state&sNotReadable != 0 {
		s.Destroy(nil)
	}
}

// DestroySoon ends the writable side and destroys the socket once
// everything was flushed ('finish').
func (s *Socket) DestroySoon() {
	s.affine("Socket.DestroySoon")
	if s.state&sFinished != 0 {
		s.Destroy(nil)
		return
	}
	s.OnceFinish(func() { s.Destroy(nil) })
	s.End(nil)
}
