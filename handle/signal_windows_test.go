package handle_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
)

// Ctrl-Break reaches a Signal started for os.Interrupt (Go delivers
// CTRL_C_EVENT and CTRL_BREAK_EVENT as os.Interrupt), on the loop;
// stopped, the handle is inactive and lets the loop end.
func TestSignalCtrlBreak(t *testing.T) {
	l := newLoop(t)
	s := handle.NewSignal(l)
	var got []os.Signal
	require.NoError(t, s.Start(os.Interrupt, func(sig os.Signal) {
		got = append(got, sig)
		s.Stop()
	}))
	assert.Equal(t, os.Interrupt, s.Signum())
	assert.True(t, s.IsActive())
	if err := windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, 0); err != nil {
		// No console to send it through (a service, or Wine run without
		// one): the delivery cannot be provoked here.
		s.Stop()
		require.NoError(t, s.Close(nil))
		require.NoError(t, l.Run(loop.RunDefault))
		t.Skipf("GenerateConsoleCtrlEvent: %v: delivery not testable without a console", err)
	}
	cancel := testutil.Watchdog(t, l, 10*time.Second)
	require.NoError(t, l.Run(loop.RunDefault))
	cancel()
	assert.Equal(t, []os.Signal{os.Interrupt}, got)
	assert.False(t, s.IsActive())
	require.NoError(t, s.Close(nil))
	require.NoError(t, l.Run(loop.RunDefault))
}

// An unreferenced signal does not keep the loop alive; restarting and
// closing leave no goroutine behind (the leak check of TestMain).
func TestSignalRestartAndCloseWindows(t *testing.T) {
	l := newLoop(t)
	s := handle.NewSignal(l)
	for i := 0; i < 3; i++ {
		require.NoError(t, s.Start(os.Interrupt, func(os.Signal) {}))
	}
	s.Unref()
	require.NoError(t, l.Run(loop.RunDefault))
	closed := false
	require.NoError(t, s.Close(func() { closed = true }))
	require.NoError(t, l.Run(loop.RunDefault))
	assert.True(t, closed)
}
