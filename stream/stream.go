//go:build !windows

package stream

import (
	"errors"
	"io"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/poller"
)

// AllocFunc supplies the buffer for the next read; suggested is the size
// libuv suggests (64 KiB). Returning an empty slice makes the read callback
// receive ENOBUFS.
type AllocFunc func(suggested int) []byte

// ReadFunc receives what a read produced: n > 0 bytes in buf[:n]; n == 0
// with a nil error when a caller-supplied buffer came back unused; io.EOF at
// end of stream; or a read error. Reading stops by itself after EOF or an
// error.
type ReadFunc func(n int, buf []byte, err error)

// Callback receives the outcome of a write, shutdown or connect request.
type Callback func(err error)

const (
	fReading uint16 = 1 << iota
	fListening
	fConnecting
	fShutting // Shutdown called, FIN not sent yet
	fShut     // FIN sent
	fEOF
	fConnected
	fPendingQueued
	fConnectDone // connect finished, callback due
	fShutdownDone
	fForeignFd // the descriptor came from outside (Open): others may share it
)

// readsPerEvent bounds the reads one readiness event triggers, as libuv does.
const readsPerEvent = 32

// acceptsPerEvent bounds the accepts one readiness event triggers.
const acceptsPerEvent = 32

// maxIovecs bounds one writev.
const maxIovecs = 64

// Stream is a non-blocking stream descriptor driven by its loop. TCP and
// pipe handles embed it; use their constructors.
type Stream struct {
	loop.Handle
	w     loop.IOWatcher
	fd    int32
	flags uint16

	wqHead, wqTail     *WriteReq // queued, unsent
	doneHead, doneTail *WriteReq // finished, callback due
	wqSize             int

	x *streamExtra // state of connects, shutdowns and listening; nil until needed

	h Handler // the owner's callbacks (see SetHandler), may be nil
}

// Handler is how an owning layer (the Socket) follows its stream without
// a closure per callback: OnStreamRead receives reads when ReadStart was
// given a nil read function; OnStreamDrain runs (from the poll phase) when
// the write queue empties after having held data; OnStreamWriteError runs
// in the pending phase after a failed write's own callback.
type Handler interface {
	OnStreamRead(n int, buf []byte, err error)
	OnStreamDrain()
	OnStreamWriteError(err error)
}

// SetHandler installs h as the stream's owner.
func (s *Stream) SetHandler(h Handler) { s.h = h }

// streamExtra holds what only some streams need, so an idle connection
// does not carry it.
type streamExtra struct {
	alloc        AllocFunc // ReadStart's, when the caller supplies buffers
	onRead       ReadFunc  // ReadStart's, when no Handler takes the reads
	connectCb    Callback
	connectErr   error
	shutdownCb   Callback
	shutErr      error
	onConnection func(err error)
	acceptedFd   int
	// beforeClose, set by the embedding handle, runs inside Close just
	// before the descriptor is closed (pipes unlink their path there).
	beforeClose func()
}

func (s *Stream) ext() *streamExtra {
	if s.x == nil {
		s.x = &streamExtra{acceptedFd: -1}
	}
	return s.x
}

// Init prepares s as a stream of the given kind ("tcp", "pipe") on l,
// without a descriptor yet. For handle implementations.
func (s *Stream) Init(l *loop.Loop, kind string, beforeClose func()) {
	s.fd = -1
	if beforeClose != nil {
		s.ext().beforeClose = beforeClose
	}
	s.Handle.InitHooks(l, kind, (*streamCore)(s))
}

// streamCore carries the Stream's callbacks from the loop (IO readiness,
// pending work, close hooks) without a bound-method allocation each.
type streamCore Stream

// HandleIO implements loop.IOHandler.
func (c *streamCore) HandleIO(ev poller.Interest) { (*Stream)(c).onIO(ev) }

// RunTask implements loop.Task: the stream's deferred callbacks.
func (c *streamCore) RunTask() { (*Stream)(c).runPending() }

// CloseHandle implements loop.CloseHooks.
func (c *streamCore) CloseHandle() { (*Stream)(c).onClose() }

// FinishClose implements loop.CloseHooks.
func (c *streamCore) FinishClose() { (*Stream)(c).onFinish() }

// ErrClosed is returned by operations on a stream that is closing.
var ErrClosed = errs.FromErrno("write", syscall.EBADF)

// Fd returns the descriptor, or -1 before it has one and after close.
func (s *Stream) Fd() int { return int(s.fd) }

// SetFd gives s its descriptor, which must be non-blocking; s owns it from
// now on and closes it in Close. For handle implementations.
func (s *Stream) SetFd(fd int) error {
	if s.IsClosing() {
		return ErrClosed
	}
	if s.fd >= 0 {
		return errs.FromErrno("open", syscall.EALREADY)
	}
	if err := s.Loop().InitIOHandler(&s.w, fd, (*streamCore)(s)); err != nil {
		return err
	}
	s.fd = int32(fd)
	return nil
}

// MarkForeign records that the descriptor was handed in from outside
// (Open), so Close removes it from the poller explicitly: a duplicate of
// it may outlive this handle. For handle implementations.
func (s *Stream) MarkForeign() { s.flags |= fForeignFd }

// MarkConnected records that the descriptor is a connected stream (an
// accepted or opened connection). For handle implementations.
func (s *Stream) MarkConnected() { s.flags |= fConnected }

// IsReadable reports whether the stream can still read: it has a
// descriptor and has not seen EOF.
func (s *Stream) IsReadable() bool { return s.fd >= 0 && s.flags&fEOF == 0 }

// IsWritable reports whether Write is still allowed: it has a descriptor
// and Shutdown has not been called.
func (s *Stream) IsWritable() bool { return s.fd >= 0 && s.flags&(fShutting|fShut) == 0 }

// IsReading reports whether ReadStart is in effect.
func (s *Stream) IsReading() bool { return s.flags&fReading != 0 }

// IsConnecting reports whether a connect is in flight.
func (s *Stream) IsConnecting() bool { return s.flags&fConnecting != 0 }

// WriteQueueSize returns the number of bytes queued and not yet sent.
func (s *Stream) WriteQueueSize() int { return s.wqSize }

func (s *Stream) updateActive() {
	if s.IsClosing() {
		return
	}
	s.SetActive(s.flags&(fReading|fListening|fConnecting|fShutting) != 0 || s.wqHead != nil)
}

// ReadStart starts reading: each time the descriptor is readable, up to 32
// reads, each into alloc's buffer (nil: the loop's shared buffer), are
// handed to onRead.
func (s *Stream) ReadStart(alloc AllocFunc, onRead ReadFunc) error {
	if s.IsClosing() || s.fd < 0 {
		return errs.FromErrno("read", syscall.EBADF)
	}
	if onRead == nil && s.h == nil {
		return errs.FromErrno("read", syscall.EINVAL)
	}
	if s.flags&fListening != 0 {
		return errs.FromErrno("read", syscall.ENOTCONN)
	}
	if alloc != nil || onRead != nil || s.x != nil {
		s.ext().alloc = alloc
		s.ext().onRead = onRead
	}
	if s.flags&fReading == 0 {
		if err := s.w.Start(poller.Read); err != nil {
			return errs.Wrap("read", err)
		}
		s.flags |= fReading
		s.updateActive()
	}
	return nil
}

// ReadStop stops reading; the kernel's receive buffer fills and the peer is
// slowed down, which is how backpressure reaches the other side.
func (s *Stream) ReadStop() {
	if s.flags&fReading == 0 {
		return
	}
	s.flags &^= fReading
	s.w.Stop(poller.Read)
	s.updateActive()
}

func (s *Stream) onIO(ev poller.Interest) {
	if s.flags&fListening != 0 {
		s.acceptReady()
		return
	}
	if s.flags&fConnecting != 0 {
		s.connectReady()
		return
	}
	if ev&(poller.Read|poller.Hup|poller.Err|poller.RdHup) != 0 && s.flags&fReading != 0 {
		s.read()
	}
	if s.fd >= 0 && s.wqHead != nil && ev&(poller.Write|poller.Hup|poller.Err) != 0 {
		s.flush()
	}
}

func (s *Stream) read() {
	for i := 0; i < readsPerEvent && s.flags&fReading != 0; i++ {
		var buf []byte
		if alloc := s.allocFunc(); alloc != nil {
			buf = alloc(loop.ReadBufferSize)
			if len(buf) == 0 {
				s.deliverRead(0, buf, errs.FromErrno("read", syscall.ENOBUFS))
				return
			}
		} else {
			buf = s.Loop().ReadBuffer()
		}
		n, err := sys.Read(int(s.fd), buf)
		switch {
		case err == unix.EAGAIN:
			if s.allocFunc() != nil {
				s.deliverRead(0, buf, nil)
			}
			return
		case err != nil:
			s.ReadStop()
			s.deliverRead(0, buf, errs.Wrap("read", err))
			return
		case n == 0:
			s.flags |= fEOF
			s.ReadStop()
			s.deliverRead(0, buf, io.EOF)
			return
		}
		s.deliverRead(n, buf, nil)
		if n < len(buf) {
			return // a short read means the kernel buffer is empty
		}
	}
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
	s.h.OnStreamRead(n, buf, err)
}

// WriteReq is a write in flight. The stream owns it until its callback has
// run; after that it is recycled and must not be used.
type WriteReq struct {
	s    *Stream
	next *WriteReq
	buf  []byte // pooled copy of the unsent bytes
	off  int
	cb   Callback
	err  error
}

// Pending returns the bytes of this request still waiting for the kernel.
func (r *WriteReq) Pending() int { return len(r.buf) - r.off }

var reqPool = sync.Pool{New: func() any { return new(WriteReq) }}

func (s *Stream) newReq(cb Callback) *WriteReq {
	r := reqPool.Get().(*WriteReq)
	r.s = s
	r.cb = cb
	s.Loop().ReqStart()
	return r
}

func (s *Stream) freeReq(r *WriteReq) {
	if r.buf != nil {
		s.Loop().Buffers().Put(r.buf)
	}
	*r = WriteReq{}
	reqPool.Put(r)
}

// Write sends bufs in order after anything already queued. It tries the
// system call at once (writev for several buffers) and copies only what the
// kernel did not take; cb (which may be nil) runs in the pending phase once
// everything was handed to the kernel, or with the write error. The request
// returned is nil when the kernel took everything and cb is nil. A stream
// that is closed or shut down returns an error and cb is not called.
func (s *Stream) Write(bufs [][]byte, cb Callback) (*WriteReq, error) {
	if s.IsClosing() || s.fd < 0 {
		return nil, ErrClosed
	}
	if s.flags&(fShutting|fShut) != 0 {
		return nil, errs.FromErrno("write", syscall.EPIPE)
	}
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	n := 0
	// Only a write with nothing ahead of it may go out at once; anything
	// else (even an empty write) is queued so callbacks keep their order.
	direct := s.wqHead == nil && s.flags&fConnecting == 0
	if direct && total > 0 {
		var err error
		n, err = s.writeNow(bufs)
		if err != nil && err != unix.EAGAIN {
			r := s.newReq(cb)
			r.err = errs.Wrap("write", err)
			s.finish(r)
			return r, nil
		}
	}
	if direct && n == total {
		if cb == nil {
			return nil, nil
		}
		r := s.newReq(cb)
		s.finish(r)
		return r, nil
	}
	r := s.newReq(cb)
	if total > n {
		r.buf = s.Loop().Buffers().Get(total - n)
		gather(r.buf, bufs, n)
	}
	s.wqSize += len(r.buf)
	if s.wqTail == nil {
		s.wqHead = r
	} else {
		s.wqTail.next = r
	}
	s.wqTail = r
	if s.flags&fConnecting == 0 {
		if err := s.w.Start(poller.Write); err != nil {
			s.failHead(errs.Wrap("write", err))
		}
	}
	s.updateActive()
	return r, nil
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
	if nonEmpty == 1 {
		return sys.Write(int(s.fd), one)
	}
	var iov [maxIovecs]unix.Iovec
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
		n, err := sys.Writev(int(s.fd), iov[:k])
		done += n
		if err != nil {
			if done > 0 && err == unix.EAGAIN {
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
	if s.IsClosing() || s.fd < 0 {
		return 0, ErrClosed
	}
	if s.flags&(fShutting|fShut) != 0 {
		return 0, errs.FromErrno("write", syscall.EPIPE)
	}
	if s.wqHead != nil || s.flags&fConnecting != 0 {
		return 0, errs.FromErrno("write", syscall.EAGAIN)
	}
	n, err := s.writeNow(bufs)
	if err != nil {
		if err == unix.EAGAIN && n == 0 {
			return 0, errs.FromErrno("write", syscall.EAGAIN)
		}
		if err != unix.EAGAIN {
			return n, errs.Wrap("write", err)
		}
	}
	return n, nil
}

// flush writes queued requests in order until the kernel pushes back.
func (s *Stream) flush() {
	var iov [maxIovecs]unix.Iovec
	for s.wqHead != nil {
		k := 0
		for r := s.wqHead; r != nil && k < maxIovecs; r = r.next {
			if r.off < len(r.buf) { // empty writes have nothing to send
				iov[k] = sys.Iovec(r.buf[r.off:])
				k++
			}
		}
		n := 0
		if k > 0 {
			var err error
			n, err = sys.Writev(int(s.fd), iov[:k])
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				s.failHead(errs.Wrap("write", err))
				return
			}
		}
		s.wqSize -= n
		// Complete every request the kernel took, and the empty ones
		// behind them.
		for s.wqHead != nil {
			r := s.wqHead
			left := len(r.buf) - r.off
			if n < left {
				r.off += n
				break
			}
			n -= left
			s.popHead()
			s.finish(r)
		}
	}
	if s.wqHead == nil {
		s.w.Stop(poller.Write)
		if s.flags&fShutting != 0 {
			s.doShutdown()
		}
		if s.h != nil {
			s.h.OnStreamDrain()
		}
	}
	s.updateActive()
}

func (s *Stream) popHead() {
	r := s.wqHead
	s.wqHead = r.next
	if s.wqHead == nil {
		s.wqTail = nil
	}
	r.next = nil
}

// failHead fails the request at the head of the queue and stops writing;
// the rest stay queued until Close cancels them, as in libuv.
func (s *Stream) failHead(err error) {
	r := s.wqHead
	s.wqSize -= len(r.buf) - r.off
	s.popHead()
	r.err = err
	s.finish(r)
	s.w.Stop(poller.Write)
	s.updateActive()
}

// finish moves r to the list of requests whose callbacks are due.
func (s *Stream) finish(r *WriteReq) {
	if r.buf != nil {
		s.Loop().Buffers().Put(r.buf)
		r.buf = nil
	}
	if s.doneTail == nil {
		s.doneHead = r
	} else {
		s.doneTail.next = r
	}
	s.doneTail = r
	s.queuePending()
}

func (s *Stream) queuePending() {
	if s.flags&fPendingQueued == 0 {
		s.flags |= fPendingQueued
		s.Loop().QueuePendingTask((*streamCore)(s))
	}
}

// runPending delivers the deferred callbacks: connect, then writes in
// order, then shutdown.
func (s *Stream) runPending() {
	s.flags &^= fPendingQueued
	if s.IsClosing() {
		// Closed before this phase: onFinish delivers everything (a
		// connect still due is cancelled) before the close callback.
		return
	}
	if s.flags&fConnectDone != 0 {
		s.flags &^= fConnectDone
		s.completeConnect()
	}
	s.runWriteCallbacks()
	if s.flags&fShutdownDone != 0 {
		s.flags &^= fShutdownDone
		s.completeShutdown()
	}
}

func (s *Stream) runWriteCallbacks() {
	for s.doneHead != nil {
		r := s.doneHead
		s.doneHead = r.next
		if s.doneHead == nil {
			s.doneTail = nil
		}
		cb, err := r.cb, r.err
		s.freeReq(r)
		s.Loop().ReqDone()
		if cb != nil {
			cb(err)
		}
		if err != nil && s.h != nil && !s.IsClosing() {
			s.h.OnStreamWriteError(err)
		}
	}
}

// Shutdown half-closes the stream: once the write queue has drained the
// write side is shut down (the peer reads EOF) and cb runs in the pending
// phase. Shutting down twice returns ENOTCONN.
func (s *Stream) Shutdown(cb Callback) error {
	if s.IsClosing() || s.fd < 0 {
		return ErrClosed
	}
	if s.flags&(fShutting|fShut) != 0 || s.flags&fConnected == 0 && s.flags&fConnecting == 0 {
		return errs.FromErrno("shutdown", syscall.ENOTCONN)
	}
	s.flags |= fShutting
	s.ext().shutdownCb = cb
	s.Loop().ReqStart()
	s.updateActive()
	if s.wqHead == nil && s.flags&fConnecting == 0 {
		s.doShutdown()
	}
	return nil
}

func (s *Stream) doShutdown() {
	s.flags = s.flags&^fShutting | fShut | fShutdownDone
	if err := unix.Shutdown(int(s.fd), unix.SHUT_WR); err != nil {
		s.x.shutErr = errs.Wrap("shutdown", err)
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

// StartConnect records a connect(2) issued by the embedding handle; err is
// the system call's result. Success, EINPROGRESS or a failure are all
// reported to cb in the pending or poll phase, never inside this call.
// Writes issued meanwhile are queued and flushed once connected; if the
// connect fails they fail with ECANCELED right after cb, and a Shutdown
// issued meanwhile fails too. For handle implementations.
func (s *Stream) StartConnect(err error, cb Callback) error {
	if s.flags&fConnecting != 0 {
		return errs.FromErrno("connect", syscall.EALREADY)
	}
	if s.fd < 0 || s.IsClosing() {
		return ErrClosed
	}
	s.flags |= fConnecting
	s.ext().connectCb = cb
	s.Loop().ReqStart()
	s.updateActive()
	if err == nil || errors.Is(err, unix.EINPROGRESS) {
		if err == nil {
			s.flags |= fConnectDone
			s.queuePending()
			return nil
		}
		if werr := s.w.Start(poller.Write); werr == nil {
			return nil
		} else {
			err = werr
		}
	}
	s.ext().connectErr = errs.Wrap("connect", err)
	s.flags |= fConnectDone
	s.queuePending()
	return nil
}

func (s *Stream) connectReady() {
	errno, err := unix.GetsockoptInt(int(s.fd), unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && errno != 0 {
		err = syscall.Errno(errno)
	}
	if err == unix.EINPROGRESS {
		return
	}
	s.ext().connectErr = errs.Wrap("connect", err)
	s.completeConnect()
}

func (s *Stream) completeConnect() {
	if s.flags&fConnecting == 0 {
		return
	}
	s.flags &^= fConnecting
	err := s.x.connectErr
	s.x.connectErr = nil
	cb := s.x.connectCb
	s.x.connectCb = nil
	if err == nil {
		s.flags |= fConnected
		if s.wqHead != nil {
			if werr := s.w.Start(poller.Write); werr != nil {
				s.failHead(errs.Wrap("write", werr))
			}
		} else {
			s.w.Stop(poller.Write)
			if s.flags&fShutting != 0 {
				s.doShutdown()
			}
		}
	} else {
		s.w.Stop(poller.Write)
	}
	s.updateActive()
	s.Loop().ReqDone()
	if cb != nil {
		cb(err)
	}
	if err != nil && !s.IsClosing() {
		// As libuv: what was queued behind a failed connect is cancelled
		// now, and a pending shutdown fails, instead of waiting for Close.
		s.cancelWrites()
		if s.flags&fShutting != 0 {
			s.doShutdown()
		}
	}
}

// cancelWrites fails every queued write with ECANCELED.
func (s *Stream) cancelWrites() {
	for s.wqHead != nil {
		r := s.wqHead
		s.wqSize -= len(r.buf) - r.off
		s.popHead()
		r.err = errs.FromErrno("write", syscall.ECANCELED)
		s.finish(r)
	}
	s.updateActive()
}

// Listen marks the descriptor as listening (listen(2) with backlog) and
// calls onConnection for each incoming connection; the callback should
// call Accept. An accept error is passed to onConnection and the stream
// keeps listening; at EMFILE/ENFILE the pending connections are accepted and
// closed at once (libuv's reserve-descriptor trick) so the loop keeps
// serving.
func (s *Stream) Listen(backlog int, onConnection func(err error)) error {
	if s.IsClosing() || s.fd < 0 {
		return errs.FromErrno("listen", syscall.EBADF)
	}
	if onConnection == nil {
		return errs.FromErrno("listen", syscall.EINVAL)
	}
	if s.flags&fListening == 0 {
		if err := unix.Listen(int(s.fd), backlog); err != nil {
			return errs.Wrap("listen", err)
		}
	}
	s.ext().onConnection = onConnection
	if err := s.w.Start(poller.Read); err != nil {
		return errs.Wrap("listen", err)
	}
	s.flags |= fListening
	reserveFd(s.Loop())
	s.updateActive()
	return nil
}

// IsListening reports whether Listen is in effect.
func (s *Stream) IsListening() bool { return s.flags&fListening != 0 }

func (s *Stream) acceptReady() {
	for i := 0; i < acceptsPerEvent; i++ {
		if s.x.acceptedFd >= 0 {
			// The last connection was not taken: wait until Accept.
			s.w.Stop(poller.Read)
			return
		}
		fd, err := sys.Accept(int(s.fd))
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			if err == unix.EMFILE || err == unix.ENFILE {
				shedConnections(s.Loop(), int(s.fd))
			}
			s.x.onConnection(errs.Wrap("accept", err))
			return
		}
		s.x.acceptedFd = fd
		s.x.onConnection(nil)
		if s.IsClosing() || s.flags&fListening == 0 {
			return
		}
	}
}

// Accept hands the pending connection to client, an initialised stream
// without a descriptor (a new TCP or pipe handle). It returns EAGAIN when
// no connection is pending.
func (s *Stream) Accept(client *Stream) error {
	if s.x == nil || s.x.acceptedFd < 0 {
		return errs.FromErrno("accept", syscall.EAGAIN)
	}
	fd := s.x.acceptedFd
	s.x.acceptedFd = -1
	if err := client.SetFd(fd); err != nil {
		sys.Close(fd)
		return err
	}
	client.flags |= fConnected
	if s.flags&fListening != 0 && !s.IsClosing() {
		s.w.Start(poller.Read)
	}
	return nil
}

// onClose runs inside Close: stop watching and release the descriptor.
func (s *Stream) onClose() {
	s.flags &^= fReading | fListening
	if s.fd >= 0 {
		// close(2) removes the epoll registration, unless another
		// descriptor still refers to the socket (one handed to Open may).
		s.w.Close(s.flags&fForeignFd == 0)
		if s.x != nil && s.x.beforeClose != nil {
			s.x.beforeClose()
		}
		sys.Close(int(s.fd))
		s.fd = -1
	}
	if s.x != nil && s.x.acceptedFd >= 0 {
		sys.Close(s.x.acceptedFd)
		s.x.acceptedFd = -1
	}
}

// onFinish runs in the closing phase before the close callback: deferred
// callbacks are delivered and everything still queued is cancelled.
func (s *Stream) onFinish() {
	canceled := func(op string) error { return errs.FromErrno(op, syscall.ECANCELED) }
	if s.flags&fConnecting != 0 {
		s.x.connectErr = canceled("connect")
		s.flags &^= fConnectDone
		s.completeConnect()
	}
	s.cancelWrites()
	s.runWriteCallbacks()
	if (s.x != nil && s.x.shutdownCb != nil) || s.flags&(fShutting|fShutdownDone) != 0 {
		if s.flags&fShutting != 0 {
			s.x.shutErr = canceled("shutdown")
		}
		s.flags &^= fShutting | fShutdownDone
		s.completeShutdown()
	}
}
