package socket

import (
	"context"
	"net/netip"
	"time"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/encoding"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/layer"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
)

// Event kinds in the socket's listener set.
const (
	evConnect emitter.Kind = iota
	evReady
	evData
	evText
	evEnd
	evDrain
	evFinish
	evError
	evClose
	evTimeout
	evLookup
	evConnectionAttempt
	evConnectionAttemptFailed
	evConnectionAttemptTimeout
	evReadable
	evHandle
)

// Socket state bits (Socket.state). The Socket sets every one of them;
// they are Node-level facts that outlive or precede the stream, never
// copies of it. The stream (internal/transport) alone owns the transport's
// state: reading, connecting in the kernel, shut down, EOF seen, queued
// bytes; the Socket asks it (IsConnecting, WriteQueueSize...) instead of
// mirroring it. The bits that look like the stream's differ in scope:
// sConnecting spans the DNS lookup and Happy Eyeballs attempts before any
// stream exists; sReadEOF and sShutdown drive Node's 'end'/'finish'
// ordering, which runs behind the stream's own (deferred emits); sUnref,
// sNoDelay and sKeepAlive are the user's choices, remembered before a
// stream exists and across reconnects, and applied to each new stream.
const (
	sConnecting     uint32 = 1 << iota // Node's socket.connecting: from Connect to 'connect' or destroy
	sConnected                         // connected, accepted or opened from an fd
	sDestroyed                         // Destroy ran (Node's destroyed)
	sReadEOF                           // the stream reported EOF to the Socket
	sEndEmitted                        // 'end' was emitted
	sEndQueued                         // 'end' is scheduled
	sEnding                            // End was called (or the automatic end after 'end')
	sShutdown                          // the Socket asked its stream to shut down
	sFinished                          // 'finish' was emitted
	sFlowing                           // resumed (Node's readableFlowing === true)
	sPaused                            // paused (readableFlowing === false)
	sNeedDrain                         // a Write returned false
	sErrorEmitted                      // 'error' was emitted
	sCloseQueued                       // 'close' is scheduled or its stream is closing
	sClosed                            // 'close' was emitted
	sHadError                          // destroyed with an error ('close' gets hadError)
	sUnref                             // Unref was called (applied to every stream)
	sAllowHalfOpen                     // Node's allowHalfOpen
	sNoDelay                           // SetNoDelay(true) (applied to every TCP stream)
	sKeepAlive                         // SetKeepAlive(true) (applied to every TCP stream)
	sResetOnConnect                    // ResetAndDestroy called while connecting
	sReset                             // destroying with RST (ResetAndDestroy)
	sNotReadable                       // an FD socket created without Readable
	sNotWritable                       // an FD socket created without Writable
	sFlushQueued                       // a flush of pending writes is scheduled
	sWriteErrored                      // a write failed: later writes wait for the destroy (Node's state.errored)
	sOwnedData                         // Options.OwnedData: every 'data' chunk is a copy the handler keeps
	sReadableMode                      // a 'readable' listener was added: paused mode, data waits for Read
	sReadableQueued                    // 'readable' is scheduled
	sNeedReadable                      // paused mode: new data emits 'readable' (Node's needReadable)
	sIPC                               // Options.IPC: the stream carries descriptors
)

// Socket is Node's net.Socket. Create one with New (then Connect), or get
// one from a server's 'connection' event.
type Socket struct {
	l  *loop.Loop
	st *transport.Stream // the connection's stream (TCP or pipe), nil before connect
	ev emitter.Set

	state uint32
	gen   uint32 // connection generation: bumped when a closed socket reconnects, so late lookups and aborts of the last connection are ignored

	// The low 32 bits of BytesRead and BytesWritten: the high ones, once
	// a connection carries 4 GiB, are in sockExtra (see add32).
	bytesRead, bytesWritten uint32

	acc *accept.Options // the accepting server's options (its Owner), nil for clients

	// *sockExtra holds what most connections never use; it points at the
	// shared zero value noExtra until something is written (see ext), so
	// reads need no nil checks.
	*sockExtra
}

// sockExtra is the part of a Socket that idle connections do not need.
type sockExtra struct {
	readHi      uint32         // BytesRead >> 32
	writtenHi   uint32         // BytesWritten >> 32
	hwm         int            // Options.HighWaterMark as given (0: the default); accepted sockets use their server's (see highWaterMark)
	timer       *idleTimer     // SetTimeout's
	pending     []pendingWrite // writes made before the connection exists
	pendingSize int
	corked      int      // Cork depth: writes wait in pending until Uncork
	buffered    [][]byte // data read but not yet delivered
	bufSize     int

	remote netip.AddrPort // cached peer (TCP)
	path   string         // IPC path

	dec        *encoding.Decoder
	onread     *OnRead
	blockList  *addr.BlockList
	keepDelay  time.Duration
	stopCtx    func() bool
	ctx        context.Context // Options.Context, checked when a connect completes
	stopLookup func()
	destroyErr error
	onFinished []func(error) // End callbacks waiting for 'finish' (Node's kOnFinished)
	group      *core.Group   // Options.Group: the socket counts in its loop's load
	groupIdx   int
	groupCount bool // counted now (from New or reconnect until 'close')

	he        *connectMultiple // the Happy Eyeballs connect in progress
	attempted []string         // AutoSelectFamilyAttemptedAddresses

	allocFn transport.AllocFunc

	readHWM int // paused mode's readable high-water mark once Read(n) raised it (0: readableHighWaterMark)

	layer layer.Layer // a protocol layer (TLS) between the socket and its stream; see layer.go
}

// add32 adds n to the low 32 bits of a byte counter and returns the
// carry into its high bits.
func add32(lo *uint32, n int) uint32 {
	t := uint64(*lo) + uint64(n)
	*lo = uint32(t)
	return uint32(t >> 32)
}

// countRead adds n to BytesRead.
func (s *Socket) countRead(n int) {
	if c := add32(&s.bytesRead, n); c != 0 {
		s.ext().readHi += c
	}
}

// countWritten adds n to BytesWritten.
func (s *Socket) countWritten(n int) {
	if c := add32(&s.bytesWritten, n); c != 0 {
		s.ext().writtenHi += c
	}
}

// readTotal is BytesRead; writtenTotal is BytesWritten.
func (s *Socket) readTotal() int64 {
	return int64(s.sockExtra.readHi)<<32 | int64(s.bytesRead)
}

func (s *Socket) writtenTotal() int64 {
	return int64(s.sockExtra.writtenHi)<<32 | int64(s.bytesWritten)
}

// noExtra is the shared, never written, zero sockExtra.
var noExtra sockExtra

// ext returns the socket's own sockExtra, allocating it on first write.
func (s *Socket) ext() *sockExtra {
	if s.sockExtra == &noExtra {
		s.sockExtra = new(sockExtra)
	}
	return s.sockExtra
}

type pendingWrite struct {
	data []byte
	cb   func(error)
	fd1  int // a descriptor to send with data (SendHandle) plus one; 0: none
}

// New creates a Socket that is not connected yet (or wraps opts.FD).
func New(opts Options) (*Socket, error) {
	l := opts.Loop
	groupIdx := -1
	if opts.Group != nil {
		g := (*core.Group)(opts.Group)
		groupIdx = g.Pick()
		l = (*loop.Loop)(g.Loops()[groupIdx])
	}
	if l == nil {
		l = loop.Default()
	}
	s := newSocket(l, opts.AllowHalfOpen, opts.HighWaterMark)
	if opts.OwnedData {
		s.state |= sOwnedData
	}
	if groupIdx >= 0 {
		s.ext().group = (*core.Group)(opts.Group)
		s.ext().groupIdx = groupIdx
		s.countInGroup(1)
	}
	s.ext().blockList = opts.BlockList
	if opts.OnRead != nil {
		if opts.OnRead.Callback == nil || (opts.OnRead.Buffer == nil && opts.OnRead.BufferFunc == nil) {
			return nil, errx.New(errs.CodeInvalidArgValue, "The property 'options.onread' is invalid: it needs a Buffer or BufferFunc and a Callback")
		}
		s.setOnRead(opts.OnRead)
	}
	if opts.IPC {
		s.state |= sIPC
	}
	if opts.FD > 0 {
		if err := s.openFD(opts.FD, opts.Readable, opts.Writable); err != nil {
			return nil, err
		}
	}
	if opts.Context != nil {
		s.watchContext(opts.Context)
	}
	return s, nil
}

func newSocket(l *loop.Loop, allowHalfOpen bool, hwm int) *Socket {
	s := new(Socket)
	initSocket(s, l, allowHalfOpen, hwm)
	return s
}

// initSocket prepares the zero Socket s.
func initSocket(s *Socket, l *loop.Loop, allowHalfOpen bool, hwm int) {
	s.l, s.sockExtra = l, &noExtra
	if hwm != 0 {
		s.ext().hwm = hwm
	}
	if allowHalfOpen {
		s.state |= sAllowHalfOpen
	}
}

// highWaterMark is the writable high-water mark: the option as given to
// New, or to the accepting server, with 0 meaning the default and a
// negative value 0. Kept as the option rather than in every Socket.
func (s *Socket) highWaterMark() int {
	hwm := s.sockExtra.hwm
	if s.acc != nil {
		hwm = s.acc.HighWaterMark
	}
	switch {
	case hwm == 0:
		return DefaultHighWaterMark
	case hwm < 0:
		return 0
	}
	return hwm
}

// acceptedConn is an accepted connection's Socket and first stream in one
// allocation: one malloc per connection instead of two. A socket that
// reconnects later gets a stream of its own; this one then stays unused.
type acceptedConn struct {
	s  Socket
	st transport.Stream
}

func init() {
	accept.NewConn = func(l *core.Loop, k transport.Kind) (any, *transport.Stream) {
		c := new(acceptedConn)
		c.st.Init(l, k)
		return &c.s, &c.st
	}
	accept.NewSocket = func(sock any, st *transport.Stream, o *accept.Options) any {
		return newAccepted(sock.(*Socket), (*loop.Loop)(st.Loop()), st, o)
	}
}

// newAccepted sets up s, from accept.NewConn, around a connection accepted
// by a server. It starts reading at once unless PauseOnConnect.
func newAccepted(s *Socket, l *loop.Loop, st *transport.Stream, o *accept.Options) *Socket {
	initSocket(s, l, o.AllowHalfOpen, 0)
	s.acc = o // its HighWaterMark is this socket's (see highWaterMark)
	if o.OwnedData {
		s.state |= sOwnedData
	}
	s.attach(st)
	s.state |= sConnected
	switch {
	case o.NoDelay && o.ListenerNoDelay:
		s.state |= sNoDelay // inherited from the listener: no system call
		st.MarkNoDelay()
	case o.NoDelay:
		s.SetNoDelay(true)
	case o.ListenerNoDelay:
		st.SetNoDelay(false) // inherited, and not this server's choice
	}
	if o.KeepAlive {
		s.SetKeepAlive(true, o.KeepAliveDelay)
	}
	if o.PauseOnConnect {
		s.state |= sPaused
	} else {
		s.startReading()
	}
	return s
}

// Server returns the *server.Server that accepted this socket (as any:
// package server imports this one), or nil for client sockets and after a
// reconnect.
func (s *Socket) Server() any {
	s.affine("Socket.Server")
	if s.acc == nil {
		return nil
	}
	return s.acc.Owner.Server()
}

// Loop returns the loop the socket runs on.
func (s *Socket) Loop() *loop.Loop { return s.l }

// attach adopts a stream.
func (s *Socket) attach(st *transport.Stream) {
	s.st = st
	st.SetHandler((*streamHandler)(s))
	if s.state&sUnref != 0 {
		st.Unref()
	}
}

// core returns the socket's loop as the engine's type.
func (s *Socket) core() *core.Loop { return (*core.Loop)(s.l) }

// tcp returns the socket's stream if it is a TCP one, else nil.
func (s *Socket) tcp() *transport.Stream {
	if s.st != nil && s.st.Transport() == transport.TCP {
		return s.st
	}
	return nil
}

// pipe returns the socket's stream if it is a Unix-domain one, else nil.
func (s *Socket) pipe() *transport.Stream {
	if s.st != nil && s.st.Transport() == transport.Pipe {
		return s.st
	}
	return nil
}

func (s *Socket) watchContext(ctx context.Context) {
	s.ext().ctx = ctx
	if ctx.Err() != nil {
		s.l.NextTick(func() { s.Destroy(errx.Abort(context.Cause(ctx))) })
		return
	}
	gen := s.gen
	s.ext().stopCtx = context.AfterFunc(ctx, func() {
		s.l.Post(func() {
			if gen == s.gen && s.state&sDestroyed == 0 {
				s.Destroy(errx.Abort(context.Cause(ctx)))
			}
		})
	})
}

// Listener is returned by every On/Once method: call its Remove method
// to unregister that listener. It is a small value; keeping or dropping it
// costs nothing.
type Listener struct {
	l emitter.Listener
	s *Socket // set for 'readable' listeners only: removing one may leave paused mode
}

// Remove unregisters the listener (Node's removeListener); removing it
// twice, or after a Once listener ran, does nothing. Removing the last
// 'readable' listener leaves paused mode on the next tick, as in Node
// (see OnReadable).
func (l Listener) Remove() {
	l.l.Remove()
	if l.s != nil {
		l.s.readableListenersChanged()
	}
}

// add registers fn for an event; every On and Once method goes through it.
func (s *Socket) add(kind emitter.Kind, fn any, once bool) Listener {
	return Listener{l: s.ev.On(kind, fn, once)}
}

// OnConnect adds a 'connect' listener: the connection is established.
func (s *Socket) OnConnect(fn func()) Listener {
	s.affine("Socket.OnConnect")
	return s.add(evConnect, fn, false)
}

// OnceConnect adds a one-shot 'connect' listener.
func (s *Socket) OnceConnect(fn func()) Listener {
	s.affine("Socket.OnceConnect")
	return s.add(evConnect, fn, true)
}

// OnReady adds a 'ready' listener: emitted right after 'connect'.
func (s *Socket) OnReady(fn func()) Listener {
	s.affine("Socket.OnReady")
	return s.add(evReady, fn, false)
}

// OnceReady adds a one-shot 'ready' listener.
func (s *Socket) OnceReady(fn func()) Listener {
	s.affine("Socket.OnceReady")
	return s.add(evReady, fn, true)
}

// OnData adds a 'data' listener. Adding the first one starts the flow of
// data unless the socket was paused or is in paused mode ('readable'
// listeners: then it receives what Read returns). With an encoding set, it
// receives the decoded text's bytes.
//
// The slice is the loop's shared read buffer, valid only during the call:
// copy what you keep (or use Options.OnRead for buffers of your own). A
// handler that keeps it anyway is reported by go test -race when another
// goroutine reads it, and sees it overwritten with 0xDB right after the
// call in -tags netloopdebug builds.
func (s *Socket) OnData(fn func(data []byte)) Listener {
	s.affine("Socket.OnData")
	rm := s.add(evData, fn, false)
	s.dataListenerAdded()
	return rm
}

// OnceData adds a one-shot 'data' listener.
func (s *Socket) OnceData(fn func(data []byte)) Listener {
	s.affine("Socket.OnceData")
	rm := s.add(evData, fn, true)
	s.dataListenerAdded()
	return rm
}

// OnText adds a listener for decoded 'data' after SetEncoding; each string
// holds whole characters only. Like OnData it starts the flow.
func (s *Socket) OnText(fn func(text string)) Listener {
	s.affine("Socket.OnText")
	rm := s.add(evText, fn, false)
	s.dataListenerAdded()
	return rm
}

// OnceText adds a one-shot 'data' listener for a socket with an encoding
// (see OnText).
func (s *Socket) OnceText(fn func(text string)) Listener {
	s.affine("Socket.OnceText")
	rm := s.add(evText, fn, true)
	s.dataListenerAdded()
	return rm
}

// OnEnd adds an 'end' listener: the peer ended its side and every byte
// before it was delivered.
func (s *Socket) OnEnd(fn func()) Listener {
	s.affine("Socket.OnEnd")
	return s.add(evEnd, fn, false)
}

// OnceEnd adds a one-shot 'end' listener.
func (s *Socket) OnceEnd(fn func()) Listener {
	s.affine("Socket.OnceEnd")
	return s.add(evEnd, fn, true)
}

// OnDrain adds a 'drain' listener: the write buffer emptied after a Write
// returned false.
func (s *Socket) OnDrain(fn func()) Listener {
	s.affine("Socket.OnDrain")
	return s.add(evDrain, fn, false)
}

// OnceDrain adds a one-shot 'drain' listener.
func (s *Socket) OnceDrain(fn func()) Listener {
	s.affine("Socket.OnceDrain")
	return s.add(evDrain, fn, true)
}

// OnFinish adds a 'finish' listener: End was called and everything was
// flushed and the FIN sent.
func (s *Socket) OnFinish(fn func()) Listener {
	s.affine("Socket.OnFinish")
	return s.add(evFinish, fn, false)
}

// OnceFinish adds a one-shot 'finish' listener.
func (s *Socket) OnceFinish(fn func()) Listener {
	s.affine("Socket.OnceFinish")
	return s.add(evFinish, fn, true)
}

// OnError adds an 'error' listener. Without one, an error stops the loop
// and Run returns it (Node would throw), unless the loop has an
// OnUnhandledError handler; 'close' still reports hadError.
func (s *Socket) OnError(fn func(err error)) Listener {
	s.affine("Socket.OnError")
	return s.add(evError, fn, false)
}

// OnceError adds a one-shot 'error' listener.
func (s *Socket) OnceError(fn func(err error)) Listener {
	s.affine("Socket.OnceError")
	return s.add(evError, fn, true)
}

// OnClose adds a 'close' listener; hadError tells whether an error caused
// the close.
func (s *Socket) OnClose(fn func(hadError bool)) Listener {
	s.affine("Socket.OnClose")
	return s.add(evClose, fn, false)
}

// OnceClose adds a one-shot 'close' listener.
func (s *Socket) OnceClose(fn func(hadError bool)) Listener {
	s.affine("Socket.OnceClose")
	return s.add(evClose, fn, true)
}

// OnTimeout adds a 'timeout' listener (see SetTimeout).
func (s *Socket) OnTimeout(fn func()) Listener {
	s.affine("Socket.OnTimeout")
	return s.add(evTimeout, fn, false)
}

// OnceTimeout adds a one-shot 'timeout' listener.
func (s *Socket) OnceTimeout(fn func()) Listener {
	s.affine("Socket.OnceTimeout")
	return s.add(evTimeout, fn, true)
}

// OnLookup adds a 'lookup' listener: host name resolution finished, with
// the error or the chosen address and its family (4 or 6).
func (s *Socket) OnLookup(fn func(err error, address string, family int, host string)) Listener {
	s.affine("Socket.OnLookup")
	return s.add(evLookup, fn, false)
}

// OnceLookup adds a one-shot 'lookup' listener (see OnLookup).
func (s *Socket) OnceLookup(fn func(err error, address string, family int, host string)) Listener {
	s.affine("Socket.OnceLookup")
	return s.add(evLookup, fn, true)
}

// ListenerCount returns how many listeners an event has ("data", "end",
// "close", ...).
func (s *Socket) ListenerCount(event string) int {
	s.affine("Socket.ListenerCount")
	for k, name := range eventNames {
		if name == event {
			return s.ev.Count(emitter.Kind(k))
		}
	}
	return 0
}

var eventNames = [...]string{"connect", "ready", "data", "text", "end", "drain", "finish", "error", "close", "timeout", "lookup",
	"connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout", "readable"}

// RemoveAllListeners removes every listener of the named events (Node's
// event names: "connect", "ready", "data", "end", "drain", "finish",
// "error", "close", "timeout", "lookup", "readable", "connectionAttempt",
// "connectionAttemptFailed", "connectionAttemptTimeout"; "data" also
// covers OnText and OnInbound listeners), or of every event when none is
// named, as Node's removeAllListeners([eventName]). Unknown names are
// ignored, as in Node. Node takes one name; several names here are the
// same as one call per name. Removing the 'readable' listeners (by name
// or with everything) leaves paused mode on the next tick (see
// OnReadable).
func (s *Socket) RemoveAllListeners(events ...string) *Socket {
	s.affine("Socket.RemoveAllListeners")
	if len(events) == 0 {
		for k := range eventNames {
			s.ev.RemoveAll(emitter.Kind(k))
		}
		s.readableListenersChanged()
		return s
	}
	for _, event := range events {
		for k, name := range eventNames {
			if name == event || (event == "data" && name == "text") {
				s.ev.RemoveAll(emitter.Kind(k))
			}
		}
		if event == "readable" {
			s.readableListenersChanged()
		}
	}
	return s
}

// AllowHalfOpen reports whether the socket stays writable after the
// peer's FIN (Node's socket.allowHalfOpen).
func (s *Socket) AllowHalfOpen() bool {
	s.affine("Socket.AllowHalfOpen")
	return s.state&sAllowHalfOpen != 0
}

// emitError emits 'error' at most once per connection.
func (s *Socket) emitError(err error) {
	if s.state&sErrorEmitted != 0 {
		return
	}
	s.state |= sErrorEmitted
	if !emitter.Emit(&s.ev, evError, err) {
		// Nobody listens: Node would crash with it; the loop's handler
		// gets it, or Run returns it.
		s.core().ReportUnhandled(&loop.UnhandledError{Source: s.describe(), Err: err})
	}
}

// describe names the socket for an unhandled error: its peer, or its path.
func (s *Socket) describe() string {
	if s.path != "" {
		return "socket " + s.path
	}
	if ap := s.remote; ap.IsValid() {
		return "socket to " + ap.String()
	}
	return "socket (not connected)"
}

// streamHandler receives the stream's callbacks for its Socket without a
// closure per callback (see transport.Handler).
type streamHandler Socket

// OnStreamRead implements transport.Handler.
func (h *streamHandler) OnStreamRead(n int, buf []byte, err error) {
	if l := h.layer; l != nil {
		l.Read(n, buf, err)
		return
	}
	(*Socket)(h).onHandleRead(n, buf, err)
	if (*Socket)(h).state&sIPC != 0 {
		(*Socket)(h).deliverHandles()
	}
}

// OnStreamDrain implements transport.Handler.
func (h *streamHandler) OnStreamDrain() { (*Socket)(h).onHandleDrain() }

// OnStreamWriteError implements transport.Handler.
func (h *streamHandler) OnStreamWriteError(err error) { (*Socket)(h).onHandleWriteError(err) }

// OnStreamClose implements transport.Handler: the close callback of the
// socket's stream (see transport.Stream.CloseToHandler).
func (h *streamHandler) OnStreamClose() { (*Socket)(h).emitClose() }

// Deferred steps of a Socket as core.Tasks: queueing a *Socket converted
// to one of these allocates nothing, where a method value (s.emitEnd)
// would allocate on every connection.
type (
	emitEndTask Socket // emitEnd
	autoEndTask Socket // the End that follows 'end' without allowHalfOpen
	finishTask  Socket // finish
	closeTask   Socket // emitClose
)

// RunTask implements core.Task.
func (t *emitEndTask) RunTask() { (*Socket)(t).emitEnd() }

// RunTask implements core.Task.
func (t *autoEndTask) RunTask() {
	if s := (*Socket)(t); s.state&(sDestroyed|sEnding) == 0 {
		s.End(nil)
	}
}

// RunTask implements core.Task.
func (t *finishTask) RunTask() { (*Socket)(t).finish() }

// RunTask implements core.Task.
func (t *closeTask) RunTask() { (*Socket)(t).emitClose() }

// affine checks, in netloopdebug builds, that method runs on the socket's
// loop goroutine (see core.Loop.CheckAffinity).
func (s *Socket) affine(method string) { s.core().CheckAffinity(method) }

// countInGroup adds the socket to (+1) or removes it from (-1) its
// group loop's load, once each way.
func (s *Socket) countInGroup(delta int64) {
	if s.group == nil || (delta > 0) == s.groupCount {
		return
	}
	s.ext().groupCount = delta > 0
	s.group.AddLoad(s.groupIdx, delta)
}
