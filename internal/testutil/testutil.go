package testutil

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/leakcheck"
	"github.com/netloop/netloop/loop"
)

// LeakCheckMain is leakcheck.Main: it runs the tests and fails the run if
// they leave descriptors or goroutines behind.
func LeakCheckMain(m *testing.M) int { return leakcheck.Main(m) }

// CountFDs returns how many descriptors the process has open (-1 where
// /proc/self/fd does not exist).
func CountFDs() int { return leakcheck.CountFDs() }

// NewLoop creates a loop that is closed when the test ends. Handles still
// open then are closed (and reported as a test failure) so the loop, and
// with it every descriptor, is released anyway.
func NewLoop(t testing.TB) *loop.Loop {
	t.Helper()
	l, err := loop.New()
	if err != nil {
		t.Fatalf("loop.New: %v", err)
	}
	t.Cleanup(func() { CloseLoop(t, l) })
	return l
}

// CloseLoop closes every handle still open on l, runs their close
// callbacks and closes l. Open handles are a test failure.
func CloseLoop(t testing.TB, l *loop.Loop) {
	t.Helper()
	open := 0
	(*core.Loop)(l).Walk(func(h *core.Handle) {
		if !h.IsClosing() {
			open++
			h.Close(nil)
		}
	})
	for i := 0; i < 100; i++ {
		if err := l.Close(); err == nil || errors.Is(err, loop.ErrClosed) {
			break
		}
		l.Run(loop.RunNoWait)
	}
	if open > 0 {
		t.Errorf("%d handles were still open at the end of the test", open)
	}
}

// RunUntil runs l until cond holds, failing the test after timeout. The
// poll phase never blocks for more than 10 ms, so cond may depend on other
// goroutines or processes.
func RunUntil(t testing.TB, l *loop.Loop, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !Run(l, timeout, cond) {
		t.Fatalf("condition not reached within %v", timeout)
	}
}

// Receive runs l until a value arrives on ch (sent by another goroutine)
// and returns it, failing the test after timeout.
func Receive[T any](t testing.TB, l *loop.Loop, timeout time.Duration, ch <-chan T) T {
	t.Helper()
	var v T
	RunUntil(t, l, timeout, func() bool {
		select {
		case v = <-ch:
			return true
		default:
			return false
		}
	})
	return v
}

// Run runs l until cond holds or timeout passes and reports whether cond
// held.
func Run(l *loop.Loop, timeout time.Duration, cond func() bool) bool {
	var guard core.TimerEntry
	c := (*core.Loop)(l)
	defer c.StopTimer(&guard)
	noop := func() {}
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		if !l.Alive() {
			time.Sleep(time.Millisecond)
		}
		c.StartTimer(&guard, 10*time.Millisecond, noop)
		if err := l.Run(loop.RunOnce); err != nil {
			return false
		}
	}
	return true
}

// RunAll runs l until nothing referenced is left and reports whether it
// got there within limit. An unref'd safety timer closes every handle still
// open after limit, so the run ends anyway; the caller then fails the test,
// saying what it was waiting for.
func RunAll(t testing.TB, l *loop.Loop, limit time.Duration) bool {
	t.Helper()
	timedOut := false
	safety := handle.NewTimer(l)
	safety.Unref()
	if err := safety.Start(limit, 0, func() {
		timedOut = true
		handle.Walk(l, func(h *handle.Handle) {
			if !h.IsClosing() {
				h.Close(nil)
			}
		})
	}); err != nil {
		t.Fatalf("safety timer: %v", err)
	}
	if err := l.Run(loop.RunDefault); err != nil {
		t.Fatalf("loop.Run: %v", err)
	}
	if !safety.IsClosing() {
		safety.Close(nil)
	}
	if err := l.Run(loop.RunDefault); err != nil {
		t.Fatalf("loop.Run: %v", err)
	}
	return !timedOut
}

// After runs fn once after d on a referenced timer of l (so it keeps the
// loop alive until then); the timer closes itself before fn runs.
func After(t testing.TB, l *loop.Loop, d time.Duration, fn func()) *handle.Timer {
	t.Helper()
	tm := handle.NewTimer(l)
	if err := tm.Start(d, 0, func() {
		tm.Close(nil)
		fn()
	}); err != nil {
		t.Fatalf("timer.Start: %v", err)
	}
	return tm
}

// Watchdog stops l from another goroutine, failing the test, if it is
// still running after d, so a hang becomes a failure instead of a test
// timeout. Call cancel when the run is over.
func Watchdog(t testing.TB, l interface{ Stop() }, d time.Duration) (cancel func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
		case <-time.After(d):
			t.Errorf("watchdog: loop still running after %v", d)
			l.Stop()
		}
	}()
	return func() { close(done); wg.Wait() }
}

// Closer is a handle that closes with a callback: the stream, tcp and
// pipe handles.
type Closer interface {
	IsClosing() bool
	Close(cb func()) error
}

// CloseAll closes the handles of hs that are not nil nor already closing
// and runs l until their close callbacks ran.
func CloseAll[T any, H interface {
	*T
	Closer
}](t testing.TB, l *loop.Loop, hs ...H) {
	t.Helper()
	n := 0
	for _, h := range hs {
		if h != nil && !h.IsClosing() {
			n++
			h.Close(func() { n-- })
		}
	}
	RunUntil(t, l, closeLimit, func() bool { return n == 0 })
}

// closeLimit bounds CloseAll.
const closeLimit = 20 * time.Second

// TempLoop creates a loop for a test that may leave handles open on
// purpose: at the end they are closed, their close callbacks run, and the
// loop must then close cleanly.
func TempLoop(t testing.TB) *loop.Loop {
	t.Helper()
	l, err := loop.New()
	if err != nil {
		t.Fatalf("loop.New: %v", err)
	}
	t.Cleanup(func() {
		(*core.Loop)(l).Walk(func(h *core.Handle) {
			if !h.IsClosing() {
				h.Close(nil)
			}
		})
		if err := l.Run(loop.RunNoWait); err != nil {
			t.Errorf("loop.Run: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("loop.Close: %v", err)
		}
	})
	return l
}

// NodeMissing is what tests say when the node binary is not on PATH.
const NodeMissing = "the node binary is not on PATH: the Node interoperability tests need Node.js (v20+)"

// RequireNode returns the path of the node binary. Without one the test
// fails on CI (CI=true), where Node is part of the contract, and is skipped
// elsewhere, saying why either way.
func RequireNode(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(NodeMissing)
		}
		t.Skip(NodeMissing)
	}
	return p
}
