package main

import (
	"bytes"
	"fmt"
	"strconv"
)

// Limits, Redis's defaults.
const (
	maxLine = 64 << 10  // an inline command or a "*n"/"$n" line (PROTO_INLINE_MAX_SIZE)
	maxArgs = 1 << 20   // arguments in one command
	maxBulk = 512 << 20 // bytes in one argument (proto-max-bulk-len)
)

// protocolError is a malformed request; Redis answers it and closes.
type protocolError string

func (e protocolError) Error() string { return "Protocol error: " + string(e) }

// span is an argument's place in a command: its offsets from the
// command's first byte.
type span struct{ start, end int }

// parser reads commands: RESP arrays of bulk strings
// ("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n") or inline lines ("ECHO hi\r\n",
// split at spaces and tabs, without Redis's quoting). It parses what the
// socket's Inbound holds, whose first byte is always the first byte of the
// command being read: a whole command is taken, a partial one is left in
// place for the next read, and the parser remembers the arguments of the
// partial command it has already read, so a command arriving over many
// reads is not parsed again from its start.
type parser struct {
	args  [][]byte // the command parse returned, slices of its input
	spans []span   // the partial command's arguments read so far
	left  int      // the partial command's arguments still to read
	pos   int      // the partial command's bytes read so far; 0: none
}

// parse reads one command from the start of b. It returns the number of
// bytes the command took, with its arguments in p.args (slices of b, none
// for an empty line or "*0"), or 0 when b does not hold the whole command
// yet, or a protocolError.
func (p *parser) parse(b []byte) (int, error) {
	p.args = p.args[:0]
	if p.pos == 0 { // a new command
		if len(b) == 0 {
			return 0, nil
		}
		if b[0] != '*' {
			return p.inline(b)
		}
		line, next := readLine(b, 1)
		if next == 0 {
			return 0, tooLong(b, 1, "too big mbulk count string")
		}
		count, ok := parseInt(line)
		if !ok || count > maxArgs {
			return 0, protocolError("invalid multibulk length")
		}
		if count <= 0 {
			return next, nil // an empty command, skipped as Redis does
		}
		p.left, p.pos, p.spans = int(count), next, p.spans[:0]
	}
	for p.left > 0 {
		if p.pos >= len(b) {
			return 0, nil
		}
		if b[p.pos] != '$' {
			return 0, protocolError(fmt.Sprintf("expected '$', got '%c'", b[p.pos]))
		}
		line, next := readLine(b, p.pos+1)
		if next == 0 {
			return 0, tooLong(b, p.pos+1, "too big bulk count string")
		}
		size, ok := parseInt(line)
		if !ok || size < 0 || size > maxBulk {
			return 0, protocolError("invalid bulk length")
		}
		end := next + int(size)
		if end+2 > len(b) {
			return 0, nil // the value is still coming
		}
		if b[end] != '\r' || b[end+1] != '\n' {
			return 0, protocolError("bulk string not terminated by CRLF")
		}
		p.spans = append(p.spans, span{next, end})
		p.pos = end + 2
		p.left--
	}
	for _, s := range p.spans {
		p.args = append(p.args, b[s.start:s.end])
	}
	n := p.pos
	p.pos = 0
	return n, nil
}

// inline reads a command written as a line of words.
func (p *parser) inline(b []byte) (int, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return 0, tooLong(b, 0, "too big inline request")
	}
	line := bytes.TrimSuffix(b[:i], []byte{'\r'})
	for len(line) > 0 {
		j := bytes.IndexAny(line, " \t")
		if j < 0 {
			j = len(line)
		}
		if j > 0 {
			p.args = append(p.args, line[:j])
		}
		line = line[min(j+1, len(line)):]
	}
	return i + 1, nil
}

// readLine returns the bytes of b from pos to the next CRLF and the offset
// after the CRLF, or next 0 when b has no CRLF there yet.
func readLine(b []byte, pos int) (line []byte, next int) {
	i := bytes.Index(b[pos:], []byte("\r\n"))
	if i < 0 {
		return nil, 0
	}
	return b[pos : pos+i], pos + i + 2
}

// tooLong is the error for a line that has no end yet: nil while it may
// still come, msg once more than maxLine bytes have.
func tooLong(b []byte, pos int, msg string) error {
	if len(b)-pos > maxLine {
		return protocolError(msg)
	}
	return nil
}

// parseInt parses a decimal int64 as strictly as Redis (string2ll): an
// optional '-', digits, no leading zeros, no spaces, no overflow.
func parseInt[T string | []byte](s T) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 || s[0] == '0' && (len(s) > 1 || neg) {
		return 0, false
	}
	var u uint64 // 19 digits fit
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// Replies, appended to a connection's output.

func appendSimple(out []byte, s string) []byte {
	out = append(out, '+')
	out = append(out, s...)
	return append(out, "\r\n"...)
}

// appendError appends an error reply; msg starts with its code ("ERR
// ..."), and a line break in it, which would end the reply early, becomes
// a space.
func appendError(out []byte, msg string) []byte {
	out = append(out, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		out = append(out, c)
	}
	return append(out, "\r\n"...)
}

func appendInt(out []byte, n int64) []byte {
	out = append(out, ':')
	out = strconv.AppendInt(out, n, 10)
	return append(out, "\r\n"...)
}

func appendBulk[T string | []byte](out []byte, b T) []byte {
	out = append(out, '$')
	out = strconv.AppendInt(out, int64(len(b)), 10)
	out = append(out, "\r\n"...)
	out = append(out, b...)
	return append(out, "\r\n"...)
}

func appendNull(out []byte) []byte { return append(out, "$-1\r\n"...) }

func appendArray(out []byte, n int) []byte {
	out = append(out, '*')
	out = strconv.AppendInt(out, int64(n), 10)
	return append(out, "\r\n"...)
}
