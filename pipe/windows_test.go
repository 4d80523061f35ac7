//go:build windows

package pipe_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
)

// Named pipes on Windows (run under Wine by make wine-test).

const winLimit = 30 * time.Second

var pipeSeq atomic.Int32

// pipeName is a name no other test (or process) uses.
func pipeName() string {
	return fmt.Sprintf(`\\.\pipe\netloop-test-%d-%d`, os.Getpid(), pipeSeq.Add(1))
}

// winListen binds and listens on name; accepted pipes are appended to
// *accepted, and onAccept (may be nil) sees each.
func winListen(t *testing.T, l *loop.Loop, name string, accepted *[]*pipe.Pipe, onAccept func(*pipe.Pipe)) *pipe.Pipe {
	t.Helper()
	s := pipe.New(l)
	require.NoError(t, s.Bind(name))
	require.NoError(t, s.Listen(128, func(err error) {
		require.NoError(t, err)
		c := pipe.New(l)
		require.NoError(t, s.Accept(c))
		*accepted = append(*accepted, c)
		if onAccept != nil {
			onAccept(c)
		}
	}))
	return s
}

// winPair listens on a fresh pipe name and connects one client: the
// listener, the client's end and the server's end.
func winPair(t *testing.T, l *loop.Loop) (srv, c, s *pipe.Pipe) {
	t.Helper()
	name := pipeName()
	var accepted []*pipe.Pipe
	srv = winListen(t, l, name, &accepted, nil)
	c, err := winConnect(t, l, name)
	require.NoError(t, err)
	testutil.RunUntil(t, l, winLimit, func() bool { return len(accepted) == 1 })
	return srv, c, accepted[0]
}

func winConnect(t *testing.T, l *loop.Loop, name string) (*pipe.Pipe, error) {
	t.Helper()
	c := pipe.New(l)
	var res error
	done := false
	require.NoError(t, c.Connect(name, func(err error) { res, done = err, true }))
	assert.False(t, done, "connect callback ran inside Connect")
	testutil.RunUntil(t, l, winLimit, func() bool { return done })
	return c, res
}

// echoBack makes p write back everything it reads, pausing its reads while
// more than 1 MiB waits to be written (counted in *pauses, if not nil),
// and closing at EOF.
func echoBack(t *testing.T, p *pipe.Pipe, pauses ...*int) {
	const hwm = 1 << 20
	var onRead func(n int, buf []byte, err error)
	onRead = func(n int, buf []byte, err error) {
		if err != nil {
			assert.ErrorIs(t, err, io.EOF)
			p.Close(nil)
			return
		}
		if n == 0 {
			return
		}
		b := append([]byte(nil), buf[:n]...)
		require.NoError(t, p.Write([][]byte{b}, func(err error) {
			if err == nil && !p.IsReading() && p.WriteQueueSize() < hwm/2 && !p.IsClosing() {
				require.NoError(t, p.ReadStart(nil, onRead))
			}
		}))
		if p.WriteQueueSize() > hwm && p.IsReading() {
			p.ReadStop()
			for _, n := range pauses {
				*n++
			}
		}
	}
	require.NoError(t, p.ReadStart(nil, onRead))
}

// 4 MiB go to an echo server and come back checksummed. "64KiB" writes
// 64 KiB pieces and reads at once; "mixed" writes pieces of 1 byte to
// 48 KiB (several queued writes then share one WriteFile) and starts
// reading only after 300 ms, so the server's write queue passes its
// high-water mark and it pauses its reads, which in turn holds the
// client's writes back.
func TestWindowsPipeEcho4MiBWithBackpressure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		size      func(r *rand.Rand) int
		readDelay time.Duration
	}{
		{"64KiB", func(*rand.Rand) int { return 64 << 10 }, 0},
		{"mixed", func(r *rand.Rand) int { return 1 + r.Intn(48<<10) }, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testutil.NewLoop(t)
			name := pipeName()
			var accepted []*pipe.Pipe
			pauses := 0
			srv := winListen(t, l, name, &accepted, func(p *pipe.Pipe) { echoBack(t, p, &pauses) })
			defer testutil.CloseAll(t, l, srv)
			name2, err := srv.SockName()
			require.NoError(t, err)
			assert.Equal(t, name, name2)

			c, err := winConnect(t, l, name)
			require.NoError(t, err)
			defer testutil.CloseAll(t, l, c)
			peer, err := c.PeerName()
			require.NoError(t, err)
			assert.Equal(t, name, peer)

			const total = 4 << 20
			r := rand.New(rand.NewSource(1))
			data := make([]byte, total)
			r.Read(data)
			want := sha256.Sum256(data)

			got := sha256.New()
			received := 0
			startReading := func() {
				require.NoError(t, c.ReadStart(nil, func(n int, buf []byte, err error) {
					require.NoError(t, err)
					got.Write(buf[:n])
					received += n
				}))
			}
			if tc.readDelay == 0 {
				startReading()
			} else {
				testutil.After(t, l, tc.readDelay, startReading)
			}
			// Never more than 512 KiB ahead of the kernel: each write's
			// callback lets the next ones go, in order.
			sent, writes, callbacks := 0, 0, 0
			var pump func()
			pump = func() {
				for sent < total && c.WriteQueueSize() < 512<<10 {
					chunk := data[sent:min(sent+tc.size(r), total)]
					sent += len(chunk)
					k := writes
					writes++
					require.NoError(t, c.Write([][]byte{chunk}, func(err error) {
						require.NoError(t, err)
						assert.Equal(t, callbacks, k, "write callbacks out of order")
						callbacks++
						pump()
					}))
				}
			}
			pump()
			testutil.RunUntil(t, l, winLimit, func() bool { return received == total })
			assert.Equal(t, want[:], got.Sum(nil), "echoed bytes differ")
			assert.Equal(t, writes, callbacks)
			assert.Zero(t, c.WriteQueueSize())
			require.Len(t, accepted, 1)
			if tc.readDelay > 0 {
				assert.Positive(t, pauses, "the server never paused: backpressure untested")
			}
			t.Logf("%d writes, server paused %d times", writes, pauses)
		})
	}
}

func TestWindowsPipeEOFOnPeerClose(t *testing.T) {
	l := testutil.NewLoop(t)
	srv, c, s := winPair(t, l)
	var got []byte
	var end error
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		got = append(got, buf[:n]...)
		if err != nil {
			end = err
		}
	}))
	require.NoError(t, c.Write([][]byte{[]byte("bye")}, nil))
	testutil.RunUntil(t, l, winLimit, func() bool { return len(got) == 3 })
	testutil.CloseAll(t, l, c)
	testutil.RunUntil(t, l, winLimit, func() bool { return end != nil })
	assert.ErrorIs(t, end, io.EOF)
	assert.Equal(t, "bye", string(got))
	assert.False(t, s.IsReading(), "still reading after EOF")

	// Writing to a pipe whose client is gone fails with EPIPE.
	var werr error
	wdone := false
	require.NoError(t, s.Write([][]byte{[]byte("x")}, func(err error) { werr, wdone = err, true }))
	testutil.RunUntil(t, l, winLimit, func() bool { return wdone })
	assert.ErrorIs(t, werr, syscall.EPIPE)
	testutil.CloseAll(t, l, s, srv)
}

func TestWindowsPipeConnectMissingIsENOENT(t *testing.T) {
	l := testutil.NewLoop(t)
	c, err := winConnect(t, l, pipeName())
	defer testutil.CloseAll(t, l, c)
	assert.ErrorIs(t, err, syscall.ENOENT)
	assert.Contains(t, err.Error(), "ENOENT")
}

func TestWindowsPipeBindInUseIsEADDRINUSE(t *testing.T) {
	l := testutil.NewLoop(t)
	name := pipeName()
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, nil)
	defer testutil.CloseAll(t, l, srv)
	other := pipe.New(l)
	defer testutil.CloseAll(t, l, other)
	err := other.Bind(name)
	if err == nil && testutil.UnderWine() {
		t.Skip("Wine ignores FILE_FLAG_FIRST_PIPE_INSTANCE: a second CreateNamedPipe of a served name succeeded")
	}
	require.ErrorIs(t, err, syscall.EADDRINUSE)
	assert.Contains(t, err.Error(), name)
}

// Names outside \\.\pipe\ and \\?\pipe\ are refused: bind as libuv does
// (EACCES), connect as for a missing pipe (ENOENT).
func TestWindowsPipeNamesOutsidePipeNamespaceRefused(t *testing.T) {
	l := testutil.NewLoop(t)
	for _, name := range []string{`C:\tmp\sock`, `netloop.sock`, `\\.\pipe\`, `\\.\pipes\x`} {
		p := pipe.New(l)
		assert.ErrorIs(t, p.Bind(name), syscall.EACCES, name)
		c, err := winConnect(t, l, name)
		assert.ErrorIs(t, err, syscall.ENOENT, name)
		testutil.CloseAll(t, l, p, c)
	}
	// The \\?\ spelling serves and connects like \\.\.
	name := fmt.Sprintf(`\\?\pipe\netloop-test-%d-q`, os.Getpid())
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, nil)
	c, err := winConnect(t, l, `\\.\PIPE\`+name[9:])
	require.NoError(t, err)
	testutil.RunUntil(t, l, winLimit, func() bool { return len(accepted) == 1 })
	testutil.CloseAll(t, l, c, accepted[0], srv)
}

// More clients at once than the listener keeps instances waiting (4):
// the rest find every instance busy and wait for one.
func TestWindowsPipeEightClientsAtOnce(t *testing.T) {
	l := testutil.NewLoop(t)
	name := pipeName()
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, func(p *pipe.Pipe) { echoBack(t, p) })
	const clients = 8
	cs := make([]*pipe.Pipe, clients)
	got := make([][]byte, clients)
	connected := 0
	for i := range cs {
		i := i
		cs[i] = pipe.New(l)
		require.NoError(t, cs[i].Connect(name, func(err error) {
			require.NoError(t, err)
			connected++
			require.NoError(t, cs[i].ReadStart(nil, func(n int, buf []byte, err error) {
				require.NoError(t, err)
				got[i] = append(got[i], buf[:n]...)
			}))
			require.NoError(t, cs[i].Write([][]byte{[]byte(fmt.Sprintf("client %d", i))}, nil))
		}))
	}
	testutil.RunUntil(t, l, winLimit, func() bool {
		for i := range got {
			if string(got[i]) != fmt.Sprintf("client %d", i) {
				return false
			}
		}
		return true
	})
	assert.Equal(t, clients, connected)
	assert.Len(t, accepted, clients)
	testutil.CloseAll(t, l, cs...)
	// The server ends close themselves at EOF.
	testutil.RunUntil(t, l, winLimit, func() bool {
		for _, p := range accepted {
			if !p.IsClosing() {
				return false
			}
		}
		return true
	})
	testutil.CloseAll(t, l, srv)
}

// Close with writes the peer is not reading cancels them: every callback
// runs, in order, with ECANCELED, before the close callback.
func TestWindowsPipeCloseCancelsPendingWrites(t *testing.T) {
	l := testutil.NewLoop(t)
	name := pipeName()
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, nil)
	c, err := winConnect(t, l, name)
	require.NoError(t, err)
	testutil.RunUntil(t, l, winLimit, func() bool { return len(accepted) == 1 })

	big := make([]byte, 1<<20) // more than the pipe's 64 KiB buffers hold
	var order []int
	var errs []error
	for i := 0; i < 4; i++ {
		i := i
		require.NoError(t, c.Write([][]byte{big}, func(err error) {
			order = append(order, i)
			errs = append(errs, err)
		}))
	}
	assert.Equal(t, 4<<20, c.WriteQueueSize())
	// Let the first write reach the kernel and stall there.
	testutil.Run(l, 50*time.Millisecond, func() bool { return false })
	assert.Empty(t, order, "a write completed with nobody reading")
	closed := false
	require.NoError(t, c.Close(func() {
		assert.Len(t, order, 4, "close callback before the write callbacks")
		closed = true
	}))
	testutil.RunUntil(t, l, winLimit, func() bool { return closed })
	assert.Equal(t, []int{0, 1, 2, 3}, order)
	for _, err := range errs {
		assert.ErrorIs(t, err, syscall.ECANCELED)
	}
	testutil.CloseAll(t, l, accepted[0], srv)
}

// handleCount measures the open handles (see sys.HandleCount); only Wine
// may need the fallback measure.
func handleCount(t *testing.T) (int, string) {
	t.Helper()
	n, how, err := sys.HandleCount()
	require.NoError(t, err)
	if how != "GetProcessHandleCount" {
		require.True(t, testutil.UnderWine(), "GetProcessHandleCount gave 0 outside Wine")
	}
	return n, how
}

// 200 connect / exchange / close cycles leave no handle behind (instances,
// client ends, placeholders), counted with GetProcessHandleCount.
func TestWindowsPipeNoHandleLeakOverConnectCloseCycles(t *testing.T) {
	l := testutil.NewLoop(t)
	name := pipeName()
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, func(p *pipe.Pipe) { echoBack(t, p) })
	cycle := func() {
		c, err := winConnect(t, l, name)
		require.NoError(t, err)
		var got []byte
		require.NoError(t, c.ReadStart(nil, func(n int, buf []byte, err error) {
			require.NoError(t, err)
			got = append(got, buf[:n]...)
		}))
		require.NoError(t, c.Write([][]byte{[]byte("ping")}, nil))
		testutil.RunUntil(t, l, winLimit, func() bool { return len(got) == 4 })
		testutil.CloseAll(t, l, c)
	}
	for i := 0; i < 5; i++ { // warm up: pools, lazy DLLs, instances
		cycle()
	}
	testutil.RunUntil(t, l, winLimit, func() bool { return allClosing(accepted) })
	before, how := handleCount(t)
	const cycles = 200
	deadline := time.Now().Add(2 * winLimit)
	for i := 0; i < cycles && time.Now().Before(deadline); i++ {
		cycle()
	}
	testutil.RunUntil(t, l, winLimit, func() bool { return allClosing(accepted) })
	testutil.Run(l, 20*time.Millisecond, func() bool { return false })
	after, _ := handleCount(t)
	t.Logf("%s: before %d, after %d", how, before, after)
	assert.Len(t, accepted, cycles+5)
	// The runtime's own threads come and go (a few handles); one handle
	// leaked per cycle would add 200.
	assert.LessOrEqual(t, after-before, cycles/4, "handles before %d, after %d cycles %d", before, cycles, after)
	testutil.CloseAll(t, l, srv)
}

func allClosing(ps []*pipe.Pipe) bool {
	for _, p := range ps {
		if !p.IsClosing() {
			return false
		}
	}
	return true
}

// What is not ported to named pipes is refused with ENOTSUP: Open of an
// existing handle, Chmod; TryWrite never writes (EAGAIN).
func TestWindowsPipeUnportedCallsRefused(t *testing.T) {
	l := testutil.NewLoop(t)
	ev, err := windows.CreateEvent(nil, 0, 0, nil)
	require.NoError(t, err)
	defer windows.CloseHandle(ev)
	_, err = pipe.Open(l, int(ev))
	assert.ErrorIs(t, err, syscall.ENOTSUP)

	name := pipeName()
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, nil)
	assert.ErrorIs(t, srv.Chmod(pipe.Readable), syscall.ENOTSUP)
	c, err := winConnect(t, l, name)
	require.NoError(t, err)
	_, err = c.TryWrite([][]byte{[]byte("x")})
	assert.ErrorIs(t, err, syscall.EAGAIN)
	testutil.RunUntil(t, l, winLimit, func() bool { return len(accepted) == 1 })
	testutil.CloseAll(t, l, c, accepted[0], srv)
}

// Echoing a 64-byte message through a client and a server named pipe on
// one loop allocates nothing once warm: the requests' OVERLAPPEDs and the
// read buffers belong to the streams, write copies come from the loop's
// pool, and the poller's table of requests in flight reuses its room.
func TestWindowsPipeEchoZeroAllocs(t *testing.T) {
	testutil.SkipIfDebug(t)
	l := testutil.NewLoop(t)
	srv, c, s := winPair(t, l)
	defer testutil.CloseAll(t, l, c, s, srv)

	msg := make([]byte, 64)
	out := [][]byte{msg}
	var echo [1][]byte
	require.NoError(t, s.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			panic(err)
		}
		echo[0] = buf[:n]
		if err := s.Write(echo[:], nil); err != nil {
			panic(err)
		}
		echo[0] = nil
	}))
	got := 0
	require.NoError(t, c.ReadStart(nil, func(n int, buf []byte, err error) {
		if err != nil {
			panic(err)
		}
		got += n
	}))
	want := 0
	run := func() {
		if err := c.Write(out, nil); err != nil {
			panic(err)
		}
		want += len(msg)
		for got < want {
			if err := l.Run(loop.RunOnce); err != nil {
				panic(err)
			}
		}
	}
	for i := 0; i < 10; i++ {
		run() // warm up: pools, the poller's table
	}
	allocs := testing.AllocsPerRun(500, run)
	require.Equal(t, float64(0), allocs, "allocations per echoed message")
}

// Bytes that arrive while the reader has stopped are kept (the read
// request in flight completes into the stream's buffer) and delivered at
// the next ReadStart, from the pending phase, never inside it.
func TestWindowsPipeReadStopKeepsDataForReadStart(t *testing.T) {
	l := testutil.NewLoop(t)
	srv, c, s := winPair(t, l)
	var got []byte
	onRead := func(n int, buf []byte, err error) {
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}
	require.NoError(t, s.ReadStart(nil, onRead))
	require.NoError(t, c.Write([][]byte{[]byte("one")}, nil))
	testutil.RunUntil(t, l, winLimit, func() bool { return len(got) == 3 })
	s.ReadStop()
	require.NoError(t, c.Write([][]byte{[]byte("two")}, nil))
	testutil.Run(l, 100*time.Millisecond, func() bool { return false })
	assert.Equal(t, "one", string(got), "read while stopped")
	require.NoError(t, s.ReadStart(nil, onRead))
	assert.Equal(t, "one", string(got), "delivered inside ReadStart")
	testutil.RunUntil(t, l, winLimit, func() bool { return len(got) == 6 })
	assert.Equal(t, "onetwo", string(got))
	testutil.CloseAll(t, l, c, s, srv)
}

// With the caller's buffers (an alloc function), what one ReadFile brought
// is copied out in as many pieces as those buffers need.
func TestWindowsPipeReadIntoCallerBuffers(t *testing.T) {
	l := testutil.NewLoop(t)
	srv, c, s := winPair(t, l)
	var got []byte
	pieces := 0
	require.NoError(t, s.ReadStart(func(int) []byte { return make([]byte, 7) }, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		assert.Len(t, buf, 7, "not the caller's buffer")
		got = append(got, buf[:n]...)
		pieces++
	}))
	require.NoError(t, c.Write([][]byte{[]byte("hello, named pipe")}, nil))
	testutil.RunUntil(t, l, winLimit, func() bool { return len(got) == 17 })
	assert.Equal(t, "hello, named pipe", string(got))
	assert.GreaterOrEqual(t, pieces, 3)
	testutil.CloseAll(t, l, c, s, srv)
}

// A client closed while it waits for a busy pipe (every instance taken)
// gets ECANCELED, and its waiting goroutine ends soon after.
func TestWindowsPipeCloseWhileWaitingForBusyPipe(t *testing.T) {
	l := testutil.NewLoop(t)
	name := pipeName()
	var accepted []*pipe.Pipe
	srv := winListen(t, l, name, &accepted, nil)
	before := runtime.NumGoroutine()
	// The loop has not run: the listener's 4 instances are all taken by
	// the first 4 clients, the next 2 find the pipe busy.
	cs := make([]*pipe.Pipe, 6)
	results := make([]error, 6)
	done := 0
	for i := range cs {
		i := i
		cs[i] = pipe.New(l)
		require.NoError(t, cs[i].Connect(name, func(err error) { results[i] = err; done++ }))
	}
	waiting := runtime.NumGoroutine() - before
	require.Equal(t, 2, waiting, "goroutines waiting for a free instance")
	testutil.CloseAll(t, l, cs[4], cs[5])
	testutil.RunUntil(t, l, winLimit, func() bool { return done == 6 })
	for i, err := range results {
		if i < 4 {
			assert.NoError(t, err, "client %d", i)
		} else {
			assert.ErrorIs(t, err, syscall.ECANCELED, "client %d", i)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "waiting goroutines outlived their closed clients")
	// (A goroutine that had just opened the pipe when its client closed
	// hands the handle back, closed: the server may see a 5th client.)
	testutil.RunUntil(t, l, winLimit, func() bool { return len(accepted) >= 4 })
	testutil.CloseAll(t, l, cs[:4]...)
	testutil.Run(l, 100*time.Millisecond, func() bool { return false })
	testutil.CloseAll(t, l, accepted...)
	testutil.CloseAll(t, l, srv)
}
