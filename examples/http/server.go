package main

import (
	"log"
	"net"
	"strconv"
	"time"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/socket"
)

// idleTimeout closes a connection that has been quiet this long, between
// requests or in the middle of one.
const idleTimeout = 30 * time.Second

// handler is the server's state shared by its connections, all on its one
// loop.
type handler struct {
	dateSec int64
	date    []byte // the Date header's value, formatted once a second
}

// conn is one connection's state between reads.
type conn struct {
	h          *handler
	c          *netloop.Socket
	out        []byte // responses gathered during one read, sent with one write
	body       int64  // bytes of the current request's body still to come
	echo       bool   // the body goes into the response (POST /echo); else it is dropped
	http10     bool   // the current request is HTTP/1.0
	closeAfter bool   // end the connection after the current request
	done       bool   // the connection was ended: ignore whatever else comes
}

// serve runs one connection: each read's whole requests are answered in
// order and the responses sent with one write; a partial head stays in the
// socket's Inbound until the rest arrives, and a body is consumed (echoed
// or dropped) as it comes.
func (h *handler) serve(c *netloop.Socket) {
	cn := &conn{h: h, c: c}
	peer := "(gone)" // reset before it was accepted: no address
	if ip := c.RemoteAddress(); ip != "" {
		peer = net.JoinHostPort(ip, strconv.Itoa(c.RemotePort()))
	}
	// A client's reset is the client's problem: log it (without a
	// listener the error would stop the loop, and with it the server).
	c.OnError(func(err error) { log.Printf("http: client %s: %v", peer, err) })
	c.SetTimeout(idleTimeout)
	c.OnTimeout(func() { c.Destroy(nil) })
	c.OnInbound(cn.onInbound)
}

func (cn *conn) onInbound(in *socket.Inbound) {
	for !cn.done && in.Len() > 0 {
		if cn.body > 0 {
			b := in.Next(int(min(cn.body, int64(in.Len()))))
			cn.body -= int64(len(b))
			if cn.echo {
				cn.out = append(cn.out, b...)
			}
			if cn.body == 0 && cn.closeAfter {
				cn.end()
			}
			continue
		}
		b := in.Peek(-1)
		if b[0] == '\r' || b[0] == '\n' {
			in.Discard(1) // empty lines before a request are ignored (RFC 9112 2.2)
			continue
		}
		var r request
		n, status := parseHead(b, &r)
		if status != 0 {
			cn.fail(status)
			break
		}
		if n == 0 {
			break // a partial head: keep it for the next read
		}
		in.Discard(n)
		cn.handle(&r)
	}
	if cn.done {
		in.Discard(in.Len()) // read (so no reset) but ignored
		return
	}
	cn.flush()
}

// handle answers one request whose head has been read.
func (cn *conn) handle(r *request) {
	cn.http10 = r.minor == 0
	if r.transferEncoding {
		cn.fail(501) // a body of unknown length (chunked): not supported
		return
	}
	length := max(r.contentLength, 0)
	var status int
	var body, allow string
	path, method := string(r.path()), string(r.method)
	cn.echo = false
	switch {
	case path == "/" && (method == "GET" || method == "HEAD"):
		status, body = 200, "hello world\n"
	case path == "/":
		status, allow = 405, "GET, HEAD"
	case path == "/echo" && method == "POST":
		status, cn.echo = 200, true
	case path == "/echo":
		status, allow = 405, "POST"
	default:
		status = 404
	}
	if status != 200 {
		body = statusText(status) + "\n"
	}
	// A client that sent "Expect: 100-continue" waits before sending its
	// body: the echo asks for it, the others close rather than wait.
	cn.closeAfter = !r.keepAlive || length > 0 && r.expectContinue && !cn.echo
	if cn.echo {
		if length > 0 && r.expectContinue {
			cn.out = append(cn.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
		}
		ctype := "application/octet-stream"
		if len(r.contentType) > 0 {
			ctype = string(r.contentType)
		}
		cn.appendHead(200, ctype, length, "")
		cn.body = length
	} else {
		cn.appendHead(status, "text/plain; charset=utf-8", int64(len(body)), allow)
		if method != "HEAD" {
			cn.out = append(cn.out, body...)
		}
		if !cn.closeAfter {
			cn.body = length // dropped as it comes
		}
	}
	if cn.closeAfter && cn.body == 0 {
		cn.end()
	}
}

// fail answers a request that cannot be served and ends the connection.
func (cn *conn) fail(status int) {
	cn.closeAfter = true
	body := statusText(status) + "\n"
	cn.appendHead(status, "text/plain; charset=utf-8", int64(len(body)), "")
	cn.out = append(cn.out, body...)
	cn.end()
}

// appendHead appends a response's status line and headers.
func (cn *conn) appendHead(status int, contentType string, length int64, allow string) {
	b := append(cn.out, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, statusText(status)...)
	b = append(b, "\r\nDate: "...)
	b = append(b, cn.h.dateHeader()...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, contentType...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, length, 10)
	if allow != "" {
		b = append(b, "\r\nAllow: "...)
		b = append(b, allow...)
	}
	switch {
	case cn.closeAfter:
		b = append(b, "\r\nConnection: close"...)
	case cn.http10:
		b = append(b, "\r\nConnection: keep-alive"...)
	}
	cn.out = append(b, "\r\n\r\n"...)
}

// flush sends the gathered responses.
func (cn *conn) flush() {
	if len(cn.out) == 0 {
		return
	}
	// Write copies what the kernel does not take, so out is reused.
	if !cn.c.Write(cn.out) && !cn.c.IsPaused() {
		// The client does not read its responses: stop reading its
		// requests until they drain.
		cn.c.Pause()
		cn.c.OnceDrain(func() { cn.c.Resume() })
	}
	if cap(cn.out) > 1<<20 {
		cn.out = nil
	} else {
		cn.out = cn.out[:0]
	}
}

// end sends the gathered responses and the FIN. The socket keeps reading
// (and ignoring) until the client closes too, so that unread requests do
// not turn the close into a reset that could destroy the last response.
func (cn *conn) end() {
	cn.done = true
	cn.c.End(cn.out)
	cn.out = nil
}

// dateHeader returns the current Date header value.
func (h *handler) dateHeader() []byte {
	now := time.Now()
	if sec := now.Unix(); sec != h.dateSec || h.date == nil {
		h.dateSec = sec
		h.date = now.UTC().AppendFormat(h.date[:0], "Mon, 02 Jan 2006 15:04:05 GMT")
	}
	return h.date
}

func statusText(status int) string {
	switch status {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 417:
		return "Expectation Failed"
	case 431:
		return "Request Header Fields Too Large"
	case 501:
		return "Not Implemented"
	case 505:
		return "HTTP Version Not Supported"
	}
	return "Status " + strconv.Itoa(status)
}
