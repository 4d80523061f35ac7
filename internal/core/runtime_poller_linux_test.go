//go:build linux

package core_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
)

// childRuntimePoller runs in a child process (see TestRuntimePollerAtFdLimit):
// with a low descriptor limit it creates a loop, uses every descriptor
// left, then arms a runtime timer. It must print "ok" and exit 0.
func childRuntimePoller() {
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 64, Max: 64}); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(3)
	}
	l, err := core.New()
	if err != nil {
		fmt.Println("core.New:", err)
		os.Exit(3)
	}
	n := 0
	for n < 1000 {
		if _, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			break
		}
		n++
	}
	time.Sleep(time.Millisecond) // a runtime timer, at the descriptor limit
	_ = l
	fmt.Println("ok", n)
	os.Exit(0)
}

// TestRuntimePollerAtFdLimit: a process whose loop exists and whose
// descriptors are all used can still arm a runtime timer. The Go runtime
// creates its network poller lazily; before the fix this child died with
// "fatal error: runtime: netpollinit failed".
func TestRuntimePollerAtFdLimit(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=runtime-poller")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child output:\n%s", out)
	require.Contains(t, string(out), "ok")
}
