package main

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"path"
	"strconv"
	"strings"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/socket"
)

// store is the data set. Every connection runs on the server's one loop,
// so the map needs no lock.
type store struct {
	data map[string]string
}

func newStore() *store { return &store{data: make(map[string]string)} }

// serve runs one client: the whole commands of each read are executed in
// order, their replies gathered and sent with one write; a partial command
// stays in the socket's Inbound until the rest arrives.
func (s *store) serve(c *netloop.Socket) {
	var (
		p      parser
		out    []byte
		closed bool // a protocol error was answered: the rest is ignored
	)
	// A client's reset is the client's problem: log it (without a
	// listener the error would stop the loop, and with it the server).
	peer := "(gone)" // reset before it was accepted: no address
	if ip := c.RemoteAddress(); ip != "" {
		peer = net.JoinHostPort(ip, strconv.Itoa(c.RemotePort()))
	}
	c.OnError(func(err error) { log.Printf("resp: client %s: %v", peer, err) })
	c.OnInbound(func(in *socket.Inbound) {
		if closed {
			in.Discard(in.Len())
			return
		}
		for in.Len() > 0 {
			n, err := p.parse(in.Peek(-1))
			if err != nil {
				// As Redis: answer, then close the connection.
				c.End(appendError(out, "ERR "+err.Error()))
				in.Discard(in.Len())
				closed = true
				return
			}
			if n == 0 {
				break // a partial command: keep it for the next read
			}
			if len(p.args) > 0 {
				out = s.exec(out, p.args)
			}
			in.Discard(n)
		}
		if len(out) == 0 {
			return
		}
		// Write copies what the kernel does not take, so out is reused.
		if !c.Write(out) && !c.IsPaused() {
			// The client does not read its replies: stop reading its
			// commands until they drain.
			c.Pause()
			c.OnceDrain(func() { c.Resume() })
		}
		if cap(out) > 1<<20 {
			out = nil // do not keep a large reply's buffer
		} else {
			out = out[:0]
		}
	})
}

// command is one entry of the command table.
type command struct {
	arity int // Redis's count, the name included: n exactly, -n at least n
	run   func(s *store, out []byte, args [][]byte) []byte
}

var commands = map[string]command{
	"PING":    {-1, (*store).ping},
	"ECHO":    {2, (*store).echo},
	"SET":     {-3, (*store).set},
	"GET":     {2, (*store).get},
	"DEL":     {-2, (*store).del},
	"INCR":    {2, (*store).incr},
	"COMMAND": {-1, (*store).command},
	"CONFIG":  {-2, (*store).config},
}

// exec runs one command and appends its reply to out.
func (s *store) exec(out []byte, args [][]byte) []byte {
	var upper [16]byte // command names are case-insensitive
	name := args[0]
	cmd, ok := command{}, false
	if len(name) <= len(upper) {
		for i, c := range name {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			upper[i] = c
		}
		cmd, ok = commands[string(upper[:len(name)])]
	}
	switch {
	case !ok:
		msg := fmt.Sprintf("ERR unknown command '%.128s', with args beginning with: ", name)
		for _, a := range args[1:] {
			if len(msg) > 256 {
				break
			}
			msg += fmt.Sprintf("'%.128s' ", a)
		}
		return appendError(out, msg)
	case cmd.arity > 0 && len(args) != cmd.arity, cmd.arity < 0 && len(args) < -cmd.arity:
		return appendError(out, "ERR wrong number of arguments for '"+strings.ToLower(string(name))+"' command")
	}
	return cmd.run(s, out, args)
}

func (s *store) ping(out []byte, args [][]byte) []byte {
	switch len(args) {
	case 1:
		return appendSimple(out, "PONG")
	case 2:
		return appendBulk(out, args[1])
	}
	return appendError(out, "ERR wrong number of arguments for 'ping' command")
}

func (s *store) echo(out []byte, args [][]byte) []byte { return appendBulk(out, args[1]) }

// set supports the plain form only (no EX, PX, NX, XX, ...).
func (s *store) set(out []byte, args [][]byte) []byte {
	if len(args) != 3 {
		return appendError(out, "ERR syntax error")
	}
	s.data[string(args[1])] = string(args[2]) // copies: args are the read buffer
	return appendSimple(out, "OK")
}

func (s *store) get(out []byte, args [][]byte) []byte {
	v, ok := s.data[string(args[1])]
	if !ok {
		return appendNull(out)
	}
	return appendBulk(out, v)
}

func (s *store) del(out []byte, args [][]byte) []byte {
	n := 0
	for _, k := range args[1:] {
		if _, ok := s.data[string(k)]; ok {
			delete(s.data, string(k))
			n++
		}
	}
	return appendInt(out, int64(n))
}

func (s *store) incr(out []byte, args [][]byte) []byte {
	n := int64(0)
	if v, ok := s.data[string(args[1])]; ok {
		if n, ok = parseInt(v); !ok {
			return appendError(out, "ERR value is not an integer or out of range")
		}
	}
	if n == 1<<63-1 {
		return appendError(out, "ERR increment or decrement would overflow")
	}
	n++
	s.data[string(args[1])] = strconv.FormatInt(n, 10)
	return appendInt(out, n)
}

// command answers COMMAND (and COMMAND DOCS, which redis-cli sends when it
// starts) with an empty list: no command metadata.
func (s *store) command(out []byte, args [][]byte) []byte { return appendArray(out, 0) }

// config answers CONFIG GET for the two parameters redis-benchmark asks
// about, with the values of a server that does not persist anything.
func (s *store) config(out []byte, args [][]byte) []byte {
	if !bytes.EqualFold(args[1], []byte("GET")) {
		return appendError(out, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try CONFIG HELP.", args[1]))
	}
	if len(args) < 3 {
		return appendError(out, "ERR wrong number of arguments for 'config|get' command")
	}
	params := [][2]string{{"save", ""}, {"appendonly", "no"}}
	var found [][2]string
	for _, kv := range params {
		for _, pattern := range args[2:] {
			if ok, _ := path.Match(strings.ToLower(string(pattern)), kv[0]); ok {
				found = append(found, kv)
				break
			}
		}
	}
	out = appendArray(out, 2*len(found))
	for _, kv := range found {
		out = appendBulk(out, kv[0])
		out = appendBulk(out, kv[1])
	}
	return out
}
