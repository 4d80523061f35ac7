//go:build unix

package errs_test

import "syscall"

// uvECONNREFUSED is libuv's UV_ECONNREFUSED here: the negated errno.
const uvECONNREFUSED = -int(syscall.ECONNREFUSED)
