package encoding

import (
	"encoding/base64"
	"encoding/hex"
	"unicode/utf8"
	"unsafe"
)

// DecodeString returns Buffer.toString(e) of the whole of p.
//
//   - UTF8: as V8 decodes UTF-8: each maximal ill-formed subsequence (per the
//     WHATWG Encoding Standard) becomes one U+FFFD, e.g. "\xE2\x82(" gives
//     "\uFFFD(".
//   - UTF16LE: little-endian code units; a final odd byte is ignored and an
//     unpaired surrogate becomes U+FFFD (Node keeps it in the JS string).
//   - Latin1: each byte is the code point of the same value.
//   - ASCII: each byte with its high bit cleared.
//   - Base64: standard alphabet with '=' padding.
//   - Base64URL: URL-safe alphabet without padding.
//   - Hex: two lowercase hexadecimal digits per byte.
func DecodeString(e Encoding, p []byte) string {
	switch e.norm() {
	case UTF8:
		return decodeUTF8(nil, p)
	case UTF16LE:
		return decodeUTF16LE(nil, p[:len(p)&^1])
	case Latin1:
		return decodeLatin1(p)
	case ASCII:
		return decodeASCII(p)
	case Base64:
		return encodeBase64(base64.StdEncoding, nil, p)
	case Base64URL:
		return encodeBase64(base64.RawURLEncoding, nil, p)
	default: // Hex
		if len(p) == 0 {
			return ""
		}
		b := make([]byte, hex.EncodedLen(len(p)))
		hex.Encode(b, p)
		return bytesString(b)
	}
}

// bytesString returns b as a string without copying; b must be a fresh
// allocation that nothing modifies afterwards.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// utf8Seq returns the length of the UTF-8 sequence at the start of p (which
// must not be empty) and whether it is a valid character. An invalid sequence
// is a maximal subpart as the WHATWG decoder (and so V8) sees it: the longest
// prefix of a well-formed sequence, or one byte; it decodes to one U+FFFD.
func utf8Seq(p []byte) (n int, valid bool) {
	b := p[0]
	if b < utf8.RuneSelf {
		return 1, true
	}
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch {
	case 0xC2 <= b && b <= 0xDF:
		need = 1
	case b == 0xE0:
		need, lo = 2, 0xA0
	case b == 0xED:
		need, hi = 2, 0x9F
	case 0xE1 <= b && b <= 0xEF:
		need = 2
	case b == 0xF0:
		need, lo = 3, 0x90
	case b == 0xF4:
		need, hi = 3, 0x8F
	case 0xF1 <= b && b <= 0xF3:
		need = 3
	default:
		return 1, false
	}
	for i := 1; i <= need; i++ {
		if i >= len(p) || p[i] < lo || p[i] > hi {
			return i, false
		}
		lo, hi = 0x80, 0xBF
	}
	return need + 1, true
}

const replacement = "\uFFFD"

// utf8Size returns the length of the V8 decoding of p, and whether p is valid
// UTF-8 (so that the decoding is p itself).
func utf8Size(p []byte) (size int, valid bool) {
	if utf8.Valid(p) {
		return len(p), true
	}
	for i := 0; i < len(p); {
		n, ok := utf8Seq(p[i:])
		i += n
		if ok {
			size += n
		} else {
			size += len(replacement)
		}
	}
	return size, false
}

// appendUTF8 appends the V8 decoding of p to dst.
func appendUTF8(dst, p []byte) []byte {
	for i := 0; i < len(p); {
		n, ok := utf8Seq(p[i:])
		if ok {
			dst = append(dst, p[i:i+n]...)
		} else {
			dst = append(dst, replacement...)
		}
		i += n
	}
	return dst
}

// decodeUTF8 returns the V8 decodings of pre and p, concatenated, with one
// allocation.
func decodeUTF8(pre, p []byte) string {
	n1, ok1 := utf8Size(pre)
	n2, ok2 := utf8Size(p)
	if len(pre) == 0 && ok2 {
		return string(p)
	}
	b := make([]byte, 0, n1+n2)
	if ok1 {
		b = append(b, pre...)
	} else {
		b = appendUTF8(b, pre)
	}
	if ok2 {
		b = append(b, p...)
	} else {
		b = appendUTF8(b, p)
	}
	return bytesString(b)
}

// utf16Next decodes the character at byte offset i of the even-length UTF-16LE
// text p, an unpaired surrogate as U+FFFD, and returns the offset after it.
func utf16Next(p []byte, i int) (r rune, next int) {
	u := rune(p[i]) | rune(p[i+1])<<8
	switch {
	case u < 0xD800 || u > 0xDFFF:
		return u, i + 2
	case u < 0xDC00 && i+3 < len(p):
		if v := rune(p[i+2]) | rune(p[i+3])<<8; 0xDC00 <= v && v <= 0xDFFF {
			return 0x10000 + (u-0xD800)<<10 + (v - 0xDC00), i + 4
		}
	}
	return utf8.RuneError, i + 2
}

// decodeUTF16LE appends the UTF-8 form of the even-length UTF-16LE text p to
// the UTF-8 text pre and returns the result, with one allocation.
func decodeUTF16LE(pre []byte, p []byte) string {
	size := len(pre)
	for i := 0; i < len(p); {
		var r rune
		r, i = utf16Next(p, i)
		size += utf8.RuneLen(r)
	}
	if size == 0 {
		return ""
	}
	b := make([]byte, 0, size)
	b = append(b, pre...)
	for i := 0; i < len(p); {
		var r rune
		r, i = utf16Next(p, i)
		b = utf8.AppendRune(b, r)
	}
	return bytesString(b)
}

func decodeLatin1(p []byte) string {
	high := 0
	for _, c := range p {
		high += int(c >> 7)
	}
	if high == 0 {
		return string(p)
	}
	b := make([]byte, 0, len(p)+high)
	for _, c := range p {
		if c < utf8.RuneSelf {
			b = append(b, c)
		} else {
			b = append(b, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return bytesString(b)
}

func decodeASCII(p []byte) string {
	if isASCII(p) {
		return string(p)
	}
	b := make([]byte, len(p))
	for i, c := range p {
		b[i] = c & 0x7F
	}
	return bytesString(b)
}

// encodeBase64 returns the encodings of pre and p, concatenated, with one
// allocation; pre must be empty or a whole number of 3-byte groups.
func encodeBase64(enc *base64.Encoding, pre, p []byte) string {
	n1 := enc.EncodedLen(len(pre))
	n := n1 + enc.EncodedLen(len(p))
	if n == 0 {
		return ""
	}
	b := make([]byte, n)
	enc.Encode(b, pre)
	enc.Encode(b[n1:], p)
	return bytesString(b)
}
