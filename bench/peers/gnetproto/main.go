// Command gnetproto is the gnet v2 peer of the protocol benchmark
// (cmd/protobench): one event loop serving either RESP (PING, SET, GET,
// CONFIG GET as redis-benchmark asks; a map owned by the loop) or HTTP/1.1
// (GET / answers "hello world\n" with Date, Content-Type and
// Content-Length, keep-alive), as examples/resp and examples/http do.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

type server struct {
	gnet.BuiltinEventEngine
	http  bool
	store map[string][]byte
	date  atomic.Pointer[[]byte]
	out   []byte
}

func (s *server) OnBoot(gnet.Engine) gnet.Action {
	s.tick()
	go func() {
		for range time.Tick(time.Second) {
			s.tick()
		}
	}()
	fmt.Println("ready")
	return gnet.None
}

func (s *server) tick() {
	d := []byte(time.Now().UTC().Format(time.RFC1123))
	s.date.Store(&d)
}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	s.out = s.out[:0]
	var used int
	var ok bool
	if s.http {
		used, ok = s.serveHTTP(buf)
	} else {
		used, ok = s.serveRESP(buf)
	}
	if len(s.out) > 0 {
		_, _ = c.Write(s.out)
	}
	_, _ = c.Discard(used)
	if !ok {
		return gnet.Close
	}
	return gnet.None
}

// serveHTTP answers every complete request head in b (requests without a
// body) and returns the bytes consumed.
func (s *server) serveHTTP(b []byte) (int, bool) {
	used := 0
	for {
		end := bytes.Index(b[used:], []byte("\r\n\r\n"))
		if end < 0 {
			return used, true
		}
		req := b[used : used+end]
		used += end + 4
		line := req
		if i := bytes.IndexByte(req, '\r'); i >= 0 {
			line = req[:i]
		}
		body, status := "hello world\n", "200 OK"
		if !bytes.HasPrefix(line, []byte("GET / ")) {
			body, status = "Not Found\n", "404 Not Found"
		}
		s.out = append(s.out, "HTTP/1.1 "...)
		s.out = append(s.out, status...)
		s.out = append(s.out, "\r\nDate: "...)
		s.out = append(s.out, *s.date.Load()...)
		s.out = append(s.out, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
		s.out = strconv.AppendInt(s.out, int64(len(body)), 10)
		s.out = append(s.out, "\r\n\r\n"...)
		s.out = append(s.out, body...)
	}
}

// serveRESP answers every complete command (an array of bulk strings) in
// b and returns the bytes consumed.
func (s *server) serveRESP(b []byte) (int, bool) {
	used := 0
	var args [][]byte
	for used < len(b) {
		args = args[:0]
		n, ok, bad := parseCommand(b[used:], &args)
		if bad {
			s.out = append(s.out, "-ERR protocol error\r\n"...)
			return used, false
		}
		if !ok {
			break
		}
		used += n
		s.exec(args)
	}
	return used, true
}

func (s *server) exec(args [][]byte) {
	if len(args) == 0 {
		return
	}
	switch string(bytes.ToUpper(args[0])) {
	case "PING":
		s.out = append(s.out, "+PONG\r\n"...)
	case "SET":
		if len(args) != 3 {
			s.out = append(s.out, "-ERR wrong number of arguments\r\n"...)
			return
		}
		v := s.store[string(args[1])]
		s.store[string(args[1])] = append(v[:0], args[2]...)
		s.out = append(s.out, "+OK\r\n"...)
	case "GET":
		if len(args) != 2 {
			s.out = append(s.out, "-ERR wrong number of arguments\r\n"...)
			return
		}
		v, ok := s.store[string(args[1])]
		if !ok {
			s.out = append(s.out, "$-1\r\n"...)
			return
		}
		s.out = append(s.out, '$')
		s.out = strconv.AppendInt(s.out, int64(len(v)), 10)
		s.out = append(s.out, "\r\n"...)
		s.out = append(s.out, v...)
		s.out = append(s.out, "\r\n"...)
	case "CONFIG":
		if len(args) == 3 && (string(args[2]) == "save" || string(args[2]) == "appendonly") {
			val := ""
			if string(args[2]) == "appendonly" {
				val = "no"
			}
			s.out = fmt.Appendf(s.out, "*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(args[2]), args[2], len(val), val)
			return
		}
		s.out = append(s.out, "*0\r\n"...)
	default:
		s.out = append(s.out, "-ERR unknown command\r\n"...)
	}
}

// parseCommand reads one RESP array of bulk strings from b into args: n
// bytes, ok false when incomplete, bad on malformed input.
func parseCommand(b []byte, args *[][]byte) (n int, ok, bad bool) {
	if len(b) == 0 {
		return 0, false, false
	}
	if b[0] != '*' {
		// An inline command ("PING\r\n"), as redis-benchmark's PING_INLINE.
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return 0, false, len(b) > 1<<16
		}
		*args = append(*args, bytes.Fields(b[:i])...)
		return i + 2, true, false
	}
	count, p, ok, bad := readInt(b, 1)
	if !ok || bad {
		return 0, false, bad
	}
	for i := 0; i < count; i++ {
		if p >= len(b) {
			return 0, false, false
		}
		if b[p] != '$' {
			return 0, false, true
		}
		var size int
		size, p, ok, bad = readInt(b, p+1)
		if !ok || bad {
			return 0, false, bad
		}
		if p+size+2 > len(b) {
			return 0, false, false
		}
		*args = append(*args, b[p:p+size])
		p += size + 2
	}
	return p, true, false
}

func readInt(b []byte, p int) (v, next int, ok, bad bool) {
	i := bytes.Index(b[p:], []byte("\r\n"))
	if i < 0 {
		return 0, 0, false, len(b)-p > 20
	}
	v, err := strconv.Atoi(string(b[p : p+i]))
	if err != nil || v < 0 {
		return 0, 0, false, true
	}
	return v, p + i + 2, true, false
}

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	proto := flag.String("proto", "resp", "resp or http")
	flag.Parse()
	s := &server{http: *proto == "http", store: map[string][]byte{}}
	err := gnet.Run(s, fmt.Sprintf("tcp://127.0.0.1:%d", *port),
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogLevel(logging.ErrorLevel))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gnet:", err)
		os.Exit(1)
	}
}
