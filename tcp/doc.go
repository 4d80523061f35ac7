// Package tcp is netloop's TCP handle (libuv's uv_tcp_t, Node's TCPWrap): a
// stream.Stream over a TCP socket with bind, listen, non-blocking connect,
// Nagle and keep-alive control, socket and peer names, and close with reset.
//
// Defaults are Node's, not Go's: Nagle's algorithm stays on and keep-alive
// off unless asked for. Every method is loop-affine.
//
// On Windows the handles are Winsock sockets polled through AFD (see
// package poller), and Fd returns the SOCKET. SO_REUSEADDR is not set there
// (on Windows it would let another socket take a port in use; libuv's
// Windows bind does not set it either), ReusePort is refused
// (WSAEOPNOTSUPP), and keep-alive uses SIO_KEEPALIVE_VALS (the delay, then
// a probe every second; the probe count is the system's).
package tcp
