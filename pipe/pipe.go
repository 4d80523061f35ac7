//go:build !windows

package pipe

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/stream"
)

// Mode selects what Chmod grants to everyone.
type Mode uint8

const (
	// Readable lets every user read (connect to) the socket.
	Readable Mode = 1 << iota
	// Writable lets every user write (connect to) the socket.
	Writable
)

// Pipe is a Unix-domain stream socket handle.
type Pipe struct {
	stream.Stream
	path string // bound path, unlinked at close ("" when none or abstract)
	name string // the name as given to Bind (for SockName)
}

// New creates a pipe handle on l; the socket is created by Bind or Connect.
func New(l *loop.Loop) *Pipe {
	p := &Pipe{}
	p.Init(l, "pipe", p.unlink)
	return p
}

// Open wraps an existing Unix-domain socket descriptor (made non-blocking
// and close-on-exec); the handle owns it from now on.
func Open(l *loop.Loop, fd int) (*Pipe, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, errs.Wrap("open", err)
	}
	unix.CloseOnExec(fd)
	p := New(l)
	if err := p.SetFd(fd); err != nil {
		p.Close(nil)
		return nil, err
	}
	p.MarkForeign()
	if _, err := unix.Getpeername(fd); err == nil {
		p.MarkConnected()
	}
	return p, nil
}

// IsAbstract reports whether name is a Linux abstract-namespace name.
func IsAbstract(name string) bool {
	return len(name) > 0 && (name[0] == 0 || name[0] == '@')
}

// sockaddr validates name's length and builds its address.
func sockaddr(name string) (*unix.SockaddrUnix, error) {
	if name == "" || len(name) > maxPathLen {
		return nil, syscall.EINVAL
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

func (p *Pipe) ensureSocket() error {
	if p.Fd() >= 0 {
		return nil
	}
	if p.IsClosing() {
		return stream.ErrClosed
	}
	fd, err := sys.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := p.SetFd(fd); err != nil {
		sys.Close(fd)
		return err
	}
	return nil
}

// Bind binds the socket to name (see the package doc for paths). A path
// that is already bound gives EADDRINUSE; an over-long path gives EINVAL.
func (p *Pipe) Bind(name string) error {
	if p.name != "" {
		return errs.WithHostPort("bind", syscall.EINVAL, name, -1)
	}
	sa, err := sockaddr(name)
	if err != nil {
		return errs.WithHostPort("bind", err.(syscall.Errno), name, -1)
	}
	if err := p.ensureSocket(); err != nil {
		return errs.Wrap("bind", err)
	}
	if err := unix.Bind(p.Fd(), sa); err != nil {
		if errno, ok := err.(syscall.Errno); ok {
			return errs.WithHostPort("bind", errno, name, -1)
		}
		return errs.Wrap("bind", err)
	}
	p.name = name
	if !IsAbstract(name) {
		p.path = name
	}
	return nil
}

// Listen starts listening with the given backlog (see
// stream.Stream.Listen).
func (p *Pipe) Listen(backlog int, onConnection func(err error)) error {
	if p.Fd() < 0 {
		return errs.FromErrno("listen", syscall.EINVAL)
	}
	return p.Stream.Listen(backlog, onConnection)
}

// Accept hands the pending connection to client, a handle from New.
func (p *Pipe) Accept(client *Pipe) error {
	return p.Stream.Accept(&client.Stream)
}

// Connect connects to the socket at name; cb receives the outcome (ENOENT
// when nothing is there, ECONNREFUSED when nobody listens, EINVAL for a
// path that is too long) in a later callback, never inside Connect.
func (p *Pipe) Connect(name string, cb stream.Callback) error {
	sa, err := sockaddr(name)
	if err != nil {
		err = errs.WithHostPort("connect", err.(syscall.Errno), name, -1)
	} else if err = p.ensureSocket(); err != nil {
		return errs.Wrap("connect", err)
	} else {
		for {
			err = unix.Connect(p.Fd(), sa)
			if err != unix.EINTR {
				break
			}
		}
		if errno, ok := err.(syscall.Errno); ok && errno != unix.EINPROGRESS {
			err = errs.WithHostPort("connect", errno, name, -1)
		}
	}
	if p.Fd() < 0 {
		// No socket to watch (bad name): still report through cb, later.
		if serr := p.ensureSocket(); serr != nil {
			return errs.Wrap("connect", serr)
		}
	}
	return p.StartConnect(err, cb)
}

// Chmod makes the bound socket file readable and/or writable by everyone.
// It fails with EINVAL for abstract names or an unbound handle.
func (p *Pipe) Chmod(mode Mode) error {
	if p.path == "" || mode&(Readable|Writable) == 0 {
		return errs.FromErrno("chmod", syscall.EINVAL)
	}
	var st unix.Stat_t
	if err := unix.Stat(p.path, &st); err != nil {
		return errs.Wrap("chmod", err)
	}
	var want uint32
	if mode&Readable != 0 {
		want |= unix.S_IRUSR | unix.S_IRGRP | unix.S_IROTH
	}
	if mode&Writable != 0 {
		want |= unix.S_IWUSR | unix.S_IWGRP | unix.S_IWOTH
	}
	perm := uint32(st.Mode)&0o7777 | want
	return errs.Wrap("chmod", unix.Chmod(p.path, perm))
}

// SockName returns the name the socket is bound to ("" if none).
func (p *Pipe) SockName() (string, error) {
	if p.Fd() < 0 {
		return "", errs.FromErrno("getsockname", syscall.EBADF)
	}
	if p.name != "" {
		return p.name, nil
	}
	sa, err := unix.Getsockname(p.Fd())
	if err != nil {
		return "", errs.Wrap("getsockname", err)
	}
	return unixName(sa), nil
}

// PeerName returns the name of the socket at the other end ("" for an
// unbound peer, the usual case for clients).
func (p *Pipe) PeerName() (string, error) {
	if p.Fd() < 0 {
		return "", errs.FromErrno("getpeername", syscall.EBADF)
	}
	sa, err := unix.Getpeername(p.Fd())
	if err != nil {
		return "", errs.Wrap("getpeername", err)
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
func (p *Pipe) unlink() {
	if p.path != "" {
		unix.Unlink(p.path)
		p.path = ""
	}
}
