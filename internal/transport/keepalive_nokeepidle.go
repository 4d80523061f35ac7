//go:build darwin || openbsd

package transport

import (
	"time"

	"golang.org/x/sys/unix"
)

// setKeepAlive sets SO_KEEPALIVE and, on macOS, the idle delay
// (TCP_KEEPALIVE); OpenBSD has no per-socket timing knobs.
func setKeepAlive(fd int, enable bool, delay time.Duration) error {
	v := 0
	if enable {
		v = 1
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, v); err != nil || !enable {
		return err
	}
	return setKeepIdle(fd, keepSeconds(delay))
}
