//go:build !windows

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"strconv"
	"sync"
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

// client is a test's connection to the server.
type client struct {
	t *testing.T
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t, c, bufio.NewReader(c)}
}

// encode writes a command as a RESP array of bulk strings.
func encode(args ...string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

func (c *client) send(b []byte) {
	c.t.Helper()
	if _, err := c.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// do sends one command and returns its reply.
func (c *client) do(args ...string) any {
	c.t.Helper()
	c.send(encode(args...))
	return c.reply()
}

// replyError is an error reply ("-ERR ...").
type replyError string

// reply reads one reply: a string for "+", replyError for "-", int64 for
// ":", string or nil for "$", []any for "*".
func (c *client) reply() any {
	c.t.Helper()
	v, err := readReply(c.r)
	if err != nil {
		c.t.Fatalf("reading a reply: %v", err)
	}
	return v
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	kind, text := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return text, nil
	case '-':
		return replyError(text), nil
	case ':':
		return strconv.ParseInt(text, 10, 64)
	case '$':
		n, err := strconv.Atoi(text)
		if err != nil || n < 0 {
			return nil, err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, err := strconv.Atoi(text)
		if err != nil {
			return nil, err
		}
		a := []any{}
		for range n {
			v, err := readReply(r)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	}
	return nil, fmt.Errorf("bad reply line %q", line)
}

func expect(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v, want %#v", what, got, want)
	}
}

func TestCommands(t *testing.T) {
	c := dial(t, startServer(t))
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"ping", "hi"}, "hi"},
		{[]string{"ECHO", "hello\r\nworld"}, "hello\r\nworld"},
		{[]string{"GET", "k"}, nil},
		{[]string{"SET", "k", "v1"}, "OK"},
		{[]string{"GET", "k"}, "v1"},
		{[]string{"set", "k", ""}, "OK"},
		{[]string{"Get", "k"}, ""},
		{[]string{"SET", "k2", "v2"}, "OK"},
		{[]string{"DEL", "k", "k2", "missing"}, int64(2)},
		{[]string{"GET", "k"}, nil},
		{[]string{"INCR", "n"}, int64(1)},
		{[]string{"INCR", "n"}, int64(2)},
		{[]string{"GET", "n"}, "2"},
		{[]string{"SET", "n", "-5"}, "OK"},
		{[]string{"INCR", "n"}, int64(-4)},
		{[]string{"SET", "s", "abc"}, "OK"},
		{[]string{"INCR", "s"}, replyError("ERR value is not an integer or out of range")},
		{[]string{"SET", "s", "007"}, "OK"},
		{[]string{"INCR", "s"}, replyError("ERR value is not an integer or out of range")},
		{[]string{"SET", "max", "9223372036854775807"}, "OK"},
		{[]string{"INCR", "max"}, replyError("ERR increment or decrement would overflow")},
		{[]string{"COMMAND", "DOCS"}, []any{}},
		{[]string{"CONFIG", "GET", "save"}, []any{"save", ""}},
		{[]string{"CONFIG", "GET", "appendonly"}, []any{"appendonly", "no"}},
		{[]string{"config", "get", "*"}, []any{"save", "", "appendonly", "no"}},
		{[]string{"CONFIG", "GET", "maxmemory"}, []any{}},
		{[]string{"CONFIG", "SET", "save", ""}, replyError("ERR unknown subcommand 'SET'. Try CONFIG HELP.")},
		{[]string{"GET"}, replyError("ERR wrong number of arguments for 'get' command")},
		{[]string{"SET", "k", "v", "EX", "10"}, replyError("ERR syntax error")},
		{[]string{"FLUSHALL", "a", "b"}, replyError("ERR unknown command 'FLUSHALL', with args beginning with: 'a' 'b' ")},
		{[]string{"PING"}, "PONG"}, // still serving after the errors
	} {
		expect(t, fmt.Sprint(tc.args), c.do(tc.args...), tc.want)
	}
}

func TestInline(t *testing.T) {
	c := dial(t, startServer(t))
	// What redis-benchmark -I and nc send: lines of words, CRLF or LF,
	// mixed with RESP arrays; empty lines are skipped.
	c.send([]byte("PING\r\n\r\nSET  k\tinline\nGET k\r\n"))
	c.send(encode("ECHO", "array"))
	c.send([]byte("NOPE x\r\n"))
	expect(t, "PING", c.reply(), "PONG")
	expect(t, "SET", c.reply(), "OK")
	expect(t, "GET", c.reply(), "inline")
	expect(t, "ECHO", c.reply(), "array")
	expect(t, "NOPE", c.reply(), replyError("ERR unknown command 'NOPE', with args beginning with: 'x' "))
}

func TestPipelining(t *testing.T) {
	c := dial(t, startServer(t))
	var batch []byte
	var want []any
	for i := range 50 {
		k, v := "key:"+strconv.Itoa(i), "value:"+strconv.Itoa(i)
		batch = append(batch, encode("SET", k, v)...)
		batch = append(batch, encode("GET", k)...)
		want = append(want, "OK", v)
	}
	c.send(batch) // 100 commands in one write
	for i, w := range want {
		expect(t, "reply "+strconv.Itoa(i), c.reply(), w)
	}
}

// A command split at every byte boundary, in two writes each time, and
// one written a byte at a time, with a pause between writes so that the
// server reads the pieces separately.
func TestSplitCommands(t *testing.T) {
	c := dial(t, startServer(t))
	for _, cmd := range [][]byte{encode("SET", "split", "a value"), []byte("SET split inline\r\n")} {
		for i := 1; i < len(cmd); i++ {
			c.send(cmd[:i])
			time.Sleep(time.Millisecond)
			c.send(cmd[i:])
			expect(t, fmt.Sprintf("%q split at %d", cmd, i), c.reply(), "OK")
		}
	}
	cmd := append(encode("INCR", "bytes"), "ECHO one-by-one\r\n"...)
	for i := range cmd {
		c.send(cmd[i : i+1])
		time.Sleep(time.Millisecond)
	}
	expect(t, "INCR", c.reply(), int64(1))
	expect(t, "ECHO", c.reply(), "one-by-one")
	expect(t, "GET", c.do("GET", "split"), "inline")
}

func TestLargeValue(t *testing.T) {
	c := dial(t, startServer(t))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rand.IntN(256)) // CRLFs included
	}
	// The SET, a GET and a PING in one write: the value spans many reads.
	c.send(append(append(encode("SET", "big", string(big)), encode("GET", "big")...), "PING\r\n"...))
	expect(t, "SET", c.reply(), "OK")
	if got := c.reply(); got != string(big) {
		s, _ := got.(string)
		t.Fatalf("GET returned %d bytes, not the 1 MiB value", len(s))
	}
	expect(t, "PING", c.reply(), "PONG")
	expect(t, "DEL", c.do("DEL", "big"), int64(1))
}

func TestProtocolError(t *testing.T) {
	addr := startServer(t)
	for _, bad := range []string{"*1\r\n$x\r\n", "*2\r\n:1\r\n", "*1\r\n$3\r\nGETxx", "*-x\r\n"} {
		c := dial(t, addr)
		c.send([]byte("PING\r\n" + bad))
		expect(t, "PING", c.reply(), "PONG")
		r, ok := c.reply().(replyError)
		if !ok || !bytes.HasPrefix([]byte(r), []byte("ERR Protocol error: ")) {
			t.Errorf("%q: got %q, want a protocol error", bad, r)
		}
		// Then the server closes the connection.
		if rest, err := io.ReadAll(c.r); err != nil || len(rest) > 0 {
			t.Errorf("%q: after the error: %q, %v; want EOF", bad, rest, err)
		}
	}
}

// Clients that go away in the middle of a command, with a FIN or a reset,
// do not disturb the server or its other clients.
func TestClientDisconnectsMidCommand(t *testing.T) {
	addr := startServer(t)
	other := dial(t, addr)
	expect(t, "SET", other.do("SET", "n", "10"), "OK")
	for i, reset := range []bool{false, true, false, true} {
		c := dial(t, addr)
		c.send([]byte("*3\r\n$3\r\nSET\r\n$1\r\nn\r\n$10\r\nabc"))
		if reset {
			c.Conn.(*net.TCPConn).SetLinger(0) // close with RST
		}
		c.Close()
		expect(t, "INCR", other.do("INCR", "n"), int64(11+i))
	}
	expect(t, "GET", other.do("GET", "n"), "14") // the partial SETs never ran
	expect(t, "new client", dial(t, addr).do("PING"), "PONG")
}

// Many clients at once, each on its own goroutine; their commands all run
// on the server's loop, in some order.
func TestConcurrentClients(t *testing.T) {
	addr := startServer(t)
	const clients, each = 10, 100
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				errc <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			r := bufio.NewReader(c)
			for range each {
				if _, err := c.Write(encode("INCR", "counter")); err != nil {
					errc <- err
					return
				}
				if v, err := readReply(r); err != nil {
					errc <- err
					return
				} else if _, ok := v.(int64); !ok {
					errc <- fmt.Errorf("INCR returned %#v", v)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	expect(t, "GET", dial(t, addr).do("GET", "counter"), strconv.Itoa(clients*each))
}
