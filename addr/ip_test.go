package addr

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIP01 covers isIP's 4/6/0 results and the boolean predicates.
func TestIP01(t *testing.T) {
	cases := map[string]int{
		"127.0.0.1":   4,
		"x127.0.0.1":  0,
		"example.com": 0,
		"0000:0000:0000:0000:0000:0000:0000:0000":       6,
		"0000:0000:0000:0000:0000:0000:0000:0000::0000": 0,
		"1050:0:0:0:5:600:300c:326b":                    6,
		"2001:252:0:1::2008:6":                          6,
		"2001:dead:beef:1::2008:6":                      6,
		"2001::":                                        6,
		"2001:dead::":                                   6,
		"2001:dead:beef::":                              6,
		"2001:dead:beef:1::":                            6,
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff":       6,
		":2001:252:0:1::2008:6:":                        0,
		":2001:252:0:1::2008:6":                         0,
		"2001:252:0:1::2008:6:":                         0,
		"2001:252::1::2008:6":                           0,
		"::2001:252:1:2008:6":                           6,
		"::2001:252:1:1.1.1.1":                          6,
		"::2001:252:1:255.255.255.255":                  6,
		"::2001:252:1:255.255.255.255.76":               0,
		"::anything":                                    0,
		"::1":                                           6,
		"::":                                            6,
		"0000:0000:0000:0000:0000:0000:12345:0000":      0,
		"0":   0,
		"":    0,
		"bla": 0,
	}
	for s, want := range cases {
		assert.Equal(t, want, IsIP(s), "IsIP(%q)", s)
		assert.Equal(t, want == 4, IsIPv4(s), "IsIPv4(%q)", s)
		assert.Equal(t, want == 6, IsIPv6(s), "IsIPv6(%q)", s)
	}
}

// TestIP02 covers the strict IPv4 rules (test-net-isipv4.js).
func TestIP02(t *testing.T) {
	good := []string{"0.0.0.0", "8.8.8.8", "127.0.0.1", "100.100.100.100", "192.168.0.1",
		"18.101.25.153", "123.23.34.2", "172.26.168.134", "212.58.241.131", "128.0.0.0",
		"23.71.254.72", "223.255.255.255", "192.0.2.235", "99.198.122.146", "46.51.197.88",
		"173.194.34.134", "255.255.255.255", "1.2.3.4"}
	bad := []string{".100.100.100.100", "100..100.100.100.", "100.100.100.100.", "999.999.999.999",
		"256.256.256.256", "256.100.100.100.100", "123.123.123", "http://123.123.123",
		"1000.2.3.4", "999.2.3.4", "0000000192.168.0.200", "192.168.0.2000000000",
		"01.2.3.4", "1.02.3.4", "1.2.03.4", "1.2.3.04", "00.0.0.0", "1.2.3.4 ", " 1.2.3.4",
		"1.2.3.4.5", "1.2.3.", "1.2.3", "1..3.4", "a.b.c.d", "x127.0.0.1", "1.2.3.4\x00", "-1.2.3.4",
		"1.2.3.256", "1.2.3.4/32", "0x1.2.3.4", "１.2.3.4"}
	for _, s := range good {
		assert.True(t, IsIPv4(s), s)
		assert.Equal(t, 4, IsIP(s), s)
	}
	for _, s := range bad {
		assert.False(t, IsIPv4(s), s)
		assert.NotEqual(t, 4, IsIP(s), s)
	}
}

// TestIP03 covers the IPv6 rules (test-net-isipv6.js), zones included.
func TestIP03(t *testing.T) {
	good := []string{"::", "1::", "::1", "1::8", "1::7:8", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8",
		"1:2:3:4:5:6:7::", "1:2:3:4:5::7:8", "1:2:3:4:5::8", "1:2:3::8", "1::4:5:6:7:8",
		"1::3:4:5:6:7:8", "1:2:3:4::6:7:8", "::2:3:4:5:6:7:8", "2001:0000:1234:0000:0000:C1C0:ABCD:0876",
		"3ffe:0b00:0000:0000:0001:0000:0000:000a", "FF02:0000:0000:0000:0000:0000:0000:0001",
		"::ffff:192.168.1.26", "fe80::", "::ffff:0:0", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5::1.2.3.4",
		"1::1.2.3.4", "1:2:3:4::5:1.2.3.4", "1::5:11.22.33.44", "fe80::217:f2ff:254.7.237.98",
		"0:0:0:0:0:0:13.1.68.3", "0:0:0:0:0:FFFF:129.144.52.38", "::13.1.68.3", "::FFFF:129.144.52.38",
		"fe80:0:0:0:204:61ff:254.157.241.86", "2001:0db8:0000:0000:0000::1428:57ab",
		"a:bb:ccc:dddd:000e:00f:0f::", "A:BB:CCC:DDDD:000E:00F:0F::", "a:b:c:d:e:f:f1::",
		"fe80::7:8%eth0", "fe80::7:8%1", "fe80::2008%eth0.0", "fe80::1%a-b:c.d", "::1%lo"}
	bad := []string{"", "1:", ":1", "11:36:12", "02001:0000:1234:0000:0000:C1C0:ABCD:0876",
		"2001:0000:1234:0000:00001:C1C0:ABCD:0876", "2001:0000:1234: 0000:0000:C1C0:ABCD:0876",
		"2001:1:1:1:1:1:255Z255X255Y255", "3ffe:0b00:0000:0001:0000:0000:000a",
		"FF02:0000:0000:0000:0000:0000:0000:0000:0001", "3ffe:b00::1::a",
		"::1111:2222:3333:4444:5555:6666::", "1:2:3::4:5::7:8", "12345::6:7:8", "1::5:400.2.3.4",
		"1::5:256.2.3.4", "1::5:1.2.3.256", "1::3000.30.30.30", "::1.2.3.900", "::300.300.300.300",
		"2001:DB8:0:0:8:800:200C:417A:221", "FF01::101::2", "1111:2222:3333:4444::5555:", "::5555:",
		":::", "1111:", ":", ":1111::5555", ":::5555", "1.2.3.4:1111:2222:3333:4444::5555",
		"1.2.3.4::5555", "1.2.3.4::", "fe80:0000:0000:0000:0204:61ff:254.157.241.086", "123", "ldkfj",
		"2001::FFD3::57ab", "2001:db8:85a3::8a2e:37023:7334", "2001:db8:85a3::8a2e:370k:7334",
		"1:2:3:4:5:6:7:8:9", "1::2::3", "1:::3:4:5", "1:2:3::4:5:6:7:8:9", "::ffff:2.3.4",
		"::ffff:257.1.2.3", "::ffff:12345678901234567890.1.26", "2001:0000:1234:0000:0000:C1C0:ABCD:0876 0",
		"fe80::2008%eth0@1", "fe80::1%", "fe80::1%eth 0", "fe80::1%%", "1:2:3:4::5:6:7:8",
		"1:2:3:4:5:6::1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4.5", "::1.2.3", "[::1]", "::1 "}
	for _, s := range good {
		assert.True(t, IsIPv6(s), s)
		assert.Equal(t, 6, IsIP(s), s)
	}
	for _, s := range bad {
		assert.False(t, IsIPv6(s), s)
		assert.NotEqual(t, 6, IsIP(s), s)
	}
}

func TestFormatIPv6(t *testing.T) {
	cases := map[string]string{
		"::":               "::",
		"::1":              "::1",
		"1:0::":            "1::",
		"::ffff:1.1.1.2":   "::ffff:1.1.1.2",
		"::ffff:0a00:0002": "::ffff:10.0.0.2",
		"::1.2.3.4":        "::1.2.3.4",
		"::f":              "::f",
		"::1:2":            "::0.1.0.2",
		"8592:757c:efae:4e45:fb5d:d62a:0d00:8e17": "8592:757c:efae:4e45:fb5d:d62a:d00:8e17",
		"8592:757c:efae:4e45::":                   "8592:757c:efae:4e45::",
		"1:0:0:2:0:0:0:3":                         "1:0:0:2::3",
		"1:0:0:2:0:0:3:4":                         "1::2:0:0:3:4",
		"1:0:2:3:4:5:6:7":                         "1:0:2:3:4:5:6:7",
		"FE80::ABCD":                              "fe80::abcd",
		"0:0:0:0:0:0:0:1":                         "::1",
	}
	for in, want := range cases {
		a, ok := parseIPv6(in)
		if assert.True(t, ok, in) {
			assert.Equal(t, want, formatIPv6(a), in)
		}
	}
}

func TestFamilies(t *testing.T) {
	assert.Equal(t, "IPv4", familyName(4))
	assert.Equal(t, "IPv6", familyName(6))
	assert.Equal(t, "", familyName(0))
	for in, want := range map[string]string{"": "ipv4", "ipv4": "ipv4", "IPV4": "ipv4", "IpV6": "ipv6", "ipv6": "ipv6"} {
		got, err := normalizeFamily(in)
		assert.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := normalizeFamily("foo")
	assertCode(t, "ERR_INVALID_ARG_VALUE", err)
}

func TestAllocs(t *testing.T) {
	inputs := []string{"127.0.0.1", "::ffff:1.2.3.4", "fe80::1%eth0", "not an ip", "2001:db8::1"}
	n := testing.AllocsPerRun(200, func() {
		for _, s := range inputs {
			_ = IsIP(s)
		}
	})
	assert.Zero(t, n, "IsIP allocates")

	bl := NewBlockList()
	assert.NoError(t, bl.AddSubnet("10.0.0.0", 8, "ipv4"))
	assert.NoError(t, bl.AddRange("::1", "::f", "ipv6"))
	assert.NoError(t, bl.AddAddress("1.1.1.1", ""))
	addrs := []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("::ffff:10.1.2.3"),
		netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("8.8.8.8")}
	n = testing.AllocsPerRun(200, func() {
		for _, a := range addrs {
			_ = bl.CheckAddr(a)
		}
	})
	assert.Zero(t, n, "CheckAddr allocates")
	n = testing.AllocsPerRun(200, func() {
		_ = bl.Check("10.1.2.3", "ipv4")
		_ = bl.Check("::ffff:10.1.2.3", "IPv6")
		_ = bl.Check("bogus", "ipv4")
	})
	assert.Zero(t, n, "Check allocates")
}

// FuzzIsIP compares IsIP against net/netip.ParseAddr. The two agree on
// every string except those with a zone: netip accepts any non-empty zone
// while Node only allows [0-9A-Za-z-.:]+, so strings containing '%' are
// checked separately (the part before '%' must agree, the zone is checked
// against Node's character set). Leading zeros in IPv4 parts are rejected
// by both, as are 5-digit groups and "::" standing for no group.
func FuzzIsIP(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "01.2.3.4",
		"fe80::1%eth0", "1::2::3", "1.2.3.4.5", "::1.2.3.4", "1:2:3:4:5:6::1.2.3.4", "%", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := IsIP(s)
		if i := strings.IndexByte(s, '%'); i >= 0 {
			body, zone := s[:i], s[i+1:]
			want := 0
			if a, err := netip.ParseAddr(body); err == nil && a.Is6() && validNodeZone(zone) {
				want = 6
			}
			if got != want {
				t.Fatalf("IsIP(%q) = %d, want %d", s, got, want)
			}
			return
		}
		want := 0
		if a, err := netip.ParseAddr(s); err == nil {
			if a.Is4() {
				want = 4
			} else {
				want = 6
			}
		}
		if got != want {
			t.Fatalf("IsIP(%q) = %d, netip says %d", s, got, want)
		}
		if got == 6 {
			a, _ := parseIPv6(s)
			if netip.MustParseAddr(s).As16() != a {
				t.Fatalf("parseIPv6(%q) = %v", s, a)
			}
			// Formatting round-trips.
			b, ok := parseIPv6(formatIPv6(a))
			if !ok || b != a {
				t.Fatalf("formatIPv6 round trip of %q: %q", s, formatIPv6(a))
			}
		}
	})
}

func TestFamilyOf(t *testing.T) {
	assert.Equal(t, "IPv4", FamilyOf(netip.MustParseAddr("127.0.0.1")))
	assert.Equal(t, "IPv6", FamilyOf(netip.MustParseAddr("::1")))
	assert.Equal(t, "IPv6", FamilyOf(netip.MustParseAddr("::ffff:127.0.0.1")))
}
