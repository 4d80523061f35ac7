//go:build linux

package poller

import (
	"fmt"
	"os"
	"testing"

	"github.com/netloop/netloop/internal/leakcheck"
)

// TestMain runs the suite on epoll, then again with the io_uring backend
// selected (NETLOOP_IOURING=1; where the kernel refuses io_uring, New
// falls back and the second run is on epoll again). It fails the run if
// the tests leave descriptors or goroutines behind (see leakcheck.Main).
func TestMain(m *testing.M) {
	code := leakcheck.Main(m)
	if code != 0 || os.Getenv(envIOUring) != "" {
		os.Exit(code)
	}
	fmt.Println("poller: the suite again with " + envIOUring + "=1")
	os.Setenv(envIOUring, "1")
	os.Exit(leakcheck.Main(m))
}
