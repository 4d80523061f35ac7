package socket

import (
	"github.com/netloop/netloop/internal/emitter"
)

// maxReadHWM is the largest readable high-water mark Read(n) may ask
// for (Node's MAX_HWM, 1 GiB).
const maxReadHWM = 1 << 30

// OnReadable adds a 'readable' listener. The first one puts the socket
// in paused mode, as Node does (readableFlowing false; IsPaused reports
// true):
//
//   - 'data' listeners no longer receive a flow; the socket keeps reading
//     from the kernel into its own buffer until it holds the readable
//     high-water mark (64 KiB, or what a larger Read(n) asked for), then
//     stops reading until Read takes it below that;
//   - 'readable' is emitted on the next tick when data arrives, once for
//     all the data of that tick, following Node's needReadable rule: after
//     each 'readable' the next arrival emits another one unless more than
//     the high-water mark is left buffered, in which case only a Read that
//     returns nil or empties the buffer rearms it;
//   - at the end of the stream 'readable' is emitted at once (even if one
//     is already scheduled), and 'end' follows when the buffer is empty,
//     or once Read has taken the rest (by Read(0), by a Read(n) asking
//     more than was left, or by a Read that returns nil);
//   - Resume does nothing and Pause does not stop the reading, as in Node.
//
// Removing the last 'readable' listener (Listener.Remove, a Once listener
// having run, RemoveAllListeners) leaves paused mode on the next tick, as
// in Node 20: with 'data' listeners the socket resumes (buffered data
// flows first), without them it is neither paused nor flowing and the
// next OnData starts the flow. Adding a 'readable' listener after 'end'
// changes nothing.
func (s *Socket) OnReadable(fn func()) Listener {
	s.affine("Socket.OnReadable")
	return s.readable(fn, false)
}

// OnceReadable adds a one-shot 'readable' listener (see OnReadable; once
// it ran and no other 'readable' listener is left, the socket leaves
// paused mode).
func (s *Socket) OnceReadable(fn func()) Listener {
	s.affine("Socket.OnceReadable")
	return s.readable(fn, true)
}

func (s *Socket) readable(fn func(), once bool) Listener {
	l := s.add(evReadable, fn, once)
	l.s = s
	// Node's on('readable'): only the first listener (and not after
	// 'end') switches modes.
	if s.state&(sReadableMode|sEndEmitted) == 0 {
		s.state = s.state&^sFlowing | sReadableMode | sNeedReadable
		s.startReading()
		s.readableDataAdded()
	}
	return l
}

// readHighWaterMark is how much paused mode buffers before it stops
// reading from the descriptor.
func (s *Socket) readHighWaterMark() int {
	if s.readHWM > 0 {
		return s.readHWM
	}
	return readableHighWaterMark
}

// readableDataAdded emits 'readable' on the next tick if paused mode
// waits for data (Node's addChunk and emitReadable).
func (s *Socket) readableDataAdded() {
	if s.state&(sReadableMode|sNeedReadable) != sReadableMode|sNeedReadable || s.bufSize == 0 {
		return
	}
	s.state &^= sNeedReadable
	s.scheduleReadable()
}

// scheduleReadable emits 'readable' on the next tick, once per tick.
func (s *Socket) scheduleReadable() {
	if s.state&(sReadableMode|sReadableQueued|sDestroyed) != sReadableMode {
		return
	}
	s.state |= sReadableQueued
	s.l.NextTick(func() {
		s.state &^= sReadableQueued
		s.emitReadable()
	})
}

// emitReadable is Node's emitReadable_: 'readable' if there is something
// to read or the stream ended, then needReadable rearmed unless the
// stream ended or more than the high-water mark waits.
func (s *Socket) emitReadable() {
	if s.state&sDestroyed != 0 {
		return
	}
	if s.bufSize > 0 || s.state&sReadEOF != 0 {
		emitter.Emit0(&s.ev, evReadable)
	}
	if s.state&(sReadableMode|sReadEOF|sDestroyed) == sReadableMode && s.bufSize <= s.readHighWaterMark() {
		s.state |= sNeedReadable
	} else {
		s.state &^= sNeedReadable
	}
	if s.state&sReadableMode != 0 && !s.ev.Has(evReadable) {
		s.readableListenersChanged() // a Once listener ran
	}
}

// readableEOF is Node's onEofChunk in paused mode: 'readable' at once.
func (s *Socket) readableEOF() {
	if s.state&sReadableMode == 0 {
		return
	}
	s.state &^= sNeedReadable
	s.emitReadable()
}

// readableListenersChanged checks, on the next tick, whether the last
// 'readable' listener is gone (Node's updateReadableListening).
func (s *Socket) readableListenersChanged() {
	if s.state&sReadableMode != 0 {
		s.l.NextTick(s.updateReadableListening)
	}
}

// updateReadableListening leaves paused mode once no 'readable' listener
// is left: resumed if 'data' listeners exist, else neither paused nor
// flowing (Node's readableFlowing null).
func (s *Socket) updateReadableListening() {
	if s.state&sReadableMode == 0 || s.ev.Has(evReadable) {
		return
	}
	s.state &^= sReadableMode | sNeedReadable | sPaused | sFlowing
	if s.ev.Has(evData) || s.ev.Has(evText) {
		s.Resume()
		return
	}
	// Reading goes on into the buffer (up to the high-water mark) until
	// something consumes it, as before the first 'readable' listener.
	if s.state&sDestroyed == 0 && s.bufSize < s.readHighWaterMark() {
		s.startReading()
	}
}

// Read takes bytes from what the socket buffered (Node's
// socket.read([n]), normally called from a 'readable' listener until it
// returns nil):
//
//   - n <= 0 takes everything buffered (Node's read()), nil if nothing;
//   - n > 0 takes exactly n bytes if that many are buffered, what is left
//     if the stream has ended, else nil (more may come: wait for
//     'readable'). An n above the high-water mark raises it to the next
//     power of two, as Node does, so that much can be buffered; an n
//     above 1 GiB returns nil (Node throws ERR_OUT_OF_RANGE).
//
// The bytes are the caller's to keep. They are also emitted to the
// 'data' listeners, as in Node (decoded, to OnText and OnData listeners,
// when an encoding is set, as flowing data is). Read always returns raw
// bytes, and n counts bytes, even with an encoding set (Node's read then
// returns a string of n characters).
func (s *Socket) Read(n int) []byte {
	s.affine("Socket.Read")
	if n > maxReadHWM {
		return nil
	}
	if n > s.readHighWaterMark() {
		s.ext().readHWM = nextPow2(n)
	}
	if s.bufSize == 0 || (n > s.bufSize && s.state&sReadEOF == 0) {
		// Node: a read that returns null rearms 'readable' and reads on.
		if s.state&sReadableMode != 0 && s.state&sReadEOF == 0 && s.bufSize <= s.readHighWaterMark() {
			s.state |= sNeedReadable
		}
		if s.state&sDestroyed == 0 {
			s.startReading()
			s.endIfDrained()
		}
		return nil
	}
	whole := n <= 0 || n > s.bufSize // takes the rest: at EOF, 'end' may follow
	if whole {
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
		if s.state&(sReadableMode|sReadEOF) == sReadableMode {
			s.state |= sNeedReadable
		}
	}
	s.emitRead(out)
	if s.state&sDestroyed == 0 {
		s.startReading()
		if whole {
			// Node ends after a read that took the rest of an ended
			// stream, unless it asked for exactly what was left: then
			// the next read, returning nil, ends it.
			s.endIfDrained()
		}
	}
	return out
}

// emitRead gives what Read returns to the 'data' listeners.
func (s *Socket) emitRead(out []byte) {
	if s.dec == nil {
		emitter.Emit(&s.ev, evData, out)
		return
	}
	text := s.dec.Write(out)
	if text == "" {
		return
	}
	emitter.Emit(&s.ev, evText, text)
	if s.ev.Has(evData) {
		emitter.Emit(&s.ev, evData, []byte(text))
	}
}

// nextPow2 returns the smallest power of two >= n (n > 0), Node's
// computeNewHighWaterMark.
func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// ReadableLength returns how many bytes the socket holds for Read
// (Node's readableLength).
func (s *Socket) ReadableLength() int {
	s.affine("Socket.ReadableLength")
	return s.bufSize
}
