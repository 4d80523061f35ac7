package encoding

import (
	"slices"
	"unicode/utf8"
)

// Encode returns the bytes of Buffer.from(s, e).
//
//   - UTF8: the bytes of s, unchanged (even where s is not valid UTF-8).
//   - UTF16LE: each UTF-16 code unit of s, little-endian; runes above U+FFFF
//     become surrogate pairs.
//   - Latin1, ASCII: the low 8 bits of each UTF-16 code unit of s, as Node
//     writes them (so U+20AC gives 0xAC, and a rune above U+FFFF gives two
//     bytes, the low bytes of its surrogates).
//   - Base64, Base64URL: Node's lenient decoder. Both alphabets are accepted,
//     characters outside them (whitespace included) are skipped, the first '='
//     ends the input, and missing padding is fine. A final lone character
//     carries no whole byte and is dropped.
//   - Hex: pairs of hexadecimal digits, either case, up to the first pair that
//     is not two digits; an odd final digit is dropped. Buffer.from("abxz",
//     "hex") is [0xab].
//
// Where Node inspects only the low 8 bits of a code unit (Latin1, ASCII,
// Base64, Base64URL, Hex), so does Encode. Bytes of s that are not valid UTF-8
// are read as U+FFFD by every encoding but UTF8.
func Encode(e Encoding, s string) []byte {
	return AppendEncode(nil, e, s)
}

// AppendEncode appends the bytes of Buffer.from(s, e), as described for
// Encode, to dst and returns the extended slice, so callers can reuse buffers.
func AppendEncode(dst []byte, e Encoding, s string) []byte {
	switch e.norm() {
	case UTF8:
		return append(dst, s...)
	case UTF16LE:
		return appendUTF16LE(dst, s)
	case Latin1, ASCII:
		return appendLatin1(dst, s)
	case Base64, Base64URL:
		return appendBase64Decode(dst, s)
	default: // Hex
		return appendHexDecode(dst, s)
	}
}

// surrogates splits a rune above U+FFFF into its UTF-16 surrogate pair.
func surrogates(r rune) (hi, lo uint16) {
	r -= 0x10000
	return 0xD800 + uint16(r>>10), 0xDC00 + uint16(r&0x3FF)
}

// unitBytes yields the low 8 bits of each UTF-16 code unit of a string, the
// view Node's Latin1, ASCII, Base64 and Hex writers have of a JavaScript string.
// Invalid UTF-8 reads as U+FFFD.
type unitBytes struct {
	s       string
	i       int
	pending int // low byte of a low surrogate still to yield, or -1
}

func newUnitBytes(s string) unitBytes { return unitBytes{s: s, pending: -1} }

// next returns the next code unit's low byte; ok is false at the end.
func (u *unitBytes) next() (c byte, ok bool) {
	if u.pending >= 0 {
		c, u.pending = byte(u.pending), -1
		return c, true
	}
	if u.i >= len(u.s) {
		return 0, false
	}
	if c = u.s[u.i]; c < utf8.RuneSelf {
		u.i++
		return c, true
	}
	r, n := utf8.DecodeRuneInString(u.s[u.i:])
	u.i += n
	if r > 0xFFFF {
		hi, lo := surrogates(r)
		u.pending = int(lo & 0xFF)
		return byte(hi), true
	}
	return byte(r), true
}

func appendUTF16LE(dst []byte, s string) []byte {
	dst = slices.Grow(dst, 2*len(s))
	for _, r := range s { // invalid UTF-8 yields utf8.RuneError == U+FFFD
		if r > 0xFFFF {
			hi, lo := surrogates(r)
			dst = append(dst, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
			continue
		}
		dst = append(dst, byte(r), byte(r>>8))
	}
	return dst
}

func appendLatin1(dst []byte, s string) []byte {
	if isASCII(s) {
		return append(dst, s...)
	}
	dst = slices.Grow(dst, len(s))
	for u := newUnitBytes(s); ; {
		c, ok := u.next()
		if !ok {
			return dst
		}
		dst = append(dst, c)
	}
}

// unbase64 maps a byte to its 6-bit value in either base64 alphabet, 0xFF for
// anything else. '+' and '-' are 62, '/' and '_' are 63, as in Node.
var unbase64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['-'] = 62
	t['_'] = 63
	return t
}()

func appendBase64Decode(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s)*3/4)
	var acc uint32
	n := 0
	for u := newUnitBytes(s); ; {
		c, ok := u.next()
		if !ok || c == '=' {
			break
		}
		v := unbase64[c]
		if v == 0xFF {
			continue
		}
		acc = acc<<6 | uint32(v)
		if n++; n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		dst = append(dst, byte(acc>>4))
	case 3:
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func appendHexDecode(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s)/2)
	for u := newUnitBytes(s); ; {
		c1, ok1 := u.next()
		c2, ok2 := u.next()
		if !ok1 || !ok2 {
			return dst
		}
		hi, ok1 := unhex(c1)
		lo, ok2 := unhex(c2)
		if !ok1 || !ok2 {
			return dst
		}
		dst = append(dst, hi<<4|lo)
	}
}
