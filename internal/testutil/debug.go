package testutil

import (
	"testing"

	"github.com/netloop/netloop/internal/core"
)

// SkipIfDebug skips a test that counts allocations in netloopdebug builds,
// whose affinity checks allocate by design.
func SkipIfDebug(t testing.TB) {
	t.Helper()
	if core.Debug {
		t.Skip("netloopdebug build: affinity checks allocate")
	}
}
