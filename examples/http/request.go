package main

import "bytes"

// maxHead bounds a request head (request line and headers), as Node's
// default --max-http-header-size.
const maxHead = 16 << 10

// request is a parsed request head. Its slices point into the read buffer
// and are valid only during the 'data' callback that parsed it.
type request struct {
	method, target   []byte
	minor            int   // the version: HTTP/1.minor
	contentLength    int64 // -1 when there is no Content-Length
	transferEncoding bool  // a Transfer-Encoding header (chunked bodies are not supported)
	expectContinue   bool  // "Expect: 100-continue"
	keepAlive        bool  // the connection stays open after this request
	contentType      []byte
}

// parseHead parses the request head at the start of b into r. It returns
// the head's length, or 0 while b holds only part of it; status is not 0
// for a request to refuse: 400 (malformed), 417, 431 (too large) or 505.
func parseHead(b []byte, r *request) (n, status int) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	switch {
	case end < 0 && len(b) > maxHead, end+4 > maxHead:
		return 0, 431
	case end < 0 && hasBareLF(b):
		return 0, 400 // a line not ended by CRLF: the head would never end
	case end < 0:
		return 0, 0
	}
	lines := b[:end+2] // each line with its CRLF

	// request-line = method SP request-target SP HTTP-version
	line, lines := nextLine(lines)
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, version, ok2 := bytes.Cut(rest, []byte(" "))
	if !ok1 || !ok2 || !isToken(method) || len(target) == 0 || !isVisible(target) {
		return 0, 400
	}
	*r = request{method: method, target: target, contentLength: -1}
	switch string(version) {
	case "HTTP/1.1":
		r.minor = 1
	case "HTTP/1.0":
		r.minor = 0
	default:
		if len(version) == 8 && bytes.HasPrefix(version, []byte("HTTP/")) &&
			isDigit(version[5]) && version[6] == '.' && isDigit(version[7]) {
			return 0, 505
		}
		return 0, 400
	}

	// header-field = field-name ":" OWS field-value OWS
	var hosts int
	var close, keepAlive bool
	for len(lines) > 0 {
		line, lines = nextLine(lines)
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !isToken(name) { // also "Name : value" and folded lines
			return 0, 400
		}
		value = bytes.Trim(value, " \t")
		if !isFieldValue(value) {
			return 0, 400
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || r.contentLength >= 0 && n != r.contentLength {
				return 0, 400
			}
			r.contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			r.transferEncoding = true
		case bytes.EqualFold(name, []byte("Host")):
			hosts++
		case bytes.EqualFold(name, []byte("Expect")):
			if !bytes.EqualFold(value, []byte("100-continue")) {
				return 0, 417
			}
			r.expectContinue = true
		case bytes.EqualFold(name, []byte("Content-Type")):
			r.contentType = value
		case bytes.EqualFold(name, []byte("Connection")):
			for opt := range bytes.SplitSeq(value, []byte(",")) {
				opt = bytes.Trim(opt, " \t")
				close = close || bytes.EqualFold(opt, []byte("close"))
				keepAlive = keepAlive || bytes.EqualFold(opt, []byte("keep-alive"))
			}
		}
	}
	if hosts > 1 || r.minor == 1 && hosts == 0 { // RFC 9112 3.2
		return 0, 400
	}
	// HTTP/1.1 keeps the connection by default, HTTP/1.0 only when asked.
	r.keepAlive = !close && (r.minor == 1 || keepAlive)
	return end + 4, 0
}

// path returns the target's path: without the query, and without the
// scheme and authority of an absolute-form target ("http://host/p").
func (r *request) path() []byte {
	p := r.target
	if i := bytes.Index(p, []byte("://")); i > 0 && p[0] != '/' {
		p = p[i+3:]
		if j := bytes.IndexByte(p, '/'); j >= 0 {
			p = p[j:]
		} else {
			p = []byte("/")
		}
	}
	if i := bytes.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// nextLine splits the first CRLF-terminated line off lines.
func nextLine(lines []byte) (line, rest []byte) {
	i := bytes.Index(lines, []byte("\r\n"))
	return lines[:i], lines[i+2:]
}

// parseLength parses a Content-Length: digits only, at most 18 of them.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// hasBareLF reports whether b has an LF without a CR before it.
func hasBareLF(b []byte) bool {
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isToken reports whether b is an RFC 9110 token (a method or field name).
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return len(b) > 0
}

// isVisible reports whether b has no control characters and no spaces.
func isVisible(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// isFieldValue reports whether b has no control characters but tabs (a
// bare CR or LF included).
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
