// Package tcp is netloop's TCP handle (libuv's uv_tcp_t, Node's TCPWrap): a
// stream.Stream over a TCP socket with bind, listen, non-blocking connect,
// Nagle and keep-alive control, socket and peer names, and close with reset.
//
// Defaults are Node's, not Go's: Nagle's algorithm stays on and keep-alive
// off unless asked for. Every method is loop-affine. Windows is not
// supported yet: there the package is empty.
package tcp
