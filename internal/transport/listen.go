package transport

import (
	"net/netip"
	"syscall"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/poller"
)

// Listen marks the descriptor as listening (listen(2) with backlog) and
// calls onConnection for each incoming connection; the callback should
// call Accept. A TCP stream without a socket is first bound to an
// ephemeral port on all IPv6 and IPv4 addresses; a pipe must be bound. An
// accept error is passed to onConnection and the stream keeps listening;
// at EMFILE/ENFILE the pending connections are accepted and closed at once
// (libuv's reserve-descriptor trick) so the loop keeps serving.
func (s *Stream) Listen(backlog int, onConnection func(err error)) error {
	if s.Fd() < 0 && !s.IsClosing() {
		if s.w.Aux&fPipe != 0 {
			return errx.FromErrno("listen", syscall.EINVAL)
		}
		if err := s.Bind(netip.IPv6Unspecified(), 0, 0); err != nil {
			return err
		}
	}
	if s.IsClosing() || s.Fd() < 0 {
		return errx.FromErrno("listen", syscall.EBADF)
	}
	if onConnection == nil {
		return errx.FromErrno("listen", syscall.EINVAL)
	}
	if s.w.Aux&fListening == 0 {
		if s.isNamedPipe() {
			if err := s.npListen(); err != nil {
				return err
			}
		} else if err := sys.Listen(s.Fd(), backlog); err != nil {
			return errx.Wrap("listen", err)
		}
	}
	s.ext().onConnection = onConnection
	if !s.isNamedPipe() && s.w.Aux&fForeignFd == 0 && !s.x.plainAccept {
		// io_uring: a multishot accept takes the connections (see
		// pollx.Accept). Not for a descriptor others may share (Open):
		// the kernel would accept their connections into this queue.
		s.w.SetAccept()
	}
	if err := s.w.Start(poller.Read); err != nil {
		return errx.Wrap("listen", err)
	}
	if s.w.Aux&fListening == 0 {
		s.w.Aux |= fListening
		reserveAcquire()
	}
	s.updateActive()
	s.npUpdate()
	return nil
}

func (s *Stream) acceptReady() {
	reserveRestore()
	for i := 0; i < acceptsPerEvent; i++ {
		if s.x.acceptedFd >= 0 {
			// The last connection was not taken: wait until Accept.
			s.w.Stop(poller.Read)
			return
		}
		fd, err := s.acceptOne()
		if err == sys.EAGAIN {
			return
		}
		if err != nil {
			if err == sys.EMFILE || err == sys.ENFILE {
				serr := shedConnections(s.Fd())
				if serr == sys.EAGAIN {
					return // shed: nothing to report, as libuv and Node
				}
				if serr != sys.EMFILE {
					err = serr
				}
				// No spare to shed with: report it, and stop watching
				// for a while instead of spinning on the listen queue.
				s.backOff()
			}
			s.x.onConnection(errx.Wrap("accept", err))
			return
		}
		s.x.acceptedFd = fd
		s.x.onConnection(nil)
		if s.IsClosing() || s.w.Aux&fListening == 0 {
			return
		}
	}
}

// acceptOne accepts a connection: from the poller's queue in accept mode,
// else with accept4. It returns EAGAIN when none is pending.
func (s *Stream) acceptOne() (int, error) {
	if s.w.InAcceptMode() {
		if ac := s.Loop().Acceptor(); ac != nil {
			// What the kernel accepted comes first; then, if the
			// listener is polled for now (out of descriptors, or accept
			// mode refused), accept4.
			if fd, errno, ok := ac.Pop(s.Fd()); ok {
				if fd < 0 {
					return -1, errno
				}
				return fd, nil
			}
			if ac.Accepting(s.Fd()) {
				return -1, sys.EAGAIN
			}
		}
	}
	return sys.Accept(s.Fd())
}

// AcceptNow accepts a pending connection at once, without a callback, for
// a listener being drained before it closes: the caller owns the returned
// descriptor. It returns EAGAIN when none is pending.
func (s *Stream) AcceptNow() (int, error) {
	if s.IsClosing() || s.Fd() < 0 || s.w.Aux&fListening == 0 {
		return -1, errx.FromErrno("accept", syscall.EBADF)
	}
	fd, err := s.acceptOne()
	if err != nil {
		return -1, errx.Wrap("accept", err)
	}
	return fd, nil
}

// PlainAccept makes the stream accept with accept4 on readiness even
// where the poller could accept in the kernel (see pollx.Accept): for a
// listener whose owner drains it with AcceptNow before it closes, since
// connections the kernel accepted but the poller has not reaped yet would
// be lost with it. A later Listen stays plain; a listener in accept mode
// already (one taken over) has the poller stop accepting for it, and
// hands out what the kernel accepted before, then calls accept4.
func (s *Stream) PlainAccept() {
	s.ext().plainAccept = true
	if s.w.InAcceptMode() {
		if ac := s.Loop().Acceptor(); ac != nil {
			ac.Plain(s.Fd())
		}
	}
}

// Accept hands the pending connection to client, a stream from New
// without a descriptor; a TCP client's remembered options (SetNoDelay,
// SetKeepAlive) are applied. It returns EAGAIN when no connection is
// pending.
func (s *Stream) Accept(client *Stream) error {
	fd, err := s.TakeAccepted()
	if err != nil {
		return err
	}
	if err := client.Adopt(fd); err != nil {
		if client.Fd() != fd {
			sys.Close(fd) // not adopted
		}
		return err
	}
	return nil
}

// TakeAccepted hands the pending connection's descriptor to the caller,
// for a stream on another loop (see Adopt), and listens on, as Accept
// does. It returns EAGAIN when no connection is pending.
func (s *Stream) TakeAccepted() (int, error) {
	if s.x == nil || s.x.acceptedFd < 0 {
		return -1, errx.FromErrno("accept", syscall.EAGAIN)
	}
	fd := s.x.acceptedFd
	s.x.acceptedFd = -1
	if s.w.Aux&fListening != 0 && !s.IsClosing() {
		if err := s.w.Start(poller.Read); err != nil {
			// The listener cannot hear new connections: say so through
			// onConnection, from the pending phase.
			s.ext().acceptErr = errx.Wrap("accept", err)
			s.w.Aux |= fAcceptErr
			s.queuePending()
		}
		s.npAccepted()
	}
	return fd, nil
}

// Adopt gives s, a stream from New without a descriptor, an accepted
// connection's descriptor (non-blocking and close-on-exec, as accept4
// made it), on whichever loop s belongs to; a TCP stream's remembered
// options are applied. If s.Fd() is not fd after an error, s did not take
// it.
func (s *Stream) Adopt(fd int) error {
	if err := s.setFd(fd); err != nil {
		return err
	}
	s.w.Aux |= fConnected
	if s.w.Aux&fPipe == 0 {
		return s.applyOptions()
	}
	return nil
}

// backOff stops watching the listener for emfileBackoff; the timer
// restarts it if the stream still listens then.
func (s *Stream) backOff() {
	s.w.Stop(poller.Read)
	if s.x.resume == nil {
		s.x.resume = func() {
			if s.w.Aux&fListening != 0 && !s.IsClosing() && s.x.acceptedFd < 0 {
				s.w.Start(poller.Read)
			}
		}
	}
	s.Loop().StartTimer(&s.x.backoff, emfileBackoff, s.x.resume)
}
