// Package errs defines netloop's single error type, which carries the same
// fields Node.js attaches to the errors raised by its net module (code,
// syscall, errno, address, port, ...), together with constructors that build
// Node's exact message forms and the Node ERR_* codes the net layer uses.
//
// Package errs is a leaf: it imports only the standard library and
// golang.org/x/sys.
package errs

import (
	"errors"
	"syscall"
)

// Node ERR_* codes used by the net module (and the AbortError code).
const (
	// CodeSocketBadPort is raised for a port outside 0..65535.
	CodeSocketBadPort = "ERR_SOCKET_BAD_PORT"
	// CodeInvalidArgValue is raised for an argument whose value is not accepted.
	CodeInvalidArgValue = "ERR_INVALID_ARG_VALUE"
	// CodeInvalidArgType is raised for an argument of the wrong type.
	CodeInvalidArgType = "ERR_INVALID_ARG_TYPE"
	// CodeMissingArgs is raised when a required argument is missing.
	CodeMissingArgs = "ERR_MISSING_ARGS"
	// CodeServerAlreadyListen is raised by listen() on a server already listening.
	CodeServerAlreadyListen = "ERR_SERVER_ALREADY_LISTEN"
	// CodeServerNotRunning is passed to close() callbacks of a server that is not running.
	CodeServerNotRunning = "ERR_SERVER_NOT_RUNNING"
	// CodeSocketClosed is raised by operations on a destroyed socket.
	CodeSocketClosed = "ERR_SOCKET_CLOSED"
	// CodeSocketClosedBeforeConnection fails writes queued on a socket destroyed while connecting.
	CodeSocketClosedBeforeConnection = "ERR_SOCKET_CLOSED_BEFORE_CONNECTION"
	// CodeStreamDestroyed is reported for writes after destroy().
	CodeStreamDestroyed = "ERR_STREAM_DESTROYED"
	// CodeStreamAlreadyFinished is End's callback error on a socket that
	// already emitted 'finish'.
	CodeStreamAlreadyFinished = "ERR_STREAM_ALREADY_FINISHED"
	// CodeStreamWriteAfterEnd is reported for writes after end().
	CodeStreamWriteAfterEnd = "ERR_STREAM_WRITE_AFTER_END"
	// CodeInvalidHandleType is raised by resetAndDestroy() on a non-TCP socket.
	CodeInvalidHandleType = "ERR_INVALID_HANDLE_TYPE"
	// CodeInvalidIPAddress is raised for a string that is not an IP address.
	CodeInvalidIPAddress = "ERR_INVALID_IP_ADDRESS"
	// CodeInvalidAddressFamily is raised when a lookup returns an unusable family.
	CodeInvalidAddressFamily = "ERR_INVALID_ADDRESS_FAMILY"
	// CodeInvalidFDType is raised when an fd is neither a socket nor a pipe.
	CodeInvalidFDType = "ERR_INVALID_FD_TYPE"
	// CodeOutOfRange is raised for a numeric argument outside its range.
	CodeOutOfRange = "ERR_OUT_OF_RANGE"
	// CodeInvalidAddress is raised for an address that cannot be parsed for its family.
	CodeInvalidAddress = "ERR_INVALID_ADDRESS"
	// CodeIPBlocked is raised when a BlockList rejects a connection.
	CodeIPBlocked = "ERR_IP_BLOCKED"
	// CodeSocketConnectionTimeout is raised when every autoSelectFamily attempt timed out.
	CodeSocketConnectionTimeout = "ERR_SOCKET_CONNECTION_TIMEOUT"
	// CodeUnknownEncoding is raised by setEncoding/write with an unknown encoding.
	CodeUnknownEncoding = "ERR_UNKNOWN_ENCODING"
	// CodeAbort is the code of Node's AbortError.
	CodeAbort = "ABORT_ERR"
)

// Error is netloop's one error type, carrying Node's error fields.
type Error struct {
	Code         string        // "ECONNREFUSED", "ERR_SOCKET_BAD_PORT", ...
	Syscall      string        // "connect", "listen", "read", "write", "accept", "bind", "getaddrinfo"; "" for ERR_* codes
	Errno        syscall.Errno // the OS errno, 0 when none
	Address      string        // "" when none
	Port         int           // 0 = none
	LocalAddress string        // the local address of a failed connect
	LocalPort    int
	Hostname     string // for getaddrinfo errors
	Message      string // the full message, built by the constructors (Error() returns it)
	// Cause is an optional underlying error (the abort reason for AbortError).
	// Unwrap returns it when Errno is zero.
	Cause error
}

// Error returns the full message (e.g. "connect ECONNREFUSED 127.0.0.1:9").
func (e *Error) Error() string { return e.Message }

// Unwrap returns the OS errno when it is non-zero, so that
// errors.Is(err, syscall.ECONNRESET) works; otherwise it returns Cause
// (nil for everything but an AbortError built with a cause).
func (e *Error) Unwrap() error {
	if e.Errno != 0 {
		return e.Errno
	}
	return e.Cause
}

// Is reports whether target is an *Error with the same non-empty Code, so
// errors.Is(err, errs.ErrSocketClosed) matches any ERR_SOCKET_CLOSED error;
// or a syscall.Errno with the same Node name as e's errno, so that
// errors.Is(err, syscall.ECONNREFUSED) also holds on Windows, where the
// errno is Winsock's WSAECONNREFUSED.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *Error:
		return t != nil && e.Code != "" && e.Code == t.Code
	case syscall.Errno:
		if e.Errno == 0 || t == e.Errno {
			return false // equal errnos match through Unwrap already
		}
		name := Name(t)
		return name != "" && name != "UNKNOWN" && name == Name(e.Errno)
	}
	return false
}

// UVErrno returns Node's err.errno: the negative libuv error number
// (-int(Errno) on unix), the libuv EAI_* number for getaddrinfo errors, and
// 0 when the error carries no errno.
func (e *Error) UVErrno() int {
	if e.Errno != 0 {
		return uvErrno(e.Errno)
	}
	if e.Syscall == "getaddrinfo" {
		switch e.Code {
		case "ENOTFOUND":
			return -3008 // UV_EAI_NONAME
		case "EAI_AGAIN":
			return -3001
		case "EAI_FAIL":
			return -3004
		case "EAI_NODATA":
			return -3007
		case "EAI_FAMILY":
			return -3005
		case "EAI_SERVICE":
			return -3010
		case "EAI_MEMORY":
			return -3006
		case "EAI_BADFLAGS":
			return -3002
		case "EAI_CANCELED":
			return -3003
		}
	}
	return 0
}

// CodeOf returns err's Code if it is (or wraps) an *Error, the errno name if
// it is (or wraps) a syscall.Errno, and "" otherwise.
func CodeOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return Name(errno)
	}
	return ""
}

// Sentinels carrying Node's exact messages; match them with errors.Is
// (which compares codes, see (*Error).Is). Do not modify them.
var (
	// ErrSocketClosed is ERR_SOCKET_CLOSED.
	ErrSocketClosed = newError(CodeSocketClosed, "Socket is closed")
	// ErrSocketClosedBeforeConnection is ERR_SOCKET_CLOSED_BEFORE_CONNECTION.
	ErrSocketClosedBeforeConnection = newError(CodeSocketClosedBeforeConnection, "Socket closed before the connection was established")
	// ErrStreamDestroyed is ERR_STREAM_DESTROYED for write().
	ErrStreamDestroyed = newError(CodeStreamDestroyed, "Cannot call write after a stream was destroyed")
	// ErrStreamWriteAfterEnd is ERR_STREAM_WRITE_AFTER_END.
	ErrStreamWriteAfterEnd = newError(CodeStreamWriteAfterEnd, "write after end")
	// ErrServerNotRunning is ERR_SERVER_NOT_RUNNING.
	ErrServerNotRunning = newError(CodeServerNotRunning, "Server is not running.")
	// ErrServerAlreadyListen is ERR_SERVER_ALREADY_LISTEN.
	ErrServerAlreadyListen = newError(CodeServerAlreadyListen, "Listen method has been called more than once without closing.")
	// ErrInvalidHandleType is ERR_INVALID_HANDLE_TYPE.
	ErrInvalidHandleType = newError(CodeInvalidHandleType, "This handle type cannot be sent")
	// ErrSocketConnectionTimeout is ERR_SOCKET_CONNECTION_TIMEOUT.
	ErrSocketConnectionTimeout = newError(CodeSocketConnectionTimeout, "Socket connection timeout")
	// ErrInvalidAddress is ERR_INVALID_ADDRESS.
	ErrInvalidAddress = newError(CodeInvalidAddress, "Invalid socket address")
	// ErrAbort is an AbortError without a cause (use Abort to attach one).
	ErrAbort = newError(CodeAbort, "The operation was aborted")
)

// ErrnoOf returns the errno inside err (an *Error or a syscall.Errno), or
// EINVAL when there is none.
func ErrnoOf(err error) syscall.Errno {
	var e *Error
	if errors.As(err, &e) && e.Errno != 0 {
		return e.Errno
	}
	var n syscall.Errno
	if errors.As(err, &n) {
		return n
	}
	return syscall.EINVAL
}

// newError is the ERR_* constructor the sentinels above use; netloop's
// packages build errors with internal/errx.
func newError(code, message string) *Error { return &Error{Code: code, Message: message} }
