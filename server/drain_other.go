//go:build !linux

package server

// stopSYNs has no portable way to stop a listener completing connections
// without closing it: the queue is drained as it is, which leaves a short
// window for connections completing just before the close.
func stopSYNs(fd int) {}

// clearFilter has nothing to clear where stopSYNs sets nothing.
func clearFilter(fd int) {}

// listenerOptionsInherited: elsewhere the accepted sockets get their
// TCP_NODELAY one by one, as libuv does.
const listenerOptionsInherited = false
