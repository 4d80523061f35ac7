//go:build !windows

package transport

import (
	"time"

	"golang.org/x/sys/unix"
)

// keepSeconds converts a keep-alive delay to whole seconds, at least 1.
func keepSeconds(d time.Duration) int {
	s := int(d / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

func setReusePort(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}
