// Package layer lets a protocol layer sit between a socket.Socket and its
// stream, the way Node's TLSWrap sits between net.Socket and TCPWrap: the
// socket keeps every net.Socket behaviour (events, backpressure, pause,
// encodings, timeouts, End) while the layer turns what the stream reads
// into what the socket delivers, and what the socket writes into what the
// stream sends. Package tls is its one user; package socket registers
// Attach at init. Everything here is loop-affine.
package layer

import "github.com/netloop/netloop/internal/transport"

// Layer is what a socket calls instead of its stream once attached.
type Layer interface {
	// Read takes what the stream read: n bytes of buf (valid only during
	// the call), or err (io.EOF at the peer's FIN). The layer hands decoded
	// bytes to Hooks.Deliver zero or more times.
	Read(n int, buf []byte, err error)
	// Write encodes bufs and queues the result on st; cb, if not nil, runs
	// once it was written, or with the error. A layer not ready yet (a
	// handshake in progress) keeps the bytes (see Buffered).
	Write(st *transport.Stream, bufs [][]byte, cb func(error)) error
	// Shutdown ends the layer's own stream (TLS close_notify) after
	// everything written so far, then shuts st down; cb as for
	// transport.Stream.Shutdown.
	Shutdown(st *transport.Stream, cb func(error)) error
	// Buffered returns how many written bytes the layer holds that are not
	// in st's write queue yet (they count in the socket's writableLength).
	Buffered() int
	// Destroyed tells the layer that its socket was destroyed.
	Destroyed()
}

// Hooks are the socket's entry points a layer calls.
type Hooks struct {
	// Deliver feeds decoded bytes (or io.EOF, or an error that destroys
	// the socket) into the socket's read path, as if the stream had read
	// them: 'data', bytesRead, paused-mode buffering, 'end'.
	Deliver func(n int, buf []byte, err error)
	// Stream returns the socket's stream (nil before it connects).
	Stream func() *transport.Stream
	// Drained tells the socket that the layer's held bytes went out
	// ('drain' may follow).
	Drained func()
}

// Attach puts l between s (a *socket.Socket) and its stream and returns the
// socket's hooks. It fails when s already has a layer or uses OnRead.
// Package socket sets it in its init.
var Attach func(s any, l Layer) (Hooks, error)
