//go:build windows

package server_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// Node-level IPC on Windows: Server.ListenPath and Socket.ConnectPath on
// named pipes (run under Wine by make wine-test).

var winPipeSeq atomic.Int32

func winPipeName() string {
	return fmt.Sprintf(`\\.\pipe\netloop-server-test-%d-%d`, os.Getpid(), winPipeSeq.Add(1))
}

// A client Socket sends 1 MiB to an echo server over a named pipe, gets
// it all back, and ends. A named pipe cannot be half-closed, so, as with
// libuv, the client takes its side to have ended once its read has found
// nothing for a while after end(): its 'end' and 'close' come first, and
// the server sees EOF when the client's handle closes ('end', then its
// own 'close'). 'finish' precedes the client's 'end'. The 1 MiB write is
// past the high-water mark: Write returns false and 'drain' follows.
func TestWindowsPipeEchoEndCloseOrder(t *testing.T) {
	l := testutil.NewLoop(t)
	name := winPipeName()
	var ev testutil.Events
	srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		ev.Add("server connection")
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnEnd(func() { ev.Add("server end") })
		c.OnClose(func(hadError bool) { ev.Add(fmt.Sprintf("server close %v", hadError)) })
		c.OnError(func(err error) { t.Errorf("server socket: %v", err) })
	})
	srv.OnError(func(err error) { t.Errorf("server: %v", err) })
	listening := false
	require.NoError(t, srv.ListenPath(name, func() { listening = true }))
	require.NotNil(t, srv.Address())
	assert.Equal(t, name, srv.Address().Address)
	testutil.RunUntil(t, l, winTimeout, func() bool { return listening })

	data := make([]byte, 1<<20)
	rand.Read(data)
	c, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	var got []byte
	wrote := true
	drains := 0
	c.OnConnect(func() {
		ev.Add("client connect")
		wrote = c.Write(data)
	})
	c.OnDrain(func() { drains++ })
	c.OnData(func(b []byte) {
		got = append(got, b...)
		if len(got) == len(data) {
			ev.Add("client has echo")
			c.End(nil)
		}
	})
	c.OnFinish(func() { ev.Add("client finish") })
	c.OnEnd(func() { ev.Add("client end") })
	c.OnClose(func(hadError bool) { ev.Add(fmt.Sprintf("client close %v", hadError)) })
	c.OnError(func(err error) { t.Errorf("client: %v", err) })
	require.NoError(t, c.ConnectPath(name))
	testutil.RunUntil(t, l, winTimeout, func() bool {
		e := ev.Get()
		return len(e) > 0 && e[len(e)-1] == "server close false"
	})
	assert.True(t, bytes.Equal(data, got), "echo differs (%d of %d bytes)", len(got), len(data))
	assert.False(t, wrote, "Write of 1 MiB returned true: past the high-water mark it must say wait")
	assert.Equal(t, 1, drains, "'drain' after the queue emptied")
	client := testutil.Without(ev.Get(), "server connection")
	client = testutil.Without(client, "server end")
	client = testutil.Without(client, "server close false")
	assert.Equal(t, []string{"client connect", "client has echo", "client finish", "client end", "client close false"}, client)
	e := ev.Get()
	idx := func(s string) int {
		for i, x := range e {
			if x == s {
				return i
			}
		}
		t.Fatalf("no %q in %v", s, e)
		return -1
	}
	assert.Less(t, idx("client end"), idx("server end"), "%v", e)
	assert.Equal(t, "server close false", e[len(e)-1])
	assert.EqualValues(t, len(data), c.BytesRead())
	assert.EqualValues(t, len(data), c.BytesWritten())
	closed := false
	srv.Close(func(error) { closed = true })
	testutil.RunUntil(t, l, winTimeout, func() bool { return closed })
}

// Connecting to a pipe nobody serves emits 'error' ENOENT naming the pipe,
// then 'close' with hadError, as Node does.
func TestWindowsPipeConnectMissing(t *testing.T) {
	l := testutil.NewLoop(t)
	name := winPipeName()
	c, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	var got error
	hadError := false
	closed := false
	c.OnError(func(err error) { got = err })
	c.OnClose(func(he bool) { hadError, closed = he, true })
	require.NoError(t, c.ConnectPath(name))
	testutil.RunUntil(t, l, winTimeout, func() bool { return closed })
	require.Error(t, got)
	assert.ErrorIs(t, got, syscall.ENOENT)
	assert.Equal(t, "ENOENT", testutil.AsError(t, got).Code)
	assert.Contains(t, got.Error(), name)
	assert.True(t, hadError)
}

// Listening on a name that is not a pipe name fails with EACCES (libuv's
// translation of the CreateNamedPipe error), on the next tick.
func TestWindowsPipeListenBadName(t *testing.T) {
	l := testutil.NewLoop(t)
	srv := server.New(server.Options{Loop: l}, nil)
	var got error
	srv.OnError(func(err error) { got = err })
	require.NoError(t, srv.ListenPath(`C:\netloop.sock`))
	testutil.RunUntil(t, l, winTimeout, func() bool { return got != nil })
	assert.ErrorIs(t, got, syscall.EACCES)
	assert.False(t, srv.Listening())
}

// A server on a group of loops refuses a named pipe with ENOTSUP: a pipe
// accepted on one loop's completion port cannot move to another loop.
func TestWindowsPipeGroupServerRefused(t *testing.T) {
	g, err := loop.NewGroup(2)
	require.NoError(t, err)
	defer func() { assert.NoError(t, g.Close()) }()
	srv := server.New(server.Options{Group: g}, nil)
	errc := make(chan error, 1)
	srv.OnError(func(err error) { errc <- err })
	require.NoError(t, srv.ListenPath(winPipeName()))
	require.NoError(t, g.Start())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, syscall.ENOTSUP)
	case <-time.After(winTimeout):
		t.Error("no 'error' for a named pipe on a group")
	}
	assert.NoError(t, g.Wait()) // nothing listens: the loops end
}
