// Package leakcheck fails a test binary that leaves descriptors or
// goroutines behind. It imports only the standard library, so every
// package's tests can use it.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and fails the run if they leave descriptors
// or goroutines behind (on Linux, where /proc/self/fd lists them). Use it
// as os.Exit(leakcheck.Main(m)).
func Main(m *testing.M) int {
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
	if runtime.GOOS == "windows" {
		return nil, false // Wine shows its own Linux descriptors there
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, false
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		// The testing package's own log of what a cacheable run touched:
		// a TestMain that runs the suite twice (the poller's) opens it
		// again and it stays open until exit.
		if strings.HasSuffix(target, "/testlog.txt") {
			continue
		}
		out = append(out, e.Name()+"->"+target)
	}
	return out, true
}

// CountFDs returns how many descriptors the process has open (-1 where
// /proc/self/fd does not exist, and on Windows).
func CountFDs() int {
	fds, ok := openFDs()
	if !ok {
		return -1
	}
	return len(fds)
}
