//go:build windows

package pipe_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/stream"
	"github.com/netloop/netloop/tcp"
)

// BenchmarkWindowsEcho compares a named pipe with its peer, loopback TCP,
// in one run: 64-byte round trips ("rtt") and 256 KiB echoed in 16 KiB
// writes ("bulk"), a client and a server stream on one loop. Under Wine
// the figures say how the two paths compare there, not what Windows does:
//
//	./scripts/wine-test.sh ./pipe -run '^$' -bench WindowsEcho -benchtime 200x
func BenchmarkWindowsEcho(b *testing.B) {
	for _, tr := range []struct {
		name    string
		connect func(b *testing.B, l *loop.Loop) (client, server *stream.Stream, closeAll func())
	}{
		{"pipe", benchPipePair},
		{"tcp", benchTCPPair},
	} {
		for _, size := range []struct {
			name        string
			total, each int
		}{{"rtt", 64, 64}, {"bulk", 256 << 10, 16 << 10}} {
			b.Run(tr.name+"/"+size.name, func(b *testing.B) {
				l := testutil.NewLoop(b)
				c, s, closeAll := tr.connect(b, l)
				defer closeAll()
				if err := s.ReadStart(nil, func(n int, buf []byte, err error) {
					if err != nil {
						panic(err)
					}
					if err := s.Write([][]byte{buf[:n]}, nil); err != nil {
						panic(err)
					}
				}); err != nil {
					b.Fatal(err)
				}
				got := 0
				if err := c.ReadStart(nil, func(n int, buf []byte, err error) {
					if err != nil {
						panic(err)
					}
					got += n
				}); err != nil {
					b.Fatal(err)
				}
				chunk := make([]byte, size.each)
				out := [][]byte{chunk}
				want := 0
				b.SetBytes(int64(size.total))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					for sent := 0; sent < size.total; sent += size.each {
						if err := c.Write(out, nil); err != nil {
							b.Fatal(err)
						}
					}
					want += size.total
					for got < want {
						if err := l.Run(loop.RunOnce); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

func benchPipePair(b *testing.B, l *loop.Loop) (*stream.Stream, *stream.Stream, func()) {
	name := pipeName()
	srv := pipe.New(l)
	var acc *pipe.Pipe
	if err := srv.Bind(name); err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen(8, func(err error) {
		acc = pipe.New(l)
		if err := srv.Accept(acc); err != nil {
			panic(err)
		}
	}); err != nil {
		b.Fatal(err)
	}
	c := pipe.New(l)
	connected := false
	if err := c.Connect(name, func(err error) {
		if err != nil {
			panic(err)
		}
		connected = true
	}); err != nil {
		b.Fatal(err)
	}
	testutil.RunUntil(b, l, 10*time.Second, func() bool { return connected && acc != nil })
	return &c.Stream, &acc.Stream, func() { testutil.CloseAll(b, l, c, acc, srv) }
}

func benchTCPPair(b *testing.B, l *loop.Loop) (*stream.Stream, *stream.Stream, func()) {
	srv := tcp.New(l)
	var acc *tcp.TCP
	if err := srv.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0); err != nil {
		b.Fatal(err)
	}
	if err := srv.Listen(8, func(err error) {
		acc = tcp.New(l)
		if err := srv.Accept(acc); err != nil {
			panic(err)
		}
		acc.SetNoDelay(true)
	}); err != nil {
		b.Fatal(err)
	}
	ap, err := srv.SockName()
	if err != nil {
		b.Fatal(err)
	}
	c := tcp.New(l)
	c.SetNoDelay(true)
	connected := false
	if err := c.Connect(ap.Addr(), int(ap.Port()), func(err error) {
		if err != nil {
			panic(err)
		}
		connected = true
	}); err != nil {
		b.Fatal(err)
	}
	testutil.RunUntil(b, l, 10*time.Second, func() bool { return connected && acc != nil })
	return &c.Stream, &acc.Stream, func() { testutil.CloseAll(b, l, c, acc, srv) }
}
