package socket

import (
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
)

// HandleType says what a received Handle is (Node's 'net.Socket' and
// 'net.Server' handle types).
type HandleType uint8

const (
	// HandleSocket is a connected TCP or Unix-domain socket: make it a
	// Socket with Handle.Socket.
	HandleSocket HandleType = iota + 1
	// HandleServer is a listening socket: serve it with a server's
	// ListenFD(h.FD()).
	HandleServer
)

// String returns Node's name for the handle type.
func (t HandleType) String() string {
	switch t {
	case HandleSocket:
		return "net.Socket"
	case HandleServer:
		return "net.Server"
	}
	return "unknown"
}

// Handle is a descriptor received over an IPC socket (see Options.IPC and
// OnHandle). It is valid only during the 'handle' callback: take it there
// with Socket or FD, or it is closed when the callback returns.
type Handle struct {
	fd  int // -1 once taken
	typ HandleType
	tcp bool
	l   *loop.Loop
}

// Type says whether the handle is a connected socket or a listening one.
func (h *Handle) Type() HandleType { return h.typ }

// IsTCP reports whether the handle is a TCP socket (else Unix-domain).
func (h *Handle) IsTCP() bool { return h.tcp }

// Socket makes a received connected socket a Socket (Node's
// new net.Socket({handle})), readable and writable, on the receiving
// socket's loop unless opts names a Loop or Group. opts.FD is ignored. On
// error the handle stays untaken.
func (h *Handle) Socket(opts Options) (*Socket, error) {
	if h.fd < 0 {
		return nil, errs.ErrSocketClosed
	}
	if h.typ != HandleSocket {
		return nil, errx.New(errs.CodeInvalidHandleType, "The handle is a listening socket: pass FD() to a server's ListenFD")
	}
	if opts.Loop == nil && opts.Group == nil {
		opts.Loop = h.l
	}
	opts.FD, opts.Readable, opts.Writable = h.fd, true, true
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	h.fd = -1
	return s, nil
}

// FD takes the descriptor: the caller owns it from now on (for a server's
// ListenFD, which a listening handle is for). It returns -1 once taken.
func (h *Handle) FD() int {
	fd := h.fd
	h.fd = -1
	return fd
}

// Close closes a handle nobody wants. Closing a taken handle does nothing.
func (h *Handle) Close() error {
	if h.fd < 0 {
		return nil
	}
	fd := h.fd
	h.fd = -1
	return sys.Close(fd)
}

// OnHandle adds a 'handle' listener to an IPC socket (Options.IPC): fn
// receives each socket or server the process at the other end sent with
// SendHandle, right after the 'data' of the bytes it came with. Like
// OnData it starts the flow: handles arrive only while the socket reads
// (Node's channel always does). A handle no listener takes is closed; see
// Handle.
func (s *Socket) OnHandle(fn func(h *Handle)) Listener {
	s.affine("Socket.OnHandle")
	rm := s.add(evHandle, fn, false)
	s.dataListenerAdded()
	return rm
}

// OnceHandle adds a one-shot 'handle' listener.
func (s *Socket) OnceHandle(fn func(h *Handle)) Listener {
	s.affine("Socket.OnceHandle")
	rm := s.add(evHandle, fn, true)
	s.dataListenerAdded()
	return rm
}

// deliverHandles emits the descriptors the last read brought, in order.
func (s *Socket) deliverHandles() {
	for s.st != nil && s.st.PendingCount() > 0 {
		fd := s.st.TakePending()
		if s.state&sDestroyed != 0 {
			sys.Close(fd)
			continue
		}
		h := newHandle(s.l, fd)
		emitter.Emit(&s.ev, evHandle, h)
		h.Close()
	}
}

// SendHandleOptions are Node's subprocess.send options.
type SendHandleOptions struct {
	// KeepOpen keeps a sent Socket open in this process. By default it is
	// destroyed as soon as its descriptor is queued ('close' follows),
	// so that only the receiver reads from it, as Node does.
	KeepOpen bool
}

// SendHandle sends h, a *Socket or a listening *server.Server on this
// socket's loop, to the process at the other end of an IPC socket
// (Options.IPC), together with data, which must not be empty: the
// descriptor travels with data's first bytes (SCM_RIGHTS, libuv's
// uv_write2) and the receiver gets it from its 'handle' event. The write
// queues, counts and reports like Write: the bool is Write's, and cb runs
// once data and descriptor are in the kernel, or with the write's error.
//
// The error is what Node throws: ERR_INVALID_HANDLE_TYPE for anything
// else (a TLS socket included), ERR_INVALID_ARG_VALUE for an empty data or
// a socket that is not an IPC one, ERR_SOCKET_CLOSED for a handle that has
// no descriptor (never connected, destroyed, a server not listening).
// Bytes a sent Socket has already read stay in this process: accept such
// connections paused (the server's PauseOnConnect) before sending them.
// A server stays open here (both processes may accept), as in Node.
func (s *Socket) SendHandle(h any, data []byte, opts SendHandleOptions, cb func(err error)) (bool, error) {
	s.affine("Socket.SendHandle")
	if s.state&sIPC == 0 {
		return false, errx.New(errs.CodeInvalidArgValue, "SendHandle needs a socket created with Options.IPC")
	}
	if len(data) == 0 {
		return false, errx.New(errs.CodeInvalidArgValue, "SendHandle needs at least one byte of data to carry the handle")
	}
	var st *transport.Stream
	var sent *Socket
	switch v := h.(type) {
	case *Socket:
		if v.l != s.l {
			return false, errx.New(errs.CodeInvalidHandleType, "This handle type cannot be sent: the socket runs on another loop")
		}
		if v.layer != nil {
			return false, errx.New(errs.CodeInvalidHandleType, "This handle type cannot be sent: a TLS socket's session cannot move")
		}
		if v.st == nil || v.state&(sDestroyed|sConnecting) != 0 || v.st.IsClosing() {
			return false, errs.ErrSocketClosed
		}
		st, sent = v.st, v
	default:
		l, hst, ok := accept.ServerStream(h)
		if !ok {
			return false, errs.ErrInvalidHandleType
		}
		if l != s.core() {
			return false, errx.New(errs.CodeInvalidHandleType, "This handle type cannot be sent: the server runs on another loop")
		}
		if hst == nil || hst.IsClosing() {
			return false, errs.ErrSocketClosed
		}
		st = hst
	}
	fd, err := st.Dup()
	if err != nil {
		return false, err
	}
	// The descriptor now has a second reference: closing st must remove its
	// poller registration itself.
	st.MarkShared()
	ok := s.writeFD(data, fd, cb)
	if sent != nil && !opts.KeepOpen {
		sent.Destroy(nil)
	}
	return ok, nil
}

// carriesFD reports whether a pending write sends a descriptor.
func carriesFD(p []pendingWrite) bool {
	for _, w := range p {
		if w.fd1 != 0 {
			return true
		}
	}
	return false
}

func errIPCNeedsPipe() error {
	return errx.New(errs.CodeInvalidArgValue, "Options.IPC needs a Unix-domain socket")
}
