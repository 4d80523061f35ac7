//go:build !windows

package server_test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// onLoop runs fn on l and waits for it (server methods are loop-affine).
func onLoop(t *testing.T, l *loop.Loop, fn func()) {
	t.Helper()
	done := make(chan struct{})
	require.NoError(t, l.Post(func() { fn(); close(done) }))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("loop did not run the function")
	}
}

// waitGroup waits for the group's loops to end after its servers closed.
func waitGroup(t *testing.T, g *loop.Group) {
	t.Helper()
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	select {
	case err := <-waited:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		g.Stop()
		t.Fatal("the group's loops did not end after the server closed")
	}
}

// TestGroupServerSpreadsConnections: a server on a loop group hands each
// accepted connection to the least loaded loop, where the Socket lives
// and its 'connection' listener runs; Connections counts every loop;
// Close emits 'close' once, on the first loop, after the last connection
// on any loop closed; then the group's loops end by themselves.
func TestGroupServerSpreadsConnections(t *testing.T) {
	g, err := loop.NewGroup(2)
	require.NoError(t, err)
	defer func() { assert.NoError(t, g.Close()) }()
	loops := g.Loops()

	var mu sync.Mutex
	perLoop := map[*loop.Loop]int{}
	var wrongLoop atomic.Int32
	srv := server.New(server.Options{Group: g}, func(c *socket.Socket) {
		mu.Lock()
		perLoop[c.Loop()]++
		mu.Unlock()
		c.OnError(func(error) {})
		c.Pipe(c) // echo, on the socket's own loop
	})
	var closes atomic.Int32
	srv.OnClose(func() {
		closes.Add(1)
		if !loops[0].Alive() {
			wrongLoop.Add(1)
		}
	})
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0)) // before Start: setup
	port := srv.Address().Port
	require.NoError(t, g.Start())

	const n = 40
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if !assert.NoError(t, err) {
				return
			}
			conns[i] = c
			msg := fmt.Sprintf("ping-%02d", i)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = c.Write([]byte(msg))
			assert.NoError(t, err)
			buf := make([]byte, len(msg))
			_, err = io.ReadFull(c, buf)
			assert.NoError(t, err)
			assert.Equal(t, msg, string(buf))
		}(i)
	}
	wg.Wait()
	var open int
	onLoop(t, loops[0], func() { open = srv.Connections() })
	assert.Equal(t, n, open, "Connections counts every loop")
	mu.Lock()
	for _, l := range loops {
		assert.GreaterOrEqual(t, perLoop[l], n/2-5, "loop %p got too few connections: %v", l, perLoop)
	}
	mu.Unlock()

	onLoop(t, loops[0], func() { srv.Close(nil) })
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	waitGroup(t, g)
	assert.Equal(t, int32(1), closes.Load(), "'close' once")
}

// TestGroupServerListenHandleSpreads: a group server that takes a
// listener over (ListenHandle) hands its connections out over the
// group's loops, as after ListenHost, and its Close leaves the group's
// loops free to end.
func TestGroupServerListenHandleSpreads(t *testing.T) {
	g, err := loop.NewGroup(2)
	require.NoError(t, err)
	defer func() { assert.NoError(t, g.Close()) }()
	loops := g.Loops()
	var mu sync.Mutex
	perLoop := map[*loop.Loop]int{}
	first := server.New(server.Options{Loop: loops[0]}, func(c *socket.Socket) {
		t.Error("the first server lost its listener: it gets no connection")
		c.Destroy(nil)
	})
	srv := server.New(server.Options{Group: g}, func(c *socket.Socket) {
		mu.Lock()
		perLoop[c.Loop()]++
		mu.Unlock()
		c.OnError(func(error) {})
		c.Write([]byte("hi"))
	})
	require.NoError(t, g.Start())
	var port int
	taken := make(chan error, 1)
	onLoop(t, loops[0], func() {
		err := first.ListenHost(0, "127.0.0.1", 0, func() {
			port = first.Address().Port
			taken <- srv.ListenHandle(first)
		})
		if err != nil {
			taken <- err
		}
	})
	select {
	case err := <-taken:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("no 'listening'")
	}

	const n = 20
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		require.NoError(t, err)
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 2)
		_, err = io.ReadFull(c, buf) // served: it counts on its loop now
		require.NoError(t, err)
	}
	mu.Lock()
	for _, l := range loops {
		assert.GreaterOrEqual(t, perLoop[l], n/2-2, "loop %p got too few connections: %v", l, perLoop)
	}
	mu.Unlock()
	onLoop(t, loops[0], func() { srv.Close(nil); first.Close(nil) })
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	waitGroup(t, g)
}

// TestGroupServerMaxConnections: MaxConnections holds for the whole group:
// past it, connections are dropped ('drop' on the first loop) whatever
// loop they would have gone to.
func TestGroupServerMaxConnections(t *testing.T) {
	g, err := loop.NewGroup(2)
	require.NoError(t, err)
	defer func() { assert.NoError(t, g.Close()) }()
	var accepted, drops atomic.Int32
	srv := server.New(server.Options{Group: g}, func(c *socket.Socket) {
		accepted.Add(1)
		c.OnError(func(error) {})
		c.OnData(func([]byte) {})
	})
	srv.OnDrop(func(*server.DropInfo) { drops.Add(1) })
	srv.SetMaxConnections(3)
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	port := srv.Address().Port
	require.NoError(t, g.Start())

	var conns []net.Conn
	for i := 0; i < 5; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for accepted.Load()+drops.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, int32(3), accepted.Load())
	assert.Equal(t, int32(2), drops.Load())
	onLoop(t, g.Loops()[0], func() { srv.Close(nil) })
	for _, c := range conns {
		c.Close()
	}
	require.NoError(t, g.Wait())
}

// TestGroupClientSockets: client sockets created with Options.Group go to
// the least loaded loop and count there until 'close'; Group.Load shows
// the counts, server connections included.
func TestGroupClientSockets(t *testing.T) {
	g, err := loop.NewGroup(2)
	require.NoError(t, err)
	defer func() { assert.NoError(t, g.Close()) }()
	var socks []*socket.Socket
	for i := 0; i < 4; i++ {
		s, err := socket.New(socket.Options{Group: g})
		require.NoError(t, err)
		socks = append(socks, s)
	}
	assert.Equal(t, []int{2, 2}, g.Load())
	assert.NotSame(t, socks[0].Loop(), socks[1].Loop(), "spread over the loops")
	for _, s := range socks {
		s.Destroy(nil)
	}
	require.NoError(t, g.Start())
	require.NoError(t, g.Wait()) // runs the close callbacks
	assert.Equal(t, []int{0, 0}, g.Load())
}
