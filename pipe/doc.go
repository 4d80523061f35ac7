// Package pipe is netloop's Unix-domain stream socket handle (libuv's
// uv_pipe_t, Node's PipeWrap): a stream.Stream with bind to a path, listen,
// connect, chmod, socket and peer names, and unlinking of the bound path
// when the handle closes.
//
// # Paths
//
// A name longer than the system's sun_path holds is cut to
// sizeof(sun_path)-1 bytes (107 on Linux, 103 on macOS and the BSDs), as
// libuv and Node 20 do; the cut path is the file bound, connected to and
// unlinked. With the NoTruncate flag such a name gives EINVAL instead
// (libuv's UV_PIPE_NO_TRUNCATE, current Node's behaviour). On Linux a
// name starting with a NUL byte or '@' lives in the abstract namespace: no
// file is created, nothing is unlinked, and Chmod is refused. A path
// already bound by a live socket gives EADDRINUSE; a stale socket file left
// by a dead process is not removed automatically (as in Node).
//
// # Handle passing
//
// A pipe from NewIPC or OpenIPC also carries handles (libuv's ipc pipes):
// Write2 sends a TCP or pipe handle's socket with some bytes, and the
// receiving end takes what arrived with PendingCount, PendingType and
// AcceptPending from its read callback.
//
// # Windows
//
// On Windows a pipe is a named pipe, as in libuv and Node: names are
// \\.\pipe\name or \\?\pipe\name (the prefix in any case). Bind creates
// the first instance (EADDRINUSE when the name is served already; EACCES
// for any other kind of name, which libuv gets from CreateNamedPipe),
// Listen keeps four instances waiting for clients, and Connect gives
// ENOENT for a name nobody serves; when every instance is busy it waits
// for a free one (up to 30 s, as libuv). The I/O is overlapped, completed
// on the loop's completion port (docs/windows.md). Differences from Unix:
// Shutdown sends nothing (a named pipe cannot be half-closed): the peer
// reads EOF when this end closes, and this end, while reading, takes its
// side to have ended once a read has found nothing for 50 ms after
// Shutdown (libuv's EOF timer). Chmod and Open give ENOTSUP (so no
// OpenIPC); a pipe from NewIPC, connected or accepted, passes TCP handles
// only (Write2 of a pipe gives ENOTSUP), each write framed as libuv frames
// it (docs/windows.md), and the other end must be an IPC pipe too;
// TryWrite always gives EAGAIN, and PeerName is the name a client connected to ("" on the
// server side). A pipe accepted by a listener is tied to that listener's
// loop.
//
// Every method is loop-affine.
package pipe
