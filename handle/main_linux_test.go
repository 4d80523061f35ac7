//go:build linux

package handle_test

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// safetyNet keeps SIGHUP from killing the test binary whatever the Signal
// tests do: while it is notified, SIGHUP has no default effect. Installing it
// before the baseline also counts os/signal's goroutine in it.
var safetyNet = make(chan os.Signal, 64)

// TestMain fails the run if the tests leave descriptors or goroutines
// behind: it compares /proc/self/fd and runtime.NumGoroutine before and
// after m.Run, giving goroutines a few seconds to finish.
func TestMain(m *testing.M) {
	signal.Notify(safetyNet, syscall.SIGHUP)
	// Warm up: the runtime opens its own netpoll descriptors the first time
	// a timer or a pollable file is used.
	time.Sleep(time.Millisecond)
	openFDs()
	fds0, g0 := openFDs(), runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(5 * time.Second)
		for {
			fds, g := openFDs(), runtime.NumGoroutine()
			if len(fds) <= len(fds0) && g <= g0 {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "leak check: %d descriptors open before (%s), %d after (%s); %d goroutines before, %d after\n",
					len(fds0), strings.Join(fds0, " "), len(fds), strings.Join(fds, " "), g0, g)
				buf := make([]byte, 1<<20)
				os.Stderr.Write(buf[:runtime.Stack(buf, true)])
				code = 1
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	os.Exit(code)
}

// openFDs lists the process's open descriptors with their targets.
func openFDs() []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		panic(err)
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out = append(out, e.Name()+"->"+target)
	}
	return out
}
