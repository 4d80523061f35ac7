package transport

import (
	"syscall"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/errx"
)

// Receive mode (io_uring backend, see package pollx): a TCP or Unix stream
// that reads into the loop's buffers (no AllocFunc, no IPC, a descriptor of
// its own) has its reads done by a multishot receive into the poller's
// buffer ring. The poll phase reports queued results with pollx.Recv;
// readRecv hands each one to the read callback straight from the ring's
// buffer, which goes back to the ring when the callback returns.

// useRecv puts s in receive mode when it qualifies and the loop can; it is
// called by ReadStart before the watcher's Start.
func (s *Stream) useRecv(alloc AllocFunc) {
	if alloc != nil || s.w.InRecvMode() || s.w.Aux&fForeignFd != 0 ||
		s.x != nil && s.x.ipc != nil || s.isNamedPipe() {
		return
	}
	s.w.SetRecv()
}

// readRecv delivers the stream's queued receive results, in order, while
// it is reading.
func (s *Stream) readRecv() {
	l := s.Loop()
	rv := l.Receiver()
	fd := s.Fd()
	if rv == nil || fd < 0 {
		return
	}
	// A callback may stop reading, or close the stream (after which its
	// descriptor number may belong to a new stream): check both each time.
	for s.w.Aux&fReading != 0 && s.Fd() == fd {
		buf, n, id, ok := rv.Pop(fd)
		if !ok {
			return
		}
		switch {
		case n > 0:
			l.AddBytesRead(n)
			data := buf[:n]
			if raceEnabled {
				// The race detector does not see the ring's memory (a
				// mapping outside the Go heap): deliver from the loop's
				// shared buffer instead, marked as written by the loop
				// (see raceWrote), so that a handler handing the slice to
				// another goroutine is reported as on the readiness path.
				// Results are at most core.ReadBufferSize long.
				rb := l.ReadBuffer()
				data = rb[:copy(rb, data)]
				raceWrote(data)
			}
			rest, enobufs := s.deliverRecv(data)
			if len(rest) > 0 && s.Fd() == fd {
				rv.Unpop(fd, rest) // popped first at the next ReadStart
			}
			if core.Debug {
				// As for the shared buffer (read.go): a handler that kept
				// the slice sees garbage at once.
				poison(data)
			}
			rv.Release(id)
			if enobufs {
				return // as on readiness: tried again at the next poll
			}
		case n == 0:
			s.endRead(nil, nil) // an end holds no buffer (id < 0)
			return
		default:
			s.endRead(nil, syscall.Errno(-n))
			return
		}
	}
}

// deliverRecv hands received data to the read callback: as it is, or
// copied into the caller's buffers when an AllocFunc came with a later
// ReadStart (receive mode, once on, stays on). It returns what the
// callback did not take: the callback stopped reading part-way, or the
// AllocFunc had no buffer (enobufs). That rest is the next data to read.
func (s *Stream) deliverRecv(data []byte) (rest []byte, enobufs bool) {
	alloc := s.allocFunc()
	if alloc == nil {
		s.deliverRead(len(data), data, nil)
		return nil, false
	}
	for len(data) > 0 && s.w.Aux&fReading != 0 {
		buf := alloc(len(data))
		if len(buf) == 0 {
			s.deliverRead(0, buf, errx.FromErrno("read", syscall.ENOBUFS))
			return data, true
		}
		n := copy(buf, data)
		data = data[n:]
		s.deliverRead(n, buf, nil)
	}
	return data, false
}
