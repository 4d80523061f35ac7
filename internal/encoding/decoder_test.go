package encoding

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forEachChunking calls fn with every way of cutting p into non-empty chunks
// (2^(len(p)-1) of them), as Node's test-string-decoder.js does.
func forEachChunking(p []byte, fn func(chunks [][]byte)) {
	if len(p) == 0 {
		fn(nil)
		return
	}
	for mask := 0; mask < 1<<(len(p)-1); mask++ {
		var chunks [][]byte
		start := 0
		for i := 1; i < len(p); i++ {
			if mask&(1<<(i-1)) != 0 {
				chunks = append(chunks, p[start:i])
				start = i
			}
		}
		chunks = append(chunks, p[start:])
		fn(chunks)
	}
}

// checkAllChunkings checks that every chunking of p decodes to want, with
// every returned piece valid UTF-8.
func checkAllChunkings(t *testing.T, e Encoding, p []byte, want string) {
	t.Helper()
	forEachChunking(p, func(chunks [][]byte) {
		d := NewDecoder(e)
		var sb strings.Builder
		for _, c := range chunks {
			s := d.Write(c)
			require.True(t, utf8.ValidString(s), "chunks %x: piece %q", chunks, s)
			sb.WriteString(s)
		}
		s := d.End()
		require.True(t, utf8.ValidString(s), "chunks %x: end %q", chunks, s)
		sb.WriteString(s)
		require.Equal(t, want, sb.String(), "chunks %x", chunks)
		// End resets: the decoder is as good as new.
		require.Equal(t, "", d.End())
		require.Equal(t, want, d.Write(p)+d.End())
	})
}

func TestDecoderUTF8Japanese(t *testing.T) {
	want := strings.Repeat("あ", 40960)
	p := []byte(want)
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		d := NewDecoder(UTF8)
		var sb strings.Builder
		for q := p; len(q) > 0; {
			n := min(1+rng.IntN(1+rng.IntN(64<<(round%6))), len(q))
			s := d.Write(q[:n])
			q = q[n:]
			if len(s)%3 != 0 || s != want[:len(s)] {
				t.Fatalf("piece %q does not hold whole characters", s)
			}
			sb.WriteString(s)
		}
		require.Equal(t, "", d.End())
		require.Equal(t, want, sb.String())
	}
}

func TestDecoderUTF8SplitEverywhere(t *testing.T) {
	for _, ch := range []string{"a", "\u007f", "é", "\u07ff", "€", "\uffff", "\ufffd", "😀", "\U0010FFFF"} {
		p := []byte("x" + ch + "y")
		// Every chunking, checked piece by piece: a character is never split.
		forEachChunking(p, func(chunks [][]byte) {
			d := NewDecoder(UTF8)
			var got []string
			for _, c := range chunks {
				if s := d.Write(c); s != "" {
					got = append(got, s)
				}
			}
			if s := d.End(); s != "" {
				got = append(got, s)
			}
			require.Equal(t, "x"+ch+"y", strings.Join(got, ""))
			for _, s := range got {
				require.True(t, utf8.ValidString(s))
				if ch != "\ufffd" {
					require.NotContains(t, s, "\uFFFD", "chunks %x", chunks)
				}
			}
		})
		// A character alone, fed one byte at a time: "" until the last byte.
		d := NewDecoder(UTF8)
		b := []byte(ch)
		for i := 0; i < len(b)-1; i++ {
			require.Equal(t, "", d.Write(b[i:i+1]), "%q byte %d", ch, i)
		}
		require.Equal(t, ch, d.Write(b[len(b)-1:]))
		require.Equal(t, "", d.End())
		// Cut short: End gives one U+FFFD for the incomplete character.
		for cut := 1; cut < len(b); cut++ {
			d := NewDecoder(UTF8)
			require.Equal(t, "", d.Write(b[:cut]))
			require.Equal(t, "\uFFFD", d.End(), "%q cut at %d", ch, cut)
		}
	}
}

// TestDecoderUTF8Node checks the per-write results Node documents or tests.
func TestDecoderUTF8Node(t *testing.T) {
	type step struct {
		in   string // bytes; "END" for End()
		want string
	}
	tests := [][]step{
		// Node docs: write E2, write 82, end(AC) -> '€'.
		{{"\xE2", ""}, {"\x82", ""}, {"\xAC", "€"}, {"END", ""}},
		{{"\xC2\xA2", "¢"}, {"END", ""}},
		{{"\xE2\x82", ""}, {"END", "\uFFFD"}},
		{{"\xC3", ""}, {"\x28", "\uFFFD("}},
		{{"\xC3\x28", "\uFFFD("}},
		{{"\xE1", ""}, {"END", "\uFFFD"}},
		{{"\xE1\x8B", ""}, {"END", "\uFFFD"}},
		{{"\xEF\xBF\xBD", "\uFFFD"}, {"END", ""}},
		{{"\xEF\xBF\xBD\xE2", "\uFFFD"}, {"END", "\uFFFD"}},
		{{"\xF1", ""}, {"\x41\xF2", "\uFFFDA"}, {"END", "\uFFFD"}},
		{{"\xE2", ""}, {"\x41", "\uFFFDA"}},
		{{"\xF0\x9F", ""}, {"\x98", ""}, {"\x80abc", "😀abc"}},
		{{"\xF0\x9F", ""}, {"\x98\x41", "\uFFFDA"}},
		{{"\xF0", ""}, {"", ""}, {"\x9F\x98\x80", "😀"}},
		{{"a\x80", "a\uFFFD"}}, // a lone continuation byte is not held
		{{"\x80\x80\x80", "\uFFFD\uFFFD\uFFFD"}},
		{{"\xFF", "\uFFFD"}}, // not a lead byte: not held
		{{"\xF8\x80", "\uFFFD\uFFFD"}},
		{{"\xE0", ""}, {"\x80\x80", "\uFFFD\uFFFD\uFFFD"}},
		{{"\xED", ""}, {"\xA0\x80", "\uFFFD\uFFFD\uFFFD"}}, // a surrogate
		{{"\xF5", ""}, {"\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"}},
		{{"ab\xC2", "ab"}, {"\xA2cd", "¢cd"}},
	}
	for _, steps := range tests {
		d := NewDecoder(UTF8)
		for i, st := range steps {
			var got string
			if st.in == "END" {
				got = d.End()
			} else {
				got = d.Write([]byte(st.in))
			}
			assert.Equal(t, st.want, got, "%q step %d", steps, i)
		}
	}
}

func TestDecoderUTF8AllChunkings(t *testing.T) {
	// Node's test-string-decoder.js runs these through every chunking.
	for _, tc := range []struct{ in, want string }{
		{"\x24", "$"},
		{"\xC2\xA2", "¢"},
		{"\xE2\x82\xAC", "€"},
		{"\xF0\xA4\xAD\xA2", "\U00024B62"},
		{"\xF0\xA4\xAD\xA2\x24\xC2\xA2\xE2\x82\xAC", "\U00024B62$¢€"},
		{"\xC9\xB5\xA9\x41", "\u0275\uFFFDA"},
		{"\xE2", "\uFFFD"},
		{"\xE2\x41", "\uFFFDA"},
		{"\xCC\xCC\xB8", "\uFFFD\u0338"},
		{"\xF0\xB8\x41", "\uFFFDA"},
		{"\xF1\xCC\xB8", "\uFFFD\u0338"},
		{"\xF0\xFB\x00", "\uFFFD\uFFFD\x00"},
		{"\xCC\xE2\xB8\xB8", "\uFFFD\u2E38"},
		{"\xE2\xB8\xCC\xB8", "\uFFFD\u0338"},
		{"\xE2\xFB\xCC\x01", "\uFFFD\uFFFD\uFFFD\x01"},
		{"\xCC\xB8\xCD\xB9", "\u0338\u0379"},
		{"\xED\xA0\xB5\xED\xB0\x8D", strings.Repeat("\uFFFD", 6)},
		{"\xC3\x28", "\uFFFD("},
		{"\xE2\x82", "\uFFFD"},
		{"\xF4\x90\x80\x80", strings.Repeat("\uFFFD", 4)},
		{"\xC0\x80\xE0\x80\x80", strings.Repeat("\uFFFD", 5)},
		{"\x80\x80\x80\x80\x80\xE2\x82", strings.Repeat("\uFFFD", 6)},
		{"a\xF0\x9F\x98\x80\x80\x80\x80b", "a😀\uFFFD\uFFFD\uFFFDb"},
		{"\xF0\x9F\x98\xF0\x9F\x98\x80", "\uFFFD😀"},
	} {
		assert.Equal(t, tc.want, DecodeString(UTF8, []byte(tc.in)), "%q", tc.in)
		checkAllChunkings(t, UTF8, []byte(tc.in), tc.want)
	}
}

func TestDecoderUTF16LE(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\x3D\xD8\x4D\xDC", "\U0001F44D"},          // Node's test
		{"\x3D\xD8\x4D\xDC\x61\x00", "\U0001F44Da"}, // pair then ASCII
		{"a\x00\x3D\xD8\x00\xDE\xac\x20", "a😀€"},    // split everywhere
		{"\x3D\xD8", "\uFFFD"},                      // unpaired at End
		{"\x3D\xD8\x4D", "\uFFFD"},                  // and an odd byte (dropped)
		{"\x61", ""},                                // odd byte alone: dropped
		{"\x00\xDC\x61\x00", "\uFFFDa"},             // lone low surrogate
		{"\x3D\xD8\x3D\xD8\x00\xDE", "\uFFFD😀"},     // high, then a pair
		{"\x3D\xD8\x3D\xD8\x3D\xD8", "\uFFFD\uFFFD\uFFFD"},
		{"\x3D\xD8\x61\x00\x62", "\uFFFDa"},
		{"\x3D\xD8\x00\xDC\x00\xDC", "\U0001F400\uFFFD"},
	} {
		assert.Equal(t, tc.want, DecodeString(UTF16LE, []byte(tc.in)), "%x", tc.in)
		checkAllChunkings(t, UTF16LE, []byte(tc.in), tc.want)
	}

	// Node's test: '3DD8' -> '', '4D' -> '', 'DC' -> '\ud83d\udc4d'.
	d := NewDecoder(UTF16LE)
	assert.Equal(t, "", d.Write([]byte{0x3D, 0xD8}))
	assert.Equal(t, "", d.Write([]byte{0x4D}))
	assert.Equal(t, "\U0001F44D", d.Write([]byte{0xDC}))
	assert.Equal(t, "", d.End())

	// Long text with surrogate pairs, random chunks: pieces never split a pair.
	text := strings.Repeat("a😀é€\U0010FFFF", 2000)
	p := Encode(UTF16LE, text)
	rng := rand.New(rand.NewPCG(3, 4))
	d = NewDecoder(UTF16LE)
	var sb strings.Builder
	for q := p; len(q) > 0; {
		n := min(1+rng.IntN(9), len(q))
		s := d.Write(q[:n])
		q = q[n:]
		require.NotContains(t, s, "\uFFFD")
		sb.WriteString(s)
	}
	assert.Equal(t, "", d.End())
	assert.Equal(t, text, sb.String())
}

func TestDecoderBase64(t *testing.T) {
	for _, tc := range []struct {
		e   Encoding
		enc *base64.Encoding
	}{{Base64, base64.StdEncoding}, {Base64URL, base64.RawURLEncoding}} {
		all := make([]byte, 256)
		for i := range all {
			all[i] = byte(255 - i)
		}
		for n := 0; n <= len(all); n += 1 + n/7 {
			p := all[:n]
			want := tc.enc.EncodeToString(p)
			// One byte at a time: whole groups as they complete.
			d := NewDecoder(tc.e)
			var sb strings.Builder
			for i := range p {
				s := d.Write(p[i : i+1])
				if (i+1)%3 == 0 {
					require.Len(t, s, 4)
				} else {
					require.Equal(t, "", s)
				}
				sb.WriteString(s)
			}
			sb.WriteString(d.End())
			require.Equal(t, want, sb.String(), "%s n=%d", tc.e, n)
			require.Equal(t, want, DecodeString(tc.e, p))
			require.Equal(t, string(p), string(Encode(tc.e, want)))
		}
		checkAllChunkings(t, tc.e, all[:9], tc.enc.EncodeToString(all[:9]))
		checkAllChunkings(t, tc.e, all[:10], tc.enc.EncodeToString(all[:10]))
	}
	// Node: write(Buffer.of(0x61)) -> '', end() -> 'YQ==' ('YQ' for base64url).
	d := NewDecoder(Base64)
	assert.Equal(t, "", d.Write([]byte("a")))
	assert.Equal(t, "YQ==", d.End())
	d = NewDecoder(Base64URL)
	assert.Equal(t, "", d.Write([]byte("a")))
	assert.Equal(t, "YQ", d.End())
	d = NewDecoder(Base64)
	assert.Equal(t, "", d.Write([]byte("ab")))
	assert.Equal(t, "YWJj", d.Write([]byte("c")))
	assert.Equal(t, "ZGVm", d.Write([]byte("defg")))
	assert.Equal(t, "Zw==", d.End())
}

func TestDecoderStateless(t *testing.T) {
	p := []byte{0x00, 0x41, 0x7F, 0x80, 0xE9, 0xFF}
	for _, tc := range []struct {
		e    Encoding
		want string
	}{
		{Hex, "00417f80e9ff"},
		{Latin1, "\x00A\x7F\u0080éÿ"},
		{ASCII, "\x00A\x7F\x00i\x7F"},
	} {
		assert.Equal(t, tc.want, DecodeString(tc.e, p), tc.e.String())
		d := NewDecoder(tc.e)
		var sb strings.Builder
		for i := range p {
			s := d.Write(p[i : i+1])
			require.Equal(t, DecodeString(tc.e, p[i:i+1]), s)
			sb.WriteString(s)
		}
		assert.Equal(t, "", d.End())
		assert.Equal(t, tc.want, sb.String(), tc.e.String())
	}
}

// TestDecoderDoesNotRetain checks that Write copies what it holds back.
func TestDecoderDoesNotRetain(t *testing.T) {
	for _, e := range []Encoding{UTF8, UTF16LE, Base64, Base64URL} {
		d := NewDecoder(e)
		p := []byte("€€")
		got := d.Write(p[:4])
		for i := range p {
			p[i] = 0
		}
		got += d.Write([]byte("€€")[4:])
		got += d.End()
		assert.Equal(t, DecodeString(e, []byte("€€")), got, e.String())
	}
}

func TestDecoderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	ascii := []byte(strings.Repeat("hello, world ", 100))
	jp := []byte(strings.Repeat("あ", 100))
	bad := append([]byte(strings.Repeat("x", 100)), 0xFF, 'y')
	d := NewDecoder(UTF8)
	allocs := func(fn func()) float64 { return testing.AllocsPerRun(100, fn) }

	// Nothing held back: one allocation, the returned string.
	assert.Equal(t, 1.0, allocs(func() { _ = d.Write(ascii) }))
	assert.Equal(t, 1.0, allocs(func() { _ = d.Write(jp) }))
	assert.Equal(t, 1.0, allocs(func() { _ = d.Write(bad) }))
	// Held back and completed: still one allocation.
	assert.Equal(t, 1.0, allocs(func() {
		_ = d.Write(jp[:len(jp)-1])
		_ = d.Write(jp[len(jp)-1:])
	})-1)
	// Writes that return "" allocate nothing; the one completing the
	// character allocates its string.
	assert.Equal(t, 1.0, allocs(func() { _ = d.Write(jp[:1]); _ = d.Write(jp[1:2]); _ = d.Write(jp[2:3]) }))
	assert.Equal(t, 0.0, allocs(func() { _ = d.Write(jp[:0]); _ = d.Write(nil) }))
	assert.Equal(t, "", d.End())

	u := NewDecoder(UTF16LE)
	u16 := Encode(UTF16LE, strings.Repeat("a😀", 50))
	assert.Equal(t, 1.0, allocs(func() { _ = u.Write(u16) }))
	b := NewDecoder(Base64)
	assert.Equal(t, 1.0, allocs(func() { _ = b.Write(ascii) }))
	assert.Equal(t, 0.0, allocs(func() { _ = b.Write(ascii[:1]); _ = b.Write(ascii[:1]) }))
	_ = b.End()
	buf := make([]byte, 0, 4096)
	assert.Equal(t, 0.0, allocs(func() { buf = AppendEncode(buf[:0], Base64, "aGVsbG8gd29ybGQ=") }))
	assert.Equal(t, 0.0, allocs(func() { buf = AppendEncode(buf[:0], Latin1, "tést😀") }))
	assert.Equal(t, 0.0, allocs(func() { buf = AppendEncode(buf[:0], Hex, "deadbeef") }))
}

// whatwgDecode is an independent transcription of the WHATWG Encoding
// Standard's UTF-8 decoder (which V8 follows), used as a reference.
func whatwgDecode(p []byte) string {
	var sb strings.Builder
	var cp rune
	needed, seen := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; i <= len(p); {
		if i == len(p) {
			if needed != 0 {
				sb.WriteRune(utf8.RuneError)
			}
			break
		}
		b := p[i]
		if needed == 0 {
			i++
			switch {
			case b <= 0x7F:
				sb.WriteByte(b)
			case 0xC2 <= b && b <= 0xDF:
				needed, cp = 1, rune(b&0x1F)
			case 0xE0 <= b && b <= 0xEF:
				if b == 0xE0 {
					lower = 0xA0
				}
				if b == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(b&0xF)
			case 0xF0 <= b && b <= 0xF4:
				if b == 0xF0 {
					lower = 0x90
				}
				if b == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(b&0x7)
			default:
				sb.WriteRune(utf8.RuneError)
			}
			continue
		}
		if b < lower || b > upper {
			cp, needed, seen, lower, upper = 0, 0, 0, 0x80, 0xBF
			sb.WriteRune(utf8.RuneError)
			continue // reprocess b
		}
		i++
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(b&0x3F)
		if seen++; seen == needed {
			sb.WriteRune(cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	return sb.String()
}

func TestWHATWGReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF}
	for i := 0; i < 20000; i++ {
		p := make([]byte, rng.IntN(12))
		for j := range p {
			p[j] = alphabet[rng.IntN(len(alphabet))]
		}
		want := whatwgDecode(p)
		require.Equal(t, want, DecodeString(UTF8, p), "%x", p)
		sizes := make([]int, rng.IntN(6))
		for j := range sizes {
			sizes[j] = rng.IntN(5)
		}
		require.Equal(t, want, decodeChunked(t, UTF8, p, sizes), "%x %v", p, sizes)
	}
}

// cutsFrom turns fuzz bytes into chunk sizes (zero-length writes included).
func cutsFrom(cuts []byte) []int {
	sizes := make([]int, len(cuts))
	for i, c := range cuts {
		sizes[i] = int(c % 8)
	}
	return sizes
}

func FuzzDecoderUTF8(f *testing.F) {
	f.Add([]byte("hello"), []byte{1, 2})
	f.Add([]byte("あいう😀€é"), []byte{1, 1, 1, 2, 3, 5, 7})
	f.Add([]byte("\xE2\x82\xC3\x28\xF0\x9F\x98\xED\xA0\x80\xF4\x90\x80\x80\xC0\x80\xFF"), []byte{1, 3, 0, 2, 1, 1, 4})
	f.Add([]byte("\xF0\x9F\x98\xF0\x9F\x98\x80\x80\x80\x80\x80"), []byte{3, 1, 2, 1, 1})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		want := DecodeString(UTF8, data)
		if !utf8.ValidString(want) {
			t.Fatalf("DecodeString(%x) = %q is not valid UTF-8", data, want)
		}
		if ref := whatwgDecode(data); ref != want {
			t.Fatalf("DecodeString(%x) = %q, WHATWG decoder gives %q", data, want, ref)
		}
		if got := decodeChunked(t, UTF8, data, cutsFrom(cuts)); got != want {
			t.Fatalf("chunks %v of %x: got %q, want %q", cutsFrom(cuts), data, got, want)
		}
	})
}

func FuzzDecoder(f *testing.F) {
	f.Add(uint8(UTF16LE), []byte("\x3D\xD8\x4D\xDC\x3D\xD8a"), []byte{1, 3, 0, 2})
	f.Add(uint8(Base64), []byte("hello world"), []byte{1, 1, 5})
	f.Fuzz(func(t *testing.T, e uint8, data, cuts []byte) {
		enc := Encoding(e%uint8(Hex) + 1)
		want := DecodeString(enc, data)
		if got := decodeChunked(t, enc, data, cutsFrom(cuts)); got != want {
			t.Fatalf("%s chunks %v of %x: got %q, want %q", enc, cutsFrom(cuts), data, got, want)
		}
		// Decoding then encoding back restores the bytes where Node's would.
		var back []byte
		switch enc {
		case Latin1, Base64, Base64URL, Hex:
			back = data
		case UTF8:
			if utf8.Valid(data) {
				back = data
			}
		}
		if back != nil && string(Encode(enc, want)) != string(back) {
			t.Fatalf("%s: Encode(DecodeString(%x)) = %x", enc, data, Encode(enc, want))
		}
	})
}
