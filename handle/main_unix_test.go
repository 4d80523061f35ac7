//go:build unix

package handle_test

import (
	"os"
	"os/signal"
	"syscall"
)

// safetyNet keeps SIGHUP from killing the test binary whatever the Signal
// tests do: while it is notified, SIGHUP has no default effect. Installing it
// before the baseline also counts os/signal's goroutine in it.
var safetyNet = make(chan os.Signal, 64)

func installSafetyNet() { signal.Notify(safetyNet, syscall.SIGHUP) }
