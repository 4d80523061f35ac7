//go:build !windows

package socket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// ADR-01: the remote address is empty while connecting, set from
// 'connect' on (RemotePort is the server's port) and still readable in
// 'close'.
func TestADR01_RemoteAddress(t *testing.T) {
	e := newEnv(t)
	type snap struct {
		addr, fam string
		port      int
	}
	var connecting, connected, closed snap
	var srvPort int
	var srv *server.Server
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		srv.Close(nil)
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, func(port int) {
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
func TestADR02_FamilyStrings(t *testing.T) {
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
func TestADR03_LocalAddressOfAccepted(t *testing.T) {
	e := newEnv(t)
	var srvLocal socket.AddressInfo
	var srvRemotePort, cliLocalPort, port int
	var srv *server.Server
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		srv.Close(nil)
		srvLocal = socket.AddressInfo{Address: s.LocalAddress(), Family: s.LocalFamily(), Port: s.LocalPort()}
		srvRemotePort = s.RemotePort()
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, func(p int) {
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
func TestADR04_AddressObject(t *testing.T) {
	e := newEnv(t)
	lone := e.newSocket(socket.Options{})
	assert.Equal(t, socket.AddressInfo{}, lone.Address())
	lone.Destroy(nil)
	var addr socket.AddressInfo
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { addr = c.Address(); c.End(nil) })
	})
	path := sockPath(t)
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

// ADR-05: ReadyState is opening / open / readOnly / writeOnly / closed.
func TestADR05_ReadyState(t *testing.T) {
	e := newEnv(t)
	var cli, srv []string
	e.pair(server.Options{AllowHalfOpen: true}, socket.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.OnEnd(func() {
			e.l.NextTick(func() {
				srv = append(srv, s.ReadyState())
				s.End(nil)
			})
		})
		s.OnClose(func(bool) { srv = append(srv, s.ReadyState()) })
	}, func(c *socket.Socket) {
		cli = append(cli, c.ReadyState())
		c.End(nil) // End while connecting: still "opening"
		cli = append(cli, c.ReadyState())
		c.OnData(func([]byte) {})
		c.OnFinish(func() { cli = append(cli, c.ReadyState()) })
		c.OnClose(func(bool) { cli = append(cli, c.ReadyState()) })
	})
	fresh := e.newSocket(socket.Options{})
	var open string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { open = c.ReadyState(); c.End(nil) })
	})
	freshState := fresh.ReadyState()
	fresh.Destroy(nil)
	e.run()
	assert.Equal(t, []string{"opening", "opening", "readOnly", "closed"}, cli)
	assert.Equal(t, []string{"writeOnly", "closed"}, srv)
	assert.Equal(t, "open", open)
	assert.Equal(t, "open", freshState)
}

// ADR-06: Pending is true before and while connecting, false once
// connected, true after close; Connecting only between connect and its
// outcome.
func TestADR06_PendingAndConnecting(t *testing.T) {
	e := newEnv(t)
	var got []bool
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		got = append(got, c.Pending(), c.Connecting())
		c.OnData(func([]byte) {})
		c.OnConnect(func() { got = append(got, c.Pending(), c.Connecting()); c.End(nil) })
		c.OnClose(func(bool) { got = append(got, c.Pending(), c.Connecting()) })
	})
	fresh := e.newSocket(socket.Options{})
	before := []bool{fresh.Pending(), fresh.Connecting()}
	fresh.Destroy(nil)
	e.run()
	assert.Equal(t, []bool{true, false}, before)
	assert.Equal(t, []bool{true, true, false, false, true, false}, got)
}

// ADR-07: BytesRead grows with every chunk, equals the total at 'end' and
// survives 'close'.
func TestADR07_BytesRead(t *testing.T) {
	e := newEnv(t)
	const total = 1 << 20
	var atEnd, atClose int64
	monotonic := true
	var last int64
	sum := 0
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.End(make([]byte, total))
	}, func(c *socket.Socket) {
		c.OnData(func(b []byte) {
			sum += len(b)
			if c.BytesRead() <= last || c.BytesRead() != int64(sum) {
				monotonic = false
			}
			last = c.BytesRead()
		})
		c.OnEnd(func() { atEnd = c.BytesRead() })
		c.OnClose(func(bool) { atClose = c.BytesRead() })
	})
	e.run()
	assert.True(t, monotonic)
	assert.Equal(t, int64(total), atEnd)
	assert.Equal(t, int64(total), atClose)
}

// ADR-08: BytesWritten counts bytes accepted by Write, queued ones too
// (before connect), by encoded length ("twø" is 4 in utf8); it equals N
// right after End(N bytes), stays after close and resets on reconnect.
func TestADR08_BytesWritten(t *testing.T) {
	e := newEnv(t)
	var got []int64
	var srv *server.Server
	conns := 0
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		if conns++; conns == 2 {
			srv.Close(nil)
		}
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(socket.Options{})
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		c.WriteString("twø", "utf8")
		got = append(got, c.BytesWritten()) // 4, queued
		c.End([]byte("12345"))
		got = append(got, c.BytesWritten()) // 9
		c.OnData(func([]byte) {})
		c.OnFinish(func() { got = append(got, c.BytesWritten()) })
		round := 0
		c.OnClose(func(bool) {
			got = append(got, c.BytesWritten())
			if round++; round == 1 {
				require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
				got = append(got, c.BytesWritten())
				c.End(nil)
			}
		})
	})
	e.run()
	assert.Equal(t, []int64{4, 9, 9, 9, 0, 0, 0}, got)
}

// ADR-09: BufferSize counts queued bytes (i after i one-byte writes before
// connect) and is 0 at 'finish'; a fresh socket is readable and writable.
func TestADR09_BufferSize(t *testing.T) {
	e := newEnv(t)
	var sizes []int
	var atFinish = -1
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		for i := 1; i <= 5; i++ {
			c.Write([]byte("a"))
			sizes = append(sizes, c.BufferSize())
		}
		c.OnData(func([]byte) {})
		c.End(nil)
		c.OnFinish(func() { atFinish = c.BufferSize() })
	})
	fresh := e.newSocket(socket.Options{})
	assert.True(t, fresh.Readable())
	assert.True(t, fresh.Writable())
	fresh.Destroy(nil)
	e.run()
	assert.Equal(t, []int{1, 2, 3, 4, 5}, sizes)
	assert.Equal(t, 0, atFinish)
}
