//go:build unix

package loop_test

import (
	"bytes"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/tcp"
)

// Handles and Streams count what is open, by kind.
func TestMetricsHandlesByKind(t *testing.T) {
	l := testutil.NewLoop(t)
	t1, t2 := handle.NewTimer(l), handle.NewTimer(l)
	idle := handle.NewIdle(l)
	lis := tcp.New(l)
	m := l.Metrics()
	checkMetrics(t, m)
	assert.Equal(t, 2, m.Handles["timer"])
	assert.Equal(t, 1, m.Handles["idle"])
	assert.Equal(t, 1, m.Handles["tcp"])
	assert.Equal(t, 1, m.Streams)
	t1.Close(nil)
	lis.Close(nil)
	require.NoError(t, l.Run(loop.RunNoWait))
	m = l.Metrics()
	assert.Equal(t, 1, m.Handles["timer"])
	assert.Equal(t, 0, m.Handles["tcp"])
	assert.Equal(t, 0, m.Streams)
	t2.Close(nil)
	idle.Close(nil)
	require.NoError(t, l.Run(loop.RunNoWait))
}

// An echo exchange on raw TCP handles: the bytes counted are what moved,
// each way, and Streams counts the listener and both ends while open. The
// metrics are read from another goroutine all along (the race detector
// checks that this is safe).
func TestMetricsEchoBytes(t *testing.T) {
	l := testutil.NewLoop(t)
	lo := netip.MustParseAddr("127.0.0.1")
	const size = 300 << 10 // several reads and (likely) a queued write
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)

	lis := tcp.New(l)
	require.NoError(t, lis.Bind(lo, 0, 0))
	var conn *tcp.TCP
	require.NoError(t, lis.Listen(8, func(err error) {
		require.NoError(t, err)
		conn = tcp.New(l)
		require.NoError(t, lis.Accept(conn))
		require.NoError(t, conn.ReadStart(nil, func(n int, buf []byte, err error) {
			if err == io.EOF {
				conn.Close(nil)
				return
			}
			require.NoError(t, err)
			require.NoError(t, conn.Write([][]byte{buf[:n]}, nil))
		}))
	}))
	addr, err := lis.SockName()
	require.NoError(t, err)

	var during loop.Metrics
	got := 0
	client := tcp.New(l)
	require.NoError(t, client.Connect(lo, int(addr.Port()), func(err error) {
		require.NoError(t, err)
		require.NoError(t, client.Write([][]byte{payload[:size/3], payload[size/3:]}, nil))
		require.NoError(t, client.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				client.Close(nil)
				return
			}
			got += n
			if got == size {
				during = l.Metrics()
				client.Shutdown(nil)
				lis.Close(nil)
			}
		}))
	}))

	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		var prev loop.Metrics
		for {
			select {
			case <-stop:
				return
			default:
			}
			m := l.Metrics()
			assert.GreaterOrEqual(t, m.Iterations, prev.Iterations)
			assert.GreaterOrEqual(t, m.BusyTime+m.IdleTime, prev.BusyTime+prev.IdleTime)
			assert.GreaterOrEqual(t, m.BytesRead, prev.BytesRead)
			prev = m
			time.Sleep(100 * time.Microsecond)
		}
	}()
	ok := testutil.RunAll(t, l, 10*time.Second)
	close(stop)
	readers.Wait()
	require.True(t, ok, "echo exchange did not finish")
	require.Equal(t, size, got)

	checkMetrics(t, during)
	assert.Equal(t, 3, during.Streams, "listener, accepted connection, client")
	m := l.Metrics()
	checkMetrics(t, m)
	assert.Equal(t, int64(2*size), m.BytesRead, "the server read the payload, the client its echo")
	assert.Equal(t, int64(2*size), m.BytesWritten)
	assert.Equal(t, 0, m.Streams)
	assert.Positive(t, m.Events)
	assert.Positive(t, m.EventsPerIteration)
}
