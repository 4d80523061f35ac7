//go:build !windows

package stream_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/tcp"
)

// TestWriteWhileConnecting: writes issued before the connect finished are
// flushed once connected, in order, after the connect callback.
func TestWriteWhileConnecting(t *testing.T) {
	l := testutil.NewLoop(t)
	path := testutil.SockPath(t)
	lis := pipe.New(l)
	require.NoError(t, lis.Bind(path))
	var srv *pipe.Pipe
	var got []byte
	require.NoError(t, lis.Listen(8, func(err error) {
		require.NoError(t, err)
		srv = pipe.New(l)
		require.NoError(t, lis.Accept(srv))
		require.NoError(t, srv.ReadStart(nil, func(n int, buf []byte, err error) {
			require.NoError(t, err)
			got = append(got, buf[:n]...)
		}))
	}))
	c := pipe.New(l)
	var events []string
	require.NoError(t, c.Connect(path, func(err error) {
		require.NoError(t, err)
		events = append(events, "connect")
	}))
	for _, s := range []string{"a", "b", "c"} {
		err := c.Write([][]byte{[]byte(s)}, func(err error) {
			require.NoError(t, err)
			events = append(events, s)
		})
		require.NoError(t, err)
	}
	assert.Equal(t, 3, c.WriteQueueSize())
	testutil.RunUntil(t, l, waitLimit, func() bool { return len(got) == 3 && len(events) == 4 })
	assert.Equal(t, "abc", string(got))
	assert.Equal(t, []string{"connect", "a", "b", "c"}, events)
	testutil.CloseAll(t, l, c, srv, lis)
}

// TestCloseWhileConnecting: a handle closed before its connect callback
// ran gets ECANCELED for the connect and its queued writes, before the
// close callback, even when the connect itself had already succeeded.
func TestCloseWhileConnecting(t *testing.T) {
	for _, tr := range []string{"pipe", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			l := testutil.NewLoop(t)
			var lis, c interface {
				Close(func()) error
			}
			var connectErr, writeErr error
			var events []string
			connectCb := func(err error) { connectErr = err; events = append(events, "connect") }
			writeCb := func(err error) { writeErr = err; events = append(events, "write") }
			var w func([][]byte, func(error)) error
			if tr == "pipe" {
				path := testutil.SockPath(t)
				p := pipe.New(l)
				require.NoError(t, p.Bind(path))
				require.NoError(t, p.Listen(8, func(error) {}))
				lis = p
				cp := pipe.New(l)
				c = cp
				// A Unix-domain connect succeeds at once: the callback
				// is due in the pending phase.
				require.NoError(t, cp.Connect(path, connectCb))
				w = func(b [][]byte, cb func(error)) error { err := cp.Write(b, cb); return err }
			} else {
				p := tcp.New(l)
				require.NoError(t, p.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
				require.NoError(t, p.Listen(8, func(error) {}))
				ap, err := p.SockName()
				require.NoError(t, err)
				lis = p
				cp := tcp.New(l)
				c = cp
				require.NoError(t, cp.Connect(ap.Addr(), int(ap.Port()), connectCb))
				w = func(b [][]byte, cb func(error)) error { err := cp.Write(b, cb); return err }
			}
			require.NoError(t, w([][]byte{[]byte("queued")}, writeCb))
			require.NoError(t, c.Close(func() { events = append(events, "close") }))
			require.NoError(t, lis.Close(nil))
			require.NoError(t, l.Run(loop.RunDefault))
			assert.Equal(t, []string{"connect", "write", "close"}, events)
			assert.ErrorIs(t, connectErr, syscall.ECANCELED)
			assert.ErrorIs(t, writeErr, syscall.ECANCELED)
		})
	}
}

// TestConnectErrorCancelsWrites: when the connect fails, the writes queued
// behind it fail with ECANCELED after the connect callback (as in libuv),
// without waiting for Close, and the handle no longer keeps the loop alive.
func TestConnectErrorCancelsWrites(t *testing.T) {
	l := testutil.NewLoop(t)
	b := tcp.New(l)
	require.NoError(t, b.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	ap, err := b.SockName()
	require.NoError(t, err)
	c := tcp.New(l)
	defer testutil.CloseAll(t, l, c, b)
	var events []string
	var connectErr, writeErr, shutErr error
	require.NoError(t, c.Connect(ap.Addr(), int(ap.Port()), func(err error) {
		connectErr = err
		events = append(events, "connect")
	}))
	err = c.Write([][]byte{[]byte("x")}, func(err error) {
		writeErr = err
		events = append(events, "write")
	})
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(func(err error) {
		shutErr = err
		events = append(events, "shutdown")
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Without the cancellation the queued write would keep the loop
		// running forever.
		l.Run(loop.RunDefault)
	}()
	<-done
	assert.Equal(t, []string{"connect", "write", "shutdown"}, events)
	assert.True(t, errors.Is(connectErr, syscall.ECONNREFUSED), "connect: %v", connectErr)
	assert.ErrorIs(t, writeErr, syscall.ECANCELED)
	assert.Error(t, shutErr)
	assert.Equal(t, 0, c.WriteQueueSize())
	assert.False(t, c.IsActive())
}
