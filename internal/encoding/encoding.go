// Package encoding implements the character encodings of Node.js Buffers
// ("utf8", "utf16le", "latin1", "ascii", "base64", "base64url", "hex") and
// Node's StringDecoder, which turns a stream of byte chunks into strings
// without ever splitting a multi-byte character across two results.
//
// Go strings stand in for JavaScript strings. Where a JavaScript string could
// hold something a Go string cannot express as valid UTF-8 (an unpaired UTF-16
// surrogate), U+FFFD is produced instead. Conversely, bytes of a Go string that
// are not valid UTF-8 are read as U+FFFD by every encoding except UTF8, whose
// Encode returns the string's bytes unchanged.
package encoding

import "strconv"

// Encoding is one of Node's Buffer encodings.
//
// The zero Encoding is treated as UTF8, Node's default encoding, by every
// function of this package. Values above Hex are invalid and make the
// functions that take an Encoding panic.
type Encoding uint8

// The Buffer encodings of Node.js.
const (
	// UTF8 is "utf8" (alias "utf-8").
	UTF8 Encoding = iota + 1
	// UTF16LE is "utf16le" (aliases "utf-16le", "ucs2", "ucs-2").
	UTF16LE
	// Latin1 is "latin1" (alias "binary"): one byte per UTF-16 code unit.
	Latin1
	// ASCII is "ascii": written like Latin1, read with the high bit cleared.
	ASCII
	// Base64 is "base64": written with padding, read leniently.
	Base64
	// Base64URL is "base64url": written without padding, read leniently.
	Base64URL
	// Hex is "hex": two lowercase hexadecimal digits per byte.
	Hex
)

// Parse maps one of Node's encoding names, compared case-insensitively, to its
// Encoding: "utf8" and "utf-8" give UTF8; "ucs2", "ucs-2", "utf16le" and
// "utf-16le" give UTF16LE; "latin1" and "binary" give Latin1; "ascii" gives
// ASCII; "base64" gives Base64; "base64url" gives Base64URL; "hex" gives Hex.
// Any other name, including the empty string, gives ok == false.
func Parse(name string) (e Encoding, ok bool) {
	if len(name) < 3 || len(name) > 9 {
		return 0, false
	}
	var lower [9]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(name)]) {
	case "utf8", "utf-8":
		return UTF8, true
	case "ucs2", "ucs-2", "utf16le", "utf-16le":
		return UTF16LE, true
	case "latin1", "binary":
		return Latin1, true
	case "ascii":
		return ASCII, true
	case "base64":
		return Base64, true
	case "base64url":
		return Base64URL, true
	case "hex":
		return Hex, true
	}
	return 0, false
}

var names = [...]string{
	0:         "utf8",
	UTF8:      "utf8",
	UTF16LE:   "utf16le",
	Latin1:    "latin1",
	ASCII:     "ascii",
	Base64:    "base64",
	Base64URL: "base64url",
	Hex:       "hex",
}

// String returns the canonical Node name of e: "utf8", "utf16le", "latin1",
// "ascii", "base64", "base64url" or "hex". The zero Encoding gives "utf8"; an
// invalid one gives "Encoding(N)".
func (e Encoding) String() string {
	if int(e) < len(names) {
		return names[e]
	}
	return "Encoding(" + strconv.Itoa(int(e)) + ")"
}

// norm resolves the zero Encoding to UTF8 and panics on invalid values.
func (e Encoding) norm() Encoding {
	switch {
	case e == 0:
		return UTF8
	case e > Hex:
		panic("encoding: invalid " + e.String())
	}
	return e
}

// isASCII reports whether s holds only bytes below 0x80.
func isASCII[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
