//go:build !windows

package netloop_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
)

// TestUnhandledErrorStopsRun: an 'error' with no listener is impossible
// to miss. A server listening on a busy port without OnError makes Run
// return the error, wrapped in a *loop.UnhandledError naming the server
// (Node would crash with it); before, Run returned nil and the program
// exited 0 with no message.
func TestUnhandledErrorStopsRun(t *testing.T) {
	l, err := loop.New()
	require.NoError(t, err)
	defer l.Close()
	first := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, nil)
	require.NoError(t, first.ListenHost(0, "127.0.0.1", 0))
	second := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, nil)
	require.NoError(t, second.ListenHost(first.Address().Port, "127.0.0.1", 0))

	err = l.Run(loop.RunDefault)
	require.Error(t, err)
	var ue *loop.UnhandledError
	require.True(t, errors.As(err, &ue), "%T %v", err, err)
	assert.True(t, errors.Is(err, syscall.EADDRINUSE))
	assert.True(t, strings.HasPrefix(ue.Source, "server"), ue.Source)
	assert.Contains(t, err.Error(), "unhandled 'error' event on server")

	first.Close(nil)
	require.NoError(t, l.Run(loop.RunDefault))
}

// TestUnhandledErrorHandler: with OnUnhandledError the loop's handler
// takes unhandled errors (Node's process.on('uncaughtException')) and Run
// goes on; a socket's error names the socket.
func TestUnhandledErrorHandler(t *testing.T) {
	l, err := loop.New()
	require.NoError(t, err)
	defer l.Close()
	var got []error
	l.OnUnhandledError(func(err error) { got = append(got, err) })
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, nil)
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	port := srv.Address().Port
	srv.Close(nil) // nothing listens there any more
	c, err := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: port, Host: "127.0.0.1"})
	require.NoError(t, err)
	_ = c
	require.NoError(t, l.Run(loop.RunDefault))
	require.Len(t, got, 1)
	assert.True(t, errors.Is(got[0], syscall.ECONNREFUSED), "%v", got[0])
	var ue *loop.UnhandledError
	require.True(t, errors.As(got[0], &ue))
	assert.True(t, strings.HasPrefix(ue.Source, "socket"), ue.Source)

	// Handled errors never reach it.
	got = nil
	c2, err := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: port, Host: "127.0.0.1"})
	require.NoError(t, err)
	handled := 0
	c2.OnError(func(error) { handled++ })
	require.NoError(t, l.Run(loop.RunDefault))
	assert.Equal(t, 1, handled)
	assert.Empty(t, got)
}
