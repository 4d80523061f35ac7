package transport

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/poller"
)

// Kind is a stream's transport.
type Kind uint8

const (
	// TCP is a TCP socket (AF_INET or AF_INET6).
	TCP Kind = iota
	// Pipe is a Unix-domain stream socket (Windows: a named pipe).
	Pipe
)

// String returns the handle kind name ("tcp", "pipe").
func (k Kind) String() string {
	if k == Pipe {
		return "pipe"
	}
	return "tcp"
}

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

// Stream state bits. The stream is the only owner of them: the Socket
// above reads them through IsReadable, IsWritable, IsConnecting... and
// keeps only Node-level state of its own (see socket.Socket.state).
const (
	fReading       uint16 = 1 << iota // ReadStart in effect
	fListening                        // Listen in effect
	fConnecting                       // a connect is in flight
	fShutting                         // Shutdown called, FIN not sent yet
	fShut                             // FIN sent
	fEOF                              // the peer's FIN was read
	fConnected                        // connected, accepted or opened connected
	fPendingQueued                    // runPending is queued
	fConnectDone                      // connect finished, callback due
	fShutdownDone                     // shutdown done, callback due
	fAcceptErr                        // a listener re-arm failed, reported in runPending
	fForeignFd                        // the descriptor came from outside (Open): others may share it
	fPipe                             // Kind is Pipe
	fNoDelay                          // TCP_NODELAY wanted (applied when the socket exists)
	fKeepAlive                        // SO_KEEPALIVE wanted (applied when the socket exists)
	fWriteFailed                      // a write failed (its callback may still be due)
)

// readsPerEvent bounds the reads one readiness event triggers, as libuv does.
const readsPerEvent = 32

// acceptsPerEvent bounds the accepts one readiness event triggers.
const acceptsPerEvent = 32

// maxIovecs bounds one writev.
const maxIovecs = 64

// Stream is a non-blocking stream socket driven by its loop. Create it with
// New or Open.
type Stream struct {
	core.Handle
	w core.IOWatcher // right after Handle (checked below); its Fd is the stream's descriptor; its Aux holds the stream's flags (f* bits)

	q *writeQueue // write requests; nil until a write queues (see writeQueue)

	x *streamExtra // state of connects, shutdowns, listening, pipe names; nil until needed

	owner unsafe.Pointer // the Handler's data word (see SetHandler), nil without one
}

// Handler is how an owning layer (the Socket) follows its stream without
// a closure per callback: OnStreamRead receives reads when ReadStart was
// given a nil read function; OnStreamDrain runs (from the poll phase) when
// the write queue empties after having held data; OnStreamWriteError runs
// in the pending phase after a failed write's own callback; OnStreamClose
// is the close callback of CloseToHandler.
type Handler interface {
	OnStreamRead(n int, buf []byte, err error)
	OnStreamDrain()
	OnStreamWriteError(err error)
	OnStreamClose()
}

// SetHandler installs h as the stream's owner (nil: none). Every stream's
// Handler is of one type, package socket's: a stream keeps only h's data
// word and the type word is kept once, in handlerTab, which saves every
// connection a size class. A Handler of a second type panics.
func (s *Stream) SetHandler(h Handler) {
	if h == nil {
		s.owner = nil
		return
	}
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&h))
	if tab := (*byte)(w[0]); handlerTab.Load() != tab && !handlerTab.CompareAndSwap(nil, tab) {
		panic("transport: a stream Handler of a second type")
	}
	s.owner = w[1]
}

// handlerTab is the type word of the Handler type of every stream.
var handlerTab atomic.Pointer[byte]

// handler returns the stream's Handler, nil when it has none.
func (s *Stream) handler() Handler {
	if s.owner == nil {
		return nil
	}
	var h Handler
	w := (*[2]unsafe.Pointer)(unsafe.Pointer(&h))
	w[0], w[1] = unsafe.Pointer(handlerTab.Load()), s.owner
	return h
}

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
	acceptErr    error // a re-arm failure for onConnection (fAcceptErr)
	acceptedFd   int
	plainAccept  bool            // PlainAccept: no accept mode
	backoff      core.TimerEntry // restarts a listener that backed off at EMFILE
	resume       func()          // backoff's callback, bound once
	keepSecs     int32           // keep-alive delay in whole seconds (TCP)
	path         string          // bound path, unlinked at close ("" when none or abstract; Pipe)
	name         string          // the name as given to BindPath (Pipe)
	ipc          *ipcState       // SetIPC's: descriptors received and the control buffer
	np           *namedPipe      // Windows named pipes: handles, requests, buffers
}

func (s *Stream) ext() *streamExtra {
	if s.x == nil {
		s.x = &streamExtra{acceptedFd: -1}
	}
	return s.x
}

// New creates a stream of the given kind on l, without a socket yet; Bind,
// BindPath, Connect, ConnectPath or Listen create it.
func New(l *core.Loop, k Kind) *Stream {
	s := &Stream{}
	s.Init(l, k)
	return s
}

// Init prepares s, which may be embedded in a larger struct, as New does.
func (s *Stream) Init(l *core.Loop, k Kind) {
	if k == Pipe {
		s.w.Aux |= fPipe
	}
	s.Handle.Init(l, k.String(), &streamHooks)
}

// streamHooks are every stream's part in closing. Handle is Stream's first
// field (checked below), so a *core.Handle the loop passes back is the
// *Stream.
var streamHooks = core.KindHooks{
	Close:  func(h *core.Handle) { streamOf(h).onClose() },
	Finish: func(h *core.Handle) { streamOf(h).onFinish() },
	Closed: func(h *core.Handle) { streamOf(h).handler().OnStreamClose() }, // see CloseToHandler
	IO:     func(h *core.Handle, ev poller.Interest) { streamOf(h).onIO(ev) },
}

// streamOf returns the Stream whose Handle h is.
func streamOf(h *core.Handle) *Stream { return (*Stream)(unsafe.Pointer(h)) }

// Compile only while Handle is at offset 0 in Stream, as streamOf needs,
// and the watcher follows it, as core.IOWatcher needs.
var (
	_ [0]struct{} = [unsafe.Offsetof(Stream{}.Handle)]struct{}{}
	_ [0]struct{} = [unsafe.Offsetof(Stream{}.w) - unsafe.Sizeof(core.Handle{})]struct{}{}
)

// Transport returns the stream's kind.
func (s *Stream) Transport() Kind {
	if s.w.Aux&fPipe != 0 {
		return Pipe
	}
	return TCP
}

// streamCore carries the Stream's pending work to the loop without a
// bound-method allocation.
type streamCore Stream

// RunTask implements core.Task: the stream's deferred callbacks.
func (c *streamCore) RunTask() { (*Stream)(c).runPending() }

// CloseToHandler is Close with the Handler's OnStreamClose as the close
// callback, which costs no allocation (a method value would). The stream
// must have a Handler.
func (s *Stream) CloseToHandler() error {
	if s.owner == nil {
		panic("transport: CloseToHandler without a Handler")
	}
	return s.Handle.CloseToHooks()
}

// errClosed is what an operation on a closing or closed stream (or one
// without a socket) returns: EBADF, named after the operation.
func errClosed(op string) error { return errx.FromErrno(op, syscall.EBADF) }

// Fd returns the descriptor, or -1 before it has one and after close.
func (s *Stream) Fd() int { return s.w.Fd() }

// setFd gives s its descriptor, which must be non-blocking; s owns it from
// now on and closes it in Close.
func (s *Stream) setFd(fd int) error {
	if s.IsClosing() {
		return errClosed("open")
	}
	if s.Fd() >= 0 {
		return errx.FromErrno("open", syscall.EALREADY)
	}
	if err := s.w.Init(fd); err != nil {
		return err
	}
	s.npAttach(fd)
	return nil
}

// IsReadable reports whether the stream can still read: it has a
// descriptor and has not seen EOF.
func (s *Stream) IsReadable() bool { return s.Fd() >= 0 && s.w.Aux&fEOF == 0 }

// IsWritable reports whether Write is still allowed: it has a descriptor
// and Shutdown has not been called.
func (s *Stream) IsWritable() bool { return s.Fd() >= 0 && s.w.Aux&(fShutting|fShut) == 0 }

// IsReading reports whether ReadStart is in effect.
func (s *Stream) IsReading() bool { return s.w.Aux&fReading != 0 }

// IsConnecting reports whether a connect is in flight.
func (s *Stream) IsConnecting() bool { return s.w.Aux&fConnecting != 0 }

// IsListening reports whether Listen is in effect.
func (s *Stream) IsListening() bool { return s.w.Aux&fListening != 0 }

// WriteFailed reports whether a write on this stream has failed (EPIPE,
// ECONNRESET...), even if its callback has not run yet: the stream will
// not send anything more.
func (s *Stream) WriteFailed() bool { return s.w.Aux&fWriteFailed != 0 }

// WriteQueueSize returns the number of bytes queued and not yet sent.
func (s *Stream) WriteQueueSize() int {
	if s.q == nil {
		return 0
	}
	return s.q.size
}

func (s *Stream) updateActive() {
	if s.IsClosing() {
		return
	}
	s.SetActive(s.w.Aux&(fReading|fListening|fConnecting|fShutting) != 0 || s.unsent() != nil)
}
