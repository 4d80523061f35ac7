//go:build !windows

// Package sys wraps the few system calls netloop's hot paths make on
// non-blocking descriptors. On Linux they are raw system calls: a call on a
// non-blocking fd never blocks, so the scheduler hand-off of an ordinary
// syscall is pure cost. Elsewhere they fall back to x/sys/unix.
package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Iov is one buffer of a vectored write (Writev).
type Iov = unix.Iovec

// Iovec builds an iovec for p (p must be non-empty).
func Iovec(p []byte) Iov {
	var v unix.Iovec
	v.Base = &p[0]
	v.SetLen(len(p))
	return v
}

func errnoErr(e unix.Errno) error {
	switch e {
	case 0:
		return nil
	case unix.EAGAIN:
		return unix.EAGAIN
	case unix.EINTR:
		return unix.EINTR
	}
	return e
}

// ptr returns the address of p's first byte, or nil for an empty slice.
func ptr(p []byte) unsafe.Pointer {
	if len(p) == 0 {
		return nil
	}
	return unsafe.Pointer(&p[0])
}
