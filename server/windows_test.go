//go:build windows

package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// The Node-level API on Windows (run under Wine by make test): the same
// behaviours the Unix suite checks in depth, here end to end over Winsock.

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }

const winTimeout = 20 * time.Second

// An echo server serves concurrent Go clients: every byte comes back in
// order, each client's half-close ends the server's side ('end', then the
// automatic end), Connections counts them, and Close emits 'close' once
// the last one is gone.
func TestWindowsEchoServer(t *testing.T) {
	l := testutil.NewLoop(t)
	var ends, closes int
	srv := server.New(server.Options{Loop: l, NoDelay: true}, func(c *socket.Socket) {
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnEnd(func() { ends++ })
		c.OnClose(func(bool) { closes++ })
		c.OnError(func(err error) { t.Errorf("server socket: %v", err) })
	})
	srv.OnError(func(err error) { t.Errorf("server: %v", err) })
	listening := false
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() { listening = true }))
	testutil.RunUntil(t, l, winTimeout, func() bool { return listening })
	port := srv.Address().Port

	const clients = 4
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- echoClient(port, 256<<10, "")
		}()
	}
	done := 0
	testutil.RunUntil(t, l, winTimeout, func() bool {
		for {
			select {
			case err := <-errs:
				assert.NoError(t, err)
				done++
				continue
			default:
			}
			return done == clients && closes == clients
		}
	})
	wg.Wait()
	assert.Equal(t, clients, ends)
	assert.Zero(t, srv.Connections())
	closed := false
	srv.OnClose(func() { closed = true })
	srv.Close(nil)
	testutil.RunUntil(t, l, winTimeout, func() bool { return closed })
}

// A client Socket connects to a Go listener, gets 'connect', exchanges
// data, and after the peer closes sees 'end' then 'close'.
func TestWindowsClientSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 5)
		io.ReadFull(c, buf)
		c.Write(append([]byte("re:"), buf...))
		c.Close()
	}()
	l := testutil.NewLoop(t)
	s, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	var events []string
	var got []byte
	s.OnConnect(func() { events = append(events, "connect") })
	s.OnData(func(b []byte) { got = append(got, b...) })
	s.OnEnd(func() { events = append(events, "end") })
	s.OnClose(func(hadError bool) { events = append(events, fmt.Sprintf("close %v", hadError)) })
	s.OnError(func(err error) { events = append(events, "error "+err.Error()) })
	require.NoError(t, s.ConnectTCP(ln.Addr().(*net.TCPAddr).Port, "127.0.0.1"))
	s.Write([]byte("hello"))
	testutil.RunUntil(t, l, winTimeout, func() bool { return len(events) > 0 && events[len(events)-1] == "close false" })
	assert.Equal(t, []string{"connect", "end", "close false"}, events)
	assert.Equal(t, "re:hello", string(got))
	assert.EqualValues(t, 5, s.BytesWritten())
	assert.EqualValues(t, 8, s.BytesRead())
}

// Connecting where nobody listens emits 'error' with Node's
// ECONNREFUSED, then 'close' with hadError.
func TestWindowsConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	l := testutil.NewLoop(t)
	s, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	var code string
	hadError := false
	s.OnError(func(err error) { code = testutil.AsError(t, err).Code })
	s.OnClose(func(he bool) { hadError = he })
	require.NoError(t, s.ConnectTCP(port, "127.0.0.1"))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, "ECONNREFUSED", code)
	assert.True(t, hadError)
}

// Close while a connection is open: the server stops accepting at once (a
// new connect is refused), the open connection keeps being served, and
// 'close' comes only once that connection is destroyed: as in Node, the
// server's 'close' (a next tick after the count drops) comes before the
// connection's own 'close' (the handle's close callback).
func TestWindowsServerCloseWaitsForConnections(t *testing.T) {
	l := testutil.NewLoop(t)
	var connClosed, srvClosed bool
	var order []string
	srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnClose(func(bool) { connClosed = true; order = append(order, "connection close") })
		c.OnError(func(err error) { t.Errorf("server socket: %v", err) })
	})
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	testutil.RunUntil(t, l, winTimeout, func() bool { return srv.Address() != nil })
	port := srv.Address().Port

	type dialed struct {
		c   net.Conn
		err error
	}
	dials := make(chan dialed, 1)
	go func() {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		dials <- dialed{c, err}
	}()
	var d dialed
	testutil.RunUntil(t, l, winTimeout, func() bool {
		select {
		case d = <-dials:
		default:
		}
		return d.c != nil || d.err != nil
	})
	require.NoError(t, d.err)
	testutil.RunUntil(t, l, winTimeout, func() bool { return srv.Connections() == 1 })
	srv.Close(func(err error) { srvClosed = true; order = append(order, "server close") })
	require.NoError(t, l.Run(loop.RunNoWait))

	// No longer listening; the open connection still echoes.
	_, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	assert.Error(t, err, "connect after Close")
	echoed := make(chan error, 1)
	go func() {
		d.c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := d.c.Write([]byte("still here")); err != nil {
			echoed <- err
			return
		}
		buf := make([]byte, 10)
		_, err := io.ReadFull(d.c, buf)
		if err == nil && string(buf) != "still here" {
			err = fmt.Errorf("echo %q", buf)
		}
		echoed <- err
	}()
	assert.NoError(t, testutil.Receive(t, l, winTimeout, echoed))
	assert.False(t, srvClosed, "'close' before the last connection ended")

	require.NoError(t, d.c.Close())
	testutil.RunUntil(t, l, winTimeout, func() bool { return srvClosed && connClosed })
	assert.Equal(t, []string{"server close", "connection close"}, order)
}

// Pause stops 'data' while the peer keeps sending (TCP's window then
// pushes back on it); Resume delivers everything, in order.
func TestWindowsPauseResume(t *testing.T) {
	l := testutil.NewLoop(t)
	const size = 4 << 20
	var conn *socket.Socket
	var got []byte
	srv := server.New(server.Options{Loop: l, PauseOnConnect: true}, func(c *socket.Socket) {
		conn = c
		c.OnData(func(b []byte) { got = append(got, b...) })
		c.OnError(func(err error) { t.Errorf("server socket: %v", err) })
	})
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	testutil.RunUntil(t, l, winTimeout, func() bool { return srv.Address() != nil })
	port := srv.Address().Port

	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var sent atomic.Int64
	wrote := make(chan error, 1)
	go func() {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err != nil {
			wrote <- err
			return
		}
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(15 * time.Second))
		for off := 0; off < size; off += 64 << 10 {
			n, err := c.Write(data[off : off+64<<10])
			sent.Add(int64(n))
			if err != nil {
				wrote <- err
				return
			}
		}
		wrote <- c.(*net.TCPConn).CloseWrite()
	}()
	testutil.RunUntil(t, l, winTimeout, func() bool { return conn != nil })
	// Paused: the sender stalls once the socket buffers are full, and no
	// 'data' is emitted meanwhile.
	stalled := int64(-1)
	testutil.RunUntil(t, l, winTimeout, func() bool {
		n := sent.Load()
		time.Sleep(100 * time.Millisecond)
		if sent.Load() == n && n > 0 {
			stalled = n
			return true
		}
		return false
	})
	assert.Less(t, stalled, int64(size), "the sender never stalled while paused")
	assert.Empty(t, got, "'data' while paused")
	assert.True(t, conn.IsPaused())

	conn.Resume()
	assert.NoError(t, testutil.Receive(t, l, winTimeout, wrote))
	testutil.RunUntil(t, l, winTimeout, func() bool { return len(got) == size })
	assert.True(t, bytes.Equal(data, got), "resumed data differs")
	conn.Destroy(nil)
	srv.Close(nil)
	testutil.RunAll(t, l, winTimeout)
}
