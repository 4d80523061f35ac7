// Package errx builds netloop's errors (errs.Error) in Node's message
// forms. It is internal: users match errors with errs (codes, sentinels,
// errors.Is/As); only netloop's packages construct them.
package errx

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/netloop/netloop/errs"
)

// hostPortDetails formats the " addr:port" / " addr" suffix Node appends.
func hostPortDetails(address string, port int) string {
	if port > 0 {
		return " " + address + ":" + strconv.Itoa(port)
	}
	if address != "" {
		return " " + address
	}
	return ""
}

// FromErrno builds Node's errnoException form: "<syscall> <CODE>", e.g.
// "read ECONNRESET".
func FromErrno(syscallName string, errno syscall.Errno) *errs.Error {
	code := errs.Name(errno)
	return &errs.Error{
		Code:    code,
		Syscall: syscallName,
		Errno:   errno,
		Message: syscallName + " " + code,
	}
}

// WithHostPort builds Node's exceptionWithHostPort form used by connect:
// "connect ECONNREFUSED 127.0.0.1:9", "connect ENOENT /tmp/x.sock". A port
// <= 0 appends just the address; an empty address appends nothing.
func WithHostPort(syscallName string, errno syscall.Errno, address string, port int) *errs.Error {
	code := errs.Name(errno)
	e := &errs.Error{
		Code:    code,
		Syscall: syscallName,
		Errno:   errno,
		Address: address,
		Message: syscallName + " " + code + hostPortDetails(address, port),
	}
	if port > 0 {
		e.Port = port
	}
	return e
}

// UVWithHostPort builds Node's uvExceptionWithHostPort form used by listen
// and bind: "listen EADDRINUSE: address already in use :::8124", or for
// pipes "listen EADDRINUSE: address already in use /tmp/x.sock".
func UVWithHostPort(syscallName string, errno syscall.Errno, address string, port int) *errs.Error {
	code := errs.Name(errno)
	e := &errs.Error{
		Code:    code,
		Syscall: syscallName,
		Errno:   errno,
		Address: address,
		Message: syscallName + " " + code + ": " + errs.Describe(errno) + hostPortDetails(address, port),
	}
	if port > 0 {
		e.Port = port
	}
	return e
}

// New returns a Node ERR_* style error whose Error() is just message, e.g.
// New(errs.CodeServerNotRunning, "Server is not running.").
func New(code, message string) *errs.Error {
	return &errs.Error{Code: code, Message: message}
}

// Getaddrinfo builds Node's DNS lookup error: "getaddrinfo ENOTFOUND
// example.invalid" with Code set to code ("ENOTFOUND", "EAI_AGAIN",
// "EAI_FAIL", ...), Syscall "getaddrinfo" and Hostname set.
func Getaddrinfo(code, hostname string) *errs.Error {
	msg := "getaddrinfo " + code
	if hostname != "" {
		msg += " " + hostname
	}
	return &errs.Error{
		Code:     code,
		Syscall:  "getaddrinfo",
		Hostname: hostname,
		Message:  msg,
	}
}

// Wrap converts an error returned by a syscall into an *errs.Error via FromErrno
// when it is (or wraps) a syscall.Errno. An *errs.Error (anywhere in the chain) is
// returned unchanged, other errors are returned as they are, and nil gives
// nil.
func Wrap(syscallName string, err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if errno == 0 {
			return nil
		}
		return FromErrno(syscallName, errno)
	}
	return err
}

// Abort returns Node's AbortError (Code "ABORT_ERR", message "The operation
// was aborted") with cause as its Cause (may be nil).
func Abort(cause error) *errs.Error {
	return &errs.Error{Code: errs.CodeAbort, Message: "The operation was aborted", Cause: cause}
}

// SocketBadPort returns ERR_SOCKET_BAD_PORT for an integer port, with Node's
// message "<name> should be >= 0 and < 65536. Received type number (<port>).";
// name "" means "Port" (Node's default).
func SocketBadPort(name string, port int) *errs.Error {
	if name == "" {
		name = "Port"
	}
	return New(errs.CodeSocketBadPort, name+" should be >= 0 and < 65536. Received type number ("+strconv.Itoa(port)+").")
}

// InvalidArgValue returns ERR_INVALID_ARG_VALUE with Node's message
// "The argument|property '<name>' <reason>. Received <value>"; reason ""
// means "is invalid". The word is "property" when name contains a dot.
func InvalidArgValue(name string, value any, reason string) *errs.Error {
	if reason == "" {
		reason = "is invalid"
	}
	kind := "argument"
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			kind = "property"
			break
		}
	}
	return New(errs.CodeInvalidArgValue, "The "+kind+" '"+name+"' "+reason+". Received "+inspect(value))
}

// OutOfRange returns ERR_OUT_OF_RANGE with Node's message
// `The value of "<name>" is out of range. It must be <rangeDesc>. Received <value>`.
func OutOfRange(name, rangeDesc string, received any) *errs.Error {
	return New(errs.CodeOutOfRange, `The value of "`+name+`" is out of range. It must be `+rangeDesc+". Received "+inspect(received))
}

// InvalidAddress returns a fresh ERR_INVALID_ADDRESS ("Invalid socket address").
func InvalidAddress() *errs.Error { return Clone(errs.ErrInvalidAddress) }

// IPBlocked returns ERR_IP_BLOCKED: "IP(<ip>) is blocked by net.BlockList".
func IPBlocked(ip string) *errs.Error {
	return New(errs.CodeIPBlocked, "IP("+ip+") is blocked by net.BlockList")
}

// InvalidIPAddress returns ERR_INVALID_IP_ADDRESS: "Invalid IP address: <s>".
func InvalidIPAddress(s string) *errs.Error {
	return New(errs.CodeInvalidIPAddress, "Invalid IP address: "+s)
}

// InvalidAddressFamily returns ERR_INVALID_ADDRESS_FAMILY:
// "Invalid address family: <family> <host>:<port>".
func InvalidAddressFamily(family, host string, port int) *errs.Error {
	return New(errs.CodeInvalidAddressFamily, "Invalid address family: "+family+" "+host+":"+strconv.Itoa(port))
}

// UnknownEncoding returns ERR_UNKNOWN_ENCODING: "Unknown encoding: <enc>".
func UnknownEncoding(enc string) *errs.Error {
	return New(errs.CodeUnknownEncoding, "Unknown encoding: "+enc)
}

// inspect renders a value roughly the way Node's util.inspect does in error
// messages: strings single-quoted, numbers bare, nil as undefined.
func inspect(v any) string {
	switch x := v.(type) {
	case nil:
		return "undefined"
	case string:
		return "'" + x + "'"
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// WithLocal records the local address and port on e and appends
// " - Local (<localAddress>:<localPort>)" to its message; it returns e.
func WithLocal(e *errs.Error, localAddress string, localPort int) *errs.Error {
	e.LocalAddress = localAddress
	e.LocalPort = localPort
	e.Message += " - Local (" + localAddress + ":" + strconv.Itoa(localPort) + ")"
	return e
}

// Clone returns a shallow copy of e, so a sentinel can be returned and
// then modified (with WithLocal) without touching the shared value.
func Clone(e *errs.Error) *errs.Error {
	c := *e
	return &c
}
