// Package transport is the one stream under every netloop connection:
// libuv's uv_stream_t with its tcp and pipe variants (uv_tcp_t, uv_pipe_t),
// what Node calls StreamBase under TCPWrap and PipeWrap. Socket, Server and
// the public stream, tcp and pipe packages all drive a *Stream; the
// transport kind only changes how a socket is created, bound, connected and
// named, never how it reads, writes, listens or closes (uv__stream_open
// serves both).
//
// Everything here is loop-affine. On Windows streams are TCP only (the
// Unix-domain and descriptor-passing methods fail, see stubs_windows.go),
// and the system calls are Winsock's (package sys).
package transport
