//go:build !windows

package errs

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The errnos of libuv's UV_ERRNO_MAP that exist on every unix Go supports.
// OS-specific ones (ENONET, EREMOTEIO, EUNATCH, EFTYPE, ENODATA) are resolved
// through unix.ErrnoName, which gives the same spelling.
func init() {
	register(
		errnoName{syscall.E2BIG, "E2BIG"},
		errnoName{syscall.EACCES, "EACCES"},
		errnoName{syscall.EADDRINUSE, "EADDRINUSE"},
		errnoName{syscall.EADDRNOTAVAIL, "EADDRNOTAVAIL"},
		errnoName{syscall.EAFNOSUPPORT, "EAFNOSUPPORT"},
		errnoName{syscall.EAGAIN, "EAGAIN"},
		errnoName{syscall.EALREADY, "EALREADY"},
		errnoName{syscall.EBADF, "EBADF"},
		errnoName{syscall.EBUSY, "EBUSY"},
		errnoName{syscall.ECANCELED, "ECANCELED"},
		errnoName{syscall.ECONNABORTED, "ECONNABORTED"},
		errnoName{syscall.ECONNREFUSED, "ECONNREFUSED"},
		errnoName{syscall.ECONNRESET, "ECONNRESET"},
		errnoName{syscall.EDESTADDRREQ, "EDESTADDRREQ"},
		errnoName{syscall.EEXIST, "EEXIST"},
		errnoName{syscall.EFAULT, "EFAULT"},
		errnoName{syscall.EFBIG, "EFBIG"},
		errnoName{syscall.EHOSTUNREACH, "EHOSTUNREACH"},
		errnoName{syscall.EINTR, "EINTR"},
		errnoName{syscall.EINVAL, "EINVAL"},
		errnoName{syscall.EIO, "EIO"},
		errnoName{syscall.EISCONN, "EISCONN"},
		errnoName{syscall.EISDIR, "EISDIR"},
		errnoName{syscall.ELOOP, "ELOOP"},
		errnoName{syscall.EMFILE, "EMFILE"},
		errnoName{syscall.EMSGSIZE, "EMSGSIZE"},
		errnoName{syscall.ENAMETOOLONG, "ENAMETOOLONG"},
		errnoName{syscall.ENETDOWN, "ENETDOWN"},
		errnoName{syscall.ENETUNREACH, "ENETUNREACH"},
		errnoName{syscall.ENFILE, "ENFILE"},
		errnoName{syscall.ENOBUFS, "ENOBUFS"},
		errnoName{syscall.ENODEV, "ENODEV"},
		errnoName{syscall.ENOENT, "ENOENT"},
		errnoName{syscall.ENOMEM, "ENOMEM"},
		errnoName{syscall.ENOPROTOOPT, "ENOPROTOOPT"},
		errnoName{syscall.ENOSPC, "ENOSPC"},
		errnoName{syscall.ENOSYS, "ENOSYS"},
		errnoName{syscall.ENOTCONN, "ENOTCONN"},
		errnoName{syscall.ENOTDIR, "ENOTDIR"},
		errnoName{syscall.ENOTEMPTY, "ENOTEMPTY"},
		errnoName{syscall.ENOTSOCK, "ENOTSOCK"},
		errnoName{syscall.ENOTSUP, "ENOTSUP"},
		errnoName{syscall.EOVERFLOW, "EOVERFLOW"},
		errnoName{syscall.EPERM, "EPERM"},
		errnoName{syscall.EPIPE, "EPIPE"},
		errnoName{syscall.EPROTO, "EPROTO"},
		errnoName{syscall.EPROTONOSUPPORT, "EPROTONOSUPPORT"},
		errnoName{syscall.EPROTOTYPE, "EPROTOTYPE"},
		errnoName{syscall.ERANGE, "ERANGE"},
		errnoName{syscall.EROFS, "EROFS"},
		errnoName{syscall.ESHUTDOWN, "ESHUTDOWN"},
		errnoName{syscall.ESPIPE, "ESPIPE"},
		errnoName{syscall.ESRCH, "ESRCH"},
		errnoName{syscall.ETIMEDOUT, "ETIMEDOUT"},
		errnoName{syscall.ETXTBSY, "ETXTBSY"},
		errnoName{syscall.EXDEV, "EXDEV"},
		errnoName{syscall.ENXIO, "ENXIO"},
		errnoName{syscall.EMLINK, "EMLINK"},
		errnoName{syscall.EHOSTDOWN, "EHOSTDOWN"},
		errnoName{syscall.ENOTTY, "ENOTTY"},
		errnoName{syscall.EILSEQ, "EILSEQ"},
		errnoName{syscall.ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
		errnoName{syscall.ENOEXEC, "ENOEXEC"},
	)
}

// osErrnoName returns the system's name for errnos outside libuv's map.
func osErrnoName(errno syscall.Errno) string { return unix.ErrnoName(errno) }

// uvErrno returns libuv's number for errno: on unix simply -errno.
func uvErrno(errno syscall.Errno) int { return -int(errno) }
