//go:build !windows

package transport

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/errx"
)

// sockaddr validates name's length and builds its address.
func sockaddr(name string, noTruncate bool) (*unix.SockaddrUnix, error) {
	if name == "" {
		return nil, syscall.EINVAL
	}
	if len(name) > maxPathLen {
		if noTruncate {
			return nil, syscall.EINVAL
		}
		// As libuv (and so Node): cut to what sun_path holds.
		name = name[:maxPathLen]
	}
	if IsAbstract(name) {
		if !abstractSupported {
			return nil, syscall.EINVAL
		}
		// x/sys/unix writes a leading '@' as the NUL of an abstract name.
		name = "@" + name[1:]
	}
	return &unix.SockaddrUnix{Name: name}, nil
}

// BindPath binds a pipe stream to name (see package pipe for paths). A
// path that is already bound gives EADDRINUSE. A name longer than
// sun_path holds is cut to fit, as libuv and Node do, unless noTruncate
// (libuv's UV_PIPE_NO_TRUNCATE): then it gives EINVAL.
func (p *Stream) BindPath(name string, noTruncate bool) error {
	if p.w.Aux&fPipe == 0 || (p.x != nil && p.x.name != "") {
		return errx.WithHostPort("bind", syscall.EINVAL, name, -1)
	}
	sa, err := sockaddr(name, noTruncate)
	if err != nil {
		return errx.WithHostPort("bind", err.(syscall.Errno), name, -1)
	}
	if err := p.ensureSocket(unix.AF_UNIX); err != nil {
		return errx.Wrap("bind", err)
	}
	if err := unix.Bind(p.Fd(), sa); err != nil {
		if errno, ok := err.(syscall.Errno); ok {
			return errx.WithHostPort("bind", errno, name, -1)
		}
		return errx.Wrap("bind", err)
	}
	p.ext().name = name
	if !IsAbstract(name) {
		p.x.path = sa.Name // the file bound, which is what close unlinks
	}
	return nil
}

// ConnectPath connects a pipe stream to the socket at name; cb receives
// the outcome (ENOENT when nothing is there, ECONNREFUSED when nobody
// listens, EINVAL for a path too long with noTruncate) in a later
// callback, never inside ConnectPath. Long names are cut as in BindPath.
func (p *Stream) ConnectPath(name string, noTruncate bool, cb Callback) error {
	if p.w.Aux&fPipe == 0 {
		return errx.FromErrno("connect", syscall.EINVAL)
	}
	sa, err := sockaddr(name, noTruncate)
	if err != nil {
		err = errx.WithHostPort("connect", err.(syscall.Errno), name, -1)
	} else if err = p.ensureSocket(unix.AF_UNIX); err != nil {
		return errx.Wrap("connect", err)
	} else {
		for {
			err = unix.Connect(p.Fd(), sa)
			if err != unix.EINTR {
				break
			}
		}
		if errno, ok := err.(syscall.Errno); ok && errno != unix.EINPROGRESS {
			err = errx.WithHostPort("connect", errno, name, -1)
		}
	}
	if p.Fd() < 0 {
		// No socket to watch (bad name): still report through cb, later.
		if serr := p.ensureSocket(unix.AF_UNIX); serr != nil {
			return errx.Wrap("connect", serr)
		}
	}
	return p.trackConnect(err, cb)
}

// Chmod makes the bound socket file readable and/or writable by everyone.
// It fails with EINVAL for abstract names or an unbound handle.
func (p *Stream) Chmod(mode Mode) error {
	if p.x == nil || p.x.path == "" || mode&(Readable|Writable) == 0 {
		return errx.FromErrno("chmod", syscall.EINVAL)
	}
	var st unix.Stat_t
	if err := unix.Stat(p.x.path, &st); err != nil {
		return errx.Wrap("chmod", err)
	}
	var want uint32
	if mode&Readable != 0 {
		want |= unix.S_IRUSR | unix.S_IRGRP | unix.S_IROTH
	}
	if mode&Writable != 0 {
		want |= unix.S_IWUSR | unix.S_IWGRP | unix.S_IWOTH
	}
	perm := uint32(st.Mode)&0o7777 | want
	return errx.Wrap("chmod", unix.Chmod(p.x.path, perm))
}

// PathName returns the name a pipe stream is bound to ("" if none).
func (p *Stream) PathName() (string, error) {
	if p.Fd() < 0 {
		return "", errClosed("getsockname")
	}
	if p.x != nil && p.x.name != "" {
		return p.x.name, nil
	}
	sa, err := unix.Getsockname(p.Fd())
	if err != nil {
		return "", errx.Wrap("getsockname", err)
	}
	return unixName(sa), nil
}

// PeerPathName returns the name of the pipe at the other end ("" for an
// unbound peer, the usual case for clients).
func (p *Stream) PeerPathName() (string, error) {
	if p.Fd() < 0 {
		return "", errClosed("getpeername")
	}
	sa, err := unix.Getpeername(p.Fd())
	if err != nil {
		return "", errx.Wrap("getpeername", err)
	}
	return unixName(sa), nil
}

func unixName(sa unix.Sockaddr) string {
	if u, ok := sa.(*unix.SockaddrUnix); ok {
		// x/sys/unix spells an unnamed socket (an unbound client, a
		// socketpair end) as "@", like an empty abstract name.
		if u.Name == "@" {
			return ""
		}
		if IsAbstract(u.Name) {
			return "\x00" + u.Name[1:]
		}
		return u.Name
	}
	return ""
}

// unlink removes the bound path before the descriptor closes, so another
// process cannot bind it in between and lose its socket to us.
func (p *Stream) unlink() {
	if p.x != nil && p.x.path != "" {
		unix.Unlink(p.x.path)
		p.x.path = ""
	}
}
