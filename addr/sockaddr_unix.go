//go:build !windows

package addr

import (
	"net"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/errx"
)

// ToSockaddr builds the OS socket address for ip and port: an IPv4 string
// gives *unix.SockaddrInet4, an IPv6 one *unix.SockaddrInet6. The zone is
// taken from zone, or else from a "%zone" suffix of ip; a numeric zone is
// used as the scope id, a name is resolved with net.InterfaceByName, and an
// unknown interface leaves the scope id 0 (as libuv does). An invalid ip
// gives ERR_INVALID_IP_ADDRESS and a port outside 0..65535
// ERR_SOCKET_BAD_PORT.
func ToSockaddr(ip string, port int, zone string) (unix.Sockaddr, error) {
	if port < 0 || port > 65535 {
		return nil, errx.SocketBadPort("", port)
	}
	if a, ok := parseIPv4(ip); ok {
		return &unix.SockaddrInet4{Port: port, Addr: a}, nil
	}
	body := ip
	if i := strings.IndexByte(ip, '%'); i >= 0 {
		body = ip[:i]
		if zone == "" {
			zone = ip[i+1:]
		}
	}
	a, ok := parseIPv6(body)
	if !ok {
		return nil, errx.InvalidIPAddress(ip)
	}
	return &unix.SockaddrInet6{Port: port, Addr: a, ZoneId: zoneID(zone)}, nil
}

// zoneID resolves an IPv6 zone to a scope id (0 when empty or unknown).
func zoneID(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// zoneName maps a scope id back to an interface name (the number itself if
// the interface is unknown).
func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// isLinkLocal6 reports whether a is in fe80::/10.
func isLinkLocal6(a [16]byte) bool { return a[0] == 0xfe && a[1]&0xc0 == 0x80 }

// SockaddrToIPPort renders an OS socket address the way Node reports
// remoteAddress/remotePort/remoteFamily: family is "IPv4" or "IPv6", IPv6
// addresses are printed as libuv does ("::1", "::ffff:127.0.0.1"), and a
// link-local IPv6 address with a scope id gets a "%<interface>" suffix. A
// unix-domain address gives its path with port 0 and family ""; anything
// else gives ("", 0, "").
func SockaddrToIPPort(sa unix.Sockaddr) (ip string, port int, family string) {
	switch s := sa.(type) {
	case *unix.SockaddrInet4:
		return formatIPv4(s.Addr), s.Port, "IPv4"
	case *unix.SockaddrInet6:
		ip = FormatIPv6(s.Addr)
		if s.ZoneId != 0 && isLinkLocal6(s.Addr) {
			ip += "%" + zoneName(s.ZoneId)
		}
		return ip, s.Port, "IPv6"
	case *unix.SockaddrUnix:
		return s.Name, 0, ""
	}
	return "", 0, ""
}

// Sockaddr converts sa to an OS socket address (the flow label is not
// carried: x/sys/unix has no field for it).
func (sa *SocketAddress) Sockaddr() (unix.Sockaddr, error) {
	if sa == nil {
		return nil, errx.InvalidAddress()
	}
	is6, ok := familyIs6(sa.Family)
	if !ok {
		return nil, errx.InvalidArgValue("options.family", sa.Family, "")
	}
	if sa.Port < 0 || sa.Port > 65535 {
		return nil, errx.SocketBadPort("options.port", sa.Port)
	}
	if !is6 {
		a, ok := parseIPv4(sa.Address)
		if !ok {
			return nil, errx.InvalidAddress()
		}
		return &unix.SockaddrInet4{Port: sa.Port, Addr: a}, nil
	}
	a, zone, ok := parseUVIPv6(sa.Address)
	if !ok {
		return nil, errx.InvalidAddress()
	}
	if sa.Zone != "" {
		zone = sa.Zone
	}
	return &unix.SockaddrInet6{Port: sa.Port, Addr: a, ZoneId: zoneID(zone)}, nil
}

// FromSockaddr converts an IPv4/IPv6 OS socket address to a SocketAddress
// (family "ipv4"/"ipv6", Zone set from the scope id); other kinds give nil.
func FromSockaddr(sa unix.Sockaddr) *SocketAddress {
	switch s := sa.(type) {
	case *unix.SockaddrInet4:
		return &SocketAddress{Address: formatIPv4(s.Addr), Port: s.Port, Family: FamilyIPv4}
	case *unix.SockaddrInet6:
		return &SocketAddress{Address: FormatIPv6(s.Addr), Port: s.Port, Family: FamilyIPv6, Zone: zoneName(s.ZoneId)}
	}
	return nil
}
