//go:build linux

package server_test

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// churnRig is the bench's churn case in one goroutine: an echo server
// (NoDelay, a data and an error listener per connection, as
// bench/peers/netloop) and a raw blocking client that connects, sends
// 64 bytes, reads them back and closes, one connection at a time. The
// client side uses raw system calls on preallocated memory, so every
// allocation counted per connection is the server's.
type churnRig struct {
	l   *loop.Loop
	srv *server.Server
	sa  unix.RawSockaddrInet4
	msg []byte
	buf []byte
}

func newChurnRig(tb testing.TB) *churnRig {
	l, err := loop.New()
	require.NoError(tb, err)
	r := &churnRig{l: l, msg: make([]byte, 64), buf: make([]byte, 64)}
	r.srv = server.New(server.Options{Loop: l, NoDelay: true}, func(c *socket.Socket) {
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnError(func(error) {})
	})
	require.NoError(tb, r.srv.ListenHost(0, "127.0.0.1", 0))
	for r.srv.Address() == nil {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	port := r.srv.Address().Port
	r.sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: [4]byte{127, 0, 0, 1}}
	r.sa.Port = uint16(port>>8) | uint16(port&0xff)<<8 // network byte order
	return r
}

// conn runs one connection: connect, echo 64 bytes, close, and the loop
// until the server has closed its side.
func (r *churnRig) conn() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		panic(err)
	}
	// Loopback connect completes (or is in progress) at once; the loop
	// below accepts it.
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&r.sa)), unsafe.Sizeof(r.sa))
	if e != 0 && e != unix.EINPROGRESS {
		panic(e)
	}
	for sent := 0; sent < len(r.msg); {
		n, err := unix.Write(fd, r.msg[sent:])
		if err == nil {
			sent += n
			continue
		}
		if err != unix.EAGAIN {
			panic(err)
		}
		r.step()
	}
	for got := 0; got < len(r.buf); {
		n, err := unix.Read(fd, r.buf[got:])
		if err == nil && n > 0 {
			got += n
			continue
		}
		if err != unix.EAGAIN {
			panic(err)
		}
		r.step()
	}
	unix.Close(fd)
	for r.srv.Connections() > 0 {
		r.step()
	}
}

func (r *churnRig) step() {
	if err := r.l.Run(loop.RunNoWait); err != nil {
		panic(err)
	}
}

func (r *churnRig) close(tb testing.TB) {
	r.srv.Close(nil)
	testutil.RunAll(tb, r.l, 10*time.Second)
	require.NoError(tb, r.l.Close())
}

// BenchmarkServerChurn: one accepted connection's whole life on an echo
// server (accept, 64-byte echo, the peer's close, the server's close);
// run with -benchmem for the allocations per connection.
func BenchmarkServerChurn(b *testing.B) {
	r := newChurnRig(b)
	defer r.close(b)
	for i := 0; i < 100; i++ {
		r.conn() // warm up the loop's tables
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.conn()
	}
}

// maxChurnAllocs is what one accepted echo connection may allocate over
// its life: the Socket with its stream and its two listeners (one
// allocation) and the data listener's closure.
const maxChurnAllocs = 2

// TestServerChurnAllocs guards the allocations per accepted connection
// (accept, echo, close).
func TestServerChurnAllocs(t *testing.T) {
	testutil.SkipIfDebug(t)
	r := newChurnRig(t)
	defer r.close(t)
	for i := 0; i < 100; i++ {
		r.conn()
	}
	allocs := testing.AllocsPerRun(500, r.conn)
	t.Logf("allocations per connection: %.1f", allocs)
	require.LessOrEqual(t, allocs, float64(maxChurnAllocs))
}
