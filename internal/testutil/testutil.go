//go:build !windows

package testutil

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netloop/netloop/loop"
)

// LeakCheckMain runs the tests and fails the run if they leave descriptors
// or goroutines behind (on Linux, where /proc/self/fd lists them). Use it
// as os.Exit(testutil.LeakCheckMain(m)).
func LeakCheckMain(m *testing.M) int {
	// Warm up what the runtime opens once and keeps: the netpoll
	// descriptors (the first pollable file, as os/exec's pipes) and timers.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	time.Sleep(time.Millisecond)
	fds0, ok := openFDs()
	g0 := runtime.NumGoroutine()
	code := m.Run()
	if code != 0 || !ok {
		return code
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fds, _ := openFDs()
		g := runtime.NumGoroutine()
		if len(fds) <= len(fds0) && g <= g0 {
			return code
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "leak check: %d descriptors open before (%s), %d after (%s); %d goroutines before, %d after\n",
				len(fds0), strings.Join(fds0, " "), len(fds), strings.Join(fds, " "), g0, g)
			buf := make([]byte, 1<<20)
			os.Stderr.Write(buf[:runtime.Stack(buf, true)])
			return 1
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// openFDs lists the process's open descriptors with their targets; ok is
// false where /proc/self/fd does not exist.
func openFDs() (fds []string, ok bool) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, false
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"->"+target)
	}
	return out, true
}

// CountFDs returns how many descriptors the process has open (-1 where
// /proc/self/fd does not exist).
func CountFDs() int {
	fds, ok := openFDs()
	if !ok {
		return -1
	}
	return len(fds)
}

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
	l.Walk(func(h *loop.Handle) {
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

// Run runs l until cond holds or timeout passes and reports whether cond
// held.
func Run(l *loop.Loop, timeout time.Duration, cond func() bool) bool {
	var guard loop.TimerEntry
	defer l.StopTimer(&guard)
	noop := func() {}
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		if !l.Alive() {
			time.Sleep(time.Millisecond)
		}
		l.StartTimer(&guard, 10*time.Millisecond, noop)
		if err := l.Run(loop.RunOnce); err != nil {
			return false
		}
	}
	return true
}
