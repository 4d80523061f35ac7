// Package pipe is netloop's Unix-domain stream socket handle (libuv's
// uv_pipe_t, Node's PipeWrap): a stream.Stream with bind to a path, listen,
// connect, chmod, socket and peer names, and unlinking of the bound path
// when the handle closes.
//
// # Paths
//
// A path longer than the system's sun_path (107 bytes on Linux, 103 on
// macOS and the BSDs) is rejected with EINVAL, never truncated. On Linux a
// name starting with a NUL byte or '@' lives in the abstract namespace: no
// file is created, nothing is unlinked, and Chmod is refused. A path
// already bound by a live socket gives EADDRINUSE; a stale socket file left
// by a dead process is not removed automatically (as in Node).
//
// Every method is loop-affine. Windows named pipes are not supported yet:
// there the package is empty.
package pipe
