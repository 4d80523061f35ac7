//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startServer runs the server in-process on a free loopback port and stops
// it when the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1", 0, func(addr string) { addrc <- addr }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("the server did not stop")
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// readResponse reads one response and its body.
func readResponse(t *testing.T, r *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	res, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading a body: %v", err)
	}
	return res, string(body)
}

func check(t *testing.T, what string, res *http.Response, body string, status int, wantBody string) {
	t.Helper()
	if res.StatusCode != status || body != wantBody {
		t.Errorf("%s: got %d %q, want %d %q", what, res.StatusCode, body, status, wantBody)
	}
}

// expectEOF checks that the server closed the connection and sent nothing
// more.
func expectEOF(t *testing.T, r *bufio.Reader) {
	t.Helper()
	if rest, err := io.ReadAll(r); err != nil || len(rest) > 0 {
		t.Errorf("after the response: %q, %v; want the connection closed", rest, err)
	}
}

// Go's own client, reusing one kept-alive connection for every request.
func TestNetHTTPClient(t *testing.T) {
	addr := startServer(t)
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	big := make([]byte, 4<<20)
	rand.Read(big)
	do := func(method, path, body string, status int, want string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		check(t, method+" "+path, res, string(got), status, want)
		if method == "GET" && path == "/" && res.ContentLength != int64(len(want)) {
			t.Errorf("Content-Length %d", res.ContentLength)
		}
	}
	for range 3 {
		do("GET", "/", "", 200, "hello world\n")
	}
	do("HEAD", "/", "", 200, "")
	do("POST", "/echo", "ping", 200, "ping")
	do("POST", "/echo", "", 200, "")
	do("POST", "/echo", string(big), 200, string(big)) // streamed back as it arrives
	do("GET", "/missing", "", 404, "Not Found\n")
	do("DELETE", "/", "", 405, "Method Not Allowed\n")
	do("GET", "/?q=1", "", 200, "hello world\n")
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for the requests, want 1 kept alive", n)
	}
}

// Requests written all at once are answered in order.
func TestPipelined(t *testing.T) {
	c := dial(t, startServer(t))
	send(t, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"+
		"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"+
		"\r\n"+ // a stray CRLF between requests is ignored
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-test\r\nContent-Length: 6\r\n\r\nsecond"+
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET "+ // 405, body dropped
		"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c)
	res, body := readResponse(t, r, "GET")
	check(t, "GET /", res, body, 200, "hello world\n")
	res, body = readResponse(t, r, "POST")
	check(t, "POST /echo", res, body, 200, "first")
	res, body = readResponse(t, r, "GET")
	check(t, "GET /nope", res, body, 404, "Not Found\n")
	res, body = readResponse(t, r, "POST")
	check(t, "POST /echo", res, body, 200, "second")
	if ct := res.Header.Get("Content-Type"); ct != "text/x-test" {
		t.Errorf("echo Content-Type %q", ct)
	}
	res, body = readResponse(t, r, "POST")
	check(t, "POST /", res, body, 405, "Method Not Allowed\n")
	res, body = readResponse(t, r, "HEAD")
	check(t, "HEAD /", res, body, 200, "")
	if res.ContentLength != 12 || res.Close {
		t.Errorf("HEAD: Content-Length %d, close %v", res.ContentLength, res.Close)
	}
}

// A head written a byte at a time and a body in pieces, with pauses so
// that the server reads them separately.
func TestSplitRequest(t *testing.T) {
	c := dial(t, startServer(t))
	r := bufio.NewReader(c)
	head := "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\n"
	for i := range len(head) {
		send(t, c, head[i:i+1])
		time.Sleep(time.Millisecond)
	}
	for _, piece := range []string{"abcdefgh", "ijklmnopq", "rstuvwxyz"} {
		send(t, c, piece)
		time.Sleep(5 * time.Millisecond)
	}
	res, body := readResponse(t, r, "POST")
	check(t, "split POST", res, body, 200, "abcdefghijklmnopqrstuvwxyz")
	// The end of one request and the start of the next in one write.
	send(t, c, "GET / HTTP/1.1\r\nHo")
	time.Sleep(5 * time.Millisecond)
	send(t, c, "st: x\r\n\r\nGET / HTTP/1.1\r\n")
	time.Sleep(5 * time.Millisecond)
	send(t, c, "Host: x\r\n\r\n")
	for range 2 {
		res, body = readResponse(t, r, "GET")
		check(t, "split GET", res, body, 200, "hello world\n")
	}
}

// Malformed requests get an error status and the connection is closed.
func TestMalformed(t *testing.T) {
	addr := startServer(t)
	for _, tc := range []struct {
		req    string
		status int
	}{
		{"GARBAGE\r\n\r\n", 400},
		{"GET /\r\n\r\n", 400},
		{"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"GET / HTTP/1.1\r\n\r\n", 400},                        // no Host
		{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},  // two
		{"GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400}, // not a header
		{"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},            // space before the colon
		{"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},  // obsolete line folding
		{"GET / HTTP/1.1\nHost: x\n\n", 400},                   // bare LFs
		{"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
		{"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
		{"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501},
		{"GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417},
		{"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", maxHead) + "\r\n\r\n", 431},
	} {
		c := dial(t, addr)
		send(t, c, tc.req)
		r := bufio.NewReader(c)
		res, body := readResponse(t, r, "GET")
		if res.StatusCode != tc.status || !res.Close || body != statusText(tc.status)+"\n" {
			t.Errorf("%.40q: got %d %q (close %v), want %d and a close", tc.req, res.StatusCode, body, res.Close, tc.status)
		}
		expectEOF(t, r)
	}
}

// "Connection: close" and HTTP/1.0 end the connection after the response;
// HTTP/1.0 with "Connection: keep-alive" does not.
func TestConnectionClose(t *testing.T) {
	addr := startServer(t)
	for _, req := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, Close\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.0\r\n\r\n",
	} {
		c := dial(t, addr)
		send(t, c, req)
		r := bufio.NewReader(c)
		res, _ := readResponse(t, r, "GET")
		if res.StatusCode != 200 || !res.Close {
			t.Errorf("%q: got %d, close %v; want 200 and a close", req, res.StatusCode, res.Close)
		}
		expectEOF(t, r)
	}

	c := dial(t, addr)
	r := bufio.NewReader(c)
	for range 2 {
		send(t, c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		res, body := readResponse(t, r, "GET")
		check(t, "HTTP/1.0 keep-alive", res, body, 200, "hello world\n")
		if res.Header.Get("Connection") != "keep-alive" {
			t.Errorf("HTTP/1.0 keep-alive answered with Connection %q", res.Header.Get("Connection"))
		}
	}
}

// "Expect: 100-continue": the echo asks for the body, the others close.
func TestExpectContinue(t *testing.T) {
	addr := startServer(t)
	c := dial(t, addr)
	r := bufio.NewReader(c)
	send(t, c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	line, err := r.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q, %v; want 100 Continue", line, err)
	}
	if line, _ := r.ReadString('\n'); line != "\r\n" {
		t.Fatalf("after 100 Continue: %q", line)
	}
	send(t, c, "body")
	res, body := readResponse(t, r, "POST")
	check(t, "echo after 100", res, body, 200, "body")

	c = dial(t, addr)
	r = bufio.NewReader(c)
	send(t, c, "POST /missing HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	res, body = readResponse(t, r, "POST")
	if res.StatusCode != 404 || !res.Close {
		t.Errorf("got %d %q (close %v), want 404 and a close", res.StatusCode, body, res.Close)
	}
	expectEOF(t, r)
}

// Clients that go away in the middle of a request, with a FIN or a reset,
// do not disturb the server or its other clients.
func TestClientGoesAway(t *testing.T) {
	addr := startServer(t)
	other := dial(t, addr)
	r := bufio.NewReader(other)
	for _, reset := range []bool{false, true, false, true} {
		c := dial(t, addr)
		send(t, c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
		if reset {
			c.(*net.TCPConn).SetLinger(0) // close with RST
		}
		c.Close()
		send(t, other, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, body := readResponse(t, r, "GET")
		check(t, "other client", res, body, 200, "hello world\n")
	}
	// A client that sends requests without reading the responses (the
	// server stops reading it once the replies back up) does not hold up
	// the others.
	slow := dial(t, addr)
	req := bytes.Repeat([]byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n"+strings.Repeat("x", 65536)), 16)
	go slow.Write(req) // blocks once the server stops reading
	time.Sleep(50 * time.Millisecond)
	send(t, other, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	res, body := readResponse(t, r, "GET")
	check(t, "beside a slow client", res, body, 200, "hello world\n")
}
