//go:build linux

package core_test

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/uring"
)

// TestLoopBackendFollowsNetloopIOURing: with NETLOOP_IOURING=1 a new loop
// runs on io_uring unless the kernel refuses io_uring_setup (then the
// test skips, saying so); without it, on epoll. make uring-test runs the
// suites with the variable set and relies on this test to fail if the
// backend silently did not engage.
func TestLoopBackendFollowsNetloopIOURing(t *testing.T) {
	l, err := core.New()
	require.NoError(t, err)
	defer l.Close()
	if os.Getenv("NETLOOP_IOURING") != "1" {
		assert.Equal(t, "epoll", l.Backend())
		return
	}
	if l.Backend() == "io_uring" {
		return
	}
	r, err := uring.New(uring.Params{Entries: 4})
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("NETLOOP_IOURING=1 but this kernel refuses io_uring_setup (%v): the suites ran on epoll", err)
	}
	if err == nil {
		r.Close()
	}
	t.Fatalf("NETLOOP_IOURING=1 and io_uring_setup answers %v, but the loop runs on %s", err, l.Backend())
}
