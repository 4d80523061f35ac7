//go:build !windows

package addr

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
)

func TestSockaddrConversions(t *testing.T) {
	sa, err := ToSockaddr("127.0.0.1", 8080, "")
	require.NoError(t, err)
	assert.Equal(t, &unix.SockaddrInet4{Port: 8080, Addr: [4]byte{127, 0, 0, 1}}, sa)
	ip, port, fam := SockaddrToIPPort(sa)
	assert.Equal(t, []any{"127.0.0.1", 8080, "IPv4"}, []any{ip, port, fam})

	sa, err = ToSockaddr("::ffff:127.0.0.1", 1, "")
	require.NoError(t, err)
	ip, port, fam = SockaddrToIPPort(sa)
	assert.Equal(t, []any{"::ffff:127.0.0.1", 1, "IPv6"}, []any{ip, port, fam})

	sa, err = ToSockaddr("::", 0, "")
	require.NoError(t, err)
	ip, _, fam = SockaddrToIPPort(sa)
	assert.Equal(t, "::", ip)
	assert.Equal(t, "IPv6", fam)

	sa, err = ToSockaddr("fe80::1%7", 9, "")
	require.NoError(t, err)
	assert.Equal(t, uint32(7), sa.(*unix.SockaddrInet6).ZoneId)

	if lo, err := net.InterfaceByIndex(1); err == nil {
		sa, err = ToSockaddr("fe80::1", 9, lo.Name)
		require.NoError(t, err)
		assert.Equal(t, uint32(1), sa.(*unix.SockaddrInet6).ZoneId)
		ip, _, _ = SockaddrToIPPort(sa)
		assert.Equal(t, "fe80::1%"+lo.Name, ip)
		back := FromSockaddr(sa)
		assert.Equal(t, lo.Name, back.Zone)
	}
	sa, err = ToSockaddr("fe80::1%no-such-if0", 9, "")
	require.NoError(t, err)
	assert.Zero(t, sa.(*unix.SockaddrInet6).ZoneId)

	_, err = ToSockaddr("localhost", 1, "")
	assertCode(t, errs.CodeInvalidIPAddress, err)
	_, err = ToSockaddr("1.2.3.4", 70000, "")
	assertCode(t, errs.CodeSocketBadPort, err)

	ip, port, fam = SockaddrToIPPort(&unix.SockaddrUnix{Name: "/tmp/x.sock"})
	assert.Equal(t, []any{"/tmp/x.sock", 0, ""}, []any{ip, port, fam})

	s := mustSA(t, SocketAddressOptions{Address: "2001:db8::1", Family: "ipv6", Port: 443})
	osa, err := s.Sockaddr()
	require.NoError(t, err)
	assert.Equal(t, &SocketAddress{Address: "2001:db8::1", Port: 443, Family: "ipv6"}, FromSockaddr(osa))
	s4 := mustSA(t, SocketAddressOptions{Address: "10.1.2.3", Port: 1})
	osa, err = s4.Sockaddr()
	require.NoError(t, err)
	assert.Equal(t, s4, FromSockaddr(osa))
	assert.Nil(t, FromSockaddr(&unix.SockaddrUnix{Name: "x"}))
	_, err = (&SocketAddress{Address: "x", Family: "ipv4"}).Sockaddr()
	assertCode(t, errs.CodeInvalidAddress, err)
}
