//go:build !windows

package stream_test

import (
	"testing"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
)

// BenchmarkEcho64 measures ping-pong of a 64-byte message (one op: client
// write, server read and write back, client read) on one loop.
func BenchmarkEcho64(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			l := testutil.NewLoop(b)
			c := tr.connect(b, l)
			defer c.closeAll(b, l)
			msg := [][]byte{make([]byte, 64)}
			var echo [1][]byte
			srv := c.server
			srv.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					b.Error(err)
					return
				}
				echo[0] = buf[:n]
				srv.Write(echo[:], nil)
				echo[0] = nil
			})
			got := 0
			c.client.ReadStart(nil, func(n int, buf []byte, err error) { got += n })
			b.SetBytes(64)
			b.ReportAllocs()
			b.ResetTimer()
			want := 0
			for i := 0; i < b.N; i++ {
				c.client.Write(msg, nil)
				want += 64
				for got < want {
					if err := l.Run(loop.RunOnce); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkBulk64K measures one-way throughput in 64 KiB writes, keeping
// at most 1 MiB queued at the writer.
func BenchmarkBulk64K(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			l := testutil.NewLoop(b)
			c := tr.connect(b, l)
			defer c.closeAll(b, l)
			const size = 64 << 10
			msg := [][]byte{make([]byte, size)}
			got := 0
			c.server.ReadStart(nil, func(n int, buf []byte, err error) { got += n })
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.client.Write(msg, nil)
				for c.client.WriteQueueSize() > 1<<20 {
					l.Run(loop.RunOnce)
				}
			}
			for got < b.N*size {
				l.Run(loop.RunOnce)
			}
		})
	}
}
