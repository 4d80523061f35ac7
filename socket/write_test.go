//go:build !windows

package socket_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// WR-01: writes made while connecting are queued and flushed in order
// after 'connect'; their callbacks run only after connect.
func TestWritesWhileConnecting(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var order []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { got = append(got, b...) })
	}, func(c *socket.Socket) {
		c.OnConnect(func() { order = append(order, "connect") })
		require.True(t, c.Connecting())
		assert.True(t, c.Write([]byte("before"), func(err error) { assert.NoError(t, err); order = append(order, "cb1") }))
		assert.True(t, c.Write([]byte(" after"), func(err error) { assert.NoError(t, err); order = append(order, "cb2") }))
		c.End(nil)
		c.OnData(func([]byte) {})
	})
	e.run()
	assert.Equal(t, "before after", string(got))
	assert.Equal(t, []string{"connect", "cb1", "cb2"}, order)
}

// WR-02: every write callback runs exactly once, in order, after its data
// was handed to the kernel.
func TestWriteCallbacksInOrder(t *testing.T) {
	e := newEnv(t)
	const n = 20000
	calls := make([]int, n)
	var seq []int
	total := 0
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { total += len(b) })
	}, func(c *socket.Socket) {
		c.OnConnect(func() {
			for i := 0; i < n; i++ {
				i := i
				c.Write([]byte("0123456789"), func(err error) {
					assert.NoError(t, err)
					calls[i]++
					seq = append(seq, i)
				})
			}
			c.End(nil)
		})
		c.OnData(func([]byte) {})
	})
	e.run()
	assert.Equal(t, n*10, total)
	require.Len(t, seq, n)
	for i := 0; i < n; i++ {
		if seq[i] != i || calls[i] != 1 {
			t.Fatalf("callback %d: seq %d, calls %d", i, seq[i], calls[i])
		}
	}
}

// WR-03: Write returns false at the high-water mark, 'drain' follows, and
// writing until false and resuming on 'drain' delivers everything.
func TestBackpressureAndDrain(t *testing.T) {
	e := newEnv(t)
	const chunk = 16 << 10
	const total = 8 << 20
	received := 0
	var srvSock *socket.Socket
	falses, drains := 0, 0
	trueBelowMark := true
	e.pair(server.Options{PauseOnConnect: true}, socket.Options{}, func(s *socket.Socket) {
		srvSock = s
		s.OnData(func(b []byte) { received += len(b) })
	}, func(c *socket.Socket) {
		buf := bytes.Repeat([]byte{'x'}, chunk)
		sent := 0
		var pump func()
		pump = func() {
			for sent < total {
				below := c.WritableLength()+chunk < c.WritableHighWaterMark()
				ok := c.Write(buf)
				sent += chunk
				if below && !ok {
					trueBelowMark = false
				}
				if !ok {
					falses++
					assert.GreaterOrEqual(t, c.WritableLength(), c.WritableHighWaterMark())
					if falses == 1 {
						// The receiver starts reading only now.
						srvSock.Resume()
					}
					return
				}
			}
			c.End(nil)
		}
		c.OnDrain(func() {
			drains++
			assert.Zero(t, c.WritableLength())
			pump()
		})
		c.OnConnect(pump)
		c.OnData(func([]byte) {})
	})
	e.run()
	assert.Equal(t, total, received)
	assert.Greater(t, falses, 0)
	assert.Equal(t, falses, drains)
	assert.True(t, trueBelowMark)
	assert.Equal(t, socket.DefaultHighWaterMark, 64<<10)
}

// WR-03 (hwm option): a negative HighWaterMark means 0, so every Write
// returns false and 'drain' follows.
func TestHighWaterMarkZero(t *testing.T) {
	e := newEnv(t)
	var ok bool
	drained := false
	e.pair(server.Options{}, socket.Options{HighWaterMark: -1}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
	}, func(c *socket.Socket) {
		ok = c.Write([]byte("x"))
		c.OnDrain(func() { drained = true; c.End(nil) })
		c.OnData(func([]byte) {})
	})
	e.run()
	assert.False(t, ok)
	assert.True(t, drained)
}

// WR-04: Cork ... Uncork (or End) batches writes into one vectored write:
// cork; write("pi"); write("ng"); end() reaches the peer as one "ping"
// chunk; BytesWritten and BufferSize count the corked bytes.
func TestCorkBatchesWrites(t *testing.T) {
	for _, viaEnd := range []bool{true, false} {
		name := "uncork"
		if viaEnd {
			name = "end"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var chunks []string
			var cbs []string
			var corked, buffered int
			var written int64
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				s.OnData(func(b []byte) { chunks = append(chunks, string(b)) })
			}, func(c *socket.Socket) {
				c.OnData(func([]byte) {})
				c.OnConnect(func() {
					c.Cork()
					c.Cork()
					c.Write([]byte("pi"), func(err error) { assert.NoError(t, err); cbs = append(cbs, "pi") })
					c.Write([]byte("ng"), func(err error) { assert.NoError(t, err); cbs = append(cbs, "ng") })
					corked, buffered, written = c.WritableCorked(), c.BufferSize(), c.BytesWritten()
					if viaEnd {
						c.End(nil)
						return
					}
					c.Uncork()
					assert.Equal(t, 4, c.BufferSize(), "still corked once")
					c.Uncork()
					e.after(50*time.Millisecond, func() { c.End(nil) })
				})
			})
			e.run()
			assert.Equal(t, []string{"ping"}, chunks)
			assert.Equal(t, []string{"pi", "ng"}, cbs)
			assert.Equal(t, 2, corked)
			assert.Equal(t, 4, buffered)
			assert.Equal(t, int64(4), written)
		})
	}
}

// WR-05: End(nil), End(nil, cb) and End(data, cb) all work: data goes out
// before the FIN, cb runs just before 'finish', End returns the socket.
func TestEndForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		cb   bool
	}{{"plain", nil, false}, {"cb", nil, true}, {"data+cb", []byte("bye"), true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var got []byte
			var order []string
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				s.OnData(func(b []byte) { got = append(got, b...) })
				s.OnEnd(func() { order = append(order, "peer-end") })
			}, func(c *socket.Socket) {
				c.OnFinish(func() { order = append(order, "finish") })
				c.OnData(func([]byte) {})
				c.OnConnect(func() {
					var r *socket.Socket
					if tc.cb {
						r = c.End(tc.data, func(err error) {
							assert.NoError(t, err)
							order = append(order, "cb")
						})
					} else {
						r = c.End(tc.data)
					}
					assert.Same(t, c, r)
				})
			})
			e.run()
			assert.Equal(t, string(tc.data), string(got))
			// As Node: End's callback runs just before 'finish'.
			want := []string{"finish"}
			if tc.cb {
				want = []string{"cb", "finish"}
			}
			// peer-end can come anywhere after finish.
			order = testutil.Without(order, "peer-end")
			assert.Equal(t, want, order)
		})
	}
}

// WR-06: End on a never-connected socket calls back and makes it not
// writable; End while connecting waits for the connection, then sends the
// FIN, and the socket closes normally.
func TestEndWithoutOrBeforeConnect(t *testing.T) {
	e := newEnv(t)
	lone := e.newSocket(socket.Options{})
	loneEv := track(lone, false)
	called := false
	lone.End(nil, func(err error) { called = err == nil })
	assert.False(t, lone.Writable())

	var peer []string
	var ev *testutil.Events
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.OnEnd(func() { peer = append(peer, "end") })
		s.OnClose(func(bool) { peer = append(peer, "close") })
	}, func(c *socket.Socket) {
		ev = track(c, true)
		c.End(nil)
		assert.Equal(t, "opening", c.ReadyState())
	})
	e.run()
	assert.True(t, called)
	assert.Equal(t, []string{"finish", "close:false"}, loneEv.Get())
	assert.Equal(t, []string{"connect", "ready", "finish", "end", "close:false"}, ev.Get())
	assert.Equal(t, []string{"end", "close"}, peer)
}

// WR-07: allowHalfOpen=false: the peer's FIN gives 'end', then the socket
// ends itself ('finish') and closes; it is not destroyed inside 'end', on
// the next tick, or inside 'finish'.
func TestAutoEndAfterPeerFIN(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
	var notDestroyed []bool
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		ev = track(s, true)
		s.OnEnd(func() {
			notDestroyed = append(notDestroyed, !s.Destroyed())
			e.l.NextTick(func() { notDestroyed = append(notDestroyed, !s.Destroyed()) })
		})
		s.OnFinish(func() { notDestroyed = append(notDestroyed, !s.Destroyed()) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.End([]byte("x"))
	})
	e.run()
	assert.Equal(t, []string{"data", "end", "finish", "close:false"}, ev.Get())
	assert.Equal(t, []bool{true, true, true}, notDestroyed)
}

// WR-08: inside 'end' the socket is still writable and a write goes out
// before the automatic FIN; after it, Write returns false, its callback
// gets EPIPE "This socket has been ended by the other party", and 'error'
// follows asynchronously.
func TestWriteInEndAndAfterAutoEnd(t *testing.T) {
	e := newEnv(t)
	var clientGot []byte
	var ev *testutil.Events
	var cbErr error
	var okAfter bool
	var errInWrite bool
	e.pair(server.Options{}, socket.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
		ev = track(s, true)
		s.OnEnd(func() {
			assert.True(t, s.Writable())
			assert.True(t, s.Write([]byte("in-end")))
		})
		s.OnFinish(func() {
			errored := false
			s.OnError(func(error) { errored = true })
			okAfter = s.Write([]byte("late"), func(err error) { cbErr = err })
			errInWrite = errored
		})
	}, func(c *socket.Socket) {
		c.OnData(func(b []byte) { clientGot = append(clientGot, b...) })
		c.OnEnd(func() { c.End(nil) })
		c.End([]byte("x"))
	})
	e.run()
	assert.Equal(t, "in-end", string(clientGot))
	assert.False(t, okAfter)
	assert.False(t, errInWrite, "'error' must not be emitted inside Write")
	require.Error(t, cbErr)
	assert.Equal(t, "EPIPE", code(cbErr))
	assert.Equal(t, "This socket has been ended by the other party", cbErr.Error())
	assert.Equal(t, []string{"data", "end", "finish", "error:EPIPE", "close:true"}, ev.Get())
}

// WR-09: allowHalfOpen=true: after the peer's FIN the socket is not
// readable but still writable and the peer receives what it writes;
// nothing closes until the local End. The mirror case also holds.
func TestHalfOpen(t *testing.T) {
	e := newEnv(t)
	var srvEv, cliEv *testutil.Events
	var clientGot []byte
	var states []string
	e.pair(server.Options{AllowHalfOpen: true}, socket.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
		srvEv = track(s, true)
		s.OnEnd(func() {
			e.l.NextTick(func() {
				states = append(states, s.ReadyState())
				assert.False(t, s.Readable())
				assert.True(t, s.Writable())
				assert.True(t, s.Write([]byte("after-fin")))
				e.after(50*time.Millisecond, func() {
					assert.False(t, s.Destroyed(), "half-open socket stays open")
					s.End([]byte("!"))
				})
			})
		})
		s.OnClose(func(bool) {
			assert.False(t, s.Readable())
			assert.False(t, s.Writable())
		})
	}, func(c *socket.Socket) {
		cliEv = track(c, false)
		c.OnData(func(b []byte) { clientGot = append(clientGot, b...) })
		c.OnFinish(func() {
			// Mirror: locally ended, still receiving.
			states = append(states, c.ReadyState())
			assert.True(t, c.Readable())
			assert.False(t, c.Writable())
		})
		c.End([]byte("x"))
	})
	e.run()
	assert.Equal(t, "after-fin!", string(clientGot))
	assert.Equal(t, []string{"data", "end", "finish", "close:false"}, srvEv.Get())
	assert.Equal(t, []string{"connect", "ready", "finish", "end", "close:false"}, cliEv.Get())
	assert.ElementsMatch(t, []string{"writeOnly", "readOnly"}, states)
}

// WR-10: writing to a destroyed socket does not panic, emits no 'error',
// and the callback gets ERR_STREAM_DESTROYED.
func TestWriteAfterDestroy(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
	var cbErr error
	var ok = true
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
	}, func(c *socket.Socket) {
		ev = track(c, true)
		c.OnConnect(func() {
			c.Destroy(nil)
			ok = c.Write([]byte("x"), func(err error) { cbErr = err })
		})
	})
	e.run()
	assert.False(t, ok)
	assert.Equal(t, errs.CodeStreamDestroyed, code(cbErr))
	assert.Equal(t, "Cannot call write after a stream was destroyed", cbErr.Error())
	assert.Equal(t, []string{"connect", "ready", "close:false"}, ev.Get())
}

// WR-11: a write queued while connecting, then Destroy: the callback gets
// ERR_SOCKET_CLOSED_BEFORE_CONNECTION and 'connect' never fires.
func TestDestroyBeforeConnectFailsQueuedWrites(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
	var cbErr error
	srv := e.server(server.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) })
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(socket.Options{})
		ev = track(c, true)
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		c.Write([]byte("x"), func(err error) { cbErr = err })
		c.Destroy(nil)
		srv.Close(nil)
	})
	e.run()
	assert.Equal(t, errs.CodeSocketClosedBeforeConnection, code(cbErr))
	assert.Equal(t, []string{"close:false"}, ev.Get())
}

// WR-12: a write after our own End fails with ERR_STREAM_WRITE_AFTER_END
// (and 'error'); a write on a socket without a handle fails with
// ERR_SOCKET_CLOSED.
func TestWriteAfterEndAndWithoutHandle(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
	var cbErr, cbErr2 error
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
	}, func(c *socket.Socket) {
		ev = track(c, true)
		c.OnReady(func() {
			c.End(nil)
			assert.False(t, c.Write([]byte("x"), func(err error) { cbErr = err }))
		})
	})
	lone := e.newSocket(socket.Options{})
	loneEv := track(lone, false)
	assert.False(t, lone.Write([]byte("x"), func(err error) { cbErr2 = err }))
	e.run()
	assert.Equal(t, errs.CodeStreamWriteAfterEnd, code(cbErr))
	assert.Equal(t, "write after end", cbErr.Error())
	assert.Equal(t, "connect,ready,error:ERR_STREAM_WRITE_AFTER_END,close:true", ev.String())
	assert.Equal(t, errs.CodeSocketClosed, code(cbErr2))
	assert.Equal(t, "Socket is closed", cbErr2.Error())
	assert.Equal(t, []string{"error:ERR_SOCKET_CLOSED", "close:true"}, loneEv.Get())
}

// WR-13: when the peer resets while we write, the writer gets exactly one
// 'error' (EPIPE or ECONNRESET) and then 'close'.
func TestPeerVanishesWhileWriting(t *testing.T) {
	e := newEnv(t)
	var ev *testutil.Events
	var srvSock *socket.Socket
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		srvSock = s
		got := 0
		s.OnData(func(b []byte) {
			got += len(b)
			if got > 1<<20 && !s.Destroyed() {
				s.ResetAndDestroy()
			}
		})
	}, func(c *socket.Socket) {
		ev = track(c, false)
		c.OnData(func([]byte) {})
		buf := make([]byte, 64<<10)
		var pump func()
		pump = func() {
			for !c.Destroyed() && c.Write(buf) {
			}
		}
		c.OnConnect(pump)
		c.OnDrain(pump)
	})
	e.run()
	require.NotNil(t, srvSock)
	log := ev.Get()
	require.GreaterOrEqual(t, len(log), 2, "%v", log)
	assert.Equal(t, []string{"connect", "ready"}, log[:2])
	rest := testutil.Without(log[2:], "drain")
	require.Len(t, rest, 2, "%v", log)
	assert.Contains(t, []string{"error:EPIPE", "error:ECONNRESET"}, rest[0])
	assert.Equal(t, "close:true", rest[1])
	assert.True(t, strings.HasPrefix(rest[0], "error:"))
}

// TestWriteAfterPeerResetReturnsFalse: once a write to a peer that reset
// the connection has failed, Write returns false (as Node's write returns
// false once the stream errored), so a producer that writes while Write
// returns true stops and returns to the loop; then the failed write's
// callback, 'error' (EPIPE or ECONNRESET) and 'close' follow, once each.
// Before the fix every Write returned true and such a producer never
// returned to the loop.
func TestWriteAfterPeerResetReturnsFalse(t *testing.T) {
	l := testutil.NewLoop(t)
	var conn *socket.Socket
	srv := server.New(server.Options{Loop: l, PauseOnConnect: true}, func(c *socket.Socket) { conn = c })
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return srv.Address() != nil })
	port := srv.Address().Port

	// A raw client connects and resets at once (SO_LINGER 0).
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) // SOCK_CLOEXEC is not on every system
	require.NoError(t, err)
	unix.CloseOnExec(fd)
	require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return conn != nil })
	require.NoError(t, unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}))
	require.NoError(t, unix.Close(fd))
	time.Sleep(50 * time.Millisecond) // the RST reaches the server's socket

	var errs []error
	closes, cbErrs := 0, 0
	conn.OnError(func(err error) { errs = append(errs, err) })
	conn.OnClose(func(bool) { closes++ })
	chunk := make([]byte, 1024)
	writes := 0
	for writes < 100000 && conn.Write(chunk, func(err error) {
		if err != nil {
			cbErrs++
		}
	}) {
		writes++
	}
	assert.Less(t, writes, 10, "Write kept returning true after the connection was reset")
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return closes > 0 })
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], syscall.EPIPE) || errors.Is(errs[0], syscall.ECONNRESET), "%v", errs[0])
	assert.Equal(t, 1, closes)
	assert.Equal(t, writes+1, cbErrs, "every write's callback gets an error")
	srv.Close(nil)
	testutil.RunUntil(t, l, 10*time.Second, func() bool { return !l.Alive() })
}

// TestEndCallbackAfterFinishOrDestroy: End's callback always runs, as in
// Node: on a socket that already finished it gets
// ERR_STREAM_ALREADY_FINISHED, on a destroyed one ERR_STREAM_DESTROYED,
// and a callback still waiting for 'finish' when the socket is destroyed
// gets the destroy's error. Before the fix these callbacks never ran.
func TestEndCallbackAfterFinishOrDestroy(t *testing.T) {
	e := newEnv(t)
	var got []string
	record := func(name string) func(error) {
		return func(err error) { got = append(got, name+":"+errs.CodeOf(err)) }
	}
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.End(nil, func(err error) {
				record("first")(err)
				c.End(nil, record("after-finish"))
			})
		})
		c.OnClose(func(bool) { c.End(nil, record("after-close")) })
	})
	e.run()
	assert.Equal(t, []string{"first:", "after-finish:ERR_STREAM_ALREADY_FINISHED", "after-close:ERR_STREAM_ALREADY_FINISHED"}, got)

	// Destroyed before 'finish': the waiting callback gets the error, and
	// End after destroy gets ERR_STREAM_DESTROYED.
	got = nil
	e2 := newEnv(t)
	var peer *socket.Socket
	e2.pair(server.Options{PauseOnConnect: true}, socket.Options{}, func(s *socket.Socket) { peer = s }, func(c *socket.Socket) {
		c.OnError(func(error) {})
		c.OnClose(func(bool) { peer.Destroy(nil) })
		c.OnConnect(func() {
			c.Write(make([]byte, 16<<20)) // cannot finish: the peer does not read
			c.End(nil, record("waiting"))
			c.Destroy(nil)
			c.End(nil, record("after-destroy"))
		})
	})
	e2.run()
	assert.ElementsMatch(t, []string{"waiting:ERR_STREAM_DESTROYED", "after-destroy:ERR_STREAM_DESTROYED"}, got)
}

// TestWriteInEndHandler follows Node's writeAfterFIN: a write made in the
// 'end' handler of a socket without allowHalfOpen goes out if the socket
// has not ended its own side, and fails with EPIPE "This socket has been
// ended by the other party" (to the callback and as 'error', destroying
// the socket) if it had called End itself. Before the fix the second case
// got ERR_STREAM_WRITE_AFTER_END.
func TestWriteInEndHandler(t *testing.T) {
	for _, selfEnd := range []bool{false, true} {
		t.Run(fmt.Sprintf("selfEnd=%v", selfEnd), func(t *testing.T) {
			e := newEnv(t)
			var cbErr, emitted error
			var returned bool
			var clientGot []byte
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				s.OnError(func(err error) { emitted = err })
				if selfEnd {
					s.End(nil)
				}
				s.OnEnd(func() {
					returned = s.Write([]byte("late"), func(err error) { cbErr = err })
				})
				s.OnData(func([]byte) {})
			}, func(c *socket.Socket) {
				c.OnConnect(func() { c.End(nil) })
				c.OnData(func(b []byte) { clientGot = append(clientGot, b...) })
			})
			e.run()
			if !selfEnd {
				assert.True(t, returned)
				assert.NoError(t, cbErr)
				assert.NoError(t, emitted)
				assert.Equal(t, "late", string(clientGot))
				return
			}
			assert.False(t, returned)
			for _, err := range []error{cbErr, emitted} {
				require.Error(t, err)
				assert.Equal(t, "EPIPE", errs.CodeOf(err))
				assert.Equal(t, "This socket has been ended by the other party", err.Error())
			}
			assert.Empty(t, clientGot)
		})
	}
}

// TestEndString: EndString encodes then ends, Node's end(data, encoding,
// cb), whose cb gets nil before 'finish' (node v20: "cb2 null | finish |
// srv data:hi"); an unknown encoding is refused at once with
// ERR_UNKNOWN_ENCODING, ending nothing and never calling cb, as Node
// throws ("threw ERR_UNKNOWN_ENCODING Unknown encoding: bogus
// writable=true ended=false").
func TestEndString(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { got = append(got, b...) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnFinish(func() { log = append(log, "finish") })
		c.OnConnect(func() {
			err := c.EndString("x", "bogus", func(err error) { log = append(log, "bogus cb") })
			assert.Equal(t, errs.CodeUnknownEncoding, errs.CodeOf(err))
			assert.EqualError(t, err, "Unknown encoding: bogus")
			assert.True(t, c.Writable(), "an unknown encoding ends nothing")
			require.NoError(t, c.EndString("aGk=", "base64", func(err error) { log = append(log, fmt.Sprintf("cb %v", err)) }))
			assert.False(t, c.Writable())
		})
	})
	e.run()
	assert.Equal(t, "hi", string(got))
	assert.Equal(t, []string{"cb <nil>", "finish"}, log)
}
