//go:build !windows

package socket_test

import (
	"testing"

	"github.com/netloop/netloop/internal/testutil"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// echoPair sets up, on one loop, a server-accepted Socket that writes back
// what it reads and a connected client Socket whose data listener counts
// the bytes. run sends one 64-byte message and drives the loop with
// RunOnce until its echo arrived.
type echoPair struct {
	e           *env
	client, srv *socket.Socket
	got, want   int
	msg         []byte
}

func newEchoPair(t testing.TB) *echoPair { return newEchoPairWith(t, server.Options{}) }

func newEchoPairWith(t testing.TB, so server.Options) *echoPair {
	e := newEnv(t)
	p := &echoPair{e: e, msg: make([]byte, 64)}
	var srv *server.Server
	srv = e.server(so, func(s *socket.Socket) {
		srv.Close(nil)
		p.srv = s
		s.OnData(func(b []byte) { s.Write(b) })
	})
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(socket.Options{})
		p.client = c
		c.OnData(func(b []byte) { p.got += len(b) })
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
	})
	for p.srv == nil || p.client == nil || p.client.Connecting() {
		require.NoError(t, e.l.Run(loop.RunOnce))
	}
	p.client.SetNoDelay(true)
	p.srv.SetNoDelay(true)
	return p
}

func (p *echoPair) run() {
	p.client.Write(p.msg)
	p.want += len(p.msg)
	for p.got < p.want {
		if err := p.e.l.Run(loop.RunOnce); err != nil {
			panic(err)
		}
	}
}

func (p *echoPair) close() {
	p.client.Destroy(nil)
	p.srv.Destroy(nil)
	p.e.run()
}

// TestSocketEchoZeroAllocs: a 'data' event and a Write the kernel takes
// whole allocate nothing: echoing 64 bytes through a client and a
// server-accepted Socket is 0 allocs per message.
func TestSocketEchoZeroAllocs(t *testing.T) {
	testutil.SkipIfDebug(t)
	p := newEchoPair(t)
	defer p.close()
	for i := 0; i < 10; i++ {
		p.run() // warm up
	}
	allocs := testing.AllocsPerRun(1000, p.run)
	require.Equal(t, float64(0), allocs, "allocations per echoed message")
}

// BenchmarkSocketEcho: 64-byte ping-pong between two Sockets on one loop.
func BenchmarkSocketEcho(b *testing.B) { benchmarkEcho(b, server.Options{}) }

// BenchmarkSocketEchoOwnedData is BenchmarkSocketEcho with the server's
// sockets giving their 'data' listeners owned copies (Options.OwnedData):
// the cost of Node's ownership, one allocation and copy per chunk.
func BenchmarkSocketEchoOwnedData(b *testing.B) {
	benchmarkEcho(b, server.Options{OwnedData: true})
}

func benchmarkEcho(b *testing.B, so server.Options) {
	p := newEchoPairWith(b, so)
	defer p.close()
	p.run()
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.run()
	}
}
