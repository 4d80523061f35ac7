package socket

import (
	"io"

	"github.com/netloop/netloop/errs"
)

// IOWriter returns s as an io.Writer, for fmt.Fprintf, bufio.Writer,
// io.Copy and the like. Its Write never blocks: it queues p exactly as
// Socket.Write does (p may be reused when it returns) and returns len(p),
// nil; once the socket is destroyed, has ended its side or had a write
// fail, it returns 0 and that error instead. Backpressure is not an error
// here: check NeedDrain (or WritableLength) and wait for 'drain' as with
// Write. Loop-affine, like every Socket method.
func (s *Socket) IOWriter() io.Writer { return (*ioWriter)(s) }

type ioWriter Socket

// Write implements io.Writer (see Socket.IOWriter).
func (w *ioWriter) Write(p []byte) (int, error) {
	s := (*Socket)(w)
	s.affine("Socket.IOWriter.Write")
	switch {
	case s.state&sDestroyed != 0:
		if s.destroyErr != nil {
			return 0, s.destroyErr
		}
		return 0, errs.ErrStreamDestroyed
	case s.state&sWriteErrored != 0:
		return 0, errs.ErrStreamDestroyed
	case s.state&sEnding != 0:
		return 0, errs.ErrStreamWriteAfterEnd
	}
	if len(p) == 0 {
		return 0, nil
	}
	s.write(p, nil)
	return len(p), nil
}

// NeedDrain reports whether a write has reached the high-water mark and
// 'drain' has not followed yet (Node's writableNeedDrain): a producer
// should stop and wait for 'drain'.
func (s *Socket) NeedDrain() bool {
	s.affine("Socket.NeedDrain")
	return s.state&sNeedDrain != 0
}
