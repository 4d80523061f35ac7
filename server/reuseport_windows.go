package server

import (
	"net/netip"

	"golang.org/x/sys/windows"
)

// reusePortListener fails on Windows, which has no SO_REUSEPORT:
// BalanceReusePort servers there fall back to nothing; use the acceptor.
func reusePortListener(ap netip.AddrPort, v6only bool, backlog int) (int, error) {
	return -1, windows.WSAEOPNOTSUPP
}
