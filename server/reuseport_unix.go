//go:build !windows

package server

import (
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/sys"
)

// reusePortListener creates a listening TCP socket bound to ap with
// SO_REUSEADDR and SO_REUSEPORT, as transport.Stream.Bind would.
func reusePortListener(ap netip.AddrPort, v6only bool, backlog int) (int, error) {
	sa, err := sys.Sockaddr(ap)
	if err != nil {
		return -1, err
	}
	fam := unix.AF_INET6
	if ap.Addr().Is4() {
		fam = unix.AF_INET
	}
	fd, err := sys.Socket(fam, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err == nil && fam == unix.AF_INET6 {
		v := 0
		if v6only {
			v = 1
		}
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v)
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}
	if err == nil {
		err = unix.Bind(fd, sa)
	}
	if err == nil {
		err = unix.Listen(fd, backlog)
	}
	if err != nil {
		sys.Close(fd)
		return -1, err
	}
	return fd, nil
}
