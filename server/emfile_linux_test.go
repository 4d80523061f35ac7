//go:build linux

package server_test

import (
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// An accept error (EMFILE here) is the server's 'error' with syscall
// "accept", and the server keeps listening (Node's onconnection).
func TestAcceptErrorKeepsListening(t *testing.T) {
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	restore := func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) }
	defer restore()

	e := newEnv(t)
	var s *server.Server
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	s = e.server(server.Options{}, func(c *socket.Socket) {
		e.log("connection")
		c.Destroy(nil)
		s.Close(nil)
	})
	s.OnError(func(err error) {
		restore()
		ne := nlErr(t, err)
		e.log("error %s %s", ne.Syscall, ne.Code)
		assert.True(t, s.Listening())
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.Address().Port))
		require.NoError(t, err)
		conns = append(conns, c)
	})
	e.listen(s, func(port int) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
		conns = append(conns, c)
		// The lowest free descriptor becomes the limit: the next accept
		// fails with EMFILE.
		fd, err := syscall.Dup(0)
		require.NoError(t, err)
		syscall.Close(fd)
		low := lim
		low.Cur = uint64(fd)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
	})
	e.run()
	assert.Equal(t, []string{"error accept EMFILE", "connection"}, e.got())
	e.finish()
}
