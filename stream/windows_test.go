//go:build windows

package stream_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/tcp"
)

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }

const winLimit = 30 * time.Second

// Streams on Windows (under Wine in make test): a reader that stops
// reading makes the writer's queue grow (the kernel pushes back), then
// resumes; every byte arrives once, in order; write callbacks run in
// order, after the call; caller-supplied read buffers are used.
func TestWindowsReadStopBackpressure(t *testing.T) {
	l := testutil.NewLoop(t)
	v4 := netip.MustParseAddr("127.0.0.1")
	lst := tcp.New(l)
	require.NoError(t, lst.Bind(v4, 0, 0))
	var srv *tcp.TCP
	require.NoError(t, lst.Listen(16, func(err error) {
		require.NoError(t, err)
		srv = tcp.New(l)
		require.NoError(t, lst.Accept(srv))
	}))
	ap, err := lst.SockName()
	require.NoError(t, err)
	c := tcp.New(l)
	connected := false
	require.NoError(t, c.Connect(v4, int(ap.Port()), func(err error) { require.NoError(t, err); connected = true }))
	testutil.RunUntil(t, l, winLimit, func() bool { return connected && srv != nil })

	const size = 16 << 20
	data := make([]byte, size)
	rand.Read(data)
	var order []int
	for i := 0; i < size/(1<<20); i++ {
		i := i
		require.NoError(t, c.Write([][]byte{data[i<<20 : (i+1)<<20]}, func(err error) {
			assert.NoError(t, err)
			order = append(order, i)
		}))
	}
	assert.Empty(t, order, "a write callback ran inside Write")

	h := sha256.New()
	got := 0
	own := make([]byte, 32<<10)
	read := func(n int, buf []byte, err error) {
		if err != nil {
			assert.ErrorIs(t, err, io.EOF)
			return
		}
		if n > 0 {
			assert.Equal(t, &own[0], &buf[0], "the caller's buffer")
			h.Write(buf[:n])
			got += n
		}
	}
	alloc := func(int) []byte { return own }
	require.NoError(t, srv.ReadStart(alloc, read))
	testutil.RunUntil(t, l, winLimit, func() bool { return got >= 1<<20 })
	srv.ReadStop()
	// While the reader is stopped the kernel's buffers fill (loopback's
	// may keep growing for a while, so wait for the queue to settle) and
	// the rest stays in the writer's queue.
	last, steady := -1, 0
	testutil.RunUntil(t, l, winLimit, func() bool {
		testutil.Run(l, 30*time.Millisecond, func() bool { return false })
		if n := c.WriteQueueSize(); n == last {
			steady++
		} else {
			last, steady = n, 0
		}
		return steady == 3
	})
	assert.Positive(t, last, "the kernel took everything while the reader was stopped: no backpressure")
	assert.Less(t, got, size, "everything was read while the reader was stopped")
	require.NoError(t, srv.ReadStart(alloc, read))
	testutil.RunUntil(t, l, winLimit, func() bool { return got == size && len(order) == size/(1<<20) })
	want := sha256.Sum256(data)
	assert.True(t, bytes.Equal(want[:], h.Sum(nil)))
	for i, v := range order {
		assert.Equal(t, i, v)
	}
	testutil.CloseAll(t, l, c, srv, lst)
}
