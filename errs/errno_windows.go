//go:build windows

package errs

import (
	"syscall"

	"golang.org/x/sys/windows"
)

func init() {
	// Winsock and Win32 errors, translated as libuv's uv_translate_sys_error
	// does for the cases a network library meets.
	register(
		errnoName{windows.WSAEACCES, "EACCES"},
		errnoName{windows.WSAEADDRINUSE, "EADDRINUSE"},
		errnoName{windows.WSAEADDRNOTAVAIL, "EADDRNOTAVAIL"},
		errnoName{windows.WSAEAFNOSUPPORT, "EAFNOSUPPORT"},
		errnoName{windows.WSAEWOULDBLOCK, "EAGAIN"},
		errnoName{windows.WSAEALREADY, "EALREADY"},
		errnoName{windows.WSAEBADF, "EBADF"},
		errnoName{windows.WSAECANCELLED, "ECANCELED"},
		errnoName{windows.WSAECONNABORTED, "ECONNABORTED"},
		errnoName{windows.WSAECONNREFUSED, "ECONNREFUSED"},
		errnoName{windows.WSAECONNRESET, "ECONNRESET"},
		errnoName{windows.WSAEDESTADDRREQ, "EDESTADDRREQ"},
		errnoName{windows.WSAEFAULT, "EFAULT"},
		errnoName{windows.WSAEHOSTDOWN, "EHOSTDOWN"},
		errnoName{windows.WSAEHOSTUNREACH, "EHOSTUNREACH"},
		errnoName{windows.WSAEINTR, "EINTR"},
		errnoName{windows.WSAEINVAL, "EINVAL"},
		errnoName{windows.WSAEISCONN, "EISCONN"},
		errnoName{windows.WSAELOOP, "ELOOP"},
		errnoName{windows.WSAEMFILE, "EMFILE"},
		errnoName{windows.WSAEMSGSIZE, "EMSGSIZE"},
		errnoName{windows.WSAENAMETOOLONG, "ENAMETOOLONG"},
		errnoName{windows.WSAENETDOWN, "ENETDOWN"},
		errnoName{windows.WSAENETUNREACH, "ENETUNREACH"},
		errnoName{windows.WSAENOBUFS, "ENOBUFS"},
		errnoName{windows.WSAENOPROTOOPT, "ENOPROTOOPT"},
		errnoName{windows.WSAENOTCONN, "ENOTCONN"},
		errnoName{windows.WSAENOTEMPTY, "ENOTEMPTY"},
		errnoName{windows.WSAENOTSOCK, "ENOTSOCK"},
		errnoName{windows.WSAEOPNOTSUPP, "ENOTSUP"},
		errnoName{windows.WSAEPROTONOSUPPORT, "EPROTONOSUPPORT"},
		errnoName{windows.WSAEPROTOTYPE, "EPROTOTYPE"},
		errnoName{windows.WSAESHUTDOWN, "EPIPE"},
		errnoName{windows.WSAESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
		errnoName{windows.WSAETIMEDOUT, "ETIMEDOUT"},
		errnoName{windows.ERROR_FILE_NOT_FOUND, "ENOENT"},
		errnoName{windows.ERROR_PATH_NOT_FOUND, "ENOENT"},
		errnoName{windows.ERROR_ACCESS_DENIED, "EPERM"},
		errnoName{windows.ERROR_INVALID_PARAMETER, "EINVAL"},
		errnoName{windows.ERROR_BROKEN_PIPE, "EOF"},
		errnoName{windows.ERROR_NO_DATA, "EPIPE"},
		errnoName{windows.ERROR_PIPE_BUSY, "EBUSY"},
		errnoName{windows.ERROR_OPERATION_ABORTED, "ECANCELED"},
		errnoName{windows.ERROR_NOT_ENOUGH_MEMORY, "ENOMEM"},
		errnoName{windows.ERROR_TOO_MANY_OPEN_FILES, "EMFILE"},
		errnoName{windows.ERROR_CONNECTION_REFUSED, "ECONNREFUSED"},
		errnoName{windows.ERROR_NETNAME_DELETED, "ECONNRESET"},
		errnoName{windows.ERROR_ADDRESS_ALREADY_ASSOCIATED, "EADDRINUSE"},
		errnoName{windows.ERROR_SEM_TIMEOUT, "ETIMEDOUT"},
		errnoName{windows.ERROR_FILENAME_EXCED_RANGE, "ENAMETOOLONG"},
	)
	// The errno values Go's syscall package invents on windows, so code
	// written against syscall.ECONNRESET & co. still gets Node's names.
	register(posixErrnos...)
	register(
		errnoName{syscall.ENONET, "ENONET"},
		errnoName{syscall.EREMOTEIO, "EREMOTEIO"},
		errnoName{syscall.ENODATA, "ENODATA"},
		errnoName{syscall.EUNATCH, "EUNATCH"},
	)
}

// osErrnoName has nothing to add on windows.
func osErrnoName(syscall.Errno) string { return "" }

// uvWinCodes holds libuv's fixed error numbers on windows (uv/errno.h).
var uvWinCodes = map[string]int{
	"EOF": -4095, "UNKNOWN": -4094, "E2BIG": -4093, "EACCES": -4092,
	"EADDRINUSE": -4091, "EADDRNOTAVAIL": -4090, "EAFNOSUPPORT": -4089,
	"EAGAIN": -4088, "EALREADY": -4084, "EBADF": -4083, "EBUSY": -4082,
	"ECANCELED": -4081, "ECHARSET": -4080, "ECONNABORTED": -4079,
	"ECONNREFUSED": -4078, "ECONNRESET": -4077, "EDESTADDRREQ": -4076,
	"EEXIST": -4075, "EFAULT": -4074, "EHOSTUNREACH": -4073, "EINTR": -4072,
	"EINVAL": -4071, "EIO": -4070, "EISCONN": -4069, "EISDIR": -4068,
	"ELOOP": -4067, "EMFILE": -4066, "EMSGSIZE": -4065, "ENAMETOOLONG": -4064,
	"ENETDOWN": -4063, "ENETUNREACH": -4062, "ENFILE": -4061, "ENOBUFS": -4060,
	"ENODEV": -4059, "ENOENT": -4058, "ENOMEM": -4057, "ENONET": -4056,
	"ENOSPC": -4055, "ENOSYS": -4054, "ENOTCONN": -4053, "ENOTDIR": -4052,
	"ENOTEMPTY": -4051, "ENOTSOCK": -4050, "ENOTSUP": -4049, "EPERM": -4048,
	"EPIPE": -4047, "EPROTO": -4046, "EPROTONOSUPPORT": -4045,
	"EPROTOTYPE": -4044, "EROFS": -4043, "ESHUTDOWN": -4042, "ESPIPE": -4041,
	"ESRCH": -4040, "ETIMEDOUT": -4039, "ETXTBSY": -4038, "EXDEV": -4037,
	"EFBIG": -4036, "ENOPROTOOPT": -4035, "ERANGE": -4034, "ENXIO": -4033,
	"EMLINK": -4032, "EHOSTDOWN": -4031, "EREMOTEIO": -4030, "ENOTTY": -4029,
	"EFTYPE": -4028, "EILSEQ": -4027, "EOVERFLOW": -4026,
	"ESOCKTNOSUPPORT": -4025, "ENODATA": -4024, "EUNATCH": -4023,
	"ENOEXEC": -4022,
}

// uvErrno returns libuv's number for errno on windows (its fixed -40xx codes).
func uvErrno(errno syscall.Errno) int {
	if c, ok := uvWinCodes[Name(errno)]; ok {
		return c
	}
	return -4094 // UV_UNKNOWN
}
