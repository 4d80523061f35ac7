// Package server is Node's net.Server in Go: it listens on a TCP port, a
// Unix-domain path or an inherited descriptor, turns each accepted
// connection into a socket.Socket (mirroring lib/net.js onconnection:
// accept errors become 'error', maxConnections closes and 'drop's, the
// block list closes silently, everything else becomes 'connection'), and
// closes once its last connection has gone.
//
// Methods are loop-affine: call them from the server's loop (or before it
// runs). On Windows ListenPath serves a named pipe (\\.\pipe\name, see
// docs/windows.md); a Group of loops serves TCP only, and
// BalanceReusePort is refused (no SO_REUSEPORT).
package server
