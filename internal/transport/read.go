package transport

import (
	"io"
	"syscall"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/poller"
)

// ReadStart starts reading: each time the descriptor is readable, up to 32
// reads, each into alloc's buffer (nil: the loop's shared buffer), are
// handed to onRead.
func (s *Stream) ReadStart(alloc AllocFunc, onRead ReadFunc) error {
	if s.IsClosing() || s.Fd() < 0 {
		return errx.FromErrno("read", syscall.EBADF)
	}
	if onRead == nil && s.owner == nil {
		return errx.FromErrno("read", syscall.EINVAL)
	}
	if s.w.Aux&fListening != 0 {
		return errx.FromErrno("read", syscall.ENOTCONN)
	}
	if alloc != nil || onRead != nil || s.x != nil {
		s.ext().alloc = alloc
		s.ext().onRead = onRead
	}
	if s.w.Aux&fReading == 0 {
		s.useRecv(alloc) // read_recv.go
		if err := s.w.Start(poller.Read); err != nil {
			return errx.Wrap("read", err)
		}
		s.w.Aux |= fReading
		s.updateActive()
	}
	s.npReadStart()
	return nil
}

// ReadStop stops reading; the kernel's receive buffer fills and the peer is
// slowed down, which is how backpressure reaches the other side.
func (s *Stream) ReadStop() {
	if s.w.Aux&fReading == 0 {
		return
	}
	s.w.Aux &^= fReading
	s.w.Stop(poller.Read)
	s.updateActive()
}

func (s *Stream) onIO(ev poller.Interest) {
	if s.isNamedPipe() {
		s.npIO(ev)
		return
	}
	if s.w.Aux&fListening != 0 {
		s.acceptReady()
		return
	}
	if s.w.Aux&fConnecting != 0 {
		s.connectReady()
		return
	}
	if s.w.Aux&fReading != 0 {
		if s.w.InRecvMode() {
			if ev&pollx.Recv != 0 {
				s.readRecv() // read_recv.go
			}
		} else if ev&(poller.Read|poller.Hup|poller.Err|poller.RdHup) != 0 {
			s.read()
		}
	}
	if s.Fd() >= 0 && s.unsent() != nil && ev&(poller.Write|poller.Hup|poller.Err) != 0 {
		s.flush()
	}
}

func (s *Stream) read() {
	for i := 0; i < readsPerEvent && s.w.Aux&fReading != 0; i++ {
		var buf []byte
		if alloc := s.allocFunc(); alloc != nil {
			buf = alloc(core.ReadBufferSize)
			if len(buf) == 0 {
				s.deliverRead(0, buf, errx.FromErrno("read", syscall.ENOBUFS))
				return
			}
		} else {
			buf = s.Loop().ReadBuffer()
		}
		var n int
		var err error
		if s.x != nil && s.x.ipc != nil {
			n, err = s.readIPC(buf)
		} else {
			n, err = sys.Read(s.Fd(), buf)
		}
		switch {
		case err == sys.EAGAIN:
			if s.allocFunc() != nil {
				s.deliverRead(0, buf, nil)
			}
			return
		case err != nil || n == 0:
			s.endRead(buf, err)
			return
		}
		s.Loop().AddBytesRead(n)
		shared := s.allocFunc() == nil
		if raceEnabled && shared {
			raceWrote(buf[:n])
		}
		s.deliverRead(n, buf, nil)
		if core.Debug && shared {
			// The slice was valid only during the callback: make a
			// handler that kept it see garbage at once, not another
			// connection's bytes later (netloopdebug builds only).
			poison(buf[:n])
		}
		if n < len(buf) {
			return // a short read means the kernel buffer is empty
		}
	}
}

// endRead stops reading at the end of the stream (err nil: io.EOF) or a
// read error, and hands it to the read callback with buf.
func (s *Stream) endRead(buf []byte, err error) {
	if err == nil {
		s.w.Aux |= fEOF
		err = io.EOF
	} else {
		err = errx.Wrap("read", err)
	}
	s.ReadStop()
	s.deliverRead(0, buf, err)
}

// allocFunc returns ReadStart's alloc function, or nil.
func (s *Stream) allocFunc() AllocFunc {
	if s.x == nil {
		return nil
	}
	return s.x.alloc
}

// deliverRead hands a read result to the read function or the handler.
func (s *Stream) deliverRead(n int, buf []byte, err error) {
	if s.x != nil && s.x.onRead != nil {
		s.x.onRead(n, buf, err)
		return
	}
	s.handler().OnStreamRead(n, buf, err)
}

// poisonByte fills the shared read buffer after each callback in
// netloopdebug builds.
const poisonByte = 0xDB

func poison(b []byte) {
	for i := range b {
		b[i] = poisonByte
	}
}
