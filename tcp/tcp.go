package tcp

import (
	"net/netip"
	"time"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/stream"
)

// BindFlags modify Bind.
type BindFlags uint8

const (
	// IPv6Only sets IPV6_V6ONLY, so an IPv6 socket does not accept IPv4.
	IPv6Only BindFlags = BindFlags(transport.IPv6Only)
	// ReusePort sets SO_REUSEPORT where the system has it, so several
	// sockets may bind the same address and port.
	ReusePort BindFlags = BindFlags(transport.ReusePort)
)

// TCP is a TCP socket handle. It has every stream.Stream method (read,
// write, shutdown, listen, close...).
type TCP struct {
	stream.Stream
}

func (t *TCP) s() *transport.Stream { return (*transport.Stream)(&t.Stream) }

// New creates a TCP handle on l; the socket is created by Bind, Connect or
// Listen.
func New(l *loop.Loop) *TCP {
	t := &TCP{}
	t.s().Init((*core.Loop)(l), transport.TCP)
	return t
}

// Open wraps an existing socket descriptor (made non-blocking and
// close-on-exec); the handle owns it from now on. A connected socket can
// read and write at once; a listening one can Listen. On error the
// descriptor is left open.
func Open(l *loop.Loop, fd int) (*TCP, error) {
	t := New(l)
	if err := t.s().Open(fd); err != nil {
		t.Close(nil)
		return nil, err
	}
	return t, nil
}

// Bind binds the socket to ip and port (port 0 lets the system choose).
// SO_REUSEADDR is always set; flags add IPV6_V6ONLY or SO_REUSEPORT. An
// IPv6 socket without IPv6Only accepts IPv4 too (dual stack).
func (t *TCP) Bind(ip netip.Addr, port int, flags BindFlags) error {
	t.s().Loop().CheckAffinity("TCP.Bind")
	return t.s().Bind(ip, port, transport.BindFlags(flags))
}

// Listen starts listening (see stream.Stream.Listen). A socket that was
// not bound is bound to an ephemeral port on all IPv6 and IPv4 addresses.
func (t *TCP) Listen(backlog int, onConnection func(err error)) error {
	t.s().Loop().CheckAffinity("TCP.Listen")
	return t.s().Listen(backlog, onConnection)
}

// Accept hands the pending connection to client, a handle from New; the
// options set on client before (SetNoDelay, SetKeepAlive) are applied. It
// returns EAGAIN when no connection is pending.
func (t *TCP) Accept(client *TCP) error {
	t.s().Loop().CheckAffinity("TCP.Accept")
	return t.s().Accept(client.s())
}

// Connect starts a non-blocking connect to ip:port; cb receives the
// outcome in a later callback, never inside Connect. Writes issued while
// connecting are queued and flushed once connected.
func (t *TCP) Connect(ip netip.Addr, port int, cb stream.Callback) error {
	t.s().Loop().CheckAffinity("TCP.Connect")
	return t.s().Connect(ip, port, transport.Callback(cb))
}

// SetNoDelay turns Nagle's algorithm off (true) or on (false). Before the
// socket exists the choice is remembered and applied when it is created.
func (t *TCP) SetNoDelay(enable bool) error {
	t.s().Loop().CheckAffinity("TCP.SetNoDelay")
	return t.s().SetNoDelay(enable)
}

// SetKeepAlive enables or disables TCP keep-alive. When enabled, probes
// start after initialDelay of idleness (whole seconds, at least 1), then
// every second, and the connection drops after 10 unanswered probes, as in
// libuv. Before the socket exists the choice is remembered.
func (t *TCP) SetKeepAlive(enable bool, initialDelay time.Duration) error {
	t.s().Loop().CheckAffinity("TCP.SetKeepAlive")
	return t.s().SetKeepAlive(enable, initialDelay)
}

// SockName returns the local address.
func (t *TCP) SockName() (netip.AddrPort, error) {
	t.s().Loop().CheckAffinity("TCP.SockName")
	return t.s().SockName()
}

// PeerName returns the remote address.
func (t *TCP) PeerName() (netip.AddrPort, error) {
	t.s().Loop().CheckAffinity("TCP.PeerName")
	return t.s().PeerName()
}

// CloseReset closes the handle with SO_LINGER set to zero, so the peer
// receives RST instead of FIN; cb runs in the closing phase. The handle is
// closed even when setting SO_LINGER fails; that error is returned.
func (t *TCP) CloseReset(cb func()) error {
	t.s().Loop().CheckAffinity("TCP.CloseReset")
	return t.s().CloseReset(cb)
}
