//go:build unix

package handle_test

import (
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
)

// ---- Signal ----

func TestSignalSIGHUP(t *testing.T) {
	l := newLoop(t)
	drainSafetyNet()
	s := handle.NewSignal(l)
	assert.Nil(t, s.Signum())
	assert.ErrorIs(t, s.Start(syscall.SIGHUP, nil), handle.ErrNilCallback)
	var got []os.Signal
	require.NoError(t, s.Start(syscall.SIGHUP, func(sig os.Signal) {
		got = append(got, sig)
		s.Stop() // the loop has nothing else to do and returns
	}))
	assert.Equal(t, syscall.SIGHUP, s.Signum())
	assert.True(t, s.IsActive())
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	require.NoError(t, l.Run(loop.RunDefault))
	cancel()
	require.Equal(t, []os.Signal{syscall.SIGHUP}, got)
	assert.Nil(t, s.Signum())
	assert.False(t, s.IsActive())

	// Stopped: the signal no longer reaches the handle (only the test's
	// safety net, which is what keeps SIGHUP's default action, ending the
	// process, from applying now).
	drainSafetyNet()
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	select {
	case <-safetyNet:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGHUP not delivered")
	}
	for i := 0; i < 3; i++ {
		require.NoError(t, l.Run(loop.RunNoWait))
	}
	assert.Len(t, got, 1)

	require.NoError(t, s.Close(nil))
	assert.ErrorIs(t, s.Start(syscall.SIGHUP, func(os.Signal) {}), handle.ErrClosing)
	require.NoError(t, l.Run(loop.RunDefault))
}

func TestSignalRestartAndClose(t *testing.T) {
	l := newLoop(t)
	s := handle.NewSignal(l)
	n := 0
	for i := 0; i < 3; i++ { // restarting replaces the goroutine, which the leak check verifies
		require.NoError(t, s.Start(syscall.SIGHUP, func(os.Signal) { n++ }))
	}
	s.Unref()
	require.NoError(t, l.Run(loop.RunDefault), "an unreferenced signal does not keep the loop alive")
	closed := false
	require.NoError(t, s.Close(func() { closed = true }))
	assert.False(t, s.IsActive())
	require.NoError(t, l.Run(loop.RunDefault))
	assert.True(t, closed)
	assert.Zero(t, n)
}

func drainSafetyNet() {
	for {
		select {
		case <-safetyNet:
		default:
			return
		}
	}
}
