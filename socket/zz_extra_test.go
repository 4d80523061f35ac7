//go:build !windows

package socket

import (
	"reflect"
	"testing"
)

// TestZZNoExtraUntouched runs after the suite (files run in name order):
// the shared zero sockExtra must never have been written through a socket
// that had not allocated its own.
func TestZZNoExtraUntouched(t *testing.T) {
	if !reflect.DeepEqual(noExtra, sockExtra{}) {
		t.Fatalf("the shared sockExtra was modified: %+v", noExtra)
	}
}
