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
// Every method is loop-affine. Windows named pipes are not supported yet:
// there the package is empty.
package pipe
