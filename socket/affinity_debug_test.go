//go:build netloopdebug && !windows

package socket_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/socket"
)

// TestLoopAffinityPanicsOffLoop: built with -tags netloopdebug, a
// loop-affine Socket method called from another goroutine while the loop
// runs panics with a message naming the method; before Run it is allowed.
func TestLoopAffinityPanicsOffLoop(t *testing.T) {
	l, err := loop.New()
	require.NoError(t, err)
	s, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	s.SetNoDelay(true) // before Run: any goroutine may set up

	release := l.Hold()
	running := make(chan struct{})
	done := make(chan error)
	l.NextTick(func() { close(running) })
	go func() { done <- l.Run(loop.RunDefault) }()
	<-running

	msg := func() (msg any) {
		defer func() { msg = recover() }()
		s.Write([]byte("x"))
		return nil
	}()
	require.NotNil(t, msg, "Write from another goroutine did not panic")
	require.Contains(t, msg, "Socket.Write")
	require.Contains(t, msg, "loop-affine")

	// The loop goroutine itself may call it.
	ok := make(chan any, 1)
	require.NoError(t, l.Post(func() {
		defer func() { ok <- recover() }()
		s.Destroy(nil)
	}))
	require.Nil(t, <-ok)
	release()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("loop did not stop")
	}
	require.NoError(t, l.Close())
}
