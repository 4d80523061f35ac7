package addr

// This file implements the subset of the WHATWG URL parser that Node's
// SocketAddress.parse relies on: the authority of "http://<input>", the host
// parser (IPv6 in brackets, legacy IPv4 forms such as "256", "0xffffffff",
// "192.168.257") and the port.

// isC0OrSpace reports whether c is a C0 control or space (stripped from both
// ends of a URL).
func isC0OrSpace(c byte) bool { return c <= 0x20 }

// urlPreprocess strips leading/trailing C0 controls and spaces and removes
// every tab and newline, as the URL parser does before parsing.
func urlPreprocess(s string) string {
	for len(s) > 0 && isC0OrSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isC0OrSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\t' || c == '\n' || c == '\r' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\t' && c != '\n' && c != '\r' {
			b = append(b, c)
		}
	}
	return string(b)
}

// whatwgHostPort extracts the host and port of "http://"+input. It returns
// the raw host string (before host parsing), the port (-1 when absent) and
// false on failure.
func whatwgHostPort(input string) (host string, port int, ok bool) {
	s := urlPreprocess(input)
	// "special authority ignore slashes": skip any '/' or '\'.
	for len(s) > 0 && (s[0] == '/' || s[0] == '\\') {
		s = s[1:]
	}
	// The authority ends at the first '/', '\', '?' or '#'.
	end := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c == '\\' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	auth := s[:end]
	// Credentials end at the last '@'.
	for i := len(auth) - 1; i >= 0; i-- {
		if auth[i] == '@' {
			auth = auth[i+1:]
			if auth == "" {
				return "", 0, false
			}
			break
		}
	}
	// Host runs to the first ':' outside brackets.
	inBrackets := false
	hostEnd := len(auth)
	for i := 0; i < len(auth); i++ {
		c := auth[i]
		if c == '[' {
			inBrackets = true
		} else if c == ']' {
			inBrackets = false
		} else if c == ':' && !inBrackets {
			hostEnd = i
			break
		}
	}
	host = auth[:hostEnd]
	if host == "" {
		return "", 0, false
	}
	port = -1
	if hostEnd < len(auth) {
		digits := auth[hostEnd+1:]
		if digits != "" {
			v := 0
			for i := 0; i < len(digits); i++ {
				c := digits[i]
				if c < '0' || c > '9' {
					return "", 0, false
				}
				v = v*10 + int(c-'0')
				if v > 65535 {
					return "", 0, false
				}
			}
			port = v
		}
	}
	return host, port, true
}

// whatwgHost runs the WHATWG host parser on a special-scheme host and keeps
// only IP results: it returns the address bytes, whether it is IPv6, and
// false for failures and for domains (which can never form a SocketAddress).
// Hosts that need IDNA mapping (non-ASCII after percent-decoding) are
// reported as failures.
func whatwgHost(host string) (a [16]byte, is6 bool, ok bool) {
	if host[0] == '[' {
		if len(host) < 2 || host[len(host)-1] != ']' {
			return a, false, false
		}
		a, ok = whatwgIPv6(host[1 : len(host)-1])
		return a, true, ok
	}
	d, ok := percentDecodeASCIILower(host)
	if !ok || !endsInNumber(d) {
		return a, false, false
	}
	v, ok := whatwgIPv4(d)
	if !ok {
		return a, false, false
	}
	a[10], a[11] = 0xff, 0xff
	a[12], a[13], a[14], a[15] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return a, false, true
}

// percentDecodeASCIILower percent-decodes s and lower-cases it (the effect of
// UTS #46 mapping on ASCII); it fails on non-ASCII results.
func percentDecodeASCIILower(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && hexVal(s[i+1]) >= 0 && hexVal(s[i+2]) >= 0 {
			c = byte(hexVal(s[i+1])<<4 | hexVal(s[i+2]))
			i += 2
		}
		if c >= 0x80 {
			return "", false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b), true
}

// endsInNumber is the WHATWG "ends in a number checker".
func endsInNumber(s string) bool {
	if s != "" && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
		if s == "" {
			return false // a single empty part
		}
	}
	last := s
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			last = s[i+1:]
			break
		}
	}
	if last == "" {
		return false
	}
	allDigits := true
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits {
		return true
	}
	_, ok := ipv4Number(last)
	return ok
}

// ipv4Number is the WHATWG IPv4 number parser (decimal, 0x hex, 0 octal).
// Values above 2^32 saturate at 2^32+1, which is out of range everywhere.
func ipv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, radix = s[2:], 16
	} else if len(s) >= 2 && s[0] == '0' {
		s, radix = s[1:], 8
	}
	const limit = 1<<32 + 1
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(hexVal(s[i]))
		if hexVal(s[i]) < 0 || d >= radix {
			return 0, false
		}
		if v < limit {
			v = v*radix + d
			if v > limit {
				v = limit
			}
		}
	}
	return v, true
}

// whatwgIPv4 is the WHATWG IPv4 parser.
func whatwgIPv4(s string) (uint32, bool) {
	if s != "" && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	var nums [4]uint64
	n := 0
	for start := 0; ; {
		end := start
		for end < len(s) && s[end] != '.' {
			end++
		}
		if n == 4 {
			return 0, false
		}
		v, ok := ipv4Number(s[start:end])
		if !ok {
			return 0, false
		}
		nums[n] = v
		n++
		if end == len(s) {
			break
		}
		start = end + 1
	}
	for i := 0; i < n-1; i++ {
		if nums[i] > 255 {
			return 0, false
		}
	}
	last := nums[n-1]
	if last >= uint64(1)<<(8*(5-n)) {
		return 0, false
	}
	v := last
	for i := 0; i < n-1; i++ {
		v += nums[i] << (8 * (3 - i))
	}
	return uint32(v), true
}

// whatwgIPv6 is the WHATWG IPv6 parser (no zones; "::" may stand for zero
// groups; the IPv4 tail must be strict dotted decimal).
func whatwgIPv6(s string) (out [16]byte, ok bool) {
	var pieces [8]uint16
	piece, compress, p := 0, -1, 0
	at := func(i int) int {
		if i < len(s) {
			return int(s[i])
		}
		return -1
	}
	if at(p) == ':' {
		if at(p+1) != ':' {
			return out, false
		}
		p += 2
		piece++
		compress = piece
	}
	for at(p) != -1 {
		if piece == 8 {
			return out, false
		}
		if at(p) == ':' {
			if compress != -1 {
				return out, false
			}
			p++
			piece++
			compress = piece
			continue
		}
		value, length := 0, 0
		for length < 4 && at(p) != -1 && hexVal(s[p]) >= 0 {
			value = value*16 + hexVal(s[p])
			p++
			length++
		}
		if at(p) == '.' {
			if length == 0 {
				return out, false
			}
			p -= length
			if piece > 6 {
				return out, false
			}
			seen := 0
			for at(p) != -1 {
				v4 := -1
				if seen > 0 {
					if at(p) == '.' && seen < 4 {
						p++
					} else {
						return out, false
					}
				}
				if c := at(p); c < '0' || c > '9' {
					return out, false
				}
				for c := at(p); c >= '0' && c <= '9'; c = at(p) {
					d := c - '0'
					switch v4 {
					case -1:
						v4 = d
					case 0:
						return out, false
					default:
						v4 = v4*10 + d
					}
					if v4 > 255 {
						return out, false
					}
					p++
				}
				pieces[piece] = pieces[piece]<<8 | uint16(v4)
				seen++
				if seen == 2 || seen == 4 {
					piece++
				}
			}
			if seen != 4 {
				return out, false
			}
			break
		} else if at(p) == ':' {
			p++
			if at(p) == -1 {
				return out, false
			}
		} else if at(p) != -1 {
			return out, false
		}
		pieces[piece] = uint16(value)
		piece++
	}
	if compress != -1 {
		swaps := piece - compress
		piece = 7
		for piece != 0 && swaps > 0 {
			pieces[piece], pieces[compress+swaps-1] = pieces[compress+swaps-1], pieces[piece]
			piece--
			swaps--
		}
	} else if piece != 8 {
		return out, false
	}
	for i, w := range pieces {
		out[2*i], out[2*i+1] = byte(w>>8), byte(w)
	}
	return out, true
}
