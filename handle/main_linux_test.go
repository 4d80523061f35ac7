//go:build linux

package handle_test

import (
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/netloop/netloop/internal/leakcheck"
)

// safetyNet keeps SIGHUP from killing the test binary whatever the Signal
// tests do: while it is notified, SIGHUP has no default effect. Installing it
// before the baseline also counts os/signal's goroutine in it.
var safetyNet = make(chan os.Signal, 64)

// TestMain fails the run if the tests leave descriptors or goroutines
// behind (see leakcheck.Main).
func TestMain(m *testing.M) {
	signal.Notify(safetyNet, syscall.SIGHUP)
	os.Exit(leakcheck.Main(m))
}
