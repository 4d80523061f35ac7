//go:build !windows

package socket

import (
	"github.com/netloop/netloop/internal/emitter"
)

// OnReadable adds a 'readable' listener and puts the socket in paused
// mode, as Node does: data is no longer pushed to 'data' listeners but
// buffered (up to 64 KiB, then the socket stops reading from the kernel)
// until Read takes it; 'readable' is emitted on the next tick whenever
// data was buffered, and once more at the end of the stream, before
// 'end' (which follows once Read has taken everything). Resume does
// nothing in paused mode; removing the listener does not leave it.
func (s *Socket) OnReadable(fn func()) Listener {
	s.affine("Socket.OnReadable")
	return s.readable(fn, false)
}

// OnceReadable adds a one-shot 'readable' listener (see OnReadable).
func (s *Socket) OnceReadable(fn func()) Listener {
	s.affine("Socket.OnceReadable")
	return s.readable(fn, true)
}

func (s *Socket) readable(fn func(), once bool) Listener {
	l := s.add(evReadable, fn, once)
	if s.state&sReadableMode == 0 {
		s.state = s.state&^sFlowing | sReadableMode
		s.startReading()
		if s.bufSize > 0 || s.state&sReadEOF != 0 {
			s.scheduleReadable()
		}
	}
	return l
}

// scheduleReadable emits 'readable' on the next tick, once per tick.
func (s *Socket) scheduleReadable() {
	if s.state&(sReadableMode|sReadableQueued|sDestroyed) != sReadableMode {
		return
	}
	s.state |= sReadableQueued
	s.l.NextTick(func() {
		s.state &^= sReadableQueued
		if s.state&sDestroyed == 0 {
			emitter.Emit0(&s.ev, evReadable)
		}
	})
}

// Read takes n bytes from what paused mode buffered (Node's
// socket.read(n)): exactly n bytes when that many are buffered, what is
// left once the stream has ended, nil otherwise (more may come: wait for
// 'readable'). n <= 0 takes everything buffered. The bytes are the
// caller's to keep, and also go to the 'data' listeners, as in Node.
// Read returns raw bytes even with an encoding set.
func (s *Socket) Read(n int) []byte {
	s.affine("Socket.Read")
	if s.bufSize == 0 || (n > s.bufSize && s.state&sReadEOF == 0) {
		return nil
	}
	if n <= 0 || n > s.bufSize {
		n = s.bufSize
	}
	out := make([]byte, 0, n)
	for len(out) < n {
		b := s.buffered[0]
		k := copy(out[len(out):n], b)
		out = out[:len(out)+k]
		if k == len(b) {
			s.ext().buffered[0] = nil
			s.ext().buffered = s.buffered[1:]
		} else {
			s.ext().buffered[0] = b[k:]
		}
	}
	s.ext().bufSize -= n
	if len(s.buffered) == 0 {
		s.ext().buffered = nil
	}
	emitter.Emit(&s.ev, evData, out)
	if s.state&sDestroyed == 0 {
		s.startReading()
		s.maybeEnd()
	}
	return out
}

// ReadableLength returns how many bytes paused mode holds for Read
// (Node's readableLength).
func (s *Socket) ReadableLength() int {
	s.affine("Socket.ReadableLength")
	return s.bufSize
}
