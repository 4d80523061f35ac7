package errs

import "syscall"

// uvMessages maps every libuv error name of UV_ERRNO_MAP that corresponds to
// a POSIX errno (plus EOF and UNKNOWN) to libuv's uv_strerror text.
var uvMessages = map[string]string{
	"E2BIG":           "argument list too long",
	"EACCES":          "permission denied",
	"EADDRINUSE":      "address already in use",
	"EADDRNOTAVAIL":   "address not available",
	"EAFNOSUPPORT":    "address family not supported",
	"EAGAIN":          "resource temporarily unavailable",
	"EALREADY":        "connection already in progress",
	"EBADF":           "bad file descriptor",
	"EBUSY":           "resource busy or locked",
	"ECANCELED":       "operation canceled",
	"ECHARSET":        "invalid Unicode character",
	"ECONNABORTED":    "software caused connection abort",
	"ECONNREFUSED":    "connection refused",
	"ECONNRESET":      "connection reset by peer",
	"EDESTADDRREQ":    "destination address required",
	"EEXIST":          "file already exists",
	"EFAULT":          "bad address in system call argument",
	"EFBIG":           "file too large",
	"EHOSTUNREACH":    "host is unreachable",
	"EINTR":           "interrupted system call",
	"EINVAL":          "invalid argument",
	"EIO":             "i/o error",
	"EISCONN":         "socket is already connected",
	"EISDIR":          "illegal operation on a directory",
	"ELOOP":           "too many symbolic links encountered",
	"EMFILE":          "too many open files",
	"EMSGSIZE":        "message too long",
	"ENAMETOOLONG":    "name too long",
	"ENETDOWN":        "network is down",
	"ENETUNREACH":     "network is unreachable",
	"ENFILE":          "file table overflow",
	"ENOBUFS":         "no buffer space available",
	"ENODEV":          "no such device",
	"ENOENT":          "no such file or directory",
	"ENOMEM":          "not enough memory",
	"ENONET":          "machine is not on the network",
	"ENOPROTOOPT":     "protocol not available",
	"ENOSPC":          "no space left on device",
	"ENOSYS":          "function not implemented",
	"ENOTCONN":        "socket is not connected",
	"ENOTDIR":         "not a directory",
	"ENOTEMPTY":       "directory not empty",
	"ENOTSOCK":        "socket operation on non-socket",
	"ENOTSUP":         "operation not supported on socket",
	"EOVERFLOW":       "value too large for defined data type",
	"EPERM":           "operation not permitted",
	"EPIPE":           "broken pipe",
	"EPROTO":          "protocol error",
	"EPROTONOSUPPORT": "protocol not supported",
	"EPROTOTYPE":      "protocol wrong type for socket",
	"ERANGE":          "result too large",
	"EROFS":           "read-only file system",
	"ESHUTDOWN":       "cannot send after transport endpoint shutdown",
	"ESPIPE":          "invalid seek",
	"ESRCH":           "no such process",
	"ETIMEDOUT":       "connection timed out",
	"ETXTBSY":         "text file is busy",
	"EXDEV":           "cross-device link not permitted",
	"UNKNOWN":         "unknown error",
	"EOF":             "end of file",
	"ENXIO":           "no such device or address",
	"EMLINK":          "too many links",
	"EHOSTDOWN":       "host is down",
	"EREMOTEIO":       "remote I/O error",
	"ENOTTY":          "inappropriate ioctl for device",
	"EFTYPE":          "inappropriate file type or format",
	"EILSEQ":          "illegal byte sequence",
	"ESOCKTNOSUPPORT": "socket type not supported",
	"ENODATA":         "no data available",
	"EUNATCH":         "protocol driver not attached",
	"ENOEXEC":         "exec format error",
}

// errnoNames maps errnos to libuv names; it is filled by the per-OS files
// from the errno constants that exist there.
var errnoNames = make(map[syscall.Errno]string, 96)

func register(pairs ...errnoName) {
	for _, p := range pairs {
		if _, dup := errnoNames[p.errno]; !dup {
			errnoNames[p.errno] = p.name
		}
	}
}

type errnoName struct {
	errno syscall.Errno
	name  string
}

// Name returns the errno's symbolic name as Node reports it in err.code
// ("ECONNRESET"). Errnos in libuv's map get libuv's name (so Linux's
// EOPNOTSUPP is "ENOTSUP"); on unix other errnos get the system name; an
// errno nobody knows gives "UNKNOWN", and 0 gives "".
func Name(errno syscall.Errno) string {
	if errno == 0 {
		return ""
	}
	if n, ok := errnoNames[errno]; ok {
		return n
	}
	if n := osErrnoName(errno); n != "" {
		return n
	}
	return "UNKNOWN"
}

// Describe returns libuv's uv_strerror text for the errno ("address already
// in use", "connection refused", ...), or "unknown error" when libuv has no
// message for it.
func Describe(errno syscall.Errno) string {
	if m, ok := uvMessages[Name(errno)]; ok {
		return m
	}
	return "unknown error"
}

// posixErrnos are the errnos of libuv's UV_ERRNO_MAP that Go's syscall
// package defines on every platform netloop builds for (on Windows as
// invented values), with Node's names.
var posixErrnos = []errnoName{
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
}
