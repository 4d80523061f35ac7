//go:build !windows

package stream_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/stream"
)

// TestEcho sends messages of many sizes from the client, the server echoes
// them, and the client checks it got back exactly what it sent; then the
// client shuts down and both sides see EOF.
func TestEcho(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			l := testutil.NewLoop(t)
			c := tr.connect(t, l)
			defer c.closeAll(t, l)

			serverEOF := false
			require.NoError(t, c.server.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					require.ErrorIs(t, err, io.EOF)
					serverEOF = true
					c.server.Close(nil)
					return
				}
				// buf is the loop's shared buffer: Write copies what it
				// cannot send at once.
				werr := c.server.Write([][]byte{buf[:n]}, nil)
				require.NoError(t, werr)
			}))
			var got bytes.Buffer
			clientEOF := false
			require.NoError(t, c.client.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					require.ErrorIs(t, err, io.EOF)
					clientEOF = true
					return
				}
				got.Write(buf[:n])
			}))

			var sent bytes.Buffer
			src := &source{}
			writes, issued := 0, 0
			for size := 1; size <= 256<<10; size = size*3 + 1 {
				bufs := src.next(size)
				for _, b := range bufs {
					sent.Write(b)
				}
				err := c.client.Write(bufs, func(err error) {
					require.NoError(t, err)
					writes++
				})
				require.NoError(t, err)
				issued++
			}
			testutil.RunUntil(t, l, waitLimit, func() bool { return got.Len() >= sent.Len() })
			require.Equal(t, crc32.ChecksumIEEE(sent.Bytes()), crc32.ChecksumIEEE(got.Bytes()))
			require.Equal(t, sent.Len(), got.Len())

			shut := false
			require.NoError(t, c.client.Shutdown(func(err error) {
				require.NoError(t, err)
				shut = true
			}))
			testutil.RunUntil(t, l, waitLimit, func() bool { return shut && serverEOF && clientEOF })
			assert.Equal(t, issued, writes)
		})
	}
}

// TestBackpressure moves 64 MiB through ReadStop/ReadStart: the reader
// pauses on a timer, the writer keeps writing meanwhile and its write
// queue grows because the kernel buffers are full; after ReadStart
// everything arrives intact.
func TestBackpressure(t *testing.T) {
	const total = 64 << 20
	const chunk = 256 << 10
	l := testutil.NewLoop(t)
	c := connectTCP(t, l, netip.MustParseAddr("127.0.0.1"))
	defer c.closeAll(t, l)
	// Small kernel buffers (which also turn autotuning off) so that a
	// pause fills them quickly whatever the system's limits.
	require.NoError(t, unix.SetsockoptInt(c.server.Fd(), unix.SOL_SOCKET, unix.SO_RCVBUF, 128<<10))
	require.NoError(t, unix.SetsockoptInt(c.client.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, 128<<10))

	w := c.client
	src := &source{}
	var pump func(err error)
	writeChunk := func() {
		n := min(chunk, total-src.sent)
		if n == 0 {
			return
		}
		err := w.Write(src.next(n), pump)
		require.NoError(t, err)
	}
	pump = func(err error) {
		require.NoError(t, err)
		for src.sent < total && w.WriteQueueSize() < 1<<20 {
			writeChunk()
		}
	}

	var got int
	var crc uint32
	paused, resumed := false, false
	var queueAtPause, queueAtResume, gotAtPause int
	timer := handle.NewTimer(l)
	defer timer.Close(nil)
	ticks := 0
	r := c.server
	onRead := func(n int, buf []byte, err error) {
		require.NoError(t, err)
		crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		got += n
		if !paused && got >= 8<<20 {
			paused = true
			r.ReadStop()
			queueAtPause = w.WriteQueueSize()
			gotAtPause = got
			// While paused the writer goes on writing 1 MiB every 20 ms.
			require.NoError(t, timer.Start(20*time.Millisecond, 20*time.Millisecond, func() {
				ticks++
				require.Equal(t, gotAtPause, got, "read while stopped")
				for i := 0; i < 4 && src.sent < total; i++ {
					writeChunk()
				}
				if ticks == 15 {
					timer.Stop()
					queueAtResume = w.WriteQueueSize()
					resumed = true
					require.NoError(t, r.ReadStart(nil, onReadHolder))
				}
			}))
		}
	}
	onReadHolder = onRead
	require.NoError(t, r.ReadStart(nil, onRead))
	pump(nil)
	testutil.RunUntil(t, l, 60*time.Second, func() bool { return got >= total })
	require.True(t, resumed)
	require.Equal(t, total, got)
	require.Equal(t, src.crc, crc, "checksum")
	assert.Equal(t, 0, w.WriteQueueSize())
	t.Logf("write queue: %d bytes at ReadStop, %d at ReadStart", queueAtPause, queueAtResume)
	// 15 MiB were written during the pause; the kernel holds well under
	// that with these buffer sizes, so the rest must still be queued.
	assert.Greater(t, queueAtResume, queueAtPause+4<<20, "write queue did not grow while the reader was stopped")
}

// onReadHolder lets the timer restart reading with the same callback.
var onReadHolder stream.ReadFunc

// TestHalfClose: the client writes and shuts down with writes still
// queued; the server reads everything then EOF, writes back and closes;
// the client reads the reply after its own shutdown.
func TestHalfClose(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			l := testutil.NewLoop(t)
			c := tr.connect(t, l)
			defer c.closeAll(t, l)
			require.NoError(t, unix.SetsockoptInt(c.client.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<10))

			const size = 4 << 20
			src := &source{}
			err := c.client.Write(src.next(size), nil)
			require.NoError(t, err)
			require.Greater(t, c.client.WriteQueueSize(), 0, "the write should be partly queued")
			shutErr := errors.New("not called")
			require.NoError(t, c.client.Shutdown(func(err error) { shutErr = err }))
			assert.False(t, c.client.IsWritable())
			assert.True(t, c.client.IsReadable())
			require.ErrorIs(t, c.client.Shutdown(nil), syscall.ENOTCONN, "second shutdown")

			got, serverEOF := 0, false
			var crc uint32
			require.NoError(t, c.server.ReadStart(nil, func(n int, buf []byte, err error) {
				if errors.Is(err, io.EOF) {
					serverEOF = true
					assert.False(t, c.server.IsReadable())
					werr := c.server.Write([][]byte{[]byte("reply")}, nil)
					require.NoError(t, werr)
					require.NoError(t, c.server.Shutdown(nil))
					return
				}
				require.NoError(t, err)
				got += n
				crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
			}))
			var reply []byte
			clientEOF := false
			require.NoError(t, c.client.ReadStart(nil, func(n int, buf []byte, err error) {
				if errors.Is(err, io.EOF) {
					clientEOF = true
					return
				}
				require.NoError(t, err)
				reply = append(reply, buf[:n]...)
			}))
			testutil.RunUntil(t, l, waitLimit, func() bool { return clientEOF })
			require.NoError(t, shutErr)
			assert.True(t, serverEOF)
			assert.Equal(t, size, got)
			assert.Equal(t, src.crc, crc)
			assert.Equal(t, "reply", string(reply))
		})
	}
}

// fillKernel writes to s until the kernel takes no more, without
// queueing anything.
func fillKernel(t *testing.T, s *stream.Stream) {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.TryWrite([][]byte{buf})
		if errors.Is(err, syscall.EAGAIN) {
			return
		}
		require.NoError(t, err)
		require.Greater(t, n, 0)
	}
}

// TestWriteCallbacksDeferredInOrder checks that write callbacks never run
// inside Write, even when the kernel took everything, and run in the order
// the writes were issued, empty writes included.
func TestWriteCallbacksDeferredInOrder(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := newSocketPair(t, l)
	defer func() {
		a.Close(nil)
		b.Close(nil)
		l.Run(0)
	}()

	var order []int
	inWrite := false
	write := func(i int, data []byte) {
		inWrite = true
		err := a.Write([][]byte{data}, func(err error) {
			require.False(t, inWrite, "callback %d ran inside Write", i)
			require.NoError(t, err)
			order = append(order, i)
		})
		inWrite = false
		require.NoError(t, err)
	}
	// Sent at once, still deferred.
	write(0, []byte("hello"))
	assert.Empty(t, order)
	l.Run(0)
	assert.Equal(t, []int{0}, order)

	// Now with a queue: fill the kernel so the next writes wait.
	order = nil
	fillKernel(t, &a.Stream)
	big := make([]byte, 1<<20)
	write(1, big)
	write(2, []byte("x"))
	write(3, nil)
	write(4, []byte("yy"))
	write(5, nil)
	assert.Equal(t, 1<<20+3, a.WriteQueueSize())
	assert.Empty(t, order, "callbacks of queued writes ran early")
	drained := false
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) { require.NoError(t, err) }))
	testutil.RunUntil(t, l, waitLimit, func() bool {
		drained = len(order) == 5
		return drained
	})
	assert.Equal(t, []int{1, 2, 3, 4, 5}, order)
	assert.Equal(t, 0, a.WriteQueueSize())
}

// TestCloseCancelsQueuedWrites: Close makes the callbacks of queued writes
// run with ECANCELED, in order, before the close callback.
func TestCloseCancelsQueuedWrites(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := newSocketPair(t, l)
	fillKernel(t, &a.Stream)

	var events []string
	inClose := false
	for _, name := range []string{"w1", "w2", "w3"} {
		err := a.Write([][]byte{make([]byte, 1000)}, func(err error) {
			require.False(t, inClose, "callback ran inside Close")
			assert.ErrorIs(t, err, syscall.ECANCELED)
			events = append(events, name)
		})
		require.NoError(t, err)
	}
	shutCalled := false
	require.NoError(t, a.Shutdown(func(err error) {
		assert.ErrorIs(t, err, syscall.ECANCELED)
		shutCalled = true
		events = append(events, "shutdown")
	}))
	inClose = true
	require.NoError(t, a.Close(func() { events = append(events, "close") }))
	inClose = false
	assert.Empty(t, events)
	b.Close(nil)
	l.Run(0)
	assert.Equal(t, []string{"w1", "w2", "w3", "shutdown", "close"}, events)
	assert.True(t, shutCalled)
	assert.Equal(t, 0, a.WriteQueueSize())
	assert.Equal(t, -1, a.Fd())
	err := a.Write([][]byte{[]byte("late")}, nil)
	assert.Error(t, err, "write after close")
}

// TestTryWrite: TryWrite writes directly when nothing is queued and
// returns EAGAIN when a write is queued (it must not overtake it).
func TestTryWrite(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := newSocketPair(t, l)
	defer func() {
		a.Close(nil)
		b.Close(nil)
		l.Run(0)
	}()
	n, err := a.TryWrite([][]byte{[]byte("ab"), nil, []byte("cd")})
	require.NoError(t, err)
	assert.Equal(t, 4, n)

	fillKernel(t, &a.Stream)
	err = a.Write([][]byte{[]byte("queued")}, nil)
	require.NoError(t, err)
	require.Equal(t, 6, a.WriteQueueSize())
	// Make room in the kernel: TryWrite must still refuse.
	buf := make([]byte, 1<<20)
	for {
		n, err := unix.Read(b.Fd(), buf)
		if err != nil || n == 0 {
			break
		}
	}
	n, err = a.TryWrite([][]byte{[]byte("x")})
	assert.ErrorIs(t, err, syscall.EAGAIN)
	assert.Equal(t, 0, n)
}

// TestWriteAfterShutdown: Write and TryWrite after Shutdown fail with EPIPE
// and no callback runs.
func TestWriteAfterShutdown(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := newSocketPair(t, l)
	defer func() {
		a.Close(nil)
		b.Close(nil)
		l.Run(0)
	}()
	done := false
	require.NoError(t, a.Shutdown(func(err error) {
		require.NoError(t, err)
		done = true
	}))
	called := false
	err := a.Write([][]byte{[]byte("x")}, func(error) { called = true })
	assert.ErrorIs(t, err, syscall.EPIPE)
	_, err = a.TryWrite([][]byte{[]byte("x")})
	assert.ErrorIs(t, err, syscall.EPIPE)
	l.Run(0)
	assert.True(t, done)
	assert.False(t, called)

	// The peer sees EOF.
	eof := false
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) { eof = errors.Is(err, io.EOF) }))
	testutil.RunUntil(t, l, waitLimit, func() bool { return eof })
}

// TestReadStopStart: a stopped stream does not read, a restarted one gets
// what arrived meanwhile; a custom alloc function supplies the buffers.
func TestReadStopStart(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := newSocketPair(t, l)
	defer func() {
		a.Close(nil)
		b.Close(nil)
		l.Run(0)
	}()
	mine := make([]byte, 3)
	var got []byte
	require.NoError(t, b.ReadStart(func(int) []byte { return mine }, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		if n > 0 {
			require.Equal(t, &mine[0], &buf[0], "read landed elsewhere than the alloc buffer")
		}
		got = append(got, buf[:n]...)
	}))
	assert.True(t, b.IsReading())
	b.ReadStop()
	assert.False(t, b.IsReading())
	err := a.Write([][]byte{[]byte("hello world")}, nil)
	require.NoError(t, err)
	l.Run(loop.RunNoWait)
	assert.Empty(t, got)
	require.NoError(t, b.ReadStart(func(int) []byte { return mine }, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}))
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(got) == 11 })
	assert.Equal(t, "hello world", string(got))

	// An empty alloc buffer gives ENOBUFS.
	var nobufs error
	require.NoError(t, b.ReadStart(func(int) []byte { return nil }, func(n int, buf []byte, err error) {
		nobufs = err
		b.ReadStop()
	}))
	err = a.Write([][]byte{[]byte("!")}, nil)
	require.NoError(t, err)
	testutil.RunUntil(t, l, waitLimit, func() bool { return nobufs != nil })
	assert.ErrorIs(t, nobufs, syscall.ENOBUFS)
}

// TestWriteManyBuffers: more buffers than one writev takes, empty ones
// among them, sent at once and from the queue.
func TestWriteManyBuffers(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := newSocketPair(t, l)
	defer func() {
		a.Close(nil)
		b.Close(nil)
		l.Run(0)
	}()
	var want []byte
	mk := func(tag byte) [][]byte {
		bufs := make([][]byte, 200)
		for i := range bufs {
			if i%7 == 3 {
				continue // empty
			}
			bufs[i] = bytes.Repeat([]byte{tag + byte(i%10)}, i%13+1)
			want = append(want, bufs[i]...)
		}
		return bufs
	}
	err := a.Write(mk('a'), nil) // straight to the kernel
	require.NoError(t, err)
	require.Equal(t, 0, a.WriteQueueSize())
	// A write the kernel cannot take whole, then many queued behind it.
	big := (&source{}).next(8 << 20)
	for _, p := range big {
		want = append(want, p...)
	}
	err = a.Write(big, nil)
	require.NoError(t, err)
	require.Greater(t, a.WriteQueueSize(), 0)
	for i := 0; i < 150; i++ {
		err := a.Write(mk('A'), nil)
		require.NoError(t, err)
	}
	var got []byte
	require.NoError(t, b.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}))
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(got) >= len(want) })
	assert.Equal(t, 0, a.WriteQueueSize())
	require.Equal(t, len(want), len(got))
	require.True(t, bytes.Equal(want, got), "data differs")
}

// TestWriteToClosedPeer: a write to a peer that is gone fails in its
// callback (EPIPE or ECONNRESET), never inside Write.
func TestWriteToClosedPeer(t *testing.T) {
	l := testutil.NewLoop(t)
	c := connectTCP(t, l, netip.MustParseAddr("127.0.0.1"))
	defer c.closeAll(t, l)
	closed := false
	require.NoError(t, c.server.Close(func() { closed = true }))
	testutil.RunUntil(t, l, waitLimit, func() bool { return closed })
	var werr error
	buf := make([]byte, 64<<10)
	done := 0
	for i := 0; i < 1000 && werr == nil; i++ {
		err := c.client.Write([][]byte{buf}, func(err error) {
			done++
			if err != nil && werr == nil {
				werr = err
			}
		})
		require.NoError(t, err)
		testutil.RunUntil(t, l, waitLimit, func() bool { return done == i+1 })
	}
	require.Error(t, werr)
	assert.True(t, errors.Is(werr, syscall.EPIPE) || errors.Is(werr, syscall.ECONNRESET), "got %v", werr)
}
