// Package addr holds netloop's address helpers that mirror Node.js: the
// isIP/isIPv4/isIPv6 predicates, SocketAddress, BlockList, and conversions
// between textual addresses and OS socket addresses.
//
// Parsing is hand-written (no regexp) and allocation-free on the hot paths.
package addr

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/netloop/netloop/internal/errx"
)

// Family strings used by SocketAddress and BlockList (Node's lower-case
// "type"/"family" values).
const (
	FamilyIPv4 = "ipv4"
	FamilyIPv6 = "ipv6"
)

// IsIP returns 4 if s is an IPv4 address, 6 if it is an IPv6 address and 0
// otherwise, with Node's net.isIP rules (see IsIPv4 and IsIPv6).
func IsIP(s string) int {
	if IsIPv4(s) {
		return 4
	}
	if IsIPv6(s) {
		return 6
	}
	return 0
}

// IsIPv4 reports whether s is strictly four dot-separated decimal parts, each
// 0-255 and without leading zeros ("0" itself is fine), with nothing around
// them; this is Node's net.isIPv4.
func IsIPv4(s string) bool {
	_, ok := parseIPv4(s)
	return ok
}

// IsIPv6 reports whether s is an IPv6 address by Node's net.isIPv6 rules:
// up to eight groups of 1-4 hex digits, at most one "::", an optional strict
// dotted IPv4 address in the last 32 bits, and an optional zone made of
// "%" followed by one or more of [0-9A-Za-z-.:].
func IsIPv6(s string) bool {
	body := s
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if !validNodeZone(s[i+1:]) {
			return false
		}
		body = s[:i]
	}
	_, ok := parseIPv6(body)
	return ok
}

// validNodeZone reports whether z matches Node's zone pattern [0-9a-zA-Z-.:]+.
func validNodeZone(z string) bool {
	if z == "" {
		return false
	}
	for i := 0; i < len(z); i++ {
		c := z[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// parseIPv4 parses a strict dotted-decimal IPv4 address (libuv's
// inet_pton4 and Node's isIPv4 agree on these rules).
func parseIPv4(s string) (out [4]byte, ok bool) {
	part, val, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && val == 0 {
				return out, false // leading zero
			}
			val = val*10 + int(c-'0')
			if val > 255 {
				return out, false
			}
			digits++
		case c == '.':
			if digits == 0 || part == 3 {
				return out, false
			}
			out[part] = byte(val)
			part++
			val, digits = 0, 0
		default:
			return out, false
		}
	}
	if digits == 0 || part != 3 {
		return out, false
	}
	out[3] = byte(val)
	return out, true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseIPv6 parses an IPv6 address without zone: groups of 1-4 hex digits,
// at most one "::" standing for at least one zero group, and an optional
// strict dotted IPv4 tail in the last 32 bits. These are the rules of both
// libuv's inet_pton6 and Node's isIPv6 regular expression.
func parseIPv6(s string) (out [16]byte, ok bool) {
	n := len(s)
	if n < 2 {
		return out, false
	}
	i, g, ellipsis := 0, 0, -1
	if s[0] == ':' {
		if s[1] != ':' {
			return out, false
		}
		ellipsis = 0
		i = 2
	}
	for i < n {
		start, val, d := i, 0, 0
		for i < n {
			h := hexVal(s[i])
			if h < 0 {
				break
			}
			val = val<<4 | h
			d++
			i++
			if d > 4 {
				return out, false
			}
		}
		if i < n && s[i] == '.' {
			if g > 12 {
				return out, false
			}
			v4, ok4 := parseIPv4(s[start:])
			if !ok4 {
				return out, false
			}
			copy(out[g:], v4[:])
			g += 4
			break
		}
		if d == 0 || g == 16 {
			return out, false
		}
		out[g] = byte(val >> 8)
		out[g+1] = byte(val)
		g += 2
		if i == n {
			break
		}
		if s[i] != ':' {
			return out, false
		}
		i++
		if i == n {
			return out, false // trailing single ':'
		}
		if s[i] == ':' {
			if ellipsis >= 0 {
				return out, false
			}
			ellipsis = g
			i++
		}
	}
	if ellipsis >= 0 {
		if g == 16 {
			return out, false // "::" must stand for at least one group
		}
		tail := g - ellipsis
		copy(out[16-tail:], out[ellipsis:g])
		for k := ellipsis; k < 16-tail; k++ {
			out[k] = 0
		}
	} else if g != 16 {
		return out, false
	}
	return out, true
}

// parseUVIPv6 parses s the way libuv's uv_ip6_addr does: anything after the
// first '%' is the zone (unchecked, may be empty), the rest must be a valid
// IPv6 address.
func parseUVIPv6(s string) (out [16]byte, zone string, ok bool) {
	body := s
	if i := strings.IndexByte(s, '%'); i >= 0 {
		body, zone = s[:i], s[i+1:]
	}
	out, ok = parseIPv6(body)
	return out, zone, ok
}

// formatIPv4 formats four bytes as dotted decimal.
func formatIPv4(a [4]byte) string {
	var buf [15]byte
	b := appendIPv4(buf[:0], a[0], a[1], a[2], a[3])
	return string(b)
}

func appendIPv4(b []byte, a0, a1, a2, a3 byte) []byte {
	b = strconv.AppendUint(b, uint64(a0), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a1), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a2), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a3), 10)
	return b
}

// formatIPv6 formats a 16-byte IPv6 address the way libuv's uv_inet_ntop
// (and therefore Node) does: lower-case hex, the first longest run of two or
// more zero groups compressed to "::", and a dotted IPv4 tail for
// IPv4-mapped ("::ffff:1.2.3.4") and IPv4-compatible ("::1.2.3.4") forms.
func formatIPv6(a [16]byte) string {
	var buf [46]byte
	return string(appendIPv6(buf[:0], a))
}

func appendIPv6(b []byte, a [16]byte) []byte {
	var words [8]uint16
	for i := range words {
		words[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i, w := range words {
		if w == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 7 && words[7] != 1) || (bestLen == 5 && words[5] == 0xffff)) {
			return appendIPv4(b, a[12], a[13], a[14], a[15])
		}
		b = strconv.AppendUint(b, uint64(words[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

// familyName returns Node's family string for a numeric IP version:
// 4 -> "IPv4", 6 -> "IPv6", anything else -> "".
func familyName(version int) string {
	switch version {
	case 4:
		return "IPv4"
	case 6:
		return "IPv6"
	}
	return ""
}

// normalizeFamily maps a BlockList/SocketAddress family string to "ipv4" or
// "ipv6", case-insensitively; "" means "ipv4". Anything else gives
// ERR_INVALID_ARG_VALUE for the property "options.family", as Node's
// SocketAddress constructor reports it.
func normalizeFamily(family string) (string, error) {
	switch {
	case family == "", strings.EqualFold(family, FamilyIPv4):
		return FamilyIPv4, nil
	case strings.EqualFold(family, FamilyIPv6):
		return FamilyIPv6, nil
	}
	return "", errx.InvalidArgValue("options.family", family, "")
}

// familyIs6 is normalizeFamily without the error value: ok is false for a
// bad family. It does not allocate.
func familyIs6(family string) (is6, ok bool) {
	switch {
	case family == "", strings.EqualFold(family, FamilyIPv4):
		return false, true
	case strings.EqualFold(family, FamilyIPv6):
		return true, true
	}
	return false, false
}

// FamilyOf returns "IPv4" for an IPv4 address and "IPv6" otherwise
// (IPv4-mapped IPv6 addresses included), Node's family strings.
func FamilyOf(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}
