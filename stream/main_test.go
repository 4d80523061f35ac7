//go:build !windows

package stream_test

import (
	"os"
	"testing"

	"github.com/netloop/netloop/internal/testutil"
)

// emfileChildEnv marks the child process of TestEMFILE.
const emfileChildEnv = "NETLOOP_EMFILE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(emfileChildEnv) != "" {
		// The EMFILE child runs one test under a low descriptor limit; its
		// descriptor count is meaningless for the leak check.
		os.Exit(m.Run())
	}
	os.Exit(testutil.LeakCheckMain(m))
}
