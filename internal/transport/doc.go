// Package transport is the one stream under every netloop connection:
// libuv's uv_stream_t with its tcp and pipe variants (uv_tcp_t, uv_pipe_t),
// what Node calls StreamBase under TCPWrap and PipeWrap. Socket, Server and
// the public stream, tcp and pipe packages all drive a *Stream; the
// transport kind only changes how a socket is created, bound, connected and
// named, never how it reads, writes, listens or closes (uv__stream_open
// serves both).
//
// Everything here is loop-affine. Windows has no transport yet: there the
// package is empty.
package transport
