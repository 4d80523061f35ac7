package server

import "golang.org/x/sys/unix"

// listenerOptionsInherited: Linux copies a listening TCP socket's
// TCP_NODELAY to the sockets it accepts.
const listenerOptionsInherited = true

// dropAll is a classic BPF program that drops every packet.
var dropAll = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}

// stopSYNs makes a listening socket drop the packets that would complete
// new connections (SYNs, and the ACKs of handshakes under way), so that
// its accept queue only shrinks from here on. Clients that come later
// retransmit their SYN and are refused once the listener is closed.
func stopSYNs(fd int) {
	unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(dropAll)), Filter: &dropAll[0]})
}

// clearFilter removes from an accepted socket a filter it may have
// inherited from its listener (a connection completing while stopSYNs ran).
func clearFilter(fd int) {
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0)
}
