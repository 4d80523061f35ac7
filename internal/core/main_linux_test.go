//go:build linux

package core_test

import (
	"os"
	"testing"

	"github.com/netloop/netloop/internal/leakcheck"
)

// TestMain fails the run if the tests leave descriptors or goroutines
// behind (see leakcheck.Main).
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
