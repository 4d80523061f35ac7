package transport

import (
	"sync"
	"syscall"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/poller"
)

// writeReq is a write in flight, recycled once its callback has run.
type writeReq struct {
	s    *Stream
	next *writeReq
	buf  []byte // pooled copy of the unsent bytes
	off  int
	cb   Callback
	err  error
	fd1  int // the descriptor to send with buf (Write2) plus one; 0: none
}

// setSendFd gives r the descriptor to send (-1: none).
func (r *writeReq) setSendFd(fd int) { r.fd1 = fd + 1 }

// writeQueue is a stream's write requests in order: the finished ones
// (callback due) from head, then the unsent ones from wqHead (nil: none)
// to tail; size counts the unsent bytes. A stream gets it with its first
// write that has to wait or has a callback, and keeps it: a connection
// whose writes all went out at once without callbacks (an echo server's)
// never carries it.
type writeQueue struct {
	head, wqHead, tail *writeReq
	size               int
}

// unsent returns the first request not yet handed to the kernel (nil:
// none).
func (s *Stream) unsent() *writeReq {
	if s.q == nil {
		return nil
	}
	return s.q.wqHead
}

// queue returns the stream's write queue, creating it on first use.
func (s *Stream) queue() *writeQueue {
	if s.q == nil {
		s.q = new(writeQueue)
	}
	return s.q
}

var reqPool = sync.Pool{New: func() any { return new(writeReq) }}

func (s *Stream) newReq(cb Callback) *writeReq {
	r := reqPool.Get().(*writeReq)
	r.s = s
	r.cb = cb
	s.Loop().ReqStart()
	return r
}

func (s *Stream) freeReq(r *writeReq) {
	if r.buf != nil {
		s.Loop().Buffers().Put(r.buf)
	}
	if r.fd1 != 0 {
		sys.Close(r.fd1 - 1) // never sent: cancelled or failed
	}
	*r = writeReq{}
	reqPool.Put(r)
}

// Write sends bufs in order after anything already queued. It tries the
// system call at once (writev for several buffers) and copies only what the
// kernel did not take; cb (which may be nil) runs in the pending phase once
// everything was handed to the kernel, or with the write error. A stream
// that is closed or shut down returns an error and cb is not called.
func (s *Stream) Write(bufs [][]byte, cb Callback) error {
	if err := s.writable(); err != nil {
		return err
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if ipcFramed && s.x != nil && s.x.ipc != nil {
		return s.writeFrame(bufs, total, -1, cb) // Windows IPC pipes frame every write
	}
	return s.write(bufs, total, -1, cb)
}

// writable reports why the stream cannot take a write, if it cannot.
func (s *Stream) writable() error {
	if s.IsClosing() || s.Fd() < 0 {
		return errClosed("write")
	}
	if s.w.Aux&(fShutting|fShut) != 0 {
		return errx.FromErrno("write", syscall.EPIPE)
	}
	return nil
}

// write is Write and Write2: sendFd, when not -1, is a descriptor the
// request owns and sends with its first bytes.
func (s *Stream) write(bufs [][]byte, total, sendFd int, cb Callback) error {
	n := 0
	// Only a write with nothing ahead of it may go out at once; anything
	// else (even an empty write) is queued so callbacks keep their order.
	direct := s.unsent() == nil && s.w.Aux&fConnecting == 0 && !s.isNamedPipe()
	if direct && total > 0 {
		var err error
		if sendFd >= 0 {
			n, err = sendmsgRights(s.Fd(), bufs, sendFd)
			if n > 0 {
				sys.Close(sendFd) // the kernel holds it now
				sendFd = -1
			}
		} else {
			n, err = s.writeNow(bufs)
		}
		s.Loop().AddBytesWritten(n)
		if err != nil && err != sys.EAGAIN {
			s.w.Aux |= fWriteFailed
			r := s.newReq(cb)
			r.setSendFd(sendFd)
			r.err = errx.Wrap("write", err)
			s.finish(r)
			return nil
		}
	}
	if direct && n == total {
		if cb == nil {
			return nil
		}
		r := s.newReq(cb)
		s.finish(r)
		return nil
	}
	r := s.newReq(cb)
	r.setSendFd(sendFd)
	if total > n {
		r.buf = s.Loop().Buffers().Get(total - n)
		gather(r.buf, bufs, n)
	}
	s.appendUnsent(r)
	if s.w.Aux&fConnecting == 0 {
		if err := s.w.Start(poller.Write); err != nil {
			s.failHead(errx.Wrap("write", err))
		}
	}
	s.updateActive()
	s.npUpdate()
	return nil
}

// gather copies bufs, skipping the first skip bytes, into dst.
func gather(dst []byte, bufs [][]byte, skip int) {
	off := 0
	for _, b := range bufs {
		if skip >= len(b) {
			skip -= len(b)
			continue
		}
		off += copy(dst[off:], b[skip:])
		skip = 0
	}
}

func (s *Stream) writeNow(bufs [][]byte) (int, error) {
	nonEmpty := 0
	var one []byte
	for _, b := range bufs {
		if len(b) > 0 {
			nonEmpty++
			one = b
		}
	}
	switch nonEmpty {
	case 0:
		return 0, nil // nothing to send (TryWrite of empty buffers)
	case 1:
		return sys.Write(s.Fd(), one)
	}
	var iov [maxIovecs]sys.Iov
	done := 0
	for len(bufs) > 0 {
		k := 0
		var want int
		for len(bufs) > 0 && k < maxIovecs {
			if len(bufs[0]) > 0 {
				iov[k] = sys.Iovec(bufs[0])
				want += len(bufs[0])
				k++
			}
			bufs = bufs[1:]
		}
		n, err := sys.Writev(s.Fd(), iov[:k])
		done += n
		if err != nil {
			if done > 0 && err == sys.EAGAIN {
				return done, nil
			}
			return done, err
		}
		if n < want {
			return done, nil
		}
	}
	return done, nil
}

// TryWrite writes what the kernel takes at once, without queueing. It
// returns EAGAIN when anything is queued or a connect is in flight.
func (s *Stream) TryWrite(bufs [][]byte) (int, error) {
	if s.IsClosing() || s.Fd() < 0 {
		return 0, errClosed("write")
	}
	if s.w.Aux&(fShutting|fShut) != 0 {
		return 0, errx.FromErrno("write", syscall.EPIPE)
	}
	if s.unsent() != nil || s.w.Aux&fConnecting != 0 || s.isNamedPipe() {
		return 0, errx.FromErrno("write", syscall.EAGAIN)
	}
	n, err := s.writeNow(bufs)
	s.Loop().AddBytesWritten(n)
	if err != nil {
		if err == sys.EAGAIN && n == 0 {
			return 0, errx.FromErrno("write", syscall.EAGAIN)
		}
		if err != sys.EAGAIN {
			return n, errx.Wrap("write", err)
		}
	}
	return n, nil
}

// flush writes queued requests in order until the kernel pushes back.
func (s *Stream) flush() {
	var iov [maxIovecs]sys.Iov
	for s.unsent() != nil {
		k := 0
		for r := s.q.wqHead; r != nil && k < maxIovecs; r = r.next {
			if r.fd1 != 0 && r != s.q.wqHead {
				break // a descriptor goes with its own request's bytes
			}
			if r.off < len(r.buf) { // empty writes have nothing to send
				iov[k] = sys.Iovec(r.buf[r.off:])
				k++
			}
			if r.fd1 != 0 {
				break
			}
		}
		n := 0
		if k > 0 {
			var err error
			if h := s.q.wqHead; h.fd1 != 0 {
				n, err = sendmsgRights(s.Fd(), [][]byte{h.buf[h.off:]}, h.fd1-1)
				if n > 0 {
					sys.Close(h.fd1 - 1)
					h.fd1 = 0
				}
			} else {
				n, err = sys.Writev(s.Fd(), iov[:k])
			}
			s.Loop().AddBytesWritten(n)
			if err == sys.EAGAIN {
				break
			}
			if err != nil {
				s.failHead(errx.Wrap("write", err))
				return
			}
		}
		s.q.size -= n
		// Complete every request the kernel took, and the empty ones
		// behind them.
		for s.unsent() != nil {
			r := s.q.wqHead
			left := len(r.buf) - r.off
			if n < left {
				r.off += n
				break
			}
			n -= left
			s.popHead()
			s.finishQueued(r)
		}
	}
	if s.unsent() == nil {
		s.w.Stop(poller.Write)
		if s.w.Aux&fShutting != 0 {
			s.doShutdown()
		}
		if s.owner != nil {
			s.handler().OnStreamDrain()
		}
	}
	s.updateActive()
}

// popHead marks the first unsent request sent (or failed): it stays in
// the list, now among the finished ones.
func (s *Stream) popHead() { s.q.wqHead = s.q.wqHead.next }

// appendReq adds r at the end of the request list.
func (s *Stream) appendReq(r *writeReq) {
	q := s.queue()
	if q.tail == nil {
		q.head = r
	} else {
		q.tail.next = r
	}
	q.tail = r
}

// appendUnsent adds r, not sent yet, at the end of the request list and
// counts its bytes as queued.
func (s *Stream) appendUnsent(r *writeReq) {
	s.appendReq(r)
	q := s.q
	q.size += len(r.buf)
	if q.wqHead == nil {
		q.wqHead = r
	}
}

// failHead fails the request at the head of the queue and stops writing;
// the rest stay queued until Close cancels them, as in libuv.
func (s *Stream) failHead(err error) {
	s.w.Aux |= fWriteFailed
	r := s.q.wqHead
	s.q.size -= len(r.buf) - r.off
	s.popHead()
	r.err = err
	s.finishQueued(r)
	s.w.Stop(poller.Write)
	s.updateActive()
}

// finish adds r, a request that never queued, to the finished ones: the
// queue is empty, so it goes last.
func (s *Stream) finish(r *writeReq) {
	s.appendReq(r)
	s.finishQueued(r)
}

// finishQueued settles r, already in the list before the unsent ones: its
// callback is due in the pending phase.
func (s *Stream) finishQueued(r *writeReq) {
	if r.buf != nil {
		s.Loop().Buffers().Put(r.buf)
		r.buf = nil
	}
	s.queuePending()
}

func (s *Stream) queuePending() {
	if s.w.Aux&fPendingQueued == 0 {
		s.w.Aux |= fPendingQueued
		s.Loop().QueuePendingTask((*streamCore)(s))
	}
}

// runPending delivers the deferred callbacks: connect, then writes in
// order, then shutdown.
func (s *Stream) runPending() {
	s.w.Aux &^= fPendingQueued
	if s.IsClosing() {
		// Closed before this phase: onFinish delivers everything (a
		// connect still due is cancelled) before the close callback.
		return
	}
	if s.w.Aux&fConnectDone != 0 {
		s.w.Aux &^= fConnectDone
		s.completeConnect()
	}
	s.runWriteCallbacks()
	if s.w.Aux&fAcceptErr != 0 {
		s.w.Aux &^= fAcceptErr
		if err := s.x.acceptErr; err != nil && s.x.onConnection != nil {
			s.x.acceptErr = nil
			s.x.onConnection(err)
		}
	}
	if s.w.Aux&fShutdownDone != 0 {
		s.w.Aux &^= fShutdownDone
		s.completeShutdown()
	}
}

func (s *Stream) runWriteCallbacks() {
	q := s.q
	if q == nil {
		return
	}
	for q.head != nil && q.head != q.wqHead {
		r := q.head
		q.head = r.next
		if q.head == nil {
			q.tail = nil
		}
		cb, err := r.cb, r.err
		s.freeReq(r)
		s.Loop().ReqDone()
		if cb != nil {
			cb(err)
		}
		if err != nil && s.owner != nil && !s.IsClosing() {
			s.handler().OnStreamWriteError(err)
		}
	}
}

// Shutdown half-closes the stream: once the write queue has drained the
// write side is shut down (the peer reads EOF) and cb runs in the pending
// phase. Shutting down twice returns ENOTCONN.
func (s *Stream) Shutdown(cb Callback) error {
	if s.IsClosing() || s.Fd() < 0 {
		return errClosed("shutdown")
	}
	if s.w.Aux&(fShutting|fShut) != 0 || s.w.Aux&fConnected == 0 && s.w.Aux&fConnecting == 0 {
		return errx.FromErrno("shutdown", syscall.ENOTCONN)
	}
	s.w.Aux |= fShutting
	s.ext().shutdownCb = cb
	s.Loop().ReqStart()
	s.updateActive()
	if s.unsent() == nil && s.w.Aux&fConnecting == 0 {
		s.doShutdown()
	}
	return nil
}

func (s *Stream) doShutdown() {
	s.w.Aux = s.w.Aux&^fShutting | fShut | fShutdownDone
	if s.isNamedPipe() {
		s.npShutdown()
	} else if err := sys.ShutdownWrite(s.Fd()); err != nil {
		s.x.shutErr = errx.Wrap("shutdown", err)
	}
	s.updateActive()
	s.queuePending()
}

func (s *Stream) completeShutdown() {
	cb, err := s.x.shutdownCb, s.x.shutErr
	s.x.shutdownCb, s.x.shutErr = nil, nil
	s.Loop().ReqDone()
	if cb != nil {
		cb(err)
	}
}
