package tls

import (
	gotls "crypto/tls"
	"errors"
	"io"
	"iter"
	"net"
	"time"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/layer"
	"github.com/netloop/netloop/internal/transport"
)

// How TLS runs on the loop without blocking it (see doc.go):
//
//   - The handshake runs crypto/tls's Conn.Handshake as a coroutine
//     (iter.Pull) that the loop resumes, on its own thread, each time the
//     stream has read something: when the handshake needs more input than
//     it has, adapter.Read yields back to the loop instead of blocking.
//     What the handshake writes is gathered and queued on the stream when
//     it yields; its outcome is handled as soon as it returns. No wake-up
//     of another thread, no lock, no goroutine left waiting on the
//     network.
//   - Afterwards the same tls.Conn is driven on the loop: adapter.Read
//     hands over the chunk the stream just read and then returns a
//     net.Error whose Temporary() is true, which crypto/tls's record layer
//     (readRecordOrCCS) treats as "try again later" rather than a broken
//     connection; adapter.Write appends records to a per-loop scratch
//     buffer that becomes one stream write. No goroutine per connection.
//   - The engine is the socket's layer (internal/layer): the socket calls
//     it instead of its stream, so every net.Socket behaviour (events,
//     backpressure, pause, encodings, timeouts, End) applies to the
//     plaintext.

// Engine flags.
const (
	eStarted        uint16 = 1 << iota // the handshake was started
	eSecure                            // the handshake completed
	eFailed                            // the handshake failed
	eDestroyed                         // the socket was destroyed
	eReadDone                          // EOF (close_notify or FIN) or an error was delivered
	eShutdownWanted                    // End before the handshake completed
	eShutdownDone                      // close_notify was sent
	eServer                            // server side
	ePumping                           // pump is running (no re-entry)
)

type engine struct {
	t     *TLSSocket
	l     *core.Loop
	conn  *gotls.Conn
	hooks layer.Hooks
	ad    adapter
	flags uint16

	// Writes made before the handshake completed, in order, with their
	// callbacks; the socket counts them through Buffered.
	pending     []heldWrite
	pendingSize int
	shutdownCB  func(error)

	// The handshake coroutine while it runs: resume it with hsNext, end it
	// early with hsStop; hsErr is Handshake's result once it returned.
	hsNext func() (struct{}, bool)
	hsStop func()
	hsErr  error
	timer  *time.Timer // the server's handshake timeout
}

type heldWrite struct {
	data []byte
	cb   func(error)
}

// errWouldBlock is what adapter.Read returns when the chunk is used up: a
// net.Error with Temporary() true, which crypto/tls does not make sticky.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tls: no more input (would block)" }
func (wouldBlock) Timeout() bool   { return false }
func (wouldBlock) Temporary() bool { return true }

// errAborted ends a handshake whose socket was destroyed.
var errAborted = errors.New("tls: handshake aborted")

// scratch is the per-loop memory every TLS connection of a loop shares:
// the plaintext buffer records are decrypted into and the buffer records
// are encrypted into, so an idle connection holds neither.
type scratch struct {
	plain []byte
	out   []byte
	raw   []byte // lent to a tls.Conn's record input during a pump (see trim.go)
}

type scratchKey struct{}

// maxPlain is one TLS record's largest plaintext.
const maxPlain = 16 << 10

// maxRecord holds the largest record crypto/tls accepts (16 KiB + 2 KiB
// of expansion + header) plus what its reads ask for on top (MinRead).
const maxRecord = 16<<10 + 2048 + 5 + 1024

// outFlush is how much encrypted output is gathered before it is handed
// to the stream in the middle of a large write.
const outFlush = 64 << 10

func scratchOf(l *core.Loop) *scratch {
	if sc, ok := l.Local(scratchKey{}).(*scratch); ok {
		return sc
	}
	sc := &scratch{plain: make([]byte, maxPlain), raw: make([]byte, maxRecord)}
	l.SetLocal(scratchKey{}, sc)
	return sc
}

// adapter is the net.Conn under the engine's tls.Conn.
type adapter struct {
	e  *engine
	in []byte   // ciphertext not handed to crypto/tls yet
	sc *scratch // loop mode: set while encrypting, Write appends to sc.out
	// Handshake mode: yield suspends the handshake coroutine until the loop
	// has more input (false: the handshake is being abandoned); hsOut
	// gathers what the handshake writes until it yields.
	yield func(struct{}) bool
	hsOut []byte
	// eof: the stream reached EOF (or failed with rerr) and in is the last
	// of it.
	eof  bool
	rerr error
}

func (a *adapter) Read(p []byte) (int, error) {
	for len(a.in) == 0 && !a.eof && a.yield != nil {
		if !a.yield(struct{}{}) {
			return 0, errAborted
		}
	}
	if len(a.in) == 0 {
		if a.eof {
			if a.rerr != nil {
				return 0, a.rerr
			}
			return 0, io.EOF
		}
		return 0, errWouldBlock
	}
	n := copy(p, a.in)
	a.in = a.in[n:]
	return n, nil
}

func (a *adapter) Write(b []byte) (int, error) {
	e := a.e
	if a.yield != nil {
		// The handshake coroutine: the loop queues it when it yields.
		a.hsOut = append(a.hsOut, b...)
		return len(b), nil
	}
	if sc := a.sc; sc != nil {
		sc.out = append(sc.out, b...)
		if len(sc.out) >= outFlush {
			e.writeRaw(sc.out, nil)
			sc.out = sc.out[:0]
		}
		return len(b), nil
	}
	// Records crypto/tls writes on its own from Read (alerts, key
	// updates): straight to the stream, which copies what it cannot send.
	e.writeRaw(b, nil)
	return len(b), nil
}

func (a *adapter) Close() error                     { return nil }
func (a *adapter) LocalAddr() net.Addr              { return tlsAddr{} }
func (a *adapter) RemoteAddr() net.Addr             { return tlsAddr{} }
func (a *adapter) SetDeadline(time.Time) error      { return nil }
func (a *adapter) SetReadDeadline(time.Time) error  { return nil }
func (a *adapter) SetWriteDeadline(time.Time) error { return nil }

type tlsAddr struct{}

func (tlsAddr) Network() string { return "netloop" }
func (tlsAddr) String() string  { return "netloop" }

// writeRaw queues ciphertext on the socket's stream (which copies what the
// kernel does not take at once).
func (e *engine) writeRaw(b []byte, cb func(error)) {
	if e.flags&eDestroyed != 0 {
		return
	}
	st := e.hooks.Stream()
	if st == nil {
		return
	}
	if err := st.Write([][]byte{b}, cb); err != nil && cb != nil {
		cb(err)
	}
}

// start begins the handshake, with the socket's configuration as its
// listeners left it (see session.go): the coroutine runs until it needs
// input from the peer. A socket destroyed meanwhile starts nothing.
func (e *engine) start(timeout time.Duration) {
	t := e.t
	if e.flags&(eStarted|eDestroyed) != 0 {
		return
	}
	cfg := t.cfg
	t.cfg = nil
	t.keylog = t.wantsKeylog()
	var conn *gotls.Conn
	if e.flags&eServer != 0 {
		conn = gotls.Server(&e.ad, cfg) // keylog: see Server.setContext
	} else {
		if t.keylog {
			cfg.KeyLogWriter = &keylogWriter{t: t, user: cfg.KeyLogWriter}
		}
		conn = gotls.Client(&e.ad, cfg)
	}
	e.conn = conn
	e.flags |= eStarted
	e.l.Unlocked(func() {
		e.hsNext, e.hsStop = iter.Pull(func(yield func(struct{}) bool) {
			e.ad.yield = yield
			e.hsErr = conn.Handshake()
			e.ad.yield = nil
		})
	})
	if timeout > 0 {
		l := e.l
		e.timer = time.AfterFunc(timeout, func() {
			l.Post(func() {
				if e.flags&(eSecure|eFailed|eDestroyed) == 0 {
					e.fail(errHandshakeTimeout())
				}
			})
		})
	}
	e.resume()
}

// resume runs the handshake until it yields or returns, then sends what it
// wrote and, once it returned, handles its outcome.
func (e *engine) resume() {
	running := false
	e.l.Unlocked(func() { _, running = e.hsNext() })
	if out := e.ad.hsOut; len(out) > 0 {
		e.ad.hsOut = out[:0]
		e.writeRaw(out, nil) // the stream copies what it cannot send now
	}
	if len(e.t.keylines) > 0 {
		e.t.emitKeylines()
	}
	if !running {
		e.ad.hsOut = nil
		e.stopHandshake()
		e.handshakeDone(e.hsErr)
	}
}

// stopHandshake ends the coroutine (a suspended one sees its Read fail)
// and the timeout.
func (e *engine) stopHandshake() {
	if stop := e.hsStop; stop != nil {
		e.hsNext, e.hsStop = nil, nil
		e.l.Unlocked(stop)
		e.ad.hsOut = nil
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
}

// handshakeDone handles the outcome of the handshake; what the stream read
// that the handshake did not consume stays in the adapter for the record
// layer, from now on driven by the loop.
func (e *engine) handshakeDone(err error) {
	if e.flags&(eDestroyed|eFailed) != 0 {
		return
	}
	if err != nil {
		e.fail(err)
		return
	}
	e.flags |= eSecure
	releaseHandshakeBuffers(e.conn)
	e.t.secured()
	if e.flags&eDestroyed != 0 {
		return
	}
	e.flushHeld()
	e.pump()
}

// fail ends a handshake that failed: a client socket is destroyed with
// Node's error; a server emits 'tlsClientError' and destroys the socket.
func (e *engine) fail(err error) {
	e.flags |= eFailed
	e.stopHandshake()
	e.t.handshakeFailed(nodeError(err, e.flags&eServer != 0))
}

// flushHeld encrypts what was written during the handshake, then sends
// close_notify if End came meanwhile.
func (e *engine) flushHeld() {
	st := e.hooks.Stream()
	held := e.pending
	e.pending, e.pendingSize = nil, 0
	for _, w := range held {
		if err := e.encrypt(st, [][]byte{w.data}, w.cb); err != nil && w.cb != nil {
			w.cb(err)
		}
	}
	if len(held) > 0 && st != nil && st.WriteQueueSize() == 0 {
		e.hooks.Drained()
	}
	if e.flags&eShutdownWanted != 0 {
		cb := e.shutdownCB
		e.shutdownCB = nil
		if err := e.Shutdown(st, cb); err != nil && cb != nil {
			cb(err)
		}
	}
}

// pump decrypts what the adapter holds and delivers it to the socket.
func (e *engine) pump() {
	if e.flags&(eSecure|eReadDone|eDestroyed|ePumping) != eSecure {
		return
	}
	e.flags |= ePumping
	sc := scratchOf(e.l)
	lent := lendRecordBuffer(e.conn, sc)
	for {
		n, err := e.conn.Read(sc.plain)
		if ss := e.t.sess; ss != nil && len(ss.fresh) > 0 {
			// TLS 1.3 session tickets read meanwhile.
			e.t.emitSessions()
			if e.flags&eDestroyed != 0 {
				break
			}
		}
		if n > 0 {
			e.hooks.Deliver(n, sc.plain, nil)
			if e.flags&eDestroyed != 0 {
				break
			}
		}
		if err == nil {
			continue
		}
		if err == errWouldBlock {
			break
		}
		e.flags |= eReadDone
		switch {
		case err == io.EOF, err == io.ErrUnexpectedEOF && e.ad.rerr == nil:
			// close_notify, or the peer's FIN: 'end' (Node accepts a FIN
			// without close_notify too).
			e.hooks.Deliver(0, nil, io.EOF)
		case e.ad.rerr != nil && errors.Is(err, e.ad.rerr):
			e.hooks.Deliver(0, nil, e.ad.rerr)
		default:
			e.hooks.Deliver(0, nil, nodeError(err, e.flags&eServer != 0))
		}
		break
	}
	takeBackRecordBuffer(e.conn, lent)
	e.flags &^= ePumping
	e.ad.in = nil
}

// encrypt writes bufs as records into the loop's scratch and queues them
// on st as one write carrying cb.
func (e *engine) encrypt(st *transport.Stream, bufs [][]byte, cb func(error)) error {
	if st == nil {
		return errs.ErrSocketClosed
	}
	sc := scratchOf(e.l)
	e.ad.sc = sc
	var werr error
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		if _, werr = e.conn.Write(b); werr != nil {
			break
		}
	}
	e.ad.sc = nil
	if werr != nil {
		sc.out = sc.out[:0]
		return nodeError(werr, e.flags&eServer != 0)
	}
	err := st.Write([][]byte{sc.out}, cb)
	sc.out = sc.out[:0]
	return err
}

// Read implements layer.Layer: the stream read n bytes of buf, or err.
func (e *engine) Read(n int, buf []byte, err error) {
	if e.flags&(eReadDone|eDestroyed|eFailed) != 0 {
		return
	}
	if err != nil {
		e.ad.eof = true
		if !errors.Is(err, io.EOF) {
			e.ad.rerr = err
		}
	} else if n > 0 {
		if len(e.ad.in) > 0 {
			e.ad.in = append(e.ad.in, buf[:n]...)
		} else {
			e.ad.in = buf[:n]
		}
	}
	if e.flags&eSecure == 0 {
		if e.hsNext != nil {
			e.resume()
		}
		// Input the handshake has not taken (or, not started yet, all of
		// it) outlives buf, the loop's read buffer.
		if len(e.ad.in) > 0 && e.flags&eSecure == 0 {
			e.ad.in = append([]byte(nil), e.ad.in...)
		}
		return
	}
	e.pump()
}

// Write implements layer.Layer.
func (e *engine) Write(st *transport.Stream, bufs [][]byte, cb func(error)) error {
	switch {
	case e.flags&eSecure != 0:
		return e.encrypt(st, bufs, cb)
	case e.flags&(eFailed|eDestroyed) != 0:
		return errs.ErrStreamDestroyed
	}
	// The handshake is still running: hold the plaintext, in order.
	for i, b := range bufs {
		w := heldWrite{data: append([]byte(nil), b...)}
		if i == len(bufs)-1 {
			w.cb = cb
		}
		e.pending = append(e.pending, w)
		e.pendingSize += len(b)
	}
	return nil
}

// Shutdown implements layer.Layer: close_notify, then the stream's FIN.
func (e *engine) Shutdown(st *transport.Stream, cb func(error)) error {
	switch {
	case e.flags&(eFailed|eDestroyed) != 0:
		return errs.ErrStreamDestroyed
	case e.flags&eSecure == 0:
		e.flags |= eShutdownWanted
		e.shutdownCB = cb
		return nil
	case st == nil:
		return errs.ErrSocketClosed
	}
	if e.flags&eShutdownDone == 0 {
		e.flags |= eShutdownDone
		sc := scratchOf(e.l)
		e.ad.sc = sc
		err := e.conn.CloseWrite()
		e.ad.sc = nil
		if err == nil && len(sc.out) > 0 {
			err = st.Write([][]byte{sc.out}, nil)
		}
		sc.out = sc.out[:0]
		if err != nil {
			return err
		}
	}
	return st.Shutdown(cb)
}

// Buffered implements layer.Layer.
func (e *engine) Buffered() int { return e.pendingSize }

// Destroyed implements layer.Layer.
func (e *engine) Destroyed() {
	e.flags |= eDestroyed
	e.stopHandshake()
	e.ad.in = nil
	held := e.pending
	e.pending, e.pendingSize = nil, 0
	for _, w := range held {
		if w.cb != nil {
			cb := w.cb
			e.l.NextTick(func() { cb(errs.ErrStreamDestroyed) })
		}
	}
	if cb := e.shutdownCB; cb != nil {
		e.shutdownCB = nil
		e.l.NextTick(func() { cb(errs.ErrStreamDestroyed) })
	}
}
