//go:build !windows

package stream_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
)

// TestEchoZeroAllocs: echoing a 64-byte message through a client and a
// server stream on one loop allocates nothing.
func TestEchoZeroAllocs(t *testing.T) {
	testutil.SkipIfDebug(t)
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			if tr.name == "tcp6" {
				t.Skip("same code path as tcp4")
			}
			l := testutil.NewLoop(t)
			c := tr.connect(t, l)
			defer c.closeAll(t, l)

			msg := make([]byte, 64)
			out := [][]byte{msg}
			var echo [1][]byte
			srv := c.server
			require.NoError(t, srv.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					panic(err)
				}
				echo[0] = buf[:n]
				if err := srv.Write(echo[:], nil); err != nil {
					panic(err)
				}
				echo[0] = nil
			}))
			got := 0
			require.NoError(t, c.client.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					panic(err)
				}
				got += n
			}))
			want := 0
			run := func() {
				if err := c.client.Write(out, nil); err != nil {
					panic(err)
				}
				want += len(msg)
				for got < want {
					if err := l.Run(loop.RunOnce); err != nil {
						panic(err)
					}
				}
			}
			run() // warm up: the shared read buffer, watcher queues
			allocs := testing.AllocsPerRun(1000, run)
			require.Equal(t, float64(0), allocs, "allocations per echoed message")
		})
	}
}
