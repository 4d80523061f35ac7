package testutil

import (
	"testing"

	"github.com/netloop/netloop/errs"
)

// AsError returns err as the *errs.Error it must be (Node's error with its
// code, syscall and address fields), failing the test otherwise.
func AsError(t testing.TB, err error) *errs.Error {
	t.Helper()
	e, ok := err.(*errs.Error)
	if !ok {
		t.Fatalf("error %T %v is not *errs.Error", err, err)
	}
	return e
}
