package accept

import (
	"time"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/transport"
)

// Owner is the server side of an accepted socket.
type Owner interface {
	// SocketClosed is called once, when the accepted socket is destroyed
	// (or reconnects elsewhere): the server's connection count drops.
	SocketClosed()
	// Server returns the public *server.Server, for Socket.Server.
	Server() any
}

// Options describe how a server sets up its accepted connections; a
// server keeps one value and passes its address for every connection.
type Options struct {
	AllowHalfOpen  bool
	PauseOnConnect bool
	NoDelay        bool
	KeepAlive      bool
	KeepAliveDelay time.Duration
	HighWaterMark  int
	OwnedData      bool
	Owner          Owner

	// ListenerNoDelay tells that the listening socket has TCP_NODELAY set,
	// which Linux copies to every connection it accepts: a NoDelay
	// server's accepted sockets then need no setsockopt of their own, and
	// any other server's must clear it.
	ListenerNoDelay bool
}

// NewConn allocates an accepted connection's *socket.Socket (returned as
// any, since this package cannot name the type) together with its stream
// of kind k, initialised on l, in one allocation. The server accepts into
// the stream, then passes both to NewSocket; if the accept fails it closes
// the stream and drops the socket. Package socket sets it in its init.
var NewConn func(l *core.Loop, k transport.Kind) (sock any, st *transport.Stream)

// NewSocket sets up sock, from NewConn, around its accepted stream st and
// returns it: it starts reading at once unless PauseOnConnect. Package
// socket sets it in its init.
var NewSocket func(sock any, st *transport.Stream, o *Options) any

// ServerStream returns the loop and listening stream of a *server.Server
// given as any (nil stream when it is not listening), for
// Socket.SendHandle; ok is false for anything else. Package server sets it
// in its init.
var ServerStream = func(srv any) (l *core.Loop, st *transport.Stream, ok bool) { return nil, nil, false }
