//go:build linux

package core_test

import (
	"os"
	"testing"

	"github.com/netloop/netloop/internal/leakcheck"
)

// childEnv names the environment variable that makes the test binary play
// a child process (see TestRuntimePollerAtFdLimit).
const childEnv = "NETLOOP_CORE_TEST_CHILD"

// TestMain fails the run if the tests leave descriptors or goroutines
// behind (see leakcheck.Main). Started with childEnv set, the binary is a
// child process instead and runs no tests.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "runtime-poller" {
		childRuntimePoller()
	}
	os.Exit(leakcheck.Main(m))
}
