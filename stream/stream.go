package stream

import (
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
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

// Stream is what the tcp.TCP and pipe.Pipe handles have in common; get one
// from their constructors.
type Stream transport.Stream

// internal returns the transport stream behind s; packages tcp and pipe
// convert the same way.
func (s *Stream) internal() *transport.Stream { return (*transport.Stream)(s) }

func (s *Stream) handle() *handle.Handle { return (*handle.Handle)(&s.internal().Handle) }

// Loop returns the loop the stream belongs to.
func (s *Stream) Loop() *loop.Loop { return s.handle().Loop() }

// Kind names the handle type: "tcp" or "pipe".
func (s *Stream) Kind() string { return s.handle().Kind() }

// IsActive reports whether the stream is reading, listening, connecting,
// shutting down or has queued writes.
func (s *Stream) IsActive() bool {
	s.internal().Loop().CheckAffinity("Stream.IsActive")
	return s.handle().IsActive()
}

// IsClosing reports whether Close has been called.
func (s *Stream) IsClosing() bool {
	s.internal().Loop().CheckAffinity("Stream.IsClosing")
	return s.handle().IsClosing()
}

// HasRef reports whether the stream keeps the loop alive while active.
func (s *Stream) HasRef() bool {
	s.internal().Loop().CheckAffinity("Stream.HasRef")
	return s.handle().HasRef()
}

// Ref makes an active stream keep the loop alive (the default).
func (s *Stream) Ref() {
	s.internal().Loop().CheckAffinity("Stream.Ref")
	s.handle().Ref()
}

// Unref lets the loop exit while this stream is active.
func (s *Stream) Unref() {
	s.internal().Loop().CheckAffinity("Stream.Unref")
	s.handle().Unref()
}

// Close closes the stream: queued writes, a connect and a shutdown in
// flight get ECANCELED, then cb (which may be nil) runs in the closing
// phase. Closing twice returns handle.ErrClosing.
func (s *Stream) Close(cb func()) error {
	s.internal().Loop().CheckAffinity("Stream.Close")
	return s.handle().Close(cb)
}

// Fd returns the descriptor, or -1 before it has one and after close.
func (s *Stream) Fd() int {
	s.internal().Loop().CheckAffinity("Stream.Fd")
	return s.internal().Fd()
}

// ReadStart starts reading: each time the descriptor is readable, up to 32
// reads, each into alloc's buffer (nil: the loop's shared 64 KiB buffer,
// valid only until onRead returns), are handed to onRead. Reading stops by
// itself after EOF or an error.
func (s *Stream) ReadStart(alloc AllocFunc, onRead ReadFunc) error {
	s.internal().Loop().CheckAffinity("Stream.ReadStart")
	return s.internal().ReadStart(transport.AllocFunc(alloc), transport.ReadFunc(onRead))
}

// ReadStop stops reading; the kernel's receive buffer fills and the peer is
// slowed down, which is how backpressure reaches the other side.
func (s *Stream) ReadStop() {
	s.internal().Loop().CheckAffinity("Stream.ReadStop")
	s.internal().ReadStop()
}

// IsReading reports whether ReadStart is in effect.
func (s *Stream) IsReading() bool {
	s.internal().Loop().CheckAffinity("Stream.IsReading")
	return s.internal().IsReading()
}

// IsReadable reports whether the stream can still read: it has a
// descriptor and has not seen EOF.
func (s *Stream) IsReadable() bool {
	s.internal().Loop().CheckAffinity("Stream.IsReadable")
	return s.internal().IsReadable()
}

// IsWritable reports whether Write is still allowed: it has a descriptor
// and Shutdown has not been called.
func (s *Stream) IsWritable() bool {
	s.internal().Loop().CheckAffinity("Stream.IsWritable")
	return s.internal().IsWritable()
}

// Write sends bufs in order after anything already queued. It tries the
// system call at once (writev for several buffers) and copies only what the
// kernel did not take, so the caller may reuse its slices when Write
// returns; cb (which may be nil) runs in the pending phase once everything
// was handed to the kernel, or with the write error. A closed or shut down
// stream returns an error and cb is not called.
func (s *Stream) Write(bufs [][]byte, cb Callback) error {
	s.internal().Loop().CheckAffinity("Stream.Write")
	return s.internal().Write(bufs, transport.Callback(cb))
}

// TryWrite writes what the kernel takes at once, without queueing; it
// returns EAGAIN when anything is queued or a connect is in flight.
func (s *Stream) TryWrite(bufs [][]byte) (int, error) {
	s.internal().Loop().CheckAffinity("Stream.TryWrite")
	return s.internal().TryWrite(bufs)
}

// WriteQueueSize returns the number of bytes queued and not yet sent.
func (s *Stream) WriteQueueSize() int {
	s.internal().Loop().CheckAffinity("Stream.WriteQueueSize")
	return s.internal().WriteQueueSize()
}

// Shutdown half-closes the stream: once the write queue has drained the
// write side is shut down (the peer reads EOF) and cb runs in the pending
// phase. Shutting down twice returns ENOTCONN.
func (s *Stream) Shutdown(cb Callback) error {
	s.internal().Loop().CheckAffinity("Stream.Shutdown")
	return s.internal().Shutdown(transport.Callback(cb))
}

// IsConnecting reports whether a connect is in flight.
func (s *Stream) IsConnecting() bool {
	s.internal().Loop().CheckAffinity("Stream.IsConnecting")
	return s.internal().IsConnecting()
}

// IsListening reports whether Listen is in effect.
func (s *Stream) IsListening() bool {
	s.internal().Loop().CheckAffinity("Stream.IsListening")
	return s.internal().IsListening()
}

// Listen starts listening with the given backlog, calling onConnection
// (from the poll phase) for each incoming connection; it should call the
// handle's Accept. An accept error is passed to onConnection and the
// stream keeps listening; at EMFILE/ENFILE the pending connections are
// accepted and closed at once (libuv's reserve-descriptor trick) so the
// loop keeps serving.
func (s *Stream) Listen(backlog int, onConnection func(err error)) error {
	s.internal().Loop().CheckAffinity("Stream.Listen")
	return s.internal().Listen(backlog, onConnection)
}
