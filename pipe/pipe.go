package pipe

import (
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/stream"
)

// Mode selects what Chmod grants to everyone.
type Mode uint8

const (
	// Readable lets every user read (connect to) the socket.
	Readable = Mode(transport.Readable)
	// Writable lets every user write (connect to) the socket.
	Writable = Mode(transport.Writable)
)

// Flags modify Bind and Connect.
type Flags uint8

// NoTruncate refuses a name longer than sun_path holds with EINVAL instead
// of cutting it to fit (libuv's UV_PIPE_NO_TRUNCATE).
const NoTruncate Flags = 1

// Pipe is a Unix-domain stream socket handle. It has every stream.Stream
// method (read, write, shutdown, listen, close...).
type Pipe struct {
	stream.Stream
}

func (p *Pipe) s() *transport.Stream { return (*transport.Stream)(&p.Stream) }

// New creates a pipe handle on l; the socket is created by Bind or Connect.
func New(l *loop.Loop) *Pipe {
	p := &Pipe{}
	p.s().Init((*core.Loop)(l), transport.Pipe)
	return p
}

// Open wraps an existing Unix-domain socket descriptor (made non-blocking
// and close-on-exec); the handle owns it from now on. On error the
// descriptor is left open.
func Open(l *loop.Loop, fd int) (*Pipe, error) {
	p := New(l)
	if err := p.s().Open(fd); err != nil {
		p.Close(nil)
		return nil, err
	}
	return p, nil
}

// IsAbstract reports whether name is a Linux abstract-namespace name.
func IsAbstract(name string) bool { return transport.IsAbstract(name) }

// Bind binds the socket to name (see the package doc for paths). A path
// that is already bound gives EADDRINUSE. A name longer than sun_path
// holds is cut to fit, as libuv's uv_pipe_bind does, unless flags has
// NoTruncate.
func (p *Pipe) Bind(name string, flags ...Flags) error {
	p.s().Loop().CheckAffinity("Pipe.Bind")
	return p.s().BindPath(name, noTruncate(flags))
}

// Listen starts listening (see stream.Stream.Listen); the pipe must be
// bound.
func (p *Pipe) Listen(backlog int, onConnection func(err error)) error {
	p.s().Loop().CheckAffinity("Pipe.Listen")
	return p.s().Listen(backlog, onConnection)
}

// Accept hands the pending connection to client, a handle from New. It
// returns EAGAIN when no connection is pending.
func (p *Pipe) Accept(client *Pipe) error {
	p.s().Loop().CheckAffinity("Pipe.Accept")
	return p.s().Accept(client.s())
}

// Connect connects to the socket at name; cb receives the outcome (ENOENT
// when nothing is there, ECONNREFUSED when nobody listens, EINVAL for a
// name too long with NoTruncate) in a later callback, never inside
// Connect. Long names are cut as in Bind.
func (p *Pipe) Connect(name string, cb stream.Callback, flags ...Flags) error {
	p.s().Loop().CheckAffinity("Pipe.Connect")
	return p.s().ConnectPath(name, noTruncate(flags), transport.Callback(cb))
}

// Chmod makes the bound socket file readable and/or writable by everyone.
// It fails with EINVAL for abstract names or an unbound handle.
func (p *Pipe) Chmod(mode Mode) error {
	p.s().Loop().CheckAffinity("Pipe.Chmod")
	return p.s().Chmod(transport.Mode(mode))
}

// SockName returns the name the socket is bound to ("" if none).
func (p *Pipe) SockName() (string, error) {
	p.s().Loop().CheckAffinity("Pipe.SockName")
	return p.s().PathName()
}

// PeerName returns the name of the socket at the other end ("" for an
// unbound peer, the usual case for clients).
func (p *Pipe) PeerName() (string, error) {
	p.s().Loop().CheckAffinity("Pipe.PeerName")
	return p.s().PeerPathName()
}

func noTruncate(flags []Flags) bool {
	for _, f := range flags {
		if f&NoTruncate != 0 {
			return true
		}
	}
	return false
}
