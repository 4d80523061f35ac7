package encoding

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func unhexT(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		want Encoding
		ok   bool
	}{
		{"utf8", UTF8, true},
		{"utf-8", UTF8, true},
		{"UTF8", UTF8, true},
		{"UTF-8", UTF8, true},
		{"Utf-8", UTF8, true},
		{"ucs2", UTF16LE, true},
		{"ucs-2", UTF16LE, true},
		{"UCS2", UTF16LE, true},
		{"utf16le", UTF16LE, true},
		{"utf-16le", UTF16LE, true},
		{"UTF-16LE", UTF16LE, true},
		{"latin1", Latin1, true},
		{"LATIN1", Latin1, true},
		{"binary", Latin1, true},
		{"Binary", Latin1, true},
		{"ascii", ASCII, true},
		{"ASCII", ASCII, true},
		{"base64", Base64, true},
		{"BASE64", Base64, true},
		{"base64url", Base64URL, true},
		{"Base64URL", Base64URL, true},
		{"hex", Hex, true},
		{"HEX", Hex, true},
		{"", 0, false},
		{"utf", 0, false},
		{"utf16", 0, false},
		{"utf-16", 0, false},
		{"utf16be", 0, false},
		{"utf32", 0, false},
		{"buffer", 0, false},
		{"base-64", 0, false},
		{"base64url ", 0, false},
		{" hex", 0, false},
		{"latin-1", 0, false},
		{"iso-8859-1", 0, false},
		{"utf8\x00", 0, false},
		{"ｈｅｘ", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := Parse(tt.name)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, e)
		})
	}
}

func TestString(t *testing.T) {
	want := map[Encoding]string{
		UTF8: "utf8", UTF16LE: "utf16le", Latin1: "latin1", ASCII: "ascii",
		Base64: "base64", Base64URL: "base64url", Hex: "hex",
	}
	for e, name := range want {
		assert.Equal(t, name, e.String())
		back, ok := Parse(name)
		assert.True(t, ok)
		assert.Equal(t, e, back)
	}
	assert.Equal(t, "utf8", Encoding(0).String())
	assert.Equal(t, "Encoding(8)", Encoding(8).String())
	assert.Equal(t, "Encoding(255)", Encoding(255).String())
}

func TestInvalidEncodingPanics(t *testing.T) {
	assert.Panics(t, func() { Encode(Hex+1, "x") })
	assert.Panics(t, func() { DecodeString(Hex+1, []byte("x")) })
	assert.Panics(t, func() { NewDecoder(Hex + 1) })
	// The zero Encoding is Node's default, utf8.
	assert.Equal(t, []byte("é"), Encode(0, "é"))
	assert.Equal(t, "\uFFFD", DecodeString(0, []byte{0xFF}))
	assert.Equal(t, UTF8, NewDecoder(0).Encoding())
	var d Decoder
	assert.Equal(t, UTF8, d.Encoding())
	assert.Equal(t, "", d.Write([]byte{0xE2, 0x82}))
	assert.Equal(t, "€", d.Write([]byte{0xAC}))
}

func TestEncode(t *testing.T) {
	tests := []struct {
		e    Encoding
		in   string
		want string // hex
	}{
		// Node docs: Buffer.from('hello world', 'utf8') and friends.
		{UTF8, "hello world", "68656c6c6f20776f726c64"},
		{UTF8, "tést", "74c3a97374"},
		{UTF8, "", ""},
		{UTF8, "€😀", "e282acf09f9880"},
		{UTF8, "\xff\xfe", "fffe"}, // bytes of the Go string, unchanged

		{UTF16LE, "abc", "610062006300"},
		{UTF16LE, "€", "ac20"},
		{UTF16LE, "😀", "3dd800de"},
		{UTF16LE, "a😀b", "61003dd800de6200"},
		{UTF16LE, "\xff", "fdff"}, // invalid UTF-8 reads as U+FFFD
		{UTF16LE, "", ""},

		// Node docs: Buffer.from('tést', 'latin1') is <Buffer 74 e9 73 74>.
		{Latin1, "tést", "74e97374"},
		{Latin1, "€", "ac"},    // low 8 bits of U+20AC
		{Latin1, "😀", "3d00"},  // low bytes of the surrogates D83D DE00
		{Latin1, "\xff", "fd"}, // U+FFFD
		{Latin1, "ÿĀ", "ff00"}, // U+00FF, U+0100
		{ASCII, "tést", "74e97374"},
		{ASCII, "€", "ac"},
		{ASCII, "abc", "616263"},
		{Latin1, "", ""},

		// Node docs: '1ag123' -> 1a, '1a7' -> 1a, '1634' -> 16 34.
		{Hex, "1ag123", "1a"},
		{Hex, "1a7", "1a"},
		{Hex, "1634", "1634"},
		{Hex, "abxz", "ab"},
		{Hex, "ABCDEF", "abcdef"},
		{Hex, "aBcD", "abcd"},
		{Hex, "a", ""},
		{Hex, "zz12", ""},
		{Hex, "1 23", ""},
		{Hex, "", ""},
		{Hex, "0é", ""},
		{Hex, "\u01300", "00"}, // Node reads the low byte of U+0130: '0'

		// Node docs: Buffer.from('SGVsbG8gV29ybGQ=', 'base64').
		{Base64, "SGVsbG8gV29ybGQ=", hex.EncodeToString([]byte("Hello World"))},
		{Base64, "aGVsbG8gd29ybGQ=", "68656c6c6f20776f726c64"},
		{Base64, "aGVsbG8gd29ybGQ", "68656c6c6f20776f726c64"},
		{Base64, "aGVs bG8g\nd29y\tbGQ=\r\n", "68656c6c6f20776f726c64"},
		{Base64, "YW*Jj", "616263"}, // invalid characters are skipped
		{Base64, "+/8=", "fbff"},
		{Base64, "-_8=", "fbff"}, // either alphabet
		{Base64, "-_8", "fbff"},
		{Base64, "YQ==YQ==", "61"}, // '=' stops decoding
		{Base64, "YQ=", "61"},
		{Base64, "YQ", "61"},
		{Base64, "YWI", "6162"},
		{Base64, "Y", ""},
		{Base64, "YWJjZ", "616263"},
		{Base64, "=YQ", ""},
		{Base64, "", ""},
		{Base64, "YQé==", "61"},
		{Base64URL, "-_8", "fbff"},
		{Base64URL, "+/8=", "fbff"},
		{Base64URL, "aGVsbG8gd29ybGQ", "68656c6c6f20776f726c64"},
		{Base64URL, "aGVsbG8gd29ybGQ=", "68656c6c6f20776f726c64"},
	}
	for _, tt := range tests {
		t.Run(tt.e.String()+"/"+tt.in, func(t *testing.T) {
			got := Encode(tt.e, tt.in)
			assert.Equal(t, tt.want, hex.EncodeToString(got))
			// AppendEncode keeps the prefix.
			dst := append(make([]byte, 0, 4), "pre"...)
			got2 := AppendEncode(dst, tt.e, tt.in)
			assert.Equal(t, "pre"+string(got), string(got2))
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	s := DecodeString(Latin1, all)
	assert.Equal(t, 256, len([]rune(s)))
	assert.Equal(t, all, Encode(Latin1, s))
	assert.Equal(t, all, Encode(Latin1, NewDecoder(Latin1).Write(all)))
	for _, e := range []Encoding{Base64, Base64URL, Hex} {
		assert.Equal(t, all, Encode(e, DecodeString(e, all)), e.String())
	}
	text := "héllo wörld € 😀 \u0000 \uFFFD"
	for _, e := range []Encoding{UTF8, UTF16LE} {
		assert.Equal(t, text, DecodeString(e, Encode(e, text)), e.String())
	}
	ascii := make([]byte, 128)
	for i := range ascii {
		ascii[i] = byte(i)
	}
	assert.Equal(t, ascii, Encode(ASCII, DecodeString(ASCII, ascii)))
}

func TestDecodeString(t *testing.T) {
	tests := []struct {
		e    Encoding
		in   string // hex
		want string
	}{
		{UTF8, "68656c6c6f", "hello"},
		{UTF8, "", ""},
		{UTF8, "e282ac", "€"},
		{UTF8, "c328", "\uFFFD("},
		{UTF8, "e282", "\uFFFD"},
		{UTF8, "ff", "\uFFFD"},
		{UTF8, "c080", "\uFFFD\uFFFD"},                 // overlong
		{UTF8, "e08080", "\uFFFD\uFFFD\uFFFD"},         // overlong
		{UTF8, "f4908080", "\uFFFD\uFFFD\uFFFD\uFFFD"}, // above U+10FFFF
		{UTF8, "f09f98", "\uFFFD"},
		{UTF8, "f09f9841", "\uFFFDA"},
		// Node's test/parallel/test-string-decoder.js.
		{UTF8, "C9B5A941", "\u0275\uFFFDA"},
		{UTF8, "E2", "\uFFFD"},
		{UTF8, "E241", "\uFFFDA"},
		{UTF8, "CCCCB8", "\uFFFD\u0338"},
		{UTF8, "F0B841", "\uFFFDA"},
		{UTF8, "F1CCB8", "\uFFFD\u0338"},
		{UTF8, "F0FB00", "\uFFFD\uFFFD\x00"},
		{UTF8, "CCE2B8B8", "\uFFFD\u2E38"},
		{UTF8, "E2B8CCB8", "\uFFFD\u0338"},
		{UTF8, "E2FBCC01", "\uFFFD\uFFFD\uFFFD\x01"},
		{UTF8, "CCB8CDB9", "\u0338\u0379"},
		{UTF8, "EDA0B5EDB08D", strings.Repeat("\uFFFD", 6)}, // CESU-8 of U+1D40D

		{UTF16LE, "610062006300", "abc"},
		{UTF16LE, "6100620063", "ab"}, // a final odd byte is ignored
		{UTF16LE, "3dd800de", "😀"},
		{UTF16LE, "3dd84ddc", "\U0001F44D"},
		{UTF16LE, "3dd8", "\uFFFD"},
		{UTF16LE, "00de3dd8", "\uFFFD\uFFFD"},
		{UTF16LE, "3dd83dd800de", "\uFFFD😀"},
		{UTF16LE, "3dd86100", "\uFFFDa"},
		{UTF16LE, "ac20", "€"},

		{Latin1, "74e97374", "tést"},
		{Latin1, "ff00", "ÿ\x00"},
		{ASCII, "74e97374", "tist"},
		{ASCII, "ff80", "\x7f\x00"},
		{ASCII, "616263", "abc"},

		{Hex, "deadBEEF", "deadbeef"},
		{Hex, "", ""},
		{Base64, hex.EncodeToString([]byte("hello world")), "aGVsbG8gd29ybGQ="},
		{Base64, "fbff", "+/8="},
		{Base64, "61", "YQ=="},
		{Base64, "", ""},
		{Base64URL, "fbff", "-_8"},
		{Base64URL, "61", "YQ"},
		{Base64URL, hex.EncodeToString([]byte("hello world")), "aGVsbG8gd29ybGQ"},
	}
	for _, tt := range tests {
		t.Run(tt.e.String()+"/"+tt.in, func(t *testing.T) {
			p := unhexT(t, tt.in)
			got := DecodeString(tt.e, p)
			assert.Equal(t, tt.want, got)
			// The stream decoder agrees with the whole-buffer decoder.
			assert.Equal(t, tt.want, decodeChunked(t, tt.e, p, nil))
		})
	}
}

// decodeChunked feeds p to a new Decoder in chunks of the given sizes (the
// rest in one chunk) and returns the concatenated output, checking that every
// piece is valid UTF-8.
func decodeChunked(t testing.TB, e Encoding, p []byte, sizes []int) string {
	t.Helper()
	d := NewDecoder(e)
	var sb strings.Builder
	for _, n := range sizes {
		n = min(n, len(p))
		s := d.Write(p[:n])
		requireValid(t, s)
		sb.WriteString(s)
		p = p[n:]
	}
	s := d.Write(p)
	requireValid(t, s)
	sb.WriteString(s)
	s = d.End()
	requireValid(t, s)
	sb.WriteString(s)
	return sb.String()
}

func requireValid(t testing.TB, s string) {
	t.Helper()
	if !isValidUTF8(s) {
		t.Fatalf("output %q is not valid UTF-8", s)
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "x") == s }

func TestDecodeEmpty(t *testing.T) {
	for e := UTF8; e <= Hex; e++ {
		d := NewDecoder(e)
		assert.Equal(t, e, d.Encoding())
		assert.Equal(t, "", d.Write(nil), e.String())
		assert.Equal(t, "", d.Write([]byte{}), e.String())
		assert.Equal(t, "", d.End(), e.String())
		assert.Equal(t, "", DecodeString(e, nil), e.String())
		assert.Empty(t, Encode(e, ""), e.String())
	}
}

func TestLargeInputs(t *testing.T) {
	big := bytes.Repeat([]byte("abc€😀"), 10000)
	assert.Equal(t, string(big), DecodeString(UTF8, big))
	assert.Equal(t, string(big), DecodeString(UTF16LE, Encode(UTF16LE, string(big))))
}
