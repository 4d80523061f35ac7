//go:build linux

package server_test

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestAcceptEMFILEShedsSilently: when accept runs out of descriptors the
// server sheds the pending connection with its spare descriptor (the
// client sees it closed) and, as Node's server, emits no 'error'; it keeps
// listening, and the next connection after descriptors free up is served.
func TestAcceptEMFILEShedsSilently(t *testing.T) {
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	restore := func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) }
	defer restore()

	e := newEnv(t)
	var s *server.Server
	var wg sync.WaitGroup
	defer wg.Wait()
	s = e.server(server.Options{}, func(c *socket.Socket) {
		e.log("connection")
		c.Destroy(nil)
		s.Close(nil)
	})
	s.OnError(func(err error) { e.log("error %v", err) })
	e.listen(s, func(port int) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
		// The lowest free descriptor becomes the limit: accepting c fails
		// with EMFILE.
		fd, err := syscall.Dup(0)
		require.NoError(t, err)
		syscall.Close(fd)
		low := lim
		low.Cur = uint64(fd)
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low))
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Off the loop: c is shed (it reads EOF), then descriptors
			// free up and the next client is served.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, rerr := c.Read(make([]byte, 1))
			assert.Error(t, rerr, "the shed client's connection was closed")
			c.Close()
			// The shed runs until the listen queue is empty: let it end
			// before the next client comes, or it is shed too.
			synced := make(chan struct{})
			e.l.Post(func() { close(synced) })
			<-synced
			restore()
			c2, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if assert.NoError(t, err) {
				// The server destroys it: wait for that, then close.
				c2.SetReadDeadline(time.Now().Add(10 * time.Second))
				c2.Read(make([]byte, 1))
				c2.Close()
			}
		}()
	})
	e.run()
	assert.Equal(t, []string{"connection"}, e.got())
	e.finish()
}
