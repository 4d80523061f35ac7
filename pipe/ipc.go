package pipe

import (
	"github.com/netloop/netloop/internal/transport"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/stream"
)

// NewIPC creates a pipe handle that carries handles as well as bytes
// (libuv's uv_pipe_init with ipc=1): Write2 sends a TCP or pipe handle's
// socket to the process at the other end, and the sockets it receives
// wait for AcceptPending. Open or Connect it like any pipe (or, on
// Windows, where only TCP handles travel and both ends must be IPC pipes,
// Connect it or Accept into it).
func NewIPC(l *loop.Loop) *Pipe {
	p := New(l)
	if err := p.s().SetIPC(); err != nil {
		panic("pipe: SetIPC on a new pipe: " + err.Error()) // a pipe from New is always a pipe stream
	}
	return p
}

// Write2 writes bufs, at least one byte, with send's socket attached to
// their first bytes (libuv's uv_write2; SCM_RIGHTS). send is the Stream of
// a connected or listening tcp.TCP or pipe.Pipe on this loop; what is sent
// is a duplicate of its socket, so send stays open here and may be closed
// as soon as Write2 returns if only the receiver should use it. A pipe
// from New (not NewIPC) gives EINVAL. On Windows only TCP handles travel
// (a pipe handle gives ENOTSUP, as libuv): the socket is exported for the
// peer's process with WSADuplicateSocketW and carried in the write's
// frame (docs/windows.md).
func (p *Pipe) Write2(bufs [][]byte, send *stream.Stream, cb stream.Callback) error {
	p.s().Loop().CheckAffinity("Pipe.Write2")
	st := (*transport.Stream)(send)
	fd, err := st.Dup()
	if err != nil {
		return err
	}
	st.MarkShared()
	return p.s().Write2(bufs, fd, transport.Callback(cb))
}

// PendingCount is how many received handles wait for AcceptPending
// (libuv's uv_pipe_pending_count). Handles arrive with reads: call it from
// the read callback.
func (p *Pipe) PendingCount() int {
	p.s().Loop().CheckAffinity("Pipe.PendingCount")
	return p.s().PendingCount()
}

// PendingType names the kind of handle the next AcceptPending needs, "tcp"
// or "pipe", or "" when none is pending (libuv's uv_pipe_pending_type).
func (p *Pipe) PendingType() string {
	p.s().Loop().CheckAffinity("Pipe.PendingType")
	k, ok := p.s().PendingKind()
	if !ok {
		return ""
	}
	return k.String()
}

// AcceptPending moves the oldest received handle into client, the Stream
// of a handle from tcp.New or pipe.New matching PendingType (libuv's
// uv_accept on an IPC pipe). It returns EAGAIN when none is pending and
// EINVAL for a client of the other type. Handles never accepted are
// closed with the pipe.
func (p *Pipe) AcceptPending(client *stream.Stream) error {
	p.s().Loop().CheckAffinity("Pipe.AcceptPending")
	return p.s().AcceptPending((*transport.Stream)(client))
}
