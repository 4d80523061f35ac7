//go:build linux

package server_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// idleHeapPerConn accepts n connections on an echo server (the clients are
// raw blocking sockets, so they cost the Go heap nothing) and returns the
// live heap each accepted connection holds once everything is idle.
func idleHeapPerConn(tb testing.TB, n int) float64 {
	per, _ := idleHeap(tb, n)
	return per
}

// idleHeap is idleHeapPerConn, also naming the loop's poller backend.
func idleHeap(tb testing.TB, n int) (float64, string) {
	l, err := loop.New()
	require.NoError(tb, err)
	backend := (*core.Loop)(l).Backend()
	srv := server.New(server.Options{Loop: l, NoDelay: true}, func(c *socket.Socket) {
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnError(func(error) {})
	})
	require.NoError(tb, srv.ListenHost(0, "127.0.0.1", 0))
	for srv.Address() == nil {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	port := srv.Address().Port
	// Warm up the loop's shared buffers before measuring.
	fds := make([]int, 0, n)
	dial := func() {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(tb, err)
		require.NoError(tb, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
		_, err = unix.Write(fd, []byte("x"))
		require.NoError(tb, err)
		fds = append(fds, fd)
	}
	dial()
	for srv.Connections() < 1 {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := 0; i < n; i++ {
		dial()
		for srv.Connections() < i-64 {
			require.NoError(tb, l.Run(loop.RunNoWait))
		}
	}
	for srv.Connections() < n+1 {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	for i := 0; i < 10; i++ {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	per := float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)
	for _, fd := range fds {
		unix.Close(fd)
	}
	srv.Close(nil)
	for l.Alive() {
		require.NoError(tb, l.Run(loop.RunOnce))
	}
	require.NoError(tb, l.Close())
	return per, backend
}

// TestIdleConnectionHeap guards the per-connection footprint: an idle
// accepted connection with a data and an error listener holds its Socket
// and stream (144 B, listeners inside), the data closure and its slots in
// the loop's tables, about 220 B of Go heap; 240 B catches a few words or
// an allocation more (the size class itself is TestAcceptedConnSize's).
// The io_uring poller (NETLOOP_IOURING=1) may add its 24-byte record per
// descriptor, two per connection here, where the raw clients live in the
// same process. The figure is logged and reported by
// BenchmarkIdleConnectionHeap.
func TestIdleConnectionHeap(t *testing.T) {
	per, backend := idleHeap(t, 2000)
	t.Logf("live heap per idle connection: %.0f B (%s)", per, backend)
	limit := 240.0
	if backend == "io_uring" {
		limit += 48
	}
	require.Less(t, per, limit)
}

// BenchmarkIdleConnectionHeap reports the live heap per idle connection.
func BenchmarkIdleConnectionHeap(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.ReportMetric(idleHeapPerConn(b, 2000), "B/conn")
	}
}
