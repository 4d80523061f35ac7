//go:build windows

package server_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
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
