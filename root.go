package netloop

import (
	"context"
	"time"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// Socket is Node's net.Socket; see package socket.
type Socket = socket.Socket

// Server is Node's net.Server; see package server.
type Server = server.Server

// SocketOptions configure NewSocket (Node's new net.Socket(options)).
type SocketOptions = socket.Options

// ServerOptions configure CreateServerWith (Node's createServer options).
type ServerOptions = server.Options

// ListenOptions are Node's server.listen(options).
type ListenOptions = server.ListenOptions

// ConnectOptions are Node's socket.connect(options).
type ConnectOptions = socket.ConnectOptions

// AddressInfo is Node's { address, family, port }.
type AddressInfo = socket.AddressInfo

// AggregateError is the 'error' of a Happy Eyeballs connect in which every
// attempt failed; see socket.AggregateError.
type AggregateError = socket.AggregateError

// DropInfo is the argument of a server's 'drop' event.
type DropInfo = server.DropInfo

// OnRead is Node's onread socket option.
type OnRead = socket.OnRead

// BlockList is Node's net.BlockList.
type BlockList = addr.BlockList

// SocketAddress is Node's net.SocketAddress.
type SocketAddress = addr.SocketAddress

// DefaultLoop returns the loop that servers and sockets use by default.
func DefaultLoop() *loop.Loop { return loop.Default() }

// Run runs the default loop until no referenced handle, request or
// callback is left (what a Node process does before exiting). An 'error'
// event that no listener handled stops it: Run returns that error as a
// *loop.UnhandledError (see loop.Loop.OnUnhandledError).
func Run() error { return loop.Default().Run(loop.RunDefault) }

// CreateServer creates a server with Node's default options;
// connectionListener, if not nil, receives every accepted socket.
func CreateServer(connectionListener func(*Socket)) *Server {
	return server.New(server.Options{}, connectionListener)
}

// CreateServerWith creates a server with options.
func CreateServerWith(opts ServerOptions, connectionListener func(*Socket)) *Server {
	return server.New(opts, connectionListener)
}

// NewSocket creates a socket that is not connected yet (or wraps an fd).
func NewSocket(opts SocketOptions) (*Socket, error) { return socket.New(opts) }

// ConnectionOptions combine the socket and connect options of Node's
// net.createConnection(options).
type ConnectionOptions struct {
	// Loop runs the socket; nil means the default loop.
	Loop *loop.Loop
	// AllowHalfOpen keeps the writable side open after the peer's FIN,
	// until End is called.
	AllowHalfOpen bool
	// Context plays Node's AbortSignal: when it is done, the socket is
	// destroyed with an AbortError.
	Context context.Context
	// OnRead delivers incoming bytes into a caller-owned buffer instead of
	// 'data' events.
	OnRead *OnRead
	// HighWaterMark is the writable high-water mark in bytes (0: 64 KiB).
	HighWaterMark int
	// BlockList refuses connections to the addresses it matches.
	BlockList *BlockList

	// Port to connect to (TCP); 0 counts as not given unless PortGiven.
	Port int
	// PortGiven says Port was given even when it is 0 (Node's {port: 0}).
	PortGiven bool
	// Host to connect to; "" means "localhost".
	Host string
	// Path connects to a Unix-domain socket instead of TCP (cut to
	// sun_path's size if longer, as Node does).
	Path string
	// StrictPath refuses a Path longer than sun_path with EINVAL instead.
	StrictPath bool
	// LocalAddress binds the socket to this address before connecting.
	LocalAddress string
	// LocalPort binds the socket to this port before connecting.
	LocalPort int
	// Family restricts name resolution to 4 or 6; 0 takes either.
	Family int
	// Lookup replaces DNS resolution.
	Lookup socket.LookupFunc
	// NoDelay disables Nagle's algorithm once connected.
	NoDelay bool
	// KeepAlive enables TCP keep-alive once connected.
	KeepAlive bool
	// KeepAliveInitialDelay is the idleness before the first keep-alive
	// probe (whole seconds, at least 1).
	KeepAliveInitialDelay time.Duration
	// Timeout arms SetTimeout before connecting.
	Timeout time.Duration
	// NoAutoSelectFamily turns Happy Eyeballs off (Node's
	// autoSelectFamily: false); it is on by default, as in Node 20+.
	NoAutoSelectFamily bool
	// AutoSelectFamilyAttemptTimeout bounds each Happy Eyeballs attempt
	// (0 = 250 ms; see socket.ConnectOptions).
	AutoSelectFamilyAttemptTimeout time.Duration
}

// CreateConnection creates a socket and connects it (Node's
// net.createConnection(options[, connectListener])). Argument errors are
// returned; connection errors arrive as the socket's 'error'.
func CreateConnection(o ConnectionOptions, connectListener ...func()) (*Socket, error) {
	s, err := socket.New(socket.Options{
		Loop: o.Loop, AllowHalfOpen: o.AllowHalfOpen, Context: o.Context,
		OnRead: o.OnRead, HighWaterMark: o.HighWaterMark, BlockList: o.BlockList,
	})
	if err != nil {
		return nil, err
	}
	err = s.Connect(socket.ConnectOptions{
		Port: o.Port, PortGiven: o.PortGiven, Host: o.Host, Path: o.Path, StrictPath: o.StrictPath, LocalAddress: o.LocalAddress,
		LocalPort: o.LocalPort, Family: o.Family, Lookup: o.Lookup, NoDelay: o.NoDelay,
		KeepAlive: o.KeepAlive, KeepAliveInitialDelay: o.KeepAliveInitialDelay, Timeout: o.Timeout,
		NoAutoSelectFamily: o.NoAutoSelectFamily, AutoSelectFamilyAttemptTimeout: o.AutoSelectFamilyAttemptTimeout,
	}, connectListener...)
	if err != nil {
		s.Destroy(nil) // releases what New set up (the Context watch)
		return nil, err
	}
	return s, nil
}

// Connect connects to port on host ("" = localhost) on the default loop:
// Node's net.connect(port[, host][, connectListener]).
func Connect(port int, host string, connectListener ...func()) (*Socket, error) {
	s, err := socket.New(socket.Options{})
	if err != nil {
		return nil, err
	}
	if err := s.ConnectTCP(port, host, connectListener...); err != nil {
		return nil, err
	}
	return s, nil
}

// ConnectPath connects to the Unix-domain socket at path on the default
// loop: Node's net.connect(path[, connectListener]).
func ConnectPath(path string, connectListener ...func()) (*Socket, error) {
	s, err := socket.New(socket.Options{})
	if err != nil {
		return nil, err
	}
	if err := s.ConnectPath(path, connectListener...); err != nil {
		return nil, err
	}
	return s, nil
}

// IsIP returns 4 or 6 for an IPv4 or IPv6 address and 0 otherwise.
func IsIP(s string) int { return addr.IsIP(s) }

// IsIPv4 reports whether s is an IPv4 address in Node's strict form.
func IsIPv4(s string) bool { return addr.IsIPv4(s) }

// IsIPv6 reports whether s is an IPv6 address.
func IsIPv6(s string) bool { return addr.IsIPv6(s) }

// NewBlockList creates an empty BlockList.
func NewBlockList() *BlockList { return addr.NewBlockList() }
