//go:build linux

package tcp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/sys/unix"
)

// checkKeepAliveTiming reads back libuv's keep-alive timing: probes after
// idle seconds, then every second, 10 of them.
func checkKeepAliveTiming(t *testing.T, fd, idle int) {
	t.Helper()
	assert.Equal(t, idle, sockopt(t, fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE), "TCP_KEEPIDLE")
	assert.Equal(t, 1, sockopt(t, fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL), "TCP_KEEPINTVL")
	assert.Equal(t, 10, sockopt(t, fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT), "TCP_KEEPCNT")
}
