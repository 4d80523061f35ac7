package addr

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
)

// TestSA01 covers the defaults and kept values.
func TestSA01(t *testing.T) {
	sa := mustSA(t, SocketAddressOptions{})
	assert.Equal(t, &SocketAddress{Address: "127.0.0.1", Port: 0, Family: "ipv4", FlowLabel: 0}, sa)

	sa = mustSA(t, SocketAddressOptions{Address: "123.123.123.123"})
	assert.Equal(t, "123.123.123.123", sa.Address)
	assert.Equal(t, "ipv4", sa.Family)

	sa = mustSA(t, SocketAddressOptions{Address: "123.123.123.123", Port: 80})
	assert.Equal(t, 80, sa.Port)

	sa = mustSA(t, SocketAddressOptions{Family: "ipv6"})
	assert.Equal(t, &SocketAddress{Address: "::", Port: 0, Family: "ipv6", FlowLabel: 0}, sa)

	sa = mustSA(t, SocketAddressOptions{Family: "IPv6", FlowLabel: 1, Port: 65535})
	assert.Equal(t, "ipv6", sa.Family)
	assert.Equal(t, uint32(1), sa.FlowLabel)
	assert.Equal(t, 65535, sa.Port)

	sa = mustSA(t, SocketAddressOptions{Family: "IPV4", FlowLabel: 7})
	assert.Equal(t, "ipv4", sa.Family)
	assert.Equal(t, uint32(0), sa.FlowLabel, "flow label only applies to ipv6")

	sa = mustSA(t, SocketAddressOptions{Family: "ipv6", Address: "8592:757C:efae:4e45:fb5d:d62a:0d00:8e17"})
	assert.Equal(t, "8592:757c:efae:4e45:fb5d:d62a:d00:8e17", sa.Address)

	sa = mustSA(t, SocketAddressOptions{Family: "ipv6", Address: "fe80::1%eth0", Port: 8080})
	assert.Equal(t, "fe80::1", sa.Address)
	assert.Equal(t, "eth0", sa.Zone)
	ap, ok := sa.AddrPort()
	require.True(t, ok)
	assert.Equal(t, "[fe80::1%eth0]:8080", ap.String())

	assert.Equal(t, "SocketAddress { address: '1.2.3.4', port: 80, family: 'ipv4', flowlabel: 0 }",
		mustSA(t, SocketAddressOptions{Address: "1.2.3.4", Port: 80}).String())
	assert.True(t, IsSocketAddress(sa))
	assert.False(t, IsSocketAddress((*SocketAddress)(nil)))
	assert.False(t, IsSocketAddress("1.2.3.4"))
}

// TestSA02 covers validation error codes.
func TestSA02(t *testing.T) {
	for _, fam := range []string{"test", "ipv5", "v4", " ipv4"} {
		_, err := NewSocketAddress(SocketAddressOptions{Family: fam})
		assertCode(t, errs.CodeInvalidArgValue, err)
	}
	_, err := NewSocketAddress(SocketAddressOptions{Family: "test"})
	assert.Equal(t, "The property 'options.family' is invalid. Received 'test'", err.Error())

	for _, p := range []int{-1, 65536, 1 << 20} {
		_, err := NewSocketAddress(SocketAddressOptions{Port: p})
		assertCode(t, errs.CodeSocketBadPort, err)
	}
	_, err = NewSocketAddress(SocketAddressOptions{Port: -1})
	assert.Equal(t, "options.port should be >= 0 and < 65536. Received type number (-1).", err.Error())

	for _, fl := range []int64{-1, 1 << 32} {
		_, err := NewSocketAddress(SocketAddressOptions{FlowLabel: fl, Family: "ipv6"})
		assertCode(t, errs.CodeOutOfRange, err)
	}

	for _, c := range []SocketAddressOptions{
		{Address: "not_a_valid_ip"},
		{Address: "not_valid", Family: "ipv6"},
		{Address: "::1"},
		{Address: "1.2.3.4", Family: "ipv6"},
		{Address: "01.2.3.4"},
		{Address: "256.1.1.1"},
		{Address: "1::2::3", Family: "ipv6"},
	} {
		_, err := NewSocketAddress(c)
		assertCode(t, errs.CodeInvalidAddress, err)
	}
	_, err = NewSocketAddress(SocketAddressOptions{Address: "x"})
	assert.Equal(t, "Invalid socket address", err.Error())
}

// TestSA03 covers SocketAddress.parse (WHATWG URL host rules).
func TestSA03(t *testing.T) {
	good := []struct {
		in, address string
		port        int
		family      string
	}{
		{"1.2.3.4", "1.2.3.4", 0, "ipv4"},
		{"192.168.257:1", "192.168.1.1", 1, "ipv4"},
		{"256", "0.0.1.0", 0, "ipv4"},
		{"999999999:12", "59.154.201.255", 12, "ipv4"},
		{"0xffffffff", "255.255.255.255", 0, "ipv4"},
		{"0x.0x.0", "0.0.0.0", 0, "ipv4"},
		{"[1:0::]", "1::", 0, "ipv6"},
		{"[1::8]:123", "1::8", 123, "ipv6"},
		{"127.0.0.1:80", "127.0.0.1", 80, "ipv4"},
		{"127.0.0.1:443", "127.0.0.1", 443, "ipv4"},
		{"[::1]:80", "::1", 80, "ipv6"},
		{"[::1]:443", "::1", 443, "ipv6"},
		{"user:80@1.2.3.4", "1.2.3.4", 0, "ipv4"},
		{"user:80@1.2.3.4:80", "1.2.3.4", 80, "ipv4"},
		{"user:80@1.2.3.4:123", "1.2.3.4", 123, "ipv4"},
		{"user:80@[::1]", "::1", 0, "ipv6"},
		{"user:80@[::1]:80", "::1", 80, "ipv6"},
		{"user:80@[::1]:123", "::1", 123, "ipv6"},
		// More WHATWG host forms.
		{"0177.0.0.1", "127.0.0.1", 0, "ipv4"},
		{"1.2.3.4.", "1.2.3.4", 0, "ipv4"},
		{"127.1", "127.0.0.1", 0, "ipv4"},
		{"%31.2.3.4", "1.2.3.4", 0, "ipv4"},
		{"1.2.3.4:", "1.2.3.4", 0, "ipv4"},
		{"1.2.3.4/path?q#f", "1.2.3.4", 0, "ipv4"},
		{"  1.2.3.4:9\t", "1.2.3.4", 9, "ipv4"},
		{"[::ffff:1.2.3.4]:5", "::ffff:1.2.3.4", 5, "ipv6"},
		{"[1:2:3:4:5:6:7::]", "1:2:3:4:5:6:7:0", 0, "ipv6"},
		{"1.2.3.4:0065535", "1.2.3.4", 65535, "ipv4"},
	}
	for _, g := range good {
		sa, ok := ParseSocketAddress(g.in)
		if assert.True(t, ok, g.in) {
			assert.Equal(t, g.address, sa.Address, g.in)
			assert.Equal(t, g.port, sa.Port, g.in)
			assert.Equal(t, g.family, sa.Family, g.in)
		}
	}
	bad := []string{"not an ip", "abc.123", "259.1.1.1", "12:12:12", "", "example.com", "1.2.3.4:65536",
		"1.2.3.4:x", "[::1", "[fe80::1%25eth0]", "[::1.2.3.04]", "1.2.3.4.5", "09.1.1.1", "user@",
		"[1::2::3]", "::1", "[1:2:3:4::5:6:7:8]", "1..2", "4294967296", "0x100000000", "１.２.３.４"}
	for _, b := range bad {
		sa, ok := ParseSocketAddress(b)
		assert.False(t, ok, "%q gave %v", b, sa)
		assert.Nil(t, sa)
	}
}
