package core

import "github.com/netloop/netloop/internal/pollx"

// Receive mode (see package pollx): on the io_uring backend a watcher in
// receive mode gets its Read interest served by a multishot receive into
// the poller's buffer ring. Its handler is then called with pollx.Recv in
// the events when results are queued, and takes them from Receiver; it
// gets no Read readiness.

// A receive result is delivered through the loop's shared read buffer in
// race builds (transport's readRecv), so it must fit: the two sizes are
// one, and the build fails if they part.
var (
	_ [ReadBufferSize - pollx.MaxResult]struct{}
	_ [pollx.MaxResult - ReadBufferSize]struct{}
)

// SetRecv puts the watcher in receive mode, for good, and reports whether
// it is: false when the loop's poller cannot receive (any backend but
// io_uring on Linux 6.0 or later; or the kernel refused the buffer ring,
// set up with the first watcher, after which the loop has no Receiver)
// or the watcher is not initialised. It takes effect with the next poll
// when the watcher is registered already. Loop-affine.
func (w *IOWatcher) SetRecv() bool {
	if !w.open() || w.complete() {
		return false
	}
	l := w.loop()
	if l.recv == nil {
		return false
	}
	if !l.recv.Enable() {
		l.recv = nil // readiness from now on
		return false
	}
	if w.interest&pollx.Recv == 0 {
		w.interest |= pollx.Recv
		if w.kernel() != 0 {
			w.enqueue()
		}
	}
	return true
}

// InRecvMode reports whether SetRecv put the watcher in receive mode.
func (w *IOWatcher) InRecvMode() bool { return w.interest&pollx.Recv != 0 }

// Receiver returns the poller's receive side, or nil when it has none.
// Loop-affine.
func (l *Loop) Receiver() pollx.Receiver { return l.recv }

// Accept mode (see pollx.Accept): on the io_uring backend a listening
// watcher in accept mode has its connections accepted by a multishot
// accept. Its handler is still called with Read, and takes the accepted
// descriptors from Acceptor (while Acceptor().Accepting(fd) holds).

// SetAccept puts the watcher, which must watch a listening socket, in
// accept mode, for good, and reports whether it is: false when the loop's
// poller cannot accept (any backend but io_uring on Linux 5.19 or later)
// or the watcher is not initialised. It takes effect with the next poll
// when the watcher is registered already. Loop-affine.
func (w *IOWatcher) SetAccept() bool {
	if !w.open() || w.complete() || w.loop().acceptor == nil {
		return false
	}
	if w.interest&pollx.Accept == 0 {
		w.interest |= pollx.Accept
		if w.kernel() != 0 {
			w.enqueue()
		}
	}
	return true
}

// InAcceptMode reports whether SetAccept put the watcher in accept mode.
func (w *IOWatcher) InAcceptMode() bool { return w.interest&pollx.Accept != 0 }

// Acceptor returns the poller's accept side, or nil when it has none.
// Loop-affine.
func (l *Loop) Acceptor() pollx.Acceptor { return l.acceptor }
