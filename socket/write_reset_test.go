//go:build !windows

package socket_test

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestWriteAfterPeerResetReturnsFalse: once a write to a peer that reset
// the connection has failed, Write returns false (as Node's write returns
// false once the stream errored), so a producer that writes while Write
// returns true stops and returns to the loop; then the failed write's
// callback, 'error' (EPIPE or ECONNRESET) and 'close' follow, once each.
// Before the fix every Write returned true and such a producer never
// returned to the loop.
func TestWriteAfterPeerResetReturnsFalse(t *testing.T) {
	l := testutil.NewLoop(t)
	var conn *socket.Socket
	srv := server.New(server.Options{Loop: l, PauseOnConnect: true}, func(c *socket.Socket) { conn = c })
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return srv.Address() != nil })
	port := srv.Address().Port

	// A raw client connects and resets at once (SO_LINGER 0).
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return conn != nil })
	require.NoError(t, unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}))
	require.NoError(t, unix.Close(fd))
	time.Sleep(50 * time.Millisecond) // the RST reaches the server's socket

	var errs []error
	closes, cbErrs := 0, 0
	conn.OnError(func(err error) { errs = append(errs, err) })
	conn.OnClose(func(bool) { closes++ })
	chunk := make([]byte, 1024)
	writes := 0
	for writes < 100000 && conn.Write(chunk, func(err error) {
		if err != nil {
			cbErrs++
		}
	}) {
		writes++
	}
	assert.Less(t, writes, 10, "Write kept returning true after the connection was reset")
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return closes > 0 })
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], syscall.EPIPE) || errors.Is(errs[0], syscall.ECONNRESET), "%v", errs[0])
	assert.Equal(t, 1, closes)
	assert.Equal(t, writes+1, cbErrs, "every write's callback gets an error")
	srv.Close(nil)
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return !l.Alive() })
}
