// Package stream is the fd-backed duplex stream under netloop's TCP and
// pipe handles: libuv's uv_stream_t, what Node calls StreamBase.
//
// A Stream reads with ReadStart/ReadStop (an alloc function and a read
// callback), writes through a queue of write requests (Write tries the
// system call at once and copies only the unsent remainder), half-closes
// with Shutdown, and listens and accepts connections with Listen/Accept.
//
// # Buffers
//
// By default reads land in the loop's shared 64 KiB buffer: the slice the
// read callback receives is valid only until it returns. An alloc function
// supplies the caller's own buffers instead. Write copies nothing the kernel
// takes at once; the unsent remainder is copied into loop-pooled memory, so
// the caller may reuse its slices as soon as Write returns.
//
// # Callbacks
//
// Read and connection callbacks run from the poll phase. Write, shutdown
// and connect callbacks are always deferred to the loop's pending phase,
// never run inside the call that queued them. Closing a stream cancels what
// is queued: those callbacks run with ECANCELED before the close callback.
//
// Everything here is loop-affine. On Windows the streams are TCP
// sockets (package tcp) and named pipes (package pipe).
package stream
