//go:build !windows

package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// CON-01: 'connection' carries a socket whose Server is the server, and
// the connection count includes it until it is destroyed.
func TestConnectionEventAndCount(t *testing.T) {
	e := newEnv(t)
	var s *server.Server
	s = e.server(server.Options{}, func(c *socket.Socket) {
		e.log("connection")
		assert.Equal(t, any(s), c.Server())
		assert.Equal(t, 1, s.Connections())
		assert.Same(t, s, s.GetConnections(func(err error, n int) {
			assert.NoError(t, err)
			e.log("getConnections %d", n)
		}))
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnClose(func(bool) {
			e.log("server socket close, count %d", s.Connections())
			s.GetConnections(func(err error, n int) {
				e.log("getConnections %d", n)
				s.Close(nil)
			})
		})
	})
	e.listen(s, func(port int) {
		c := e.dial(port)
		c.OnData(func(b []byte) {
			e.log("client data %s", b)
			c.End(nil)
		})
		c.Write([]byte("ping"))
	})
	e.run()
	assert.Equal(t, []string{
		"connection", "getConnections 1", "client data ping",
		"server socket close, count 0", "getConnections 0",
	}, e.got())
	e.finish()
}

// CON-02: an accepted socket reads at once and keeps what arrives before a
// data listener exists; with PauseOnConnect it reads nothing until Resume.
func TestAcceptedReadsAtOnceOrPaused(t *testing.T) {
	for _, paused := range []bool{false, true} {
		name := "flowing"
		if paused {
			name = "pauseOnConnect"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var s *server.Server
			s = e.server(server.Options{PauseOnConnect: paused}, func(c *socket.Socket) {
				e.log("connection")
				// Flowing: wait until the socket has read everything
				// without a data listener. Paused: give the data time
				// to arrive, and check nothing was read.
				check := handle.NewTimer(e.l)
				require.NoError(t, check.Start(50*time.Millisecond, 5*time.Millisecond, func() {
					if paused {
						assert.Equal(t, int64(0), c.BytesRead(), "a paused socket must not read")
						assert.True(t, c.IsPaused())
						c.Resume()
					} else if c.BytesRead() < int64(len("early data")) {
						return
					}
					check.Close(nil)
					var got []byte
					c.OnData(func(b []byte) {
						got = append(got, b...)
						if string(got) == "early data" {
							e.log("data %s", got)
							c.End(nil)
						}
					})
				}))
				c.OnClose(func(bool) { s.Close(nil) })
			})
			e.listen(s, func(port int) {
				c := e.dial(port)
				c.Write([]byte("early "))
				c.OnConnect(func() { c.Write([]byte("data")) })
			})
			e.run()
			assert.Equal(t, []string{"connection", "data early data"}, e.got())
			e.finish()
		})
	}
}

// CON-03: at MaxConnections a new connection is closed straight after
// accept: no 'connection', the client gets no data and sees 'close';
// connections within the limit work.
func TestMaxConnections(t *testing.T) {
	e := newEnv(t)
	var s *server.Server
	var first *socket.Socket
	s = e.server(server.Options{}, func(c *socket.Socket) {
		e.log("connection")
		c.Write([]byte("welcome"))
		c.OnData(func(b []byte) { c.Write(b) })
	})
	s.SetMaxConnections(1)
	n, ok := s.MaxConnections()
	assert.Equal(t, 1, n)
	assert.True(t, ok)
	s.OnDrop(func(*server.DropInfo) { e.log("drop") })
	e.listen(s, func(port int) {
		first = e.dial(port)
		var got []byte
		first.OnData(func(b []byte) {
			got = append(got, b...)
			switch string(got) {
			case "welcome":
				second := e.dial(port)
				second.OnData(func(b []byte) { t.Errorf("dropped client got %q", b) })
				second.OnError(func(error) {}) // ECONNRESET is allowed
				second.OnClose(func(bool) {
					e.log("second close")
					first.Write([]byte(" back"))
				})
			case "welcome back":
				e.log("first echoed")
				first.End(nil)
			}
		})
		first.OnClose(func(bool) { s.Close(nil) })
	})
	e.run()
	assert.Equal(t, []string{"connection", "drop", "second close", "first echoed"}, e.got())
	e.finish()
}

// CON-04: 'drop' carries both addresses for TCP and nil for pipes;
// MaxConnections 0 drops every connection.
func TestDropInfo(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		e := newEnv(t)
		s := e.server(server.Options{}, func(c *socket.Socket) { t.Error("unexpected connection"); c.Destroy(nil) })
		s.SetMaxConnections(0)
		drops := 0
		var clients []*socket.Socket
		s.OnDrop(func(info *server.DropInfo) {
			drops++
			require.NotNil(t, info)
			port := s.Address().Port
			assert.Equal(t, "127.0.0.1", info.LocalAddress)
			assert.Equal(t, port, info.LocalPort)
			assert.Equal(t, "IPv4", info.LocalFamily)
			assert.Equal(t, "127.0.0.1", info.RemoteAddress)
			assert.Equal(t, "IPv4", info.RemoteFamily)
			ports := map[int]bool{}
			for _, c := range clients {
				ports[c.LocalPort()] = true
			}
			assert.True(t, ports[info.RemotePort], "remote port %d is one of the clients' %v", info.RemotePort, ports)
			e.log("drop %d", drops)
		})
		closed := 0
		e.listen(s, func(port int) {
			for i := 0; i < 3; i++ {
				c := e.dial(port)
				clients = append(clients, c)
				c.OnError(func(error) {})
				c.OnClose(func(bool) {
					closed++
					if closed == 3 {
						s.Close(nil)
					}
				})
			}
		})
		e.run()
		assert.Equal(t, []string{"drop 1", "drop 2", "drop 3"}, e.got())
		assert.Equal(t, 0, s.Connections())
		e.finish()
	})
	t.Run("pipe", func(t *testing.T) {
		e := newEnv(t)
		path := testutil.SockPath(t)
		s := e.server(server.Options{}, func(c *socket.Socket) { t.Error("unexpected connection"); c.Destroy(nil) })
		s.SetMaxConnections(0)
		s.OnDrop(func(info *server.DropInfo) {
			assert.Nil(t, info)
			e.log("drop")
		})
		require.NoError(t, s.ListenPath(path, func() {
			c := e.dialPath(path)
			c.OnError(func(error) {})
			c.OnClose(func(bool) { e.log("client close"); s.Close(nil) })
		}))
		e.run()
		assert.Equal(t, []string{"drop", "client close"}, e.got())
		e.finish()
	})
}

// CON-05: destroying an accepted socket lowers the count at once, so the
// next connection is accepted: MaxConnections 1, sent 0,1,2,3, received
// 0,2.
func TestDestroyFreesSlot(t *testing.T) {
	e := newEnv(t)
	var s *server.Server
	var conns []*socket.Socket
	var dial func(i int)
	s = e.server(server.Options{}, func(c *socket.Socket) {
		conns = append(conns, c)
		c.OnData(func(b []byte) {
			e.log("received %s", b)
			switch string(b) {
			case "0":
				dial(1)
			case "2":
				dial(3)
			}
		})
	})
	s.SetMaxConnections(1)
	drops := 0
	s.OnDrop(func(*server.DropInfo) {
		drops++
		e.log("drop")
		if drops == 1 {
			conns[0].Destroy(nil)
			e.log("count %d", s.Connections())
			dial(2)
			return
		}
		conns[1].Destroy(nil)
		s.Close(nil)
	})
	var port int
	dial = func(i int) {
		c := e.dial(port)
		c.OnError(func(error) {})
		c.Write([]byte{byte('0' + i)})
	}
	e.listen(s, func(p int) {
		port = p
		dial(0)
	})
	e.run()
	assert.Equal(t, []string{"received 0", "drop", "count 0", "received 2", "drop"}, e.got())
	e.finish()
}

// CON-06: a peer in the server's BlockList is closed silently after
// accept (no 'connection', no 'drop'); MaxConnections is checked first.
func TestBlockList(t *testing.T) {
	e := newEnv(t)
	bl := addr.NewBlockList()
	require.NoError(t, bl.AddAddress("127.0.0.1", "ipv4"))
	s := e.server(server.Options{BlockList: bl}, func(c *socket.Socket) { t.Error("blocked peer got a connection"); c.Destroy(nil) })
	s.OnDrop(func(*server.DropInfo) { e.log("drop") })
	e.listen(s, func(port int) {
		c := e.dial(port)
		c.OnData(func(b []byte) { t.Errorf("blocked client got %q", b) })
		c.OnError(func(error) {})
		c.OnClose(func(bool) {
			e.log("blocked client close")
			// At the limit, the drop wins over the block list.
			s.SetMaxConnections(0)
			c2 := e.dial(port)
			c2.OnError(func(error) {})
			c2.OnClose(func(bool) { e.log("second client close"); s.Close(nil) })
		})
	})
	e.run()
	assert.Equal(t, []string{"blocked client close", "drop", "second client close"}, e.got())
	e.finish()
}
