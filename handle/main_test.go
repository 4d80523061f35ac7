package handle_test

import (
	"os"
	"testing"

	"github.com/netloop/netloop/internal/leakcheck"
)

// TestMain fails the run if the tests leave descriptors or goroutines
// behind (see leakcheck.Main).
func TestMain(m *testing.M) {
	installSafetyNet()
	os.Exit(leakcheck.Main(m))
}
