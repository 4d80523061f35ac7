//go:build !windows

package socket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// ADR-01: the remote address is empty while connecting, set from
// 'connect' on (RemotePort is the server's port) and still readable in
// 'close'.
func TestRemoteAddress(t *testing.T) {
	e := newEnv(t)
	type snap struct {
		addr, fam string
		port      int
	}
	var connecting, connected, closed snap
	var srvPort int
	e.listenN(1, nil, func(port int) {
		srvPort = port
		c := e.newSocket(socket.Options{})
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		connecting = snap{c.RemoteAddress(), c.RemoteFamily(), c.RemotePort()}
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			connected = snap{c.RemoteAddress(), c.RemoteFamily(), c.RemotePort()}
			c.End(nil)
		})
		c.OnClose(func(bool) { closed = snap{c.RemoteAddress(), c.RemoteFamily(), c.RemotePort()} })
	})
	e.run()
	assert.Equal(t, snap{}, connecting)
	want := snap{"127.0.0.1", "IPv4", srvPort}
	assert.Equal(t, want, connected)
	assert.Equal(t, want, closed)
}

// ADR-02: families are the strings "IPv4"/"IPv6" everywhere; a dual-stack
// server sees an IPv4 client as ::ffff:127.0.0.1 (IPv6) or 127.0.0.1.
func TestAddressFamilyStrings(t *testing.T) {
	e := newEnv(t)
	var got []string
	var srv *server.Server
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		srv.Close(nil)
		got = append(got, "srv-remote:"+s.RemoteAddress()+"/"+s.RemoteFamily(), "srv-local:"+s.LocalFamily())
		s.OnData(func([]byte) {})
	})
	require.NoError(t, srv.Listen(0, func() {
		a := srv.Address()
		got = append(got, "server:"+a.Address+"/"+a.Family)
		c := e.newSocket(socket.Options{})
		require.NoError(t, c.ConnectTCP(a.Port, "127.0.0.1"))
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			got = append(got, "cli-remote:"+c.RemoteFamily(), "cli-local:"+c.LocalFamily()+"/"+c.Address().Family)
			c.End(nil)
		})
	}))
	e.run()
	require.Len(t, got, 5)
	if got[0] == "server:::/IPv6" {
		assert.Contains(t, []string{"srv-remote:::ffff:127.0.0.1/IPv6", "srv-remote:127.0.0.1/IPv4"}, got[1])
		assert.Equal(t, "srv-local:IPv6", got[2])
	} else {
		assert.Equal(t, "server:0.0.0.0/IPv4", got[0])
	}
	assert.Equal(t, "cli-remote:IPv4", got[3])
	assert.Equal(t, "cli-local:IPv4/IPv4", got[4])
}

// ADR-03: an accepted socket's local address is the server's; the
// client's local port is the server side's remote port.
func TestLocalAddressOfAccepted(t *testing.T) {
	e := newEnv(t)
	var srvLocal socket.AddressInfo
	var srvRemotePort, cliLocalPort, port int
	e.listenN(1, func(s *socket.Socket) {
		srvLocal = socket.AddressInfo{Address: s.LocalAddress(), Family: s.LocalFamily(), Port: s.LocalPort()}
		srvRemotePort = s.RemotePort()
	}, func(p int) {
		port = p
		c := e.newSocket(socket.Options{})
		require.NoError(t, c.ConnectTCP(p, "127.0.0.1"))
		c.OnData(func([]byte) {})
		c.OnConnect(func() { cliLocalPort = c.LocalPort(); c.End(nil) })
	})
	e.run()
	assert.Equal(t, socket.AddressInfo{Address: "127.0.0.1", Family: "IPv4", Port: port}, srvLocal)
	assert.Equal(t, cliLocalPort, srvRemotePort)
	assert.NotZero(t, cliLocalPort)
}

// ADR-04: Address() is {address, family, port} for the local end and {}
// without a handle; a pipe server's address is its path; nil when not
// listening.
func TestAddressObject(t *testing.T) {
	e := newEnv(t)
	lone := e.newSocket(socket.Options{})
	assert.Equal(t, socket.AddressInfo{}, lone.Address())
	lone.Destroy(nil)
	var addr socket.AddressInfo
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { addr = c.Address(); c.End(nil) })
	})
	path := testutil.SockPath(t)
	ps := e.server(server.Options{}, nil)
	assert.Nil(t, ps.Address())
	require.NoError(t, ps.ListenPath(path, func() {
		assert.Equal(t, &socket.AddressInfo{Address: path}, ps.Address())
		ps.Close(nil)
	}))
	e.run()
	assert.Equal(t, "127.0.0.1", addr.Address)
	assert.Equal(t, "IPv4", addr.Family)
	assert.NotZero(t, addr.Port)
}
