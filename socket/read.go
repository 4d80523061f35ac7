package socket

import (
	"errors"
	"io"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/encoding"
	"github.com/netloop/netloop/internal/errx"
)

// readableHighWaterMark bounds the data buffered while nobody consumes it;
// past it the socket stops reading from the descriptor. Read(n) may raise
// it for one socket (see Socket.readHighWaterMark).
const readableHighWaterMark = 64 << 10

func (s *Socket) setOnRead(o *OnRead) {
	s.ext().onread = o
	s.ext().allocFn = func(int) []byte {
		if s.onread.BufferFunc != nil {
			return s.onread.BufferFunc()
		}
		return s.onread.Buffer
	}
}

// flowing reports whether data goes straight to listeners.
func (s *Socket) flowing() bool {
	return s.state&(sPaused|sReadableMode) == 0 && (s.state&sFlowing != 0 || s.onread != nil)
}

func (s *Socket) dataListenerAdded() {
	if s.state&(sPaused|sFlowing|sReadableMode) == 0 {
		s.Resume()
	}
}

// startReading asks the handle for data if the socket wants it.
func (s *Socket) startReading() {
	if s.st == nil || s.state&(sDestroyed|sConnecting|sReadEOF|sNotReadable) != 0 || s.st.IsReading() {
		return
	}
	// Pause stops the reading, except in paused mode ('readable'
	// listeners), where Read drives it, as in Node.
	if s.state&(sPaused|sReadableMode) == sPaused || s.bufSize >= s.readHighWaterMark() {
		return
	}
	if err := s.st.ReadStart(s.allocFn, nil); err != nil {
		s.destroyWith(err)
	}
}

func (s *Socket) onHandleRead(n int, buf []byte, err error) {
	if err != nil {
		if errors.Is(err, io.EOF) {
			s.state |= sReadEOF
			s.readableEOF() // paused mode: 'readable' comes before 'end'
			s.maybeEnd()
			return
		}
		s.destroyWith(err)
		return
	}
	if n == 0 {
		return
	}
	s.countRead(n)
	s.touch()
	if s.onread != nil {
		if s.state&sPaused == 0 {
			if !s.onread.Callback(n, buf) {
				s.Pause()
			}
			return
		}
	}
	data := buf[:n]
	if s.flowing() && s.bufSize == 0 {
		s.deliver(data)
		return
	}
	// Nobody consumes data right now: keep a copy for later.
	s.ext().buffered = append(s.buffered, append([]byte(nil), data...))
	s.ext().bufSize += n
	s.readableDataAdded()
	if s.bufSize >= s.readHighWaterMark() {
		s.st.ReadStop()
	}
}

// deliver emits one chunk to the data (or text) listeners, or to OnRead.
func (s *Socket) deliver(data []byte) {
	if s.onread != nil {
		for len(data) > 0 {
			buf := s.allocFn(len(data))
			n := copy(buf, data)
			if n == 0 {
				return
			}
			data = data[n:]
			if !s.onread.Callback(n, buf) {
				s.Pause()
			}
			if s.state&sPaused != 0 && len(data) > 0 {
				s.ext().buffered = append([][]byte{append([]byte(nil), data...)}, s.buffered...)
				s.ext().bufSize += len(data)
				return
			}
		}
		return
	}
	if s.dec != nil {
		text := s.dec.Write(data)
		if text == "" {
			return
		}
		emitter.Emit(&s.ev, evText, text)
		if s.ev.Has(evData) {
			emitter.Emit(&s.ev, evData, []byte(text))
		}
		return
	}
	if s.state&sOwnedData != 0 {
		data = append([]byte(nil), data...) // Node's ownership: the handler keeps it
	}
	emitter.Emit(&s.ev, evData, data)
}

// flushBuffered delivers buffered chunks while the socket flows.
func (s *Socket) flushBuffered() {
	s.state &^= sFlushQueued
	for len(s.buffered) > 0 && s.flowing() && s.state&sDestroyed == 0 {
		b := s.buffered[0]
		s.ext().buffered[0] = nil
		s.ext().buffered = s.buffered[1:]
		s.ext().bufSize -= len(b)
		s.deliver(b)
	}
	if len(s.buffered) == 0 && s.buffered != nil {
		s.ext().buffered = nil
	}
	if s.state&sDestroyed == 0 {
		s.startReading()
		s.maybeEnd()
	}
}

// maybeEnd schedules 'end' once EOF arrived and every buffered byte was
// delivered, unless the socket was paused (outside paused mode, where
// Pause does not hold 'end' back).
func (s *Socket) maybeEnd() {
	if s.state&(sPaused|sReadableMode) == sPaused {
		return
	}
	s.endIfDrained()
}

// endIfDrained schedules 'end' once EOF arrived and nothing is left
// buffered (a Read that took the rest ends the stream even when paused,
// as Node's read does).
func (s *Socket) endIfDrained() {
	if s.state&(sReadEOF|sEndEmitted|sEndQueued|sDestroyed) != sReadEOF || s.bufSize > 0 {
		return
	}
	s.state |= sEndQueued
	s.core().NextTickTask((*emitEndTask)(s))
}

func (s *Socket) emitEnd() {
	if s.state&sDestroyed != 0 {
		return
	}
	s.state |= sEndEmitted
	if s.dec != nil {
		if rest := s.dec.End(); rest != "" {
			emitter.Emit(&s.ev, evText, rest)
			if s.ev.Has(evData) {
				emitter.Emit(&s.ev, evData, []byte(rest))
			}
		}
	}
	emitter.Emit0(&s.ev, evEnd)
	if s.state&sDestroyed != 0 {
		return
	}
	switch {
	case s.state&sAllowHalfOpen == 0 && s.state&sEnding == 0:
		// Node ends the writable side on the next tick; writes made inside
		// 'end' still go out before the FIN.
		s.core().NextTickTask((*autoEndTask)(s))
	case s.state&sFinished != 0:
		s.Destroy(nil)
	}
}

// Pause stops 'data' events and stops reading from the descriptor, so the
// kernel buffer fills and the peer slows down. Remembered before connect.
// In paused mode ('readable' listeners) it changes nothing that can be
// seen: reading goes on as Read takes the data, as in Node.
func (s *Socket) Pause() *Socket {
	s.affine("Socket.Pause")
	s.state = s.state&^sFlowing | sPaused
	if s.st != nil && s.state&(sDestroyed|sReadableMode) == 0 {
		s.st.ReadStop()
	}
	return s
}

// Resume restarts the flow of data paused by Pause (or by an OnRead
// callback returning false); nothing is lost. Remembered before connect.
// It does nothing while 'readable' listeners exist (Node's resume()
// leaves readableFlowing false then; see OnReadable).
func (s *Socket) Resume() *Socket {
	s.affine("Socket.Resume")
	if s.state&sReadableMode != 0 {
		return s // Node: resume() does nothing while 'readable' listeners exist
	}
	s.state = s.state&^sPaused | sFlowing
	if s.state&sDestroyed != 0 {
		return s
	}
	if len(s.buffered) > 0 || s.state&sReadEOF != 0 {
		if s.state&sFlushQueued == 0 {
			s.state |= sFlushQueued
			s.l.NextTick(s.flushBuffered)
		}
		return s
	}
	s.startReading()
	return s
}

// IsPaused reports whether the socket was paused, or is in paused mode
// ('readable' listeners), as Node's isPaused().
func (s *Socket) IsPaused() bool {
	s.affine("Socket.IsPaused")
	return s.state&(sPaused|sReadableMode) != 0
}

// SetEncoding makes data arrive decoded as text (OnText) in the given
// encoding: utf8, utf16le/ucs2, latin1/binary, ascii, base64, base64url,
// hex. A multi-byte character is never split across two events.
func (s *Socket) SetEncoding(enc string) error {
	s.affine("Socket.SetEncoding")
	e, ok := encoding.Parse(enc)
	if !ok {
		return errx.New(errs.CodeUnknownEncoding, "Unknown encoding: "+enc)
	}
	s.ext().dec = encoding.NewDecoder(e)
	return nil
}
