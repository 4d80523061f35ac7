//go:build linux

package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/poller"
)

// BenchmarkDefaultIteration: one RunDefault, b.N iterations whose poll
// cannot block (an idle hook runs each iteration), as a loop with work
// always pending runs.
func BenchmarkDefaultIteration(b *testing.B) {
	l := newLoop(b)
	ka := keepAlive(l)
	var k core.Hook
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	l.StartHook(&k, core.PhaseIdle, func() {
		n++
		if n >= b.N {
			l.StopHook(&k, core.PhaseIdle)
			ka.Close(nil)
		}
	})
	require.NoError(b, l.Run(core.RunDefault))
}

// BenchmarkDefaultIterationIO: one RunDefault, b.N iterations each woken by
// an eventfd its own callback re-arms: the poll may block (no timeout) but
// returns at once, as a busy server's poll does.
func BenchmarkDefaultIterationIO(b *testing.B) {
	l := newLoop(b)
	ka := keepAlive(l)
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	require.NoError(b, err)
	defer unix.Close(fd)
	var w core.FuncWatcher
	buf := make([]byte, 8)
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	n := 0
	require.NoError(b, l.InitIOWatcher(&w, fd, func(poller.Interest) {
		unix.Read(fd, buf)
		n++
		if n >= b.N {
			w.Close(false)
			ka.Close(nil)
			return
		}
		unix.Write(fd, one)
	}))
	require.NoError(b, w.Start(poller.Read))
	b.ReportAllocs()
	b.ResetTimer()
	unix.Write(fd, one)
	require.NoError(b, l.Run(core.RunDefault))
}
