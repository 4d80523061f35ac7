package errs_test

import (
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/errx"

	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessageForms(t *testing.T) {
	cases := []struct {
		name string
		err  *errs.Error
		want string
	}{
		{"errno read", errx.FromErrno("read", syscall.ECONNRESET), "read ECONNRESET"},
		{"errno write", errx.FromErrno("write", syscall.EPIPE), "write EPIPE"},
		{"connect host port", errx.WithHostPort("connect", syscall.ECONNREFUSED, "127.0.0.1", 8080), "connect ECONNREFUSED 127.0.0.1:8080"},
		{"connect pipe", errx.WithHostPort("connect", syscall.ENOENT, "/path/to/sock", 0), "connect ENOENT /path/to/sock"},
		{"connect no address", errx.WithHostPort("connect", syscall.ECONNREFUSED, "", 0), "connect ECONNREFUSED"},
		{"connect negative port", errx.WithHostPort("connect", syscall.ECONNREFUSED, "::1", -1), "connect ECONNREFUSED ::1"},
		{"listen v6", errx.UVWithHostPort("listen", syscall.EADDRINUSE, "::", 8080), "listen EADDRINUSE: address already in use :::8080"},
		{"listen eacces", errx.UVWithHostPort("listen", syscall.EACCES, "0.0.0.0", 80), "listen EACCES: permission denied 0.0.0.0:80"},
		{"listen pipe", errx.UVWithHostPort("listen", syscall.EADDRINUSE, "/tmp/x.sock", -1), "listen EADDRINUSE: address already in use /tmp/x.sock"},
		{"bind", errx.UVWithHostPort("bind", syscall.EADDRNOTAVAIL, "1.2.3.4", 0), "bind EADDRNOTAVAIL: address not available 1.2.3.4"},
		{"local", errx.WithLocal(errx.WithHostPort("connect", syscall.ECONNREFUSED, "127.0.0.1", 9), "127.0.0.1", 5000), "connect ECONNREFUSED 127.0.0.1:9 - Local (127.0.0.1:5000)"},
		{"getaddrinfo", errx.Getaddrinfo("ENOTFOUND", "example.invalid"), "getaddrinfo ENOTFOUND example.invalid"},
		{"err code", errx.New(errs.CodeServerNotRunning, "Server is not running."), "Server is not running."},
		{"abort", errx.Abort(nil), "The operation was aborted"},
		{"bad port", errx.SocketBadPort("", -1), "Port should be >= 0 and < 65536. Received type number (-1)."},
		{"bad port named", errx.SocketBadPort("options.port", 65536), "options.port should be >= 0 and < 65536. Received type number (65536)."},
		{"arg value", errx.InvalidArgValue("options.family", "foo", ""), "The property 'options.family' is invalid. Received 'foo'"},
		{"arg value reason", errx.InvalidArgValue("start", "1.1.1.2", "must come before end"), "The argument 'start' must come before end. Received '1.1.1.2'"},
		{"out of range", errx.OutOfRange("prefix", ">= 0 && <= 32", 33), `The value of "prefix" is out of range. It must be >= 0 && <= 32. Received 33`},
		{"ip blocked", errx.IPBlocked("1.2.3.4"), "IP(1.2.3.4) is blocked by net.BlockList"},
		{"invalid address", errx.InvalidAddress(), "Invalid socket address"},
		{"invalid ip", errx.InvalidIPAddress("x"), "Invalid IP address: x"},
		{"family", errx.InvalidAddressFamily("IPv7", "h", 1), "Invalid address family: IPv7 h:1"},
		{"encoding", errx.UnknownEncoding("bogus"), "Unknown encoding: bogus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, c.err.Error())
			assert.Equal(t, c.want, c.err.Message)
		})
	}
}

func TestFields(t *testing.T) {
	e := errx.WithHostPort("connect", syscall.ECONNREFUSED, "127.0.0.1", 9)
	assert.Equal(t, "ECONNREFUSED", e.Code)
	assert.Equal(t, "connect", e.Syscall)
	assert.Equal(t, syscall.ECONNREFUSED, e.Errno)
	assert.Equal(t, "127.0.0.1", e.Address)
	assert.Equal(t, 9, e.Port)
	assert.Equal(t, uvECONNREFUSED, e.UVErrno())

	errx.WithLocal(e, "0.0.0.0", 1234)
	assert.Equal(t, "0.0.0.0", e.LocalAddress)
	assert.Equal(t, 1234, e.LocalPort)

	p := errx.WithHostPort("connect", syscall.ENOENT, "/tmp/s", 0)
	assert.Equal(t, 0, p.Port)
	assert.Equal(t, "/tmp/s", p.Address)

	g := errx.Getaddrinfo("ENOTFOUND", "nx.invalid")
	assert.Equal(t, "getaddrinfo", g.Syscall)
	assert.Equal(t, "nx.invalid", g.Hostname)
	assert.Empty(t, g.Address)
	assert.Zero(t, g.Port)
	assert.Zero(t, g.Errno)
	assert.Equal(t, -3008, g.UVErrno())
	assert.Equal(t, -3001, errx.Getaddrinfo("EAI_AGAIN", "x").UVErrno())

	n := errx.New(errs.CodeSocketClosed, "Socket is closed")
	assert.Empty(t, n.Syscall)
	assert.Zero(t, n.UVErrno())
	assert.Nil(t, n.Unwrap())
}

func TestErrorsIsErrno(t *testing.T) {
	var err error = errx.FromErrno("read", syscall.ECONNRESET)
	assert.True(t, errors.Is(err, syscall.ECONNRESET))
	assert.False(t, errors.Is(err, syscall.EPIPE))

	wrapped := fmt.Errorf("outer: %w", errx.UVWithHostPort("listen", syscall.EADDRINUSE, "::", 80))
	assert.True(t, errors.Is(wrapped, syscall.EADDRINUSE))

	var e *errs.Error
	require.True(t, errors.As(wrapped, &e))
	assert.Equal(t, "EADDRINUSE", e.Code)
	assert.Equal(t, "listen", e.Syscall)
}

func TestErrorsIsSentinels(t *testing.T) {
	sentinels := []*errs.Error{
		errs.ErrSocketClosed, errs.ErrSocketClosedBeforeConnection, errs.ErrStreamDestroyed,
		errs.ErrStreamWriteAfterEnd, errs.ErrServerNotRunning, errs.ErrServerAlreadyListen,
		errs.ErrInvalidHandleType, errs.ErrSocketConnectionTimeout, errs.ErrInvalidAddress, errs.ErrAbort,
	}
	for i, s := range sentinels {
		// A fresh error with the same code matches, wrapped or not.
		fresh := errx.New(s.Code, "whatever")
		assert.True(t, errors.Is(fresh, s), s.Code)
		assert.True(t, errors.Is(fmt.Errorf("x: %w", fresh), s), s.Code)
		assert.True(t, errors.Is(errx.Clone(s), s), s.Code)
		for j, o := range sentinels {
			if i != j {
				assert.False(t, errors.Is(s, o), "%s vs %s", s.Code, o.Code)
			}
		}
	}
	assert.False(t, errors.Is(errx.FromErrno("read", syscall.EPIPE), errs.ErrSocketClosed))
	// An empty code matches nothing.
	assert.False(t, errors.Is(&errs.Error{}, &errs.Error{}))

	assert.Equal(t, "Socket is closed", errs.ErrSocketClosed.Error())
	assert.Equal(t, "Socket closed before the connection was established", errs.ErrSocketClosedBeforeConnection.Error())
	assert.Equal(t, "Cannot call write after a stream was destroyed", errs.ErrStreamDestroyed.Error())
	assert.Equal(t, "write after end", errs.ErrStreamWriteAfterEnd.Error())
	assert.Equal(t, "Server is not running.", errs.ErrServerNotRunning.Error())
	assert.Equal(t, "Listen method has been called more than once without closing.", errs.ErrServerAlreadyListen.Error())
	assert.Equal(t, "This handle type cannot be sent", errs.ErrInvalidHandleType.Error())
}

func TestAbort(t *testing.T) {
	cause := errors.New("because")
	a := errx.Abort(cause)
	assert.Equal(t, errs.CodeAbort, a.Code)
	assert.Equal(t, "ABORT_ERR", a.Code)
	assert.True(t, errors.Is(a, errs.ErrAbort))
	assert.True(t, errors.Is(a, cause))
	assert.Nil(t, errx.Abort(nil).Unwrap())
}

func TestWrapAndCodeOf(t *testing.T) {
	assert.Nil(t, errx.Wrap("read", nil))

	w := errx.Wrap("read", syscall.ECONNRESET)
	var e *errs.Error
	require.True(t, errors.As(w, &e))
	assert.Equal(t, "read ECONNRESET", e.Error())

	// os.SyscallError wraps an Errno.
	w = errx.Wrap("accept", os.NewSyscallError("accept4", syscall.EMFILE))
	require.True(t, errors.As(w, &e))
	assert.Equal(t, "accept EMFILE", e.Error())
	assert.Equal(t, "accept", e.Syscall)

	orig := errx.WithHostPort("connect", syscall.ECONNREFUSED, "1.2.3.4", 5)
	assert.Same(t, orig, errx.Wrap("read", orig))

	plain := errors.New("plain")
	assert.Equal(t, plain, errx.Wrap("read", plain))

	assert.Equal(t, "ECONNREFUSED", errs.CodeOf(orig))
	assert.Equal(t, "ERR_SOCKET_CLOSED", errs.CodeOf(fmt.Errorf("w: %w", errs.ErrSocketClosed)))
	assert.Equal(t, "EPIPE", errs.CodeOf(syscall.EPIPE))
	assert.Equal(t, "", errs.CodeOf(plain))
	assert.Equal(t, "", errs.CodeOf(nil))
}

func TestNameDescribe(t *testing.T) {
	cases := []struct {
		errno syscall.Errno
		name  string
		msg   string
	}{
		{syscall.EADDRINUSE, "EADDRINUSE", "address already in use"},
		{syscall.ECONNREFUSED, "ECONNREFUSED", "connection refused"},
		{syscall.ECONNRESET, "ECONNRESET", "connection reset by peer"},
		{syscall.EPIPE, "EPIPE", "broken pipe"},
		{syscall.ENOENT, "ENOENT", "no such file or directory"},
		{syscall.EINVAL, "EINVAL", "invalid argument"},
		{syscall.EACCES, "EACCES", "permission denied"},
		{syscall.EMFILE, "EMFILE", "too many open files"},
		{syscall.EADDRNOTAVAIL, "EADDRNOTAVAIL", "address not available"},
		{syscall.ETIMEDOUT, "ETIMEDOUT", "connection timed out"},
		{syscall.EHOSTUNREACH, "EHOSTUNREACH", "host is unreachable"},
		{syscall.ENETUNREACH, "ENETUNREACH", "network is unreachable"},
		{syscall.EAGAIN, "EAGAIN", "resource temporarily unavailable"},
		{syscall.ENOTSOCK, "ENOTSOCK", "socket operation on non-socket"},
		{syscall.ENOTCONN, "ENOTCONN", "socket is not connected"},
		{syscall.ECONNABORTED, "ECONNABORTED", "software caused connection abort"},
		{syscall.EBADF, "EBADF", "bad file descriptor"},
		{syscall.ENOTSUP, "ENOTSUP", "operation not supported on socket"},
		{syscall.ENAMETOOLONG, "ENAMETOOLONG", "name too long"},
		{syscall.EPERM, "EPERM", "operation not permitted"},
		{syscall.EIO, "EIO", "i/o error"},
		{syscall.ENOBUFS, "ENOBUFS", "no buffer space available"},
		{syscall.ESHUTDOWN, "ESHUTDOWN", "cannot send after transport endpoint shutdown"},
	}
	for _, c := range cases {
		assert.Equal(t, c.name, errs.Name(c.errno), "errno %d", int(c.errno))
		assert.Equal(t, c.msg, errs.Describe(c.errno), c.name)
	}
	assert.Equal(t, "", errs.Name(0))
	assert.Equal(t, "unknown error", errs.Describe(0))
	assert.Equal(t, "unknown error", errs.Describe(syscall.Errno(99999)))
	assert.Equal(t, "UNKNOWN", errs.Name(syscall.Errno(99999)))
}

func TestErrnoOf(t *testing.T) {
	assert.Equal(t, syscall.ECONNRESET, errs.ErrnoOf(errx.FromErrno("read", syscall.ECONNRESET)))
	assert.Equal(t, syscall.EPIPE, errs.ErrnoOf(fmt.Errorf("wrapped: %w", syscall.EPIPE)))
	assert.Equal(t, syscall.EINVAL, errs.ErrnoOf(errx.New(errs.CodeSocketClosed, "Socket is closed")))
	assert.Equal(t, syscall.EINVAL, errs.ErrnoOf(nil))
}

// errors.Is against a syscall errno matches by Node's name, so the same
// check holds whatever number the platform gives the errno (Winsock's
// WSAECONNREFUSED on Windows); different names and unknown errnos do not
// match.
func TestIsMatchesErrnoByName(t *testing.T) {
	err := errx.FromErrno("connect", syscall.ECONNREFUSED)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.NotErrorIs(t, err, syscall.ECONNRESET)
	unknown := &errs.Error{Errno: syscall.Errno(4000)}
	assert.NotErrorIs(t, unknown, syscall.Errno(4001))
}
