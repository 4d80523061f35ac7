//go:build !windows

package sys

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Sockaddr converts ap to a unix.Sockaddr: AF_INET for IPv4, AF_INET6
// otherwise (IPv4-mapped addresses stay IPv6; a zone names an interface).
func Sockaddr(ap netip.AddrPort) (unix.Sockaddr, error) {
	a := ap.Addr()
	if a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		} else if n, ok := atou(z); ok {
			sa.ZoneId = n
		} else {
			return nil, unix.EINVAL
		}
	}
	return sa, nil
}

// AddrPort converts an IP socket address back; other families give the
// zero AddrPort.
func AddrPort(sa unix.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(a, uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func atou(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var n uint32
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	return n, true
}
