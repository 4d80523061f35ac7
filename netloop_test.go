//go:build !windows

package netloop_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/loop"
)

// runLoop runs l until nothing referenced is left, failing (and closing
// every handle) after 10 s; then l must close cleanly.
func runLoop(t *testing.T, l *loop.Loop) {
	t.Helper()
	timedOut := false
	safety := handle.NewTimer(l)
	safety.Unref()
	require.NoError(t, safety.Start(10*time.Second, 0, func() {
		timedOut = true
		handle.Walk(l, func(h *handle.Handle) {
			if !h.IsClosing() {
				h.Close(nil)
			}
		})
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	if !safety.IsClosing() {
		safety.Close(nil)
	}
	require.NoError(t, l.Run(loop.RunDefault))
	assert.False(t, timedOut, "loop still alive after 10s")
}

func newLoop(t *testing.T) *loop.Loop {
	t.Helper()
	l, err := loop.New()
	require.NoError(t, err)
	return l
}

func TestCreateServerWithAndCreateConnection(t *testing.T) {
	l := newLoop(t)
	var events []string
	var srv *netloop.Server
	srv = netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, func(c *netloop.Socket) {
		events = append(events, "connection")
		assert.Equal(t, any(srv), c.Server())
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
		c.OnClose(func(bool) { srv.Close(nil) })
	})
	srv.OnError(func(err error) { t.Error(err) })
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() {
		c, err := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"},
			func() { events = append(events, "connect") })
		require.NoError(t, err)
		c.OnReady(func() { events = append(events, "ready") })
		c.Write([]byte("world!\r\n"))
		var got []byte
		c.OnData(func(b []byte) {
			got = append(got, b...)
			if string(got) == "hello\r\nworld!\r\n" {
				events = append(events, "data")
				c.End(nil)
			}
		})
		c.OnEnd(func() { events = append(events, "end") })
		c.OnClose(func(hadError bool) { events = append(events, fmt.Sprintf("close %v", hadError)) })
	}))
	runLoop(t, l)
	require.NoError(t, l.Close())
	assert.Equal(t, []string{"connect", "ready", "data", "end", "close false"}, filterOut(events, "connection"), "client events")
	assert.Contains(t, events, "connection")
}

// filterOut returns list without s (whose position relative to the
// client's events depends on scheduling).
func filterOut(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func TestCreateConnectionPath(t *testing.T) {
	l := newLoop(t)
	path := filepath.Join(t.TempDir(), "root.sock")
	var srv *netloop.Server
	srv = netloop.CreateServerWith(netloop.ServerOptions{Loop: l, AllowHalfOpen: true}, func(c *netloop.Socket) {
		c.OnEnd(func() { c.End([]byte("bye")) })
	})
	var got string
	require.NoError(t, srv.ListenPath(path, func() {
		c, err := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Path: path})
		require.NoError(t, err)
		c.End(nil)
		c.OnData(func(b []byte) { got += string(b) })
		c.OnClose(func(bool) { srv.Close(nil) })
	}))
	runLoop(t, l)
	require.NoError(t, l.Close())
	assert.Equal(t, "bye", got)
	_, err := os.Stat(path)
	assert.True(t, os.IsNotExist(err), "socket file removed on close")
}

func TestCreateConnectionArgumentErrors(t *testing.T) {
	l := newLoop(t)
	for _, tc := range []struct {
		o    netloop.ConnectionOptions
		code string
	}{
		{netloop.ConnectionOptions{}, errs.CodeMissingArgs},
		{netloop.ConnectionOptions{Port: 70000}, errs.CodeSocketBadPort},
		{netloop.ConnectionOptions{Port: -1}, errs.CodeSocketBadPort},
		{netloop.ConnectionOptions{Port: 80, LocalAddress: "not an ip"}, errs.CodeInvalidIPAddress},
	} {
		tc.o.Loop = l
		s, err := netloop.CreateConnection(tc.o)
		assert.Nil(t, s)
		require.Error(t, err)
		assert.Equal(t, tc.code, errs.CodeOf(err), "%+v: %v", tc.o, err)
	}
	runLoop(t, l)
	require.NoError(t, l.Close())
}

func TestCreateConnectionRefusedAndTimeout(t *testing.T) {
	l := newLoop(t)
	var events []string
	// A port nobody listens on: bind one, take its number, close it.
	probe := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, nil)
	require.NoError(t, probe.ListenHost(0, "127.0.0.1", 0, func() {
		port := probe.Address().Port
		probe.Close(func(error) {
			c, err := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: port, Host: "127.0.0.1"})
			require.NoError(t, err)
			c.OnError(func(err error) { events = append(events, "error "+errs.CodeOf(err)) })
			c.OnClose(func(hadError bool) { events = append(events, fmt.Sprintf("close %v", hadError)) })
		})
	}))
	// Timeout: an idle connection emits 'timeout' and stays open.
	var srv *netloop.Server
	srv = netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, nil)
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() {
		c, err := netloop.CreateConnection(netloop.ConnectionOptions{
			Loop: l, Port: srv.Address().Port, Host: "127.0.0.1", Timeout: 20 * time.Millisecond, NoDelay: true,
		})
		require.NoError(t, err)
		c.OnTimeout(func() {
			events = append(events, "timeout")
			c.Destroy(nil)
			srv.Close(nil)
		})
	}))
	runLoop(t, l)
	require.NoError(t, l.Close())
	assert.ElementsMatch(t, []string{"error ECONNREFUSED", "close true", "timeout"}, events)
}

// Connect and ConnectPath use the default loop, which Run drives.
func TestConnectOnDefaultLoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "default.sock")
	var lines []string
	tcpSrv := netloop.CreateServer(func(c *netloop.Socket) { c.End([]byte("tcp")) })
	pipeSrv := netloop.CreateServer(func(c *netloop.Socket) { c.End([]byte("pipe")) })
	assert.Same(t, netloop.DefaultLoop(), tcpSrv.Loop())
	require.NoError(t, tcpSrv.ListenHost(0, "127.0.0.1", 0, func() {
		c, err := netloop.Connect(tcpSrv.Address().Port, "127.0.0.1")
		require.NoError(t, err)
		c.OnData(func(b []byte) { lines = append(lines, string(b)) })
		c.OnClose(func(bool) { tcpSrv.Close(nil) })
	}))
	require.NoError(t, pipeSrv.ListenPath(path, func() {
		c, err := netloop.ConnectPath(path)
		require.NoError(t, err)
		c.OnData(func(b []byte) { lines = append(lines, string(b)) })
		c.OnClose(func(bool) { pipeSrv.Close(nil) })
	}))
	safety := handle.NewTimer(netloop.DefaultLoop())
	safety.Unref()
	require.NoError(t, safety.Start(10*time.Second, 0, func() {
		t.Error("default loop still alive after 10s")
		handle.Walk(netloop.DefaultLoop(), func(h *handle.Handle) {
			if !h.IsClosing() {
				h.Close(nil)
			}
		})
	}))
	require.NoError(t, netloop.Run())
	safety.Close(nil)
	require.NoError(t, netloop.Run())
	assert.ElementsMatch(t, []string{"tcp", "pipe"}, lines)
}

func TestIsIPAndBlockList(t *testing.T) {
	assert.Equal(t, 4, netloop.IsIP("127.0.0.1"))
	assert.Equal(t, 6, netloop.IsIP("::1"))
	assert.Equal(t, 0, netloop.IsIP("localhost"))
	assert.True(t, netloop.IsIPv4("10.0.0.1"))
	assert.False(t, netloop.IsIPv4("010.0.0.1"))
	assert.True(t, netloop.IsIPv6("fe80::1%eth0"))
	bl := netloop.NewBlockList()
	require.NoError(t, bl.AddAddress("1.2.3.4", "ipv4"))
	assert.True(t, strings.Contains(strings.Join(bl.Rules(), ","), "1.2.3.4"))
}

// ExampleCreateServer is the echo server of Node's documentation, with a
// client that reads the greeting and leaves.
func ExampleCreateServer() {
	var srv *netloop.Server
	srv = netloop.CreateServer(func(c *netloop.Socket) {
		// 'connection' listener.
		fmt.Println("client connected")
		c.OnEnd(func() {
			fmt.Println("client disconnected")
			srv.Close(nil)
		})
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
	})
	srv.OnError(func(err error) { panic(err) })
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		fmt.Println("server bound")
		client, _ := netloop.Connect(srv.Address().Port, "127.0.0.1")
		var got string
		client.OnData(func(data []byte) {
			got += string(data)
			if got == "hello\r\n" {
				fmt.Print(strings.ReplaceAll(got, "\r", ""))
				client.End(nil)
			}
		})
	})
	netloop.Run()
	// Output:
	// server bound
	// client connected
	// hello
	// client disconnected
}

// ExampleCreateConnection is the client of Node's documentation, on its
// own loop, against an echo server.
func ExampleCreateConnection() {
	l, _ := loop.New()
	defer l.Close()
	var srv *netloop.Server
	srv = netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, func(c *netloop.Socket) {
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
	})
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"}, func() {
			// 'connect' listener.
			fmt.Println("connected to server!")
		})
		client.Write([]byte("world!\r\n"))
		var got string
		client.OnData(func(data []byte) {
			got += string(data)
			if got == "hello\r\nworld!\r\n" {
				fmt.Print(strings.ReplaceAll(got, "\r", ""))
				client.End(nil)
			}
		})
		client.OnEnd(func() { fmt.Println("disconnected from server") })
		client.OnClose(func(bool) { srv.Close(nil) })
	})
	l.Run(loop.RunDefault)
	// Output:
	// connected to server!
	// hello
	// world!
	// disconnected from server
}
