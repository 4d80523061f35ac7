package errs

import "testing"

// TestErrnoNamesHaveMessages: every name Name can produce for a libuv
// errno has a libuv message.
func TestErrnoNamesHaveMessages(t *testing.T) {
	for errno, name := range errnoNames {
		if _, ok := uvMessages[name]; !ok {
			t.Errorf("no message for %s (%d)", name, int(errno))
		}
	}
}
