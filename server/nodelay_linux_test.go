package server_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// acceptedFd finds the descriptor of the connection whose peer port is
// peerPort (the accepted side of a loopback connection).
func acceptedFd(t *testing.T, peerPort int) int {
	for fd := 3; fd < 4096; fd++ {
		sa, err := unix.Getpeername(fd)
		if err != nil {
			continue
		}
		if in, ok := sa.(*unix.SockaddrInet4); ok && in.Port == peerPort {
			if ln, err := unix.Getsockname(fd); err == nil && ln.(*unix.SockaddrInet4).Port != peerPort {
				return fd
			}
		}
	}
	t.Fatalf("no accepted descriptor with peer port %d", peerPort)
	return -1
}

// listenerFd finds the listening descriptor bound to port.
func listenerFd(t *testing.T, port int) int {
	for fd := 3; fd < 4096; fd++ {
		if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v != 1 {
			continue
		}
		if sa, err := unix.Getsockname(fd); err == nil {
			if in, ok := sa.(*unix.SockaddrInet4); ok && in.Port == port {
				return fd
			}
		}
	}
	t.Fatalf("no listening descriptor on port %d", port)
	return -1
}

func noDelayOf(t *testing.T, fd int) int {
	v, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY)
	require.NoError(t, err)
	return v
}

// A NoDelay server sets TCP_NODELAY once, on its listening socket, and
// its accepted sockets inherit it (no setsockopt each); SetNoDelay(false)
// on one of them still reaches the OS.
func TestServerNoDelayInheritedFromListener(t *testing.T) {
	l, err := loop.New()
	require.NoError(t, err)
	var got []int
	srv := server.New(server.Options{Loop: l, NoDelay: true}, func(c *socket.Socket) {
		fd := acceptedFd(t, c.RemotePort())
		got = append(got, noDelayOf(t, fd))
		c.SetNoDelay(false)
		got = append(got, noDelayOf(t, fd))
		c.Destroy(nil)
	})
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() {
		got = append(got, noDelayOf(t, listenerFd(t, srv.Address().Port)))
		dial(t, l, "tcp", srv, "", func() { srv.Close(nil) })
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	require.NoError(t, l.Close())
	assert.Equal(t, []int{1, 1, 0}, got, "listener, accepted, accepted after SetNoDelay(false)")
}

// A server without NoDelay that takes over a NoDelay server's listener
// (ListenHandle) clears the TCP_NODELAY its accepted sockets inherit:
// Nagle's algorithm stays on by default, as in Node.
func TestListenHandleClearsInheritedNoDelay(t *testing.T) {
	l, err := loop.New()
	require.NoError(t, err)
	got := -1
	a := server.New(server.Options{Loop: l, NoDelay: true}, func(c *socket.Socket) { c.Destroy(nil) })
	b := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		got = noDelayOf(t, acceptedFd(t, c.RemotePort()))
		c.Destroy(nil)
	})
	require.NoError(t, a.ListenHost(0, "127.0.0.1", 0, func() {
		require.NoError(t, b.ListenHandle(a, func() {
			dial(t, l, "tcp", b, "", func() { b.Close(nil) })
		}))
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	a.Close(nil)
	require.NoError(t, l.Run(loop.RunDefault))
	require.NoError(t, l.Close())
	assert.Equal(t, 0, got)
}

// A listener handed over as a descriptor (ListenFD: what a server handle
// sent with SendHandle becomes) may carry TCP_NODELAY from a NoDelay
// server; a server without NoDelay clears it on the sockets it accepts,
// whose state says Nagle is on.
func TestListenFDOfNoDelayListenerClearsIt(t *testing.T) {
	l, err := loop.New()
	require.NoError(t, err)
	got := []int{}
	a := server.New(server.Options{Loop: l, NoDelay: true}, func(c *socket.Socket) { c.Destroy(nil) })
	b := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		fd := acceptedFd(t, c.RemotePort())
		got = append(got, noDelayOf(t, fd))
		c.SetNoDelay(true)
		got = append(got, noDelayOf(t, fd))
		c.Destroy(nil)
	})
	require.NoError(t, a.ListenHost(0, "127.0.0.1", 0, func() {
		dup, err := unix.Dup(listenerFd(t, a.Address().Port))
		require.NoError(t, err)
		a.Close(nil)
		require.NoError(t, b.ListenFD(dup, func() {
			dial(t, l, "tcp", b, "", func() { b.Close(nil) })
		}))
	}))
	require.NoError(t, l.Run(loop.RunDefault))
	require.NoError(t, l.Close())
	assert.Equal(t, []int{0, 1}, got, "accepted, accepted after SetNoDelay(true)")
}

// A NoDelay group server's sockets have TCP_NODELAY on every loop, those
// handed off from the first loop's listener (inherited) and, with
// BalanceReusePort, those the other loops accept on listeners of their own
// (set one by one); SetNoDelay(false) reaches the OS on each.
func TestGroupServerNoDelay(t *testing.T) {
	for _, bal := range []server.Balance{server.BalanceAcceptor, server.BalanceReusePort} {
		t.Run(fmt.Sprint(bal), func(t *testing.T) {
			g, err := loop.NewGroup(2)
			require.NoError(t, err)
			defer func() { assert.NoError(t, g.Close()) }()
			var mu sync.Mutex
			var got [][2]int
			srv := server.New(server.Options{Group: g, Balance: bal, NoDelay: true}, func(c *socket.Socket) {
				fd := acceptedFd(t, c.RemotePort())
				on := noDelayOf(t, fd)
				c.SetNoDelay(false)
				mu.Lock()
				got = append(got, [2]int{on, noDelayOf(t, fd)})
				mu.Unlock()
				c.Destroy(nil)
			})
			require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
			port := srv.Address().Port
			require.NoError(t, g.Start())
			const n = 8
			for i := 0; i < n; i++ {
				c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
				require.NoError(t, err)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, err = c.Read(make([]byte, 1)) // until the server destroys it
				assert.Error(t, err)
				c.Close()
			}
			onLoop(t, g.Loops()[0], func() { srv.Close(nil) })
			require.NoError(t, g.Wait())
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, n)
			for _, v := range got {
				assert.Equal(t, [2]int{1, 0}, v, "TCP_NODELAY accepted, then after SetNoDelay(false)")
			}
		})
	}
}
