package encoding

import (
	"encoding/base64"
	"unicode/utf8"
)

// Decoder is Node's StringDecoder: it turns a stream of byte chunks into
// strings without ever splitting a multi-byte character between two results.
//
//   - UTF8: an incomplete character at the end of a chunk is held back until
//     the chunks that complete it arrive (a 4-byte character written one byte
//     at a time gives "", "", "" and then the character). Invalid sequences
//     become U+FFFD exactly as Node's decoder makes them, so that the results
//     of all writes and End, concatenated, equal DecodeString of the whole
//     stream.
//   - UTF16LE: an odd final byte and an unpaired high surrogate at the end of a
//     chunk are held back for the next write.
//   - Base64, Base64URL: only whole 3-byte groups are encoded; the 1 or 2
//     bytes left over are held back, and End encodes them (with padding for
//     Base64, without for Base64URL).
//   - Latin1, ASCII, Hex: every byte is decoded at once; nothing is held back.
//
// The zero Decoder decodes UTF8. A Decoder must not be used concurrently.
type Decoder struct {
	enc  Encoding
	n    uint8   // bytes held back in buf
	miss uint8   // UTF8: bytes still missing from the character in buf
	buf  [4]byte // held-back bytes
}

// NewDecoder returns a Decoder for e, like new StringDecoder(e). It panics if
// e is not a valid Encoding.
func NewDecoder(e Encoding) *Decoder {
	return &Decoder{enc: e.norm()}
}

// Encoding returns the encoding the Decoder decodes.
func (d *Decoder) Encoding() Encoding {
	return d.enc.norm()
}

// Write decodes p, which the Decoder does not retain, and returns the text
// completed so far, like decoder.write(p). It returns "" when p only adds to
// a character that is still incomplete.
//
// Write allocates nothing beyond the returned string: at most one allocation,
// none when it returns "".
func (d *Decoder) Write(p []byte) string {
	switch e := d.enc.norm(); e {
	case UTF8:
		return d.writeUTF8(p)
	case UTF16LE:
		return d.writeUTF16LE(p)
	case Base64:
		return d.writeBase64(base64.StdEncoding, p)
	case Base64URL:
		return d.writeBase64(base64.RawURLEncoding, p)
	default:
		return DecodeString(e, p)
	}
}

// End returns whatever is held back and resets the Decoder for a new stream,
// like decoder.end(). An incomplete UTF8 character becomes U+FFFD (one per
// maximal ill-formed subsequence); for UTF16LE an unpaired high surrogate
// becomes U+FFFD and an odd final byte is dropped, as Node drops it; Base64 and
// Base64URL encode the 1 or 2 bytes held back.
func (d *Decoder) End() string {
	n := d.n
	d.n, d.miss = 0, 0
	if n == 0 {
		return ""
	}
	switch d.enc.norm() {
	case UTF8:
		return decodeUTF8(nil, d.buf[:n])
	case UTF16LE:
		if n >= 2 { // an unpaired high surrogate; an odd byte after it is dropped
			return replacement
		}
		return ""
	case Base64:
		return encodeBase64(base64.StdEncoding, nil, d.buf[:n])
	case Base64URL:
		return encodeBase64(base64.RawURLEncoding, nil, d.buf[:n])
	}
	return ""
}

// writeUTF8 follows Node's src/string_decoder.cc: it first completes the held
// back character from the leading continuation bytes of p, then holds back
// the incomplete character (if any) at the end of p.
func (d *Decoder) writeUTF8(p []byte) string {
	var pre [4]byte
	npre := 0
	if d.miss > 0 {
		take := min(len(p), int(d.miss))
		for i := 0; i < take; i++ {
			if p[i]&0xC0 != 0x80 {
				// Not a continuation byte: the held-back character ends
				// here, invalid, and p[i] starts a new one.
				take, d.miss = i, uint8(i)
				break
			}
		}
		copy(d.buf[d.n:], p[:take])
		d.n += uint8(take)
		d.miss -= uint8(take)
		p = p[take:]
		if d.miss > 0 {
			return "" // p is used up and the character is still incomplete
		}
		npre = copy(pre[:], d.buf[:d.n])
		d.n = 0
	}
	if len(p) > 0 {
		if held, missing := utf8Tail(p); held > 0 {
			copy(d.buf[:], p[len(p)-held:])
			d.n, d.miss = uint8(held), uint8(missing)
			p = p[:len(p)-held]
		}
	}
	if npre == 0 && len(p) == 0 {
		return ""
	}
	return decodeUTF8(pre[:npre], p)
}

// utf8Tail finds an incomplete character at the end of the non-empty p the way
// Node does: from the last lead byte among the final four bytes, if the bytes
// after it are fewer than its lead bits announce. It returns how many bytes
// to hold back and how many are still missing; held == 0 means none.
func utf8Tail(p []byte) (held, missing int) {
	if p[len(p)-1] < utf8.RuneSelf {
		return 0, 0
	}
	for i := len(p) - 1; ; i-- {
		held++
		c := p[i]
		if c&0xC0 == 0x80 { // continuation byte
			if held >= 4 || i == 0 {
				return 0, 0
			}
			continue
		}
		var size int
		switch {
		case c&0xE0 == 0xC0:
			size = 2
		case c&0xF0 == 0xE0:
			size = 3
		case c&0xF8 == 0xF0:
			size = 4
		default:
			return 0, 0
		}
		if held >= size {
			return 0, 0
		}
		return held, size - held
	}
}

func isHighSurrogate(u uint16) bool { return 0xD800 <= u && u <= 0xDBFF }

func isLowSurrogate(u uint16) bool { return 0xDC00 <= u && u <= 0xDFFF }

// appendUnit appends the UTF-8 form of the lone code unit u, U+FFFD if it is a
// surrogate.
func appendUnit(dst []byte, u uint16) []byte {
	if 0xD800 <= u && u <= 0xDFFF {
		return append(dst, replacement...)
	}
	return utf8.AppendRune(dst, rune(u))
}

// appendPair appends the UTF-8 form of the surrogate pair hi, lo.
func appendPair(dst []byte, hi, lo uint16) []byte {
	return utf8.AppendRune(dst, 0x10000+(rune(hi)-0xD800)<<10+(rune(lo)-0xDC00))
}

// writeUTF16LE holds back an odd final byte and a final unpaired high
// surrogate. Unlike Node, which may emit a high surrogate in one result and
// its low surrogate in the next (harmless for JavaScript strings, which
// concatenate code units), a surrogate pair is never split between results.
func (d *Decoder) writeUTF16LE(p []byte) string {
	var preBuf [8]byte // UTF-8 of at most two characters and a U+FFFD
	pre := preBuf[:0]
	if d.n > 0 {
		if d.n&1 == 1 { // a byte waiting for its partner
			if len(p) == 0 {
				return ""
			}
			d.buf[d.n] = p[0]
			d.n++
			p = p[1:]
		}
		u := uint16(d.buf[0]) | uint16(d.buf[1])<<8
		if d.n == 4 { // a high surrogate and the unit after it
			v := uint16(d.buf[2]) | uint16(d.buf[3])<<8
			switch {
			case isLowSurrogate(v):
				pre = appendPair(pre, u, v)
				d.n = 0
			case isHighSurrogate(v):
				pre = append(pre, replacement...)
				u, d.buf[0], d.buf[1], d.n = v, d.buf[2], d.buf[3], 2
			default:
				pre = appendUnit(append(pre, replacement...), v)
				d.n = 0
			}
		}
		if d.n == 2 {
			switch {
			case !isHighSurrogate(u):
				pre = appendUnit(pre, u)
				d.n = 0
			case len(p) == 0:
				return string(pre)
			case len(p) == 1:
				d.buf[2] = p[0]
				d.n = 3
				return string(pre)
			default:
				if v := uint16(p[0]) | uint16(p[1])<<8; isLowSurrogate(v) {
					pre = appendPair(pre, u, v)
					p = p[2:]
				} else {
					pre = append(pre, replacement...) // v is decoded with p
				}
				d.n = 0
			}
		}
	}
	held := len(p) & 1
	if even := len(p) - held; even >= 2 && isHighSurrogate(uint16(p[even-2])|uint16(p[even-1])<<8) {
		held += 2
	}
	if held > 0 {
		d.n = uint8(copy(d.buf[:], p[len(p)-held:]))
		p = p[:len(p)-held]
	}
	if len(p) == 0 {
		return string(pre)
	}
	return decodeUTF16LE(pre, p)
}

// writeBase64 encodes whole 3-byte groups and holds back the rest.
func (d *Decoder) writeBase64(enc *base64.Encoding, p []byte) string {
	var pre [3]byte
	npre := 0
	if d.n > 0 {
		k := copy(d.buf[d.n:3], p)
		d.n += uint8(k)
		p = p[k:]
		if d.n < 3 {
			return ""
		}
		npre = copy(pre[:], d.buf[:3])
		d.n = 0
	}
	held := len(p) % 3
	d.n = uint8(copy(d.buf[:], p[len(p)-held:]))
	return encodeBase64(enc, pre[:npre], p[:len(p)-held])
}
