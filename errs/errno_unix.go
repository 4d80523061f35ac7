//go:build !windows

package errs

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Register libuv's UV_ERRNO_MAP errnos (posixErrnos, shared with windows).
// OS-specific ones (ENONET, EREMOTEIO, EUNATCH, EFTYPE, ENODATA) are resolved
// through unix.ErrnoName, which gives the same spelling.
func init() {
	register(posixErrnos...)
}

// osErrnoName returns the system's name for errnos outside libuv's map.
func osErrnoName(errno syscall.Errno) string { return unix.ErrnoName(errno) }

// uvErrno returns libuv's number for errno: on unix simply -errno.
func uvErrno(errno syscall.Errno) int { return -int(errno) }
