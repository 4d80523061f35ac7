package errs_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/errx"
)

// uvECONNREFUSED is libuv's UV_ECONNREFUSED on Windows (uv-errno.h), which
// is not the negated Winsock code.
const uvECONNREFUSED = -4078

// A Winsock errno is its Unix name's: errors.Is(err, syscall.ECONNREFUSED)
// holds for WSAECONNREFUSED.
func TestIsMatchesWinsockErrno(t *testing.T) {
	err := errx.FromErrno("connect", windows.WSAECONNREFUSED)
	assert.Equal(t, "ECONNREFUSED", err.Code)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.NotErrorIs(t, err, syscall.ECONNRESET)
}
