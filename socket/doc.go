// Package socket is Node's net.Socket in Go: a client or server-side
// connection over a TCP or Unix-domain (pipe) handle, with Node's state
// machine, events, backpressure, encodings and idle timeouts.
//
// # Events
//
// Every Node event has a typed On<Event> and Once<Event> method that
// returns a Listener (its Remove method unregisters it): connect, ready,
// data (bytes; Text for decoded strings after SetEncoding), end, drain,
// finish, error, close(hadError), timeout, lookup and readable. 'error'
// precedes 'close'; 'close' is the last event and comes exactly once.
// Errors are never emitted inside the call that caused them.
// RemoveAllListeners drops the listeners of named events, or all of them.
//
// # Flowing and paused mode
//
// A 'data' listener starts the flow; Pause and Resume stop and restart it.
// A 'readable' listener puts the socket in Node's paused mode instead:
// data waits in the socket (up to a high-water mark, then the socket stops
// reading) and the program takes it with Read(n) when 'readable' says
// there is some (see OnReadable).
//
// # Passing connections between processes
//
// A Unix-domain socket made with Options.IPC sends a connection or a
// listening server to the process at the other end with SendHandle and
// receives theirs from OnHandle, as Node's child_process channel does for
// cluster; see SendHandle and Handle.
//
// # Buffers
//
// The []byte a data listener receives is the loop's shared read buffer: it
// is valid only until the listener returns; copy what you keep. Write
// copies what the kernel does not take at once, so the caller may reuse
// its slice as soon as Write returns. The slice Read returns belongs to
// the caller.
//
// # Threading
//
// A Socket belongs to one loop. Its methods are loop-affine: call them from
// that loop's callbacks (use loop.Loop.Post from other goroutines).
// On Windows a Path is a named pipe (\\.\pipe\name or \\?\pipe\name;
// ENOENT when nobody serves it). Options.IPC works with a Path connect
// (the other end must be an IPC pipe too: libuv's framing, which Node
// speaks); only TCP sockets and servers can be sent, and an FD cannot be
// an IPC socket there.
package socket
