//go:build !windows

package netloop_test

// The examples of docs/guide.md. Every ```go block of the guide is a
// verbatim piece of this file (TestGuideSnippetsAreTested checks it), and
// every pattern runs as an Example whose output go test checks.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/socket"
)

// logError is every connection's 'error' listener: a client that resets
// its connection must not stop the whole server.
func logError(err error) { log.Println("connection error:", err) }

// Example_unhandledError: an 'error' nobody listens to stops the loop,
// and Run returns it.
func Example_unhandledError() {
	l, _ := loop.New()
	defer l.Close()
	errBad := errors.New("bad request")
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, func(c *netloop.Socket) {
		c.Destroy(errBad) // emits 'error' on c, which has no OnError
	})
	var client *netloop.Socket
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ = netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		client.OnError(func(error) {}) // whatever the client sees is fine here
	})
	err := l.Run(loop.RunDefault)
	var ue *loop.UnhandledError
	fmt.Println(errors.As(err, &ue), errors.Is(err, errBad))

	// The server and the client are still open: close them, let the loop finish.
	srv.Close(nil)
	client.Destroy(nil)
	fmt.Println(l.Run(loop.RunDefault))
	// Output:
	// true true
	// <nil>
}

// ---- 1. Framing

// maxFrame bounds what a client may make the server buffer.
const maxFrame = 1 << 20

// serveFrames answers every frame (a 4-byte big-endian length, then the
// payload) with a line.
func serveFrames(c *netloop.Socket) {
	c.OnError(logError)
	c.OnInbound(func(in *socket.Inbound) {
		for {
			header := in.Peek(4)
			if header == nil {
				return // not even a whole header yet: in keeps it
			}
			n := int(binary.BigEndian.Uint32(header))
			if n > maxFrame {
				c.Destroy(fmt.Errorf("frame of %d bytes", n))
				return
			}
			if in.Len() < 4+n {
				return // a partial frame: in keeps it for the next chunk
			}
			in.Discard(4)
			msg := in.Next(n) // valid during this callback only
			c.Write(fmt.Appendf(nil, "%s (%d bytes)\n", msg, len(msg)))
		}
	})
}

// nextLine takes one '\n'-terminated line from in, without the '\n', or
// returns nil when no whole line has arrived yet.
func nextLine(in *socket.Inbound) []byte {
	i := bytes.IndexByte(in.Peek(-1), '\n')
	if i < 0 {
		return nil
	}
	return in.Next(i + 1)[:i]
}

// Example_framing runs serveFrames against a client that splits frames,
// length prefixes included.
func Example_framing() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, serveFrames)
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		client.OnClose(func(bool) { srv.Close(nil) })

		var wire []byte
		for _, msg := range []string{"hello", "split", "frames"} {
			wire = binary.BigEndian.AppendUint32(wire, uint32(len(msg)))
			wire = append(wire, msg...)
		}
		// Cut the stream inside the second and third length prefixes, and
		// send each piece only once the frame before it was answered, so
		// the server really receives split frames.
		pieces := [][]byte{wire[:11], wire[11:20], wire[20:]}
		client.Write(pieces[0])
		client.OnData(func(data []byte) {
			fmt.Print("client got: ", string(data))
			if pieces = pieces[1:]; len(pieces) == 0 {
				client.End(nil)
				return
			}
			client.Write(pieces[0])
		})
	})
	l.Run(loop.RunDefault)
	// Output:
	// client got: hello (5 bytes)
	// client got: split (5 bytes)
	// client got: frames (6 bytes)
}

// ---- 2. Pipelining, replies in order

// slowSquare is the work done off the loop: a request n takes n*10ms, so
// requests sent in decreasing order finish in reverse.
func slowSquare(req string) string {
	n, err := strconv.Atoi(req)
	if err != nil {
		return "error: not a number"
	}
	time.Sleep(time.Duration(n) * 10 * time.Millisecond)
	return fmt.Sprintf("%d squared is %d", n, n*n)
}

// servePipelined runs every request on a goroutine and writes the replies
// in the order of the requests, whatever order they finish in.
func servePipelined(c *netloop.Socket) {
	c.OnError(logError)
	lp := c.Loop() // Post is the one door to the loop from goroutines
	var (
		next, sent int                // sequence numbers: next request, next reply to write
		done       = map[int]string{} // replies back before their turn
	)
	flush := func() {
		for {
			reply, ok := done[sent]
			if !ok {
				return // the next reply in order is not back yet
			}
			delete(done, sent)
			sent++
			c.Write([]byte(reply + "\n"))
		}
	}
	c.OnInbound(func(in *socket.Inbound) {
		for line := nextLine(in); line != nil; line = nextLine(in) {
			seq, req := next, string(line) // string copies: line dies with the callback
			next++
			go func() {
				reply := slowSquare(req) // never touch c here
				lp.Post(func() {
					if c.Destroyed() {
						return // the client has gone: nobody to answer
					}
					done[seq] = reply
					flush()
				})
			}()
		}
	})
}

// Example_pipelining sends four requests at once; they finish in reverse
// order and are answered in order.
func Example_pipelining() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, servePipelined)
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		client.OnClose(func(bool) { srv.Close(nil) })
		client.Write([]byte("4\n3\n2\n1\n")) // 4 takes longest, 1 is done first
		replies := 0
		client.OnInbound(func(in *socket.Inbound) {
			for line := nextLine(in); line != nil; line = nextLine(in) {
				fmt.Println("client got:", string(line))
				if replies++; replies == 4 {
					client.End(nil)
				}
			}
		})
	})
	l.Run(loop.RunDefault)
	// Output:
	// client got: 4 squared is 16
	// client got: 3 squared is 9
	// client got: 2 squared is 4
	// client got: 1 squared is 1
}

// ---- 3. Limiting requests in flight

// maxInFlight is how many requests of one connection may run at once.
const maxInFlight = 3

// serveLimited runs at most maxInFlight requests of a connection at a time
// and stops reading while all of them are taken.
func serveLimited(c *netloop.Socket) {
	c.OnError(logError)
	lp := c.Loop()
	var (
		queue          []string // parsed, waiting for a free slot
		inFlight, most int
	)
	var start func()
	start = func() {
		for inFlight < maxInFlight && len(queue) > 0 {
			req := queue[0]
			queue = queue[1:]
			inFlight++
			most = max(most, inFlight)
			go func() {
				reply := slowSquare(req)
				lp.Post(func() {
					inFlight--
					if !c.Destroyed() {
						c.Write([]byte(reply + "\n"))
						start()
					}
				})
			}()
		}
		// Read no more while every slot is taken: the kernel's buffers fill
		// up and TCP slows the client down.
		if inFlight == maxInFlight {
			c.Pause()
		} else {
			c.Resume()
		}
	}
	c.OnInbound(func(in *socket.Inbound) {
		// Take every whole request out: what stays in in comes back only
		// with the next chunk, and a paused socket reads none.
		for line := nextLine(in); line != nil; line = nextLine(in) {
			queue = append(queue, string(line))
		}
		start()
	})
	c.OnClose(func(bool) { fmt.Println("server: most in flight:", most) })
}

// Example_inFlightLimit sends eight requests at once; at most three run.
func Example_inFlightLimit() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, serveLimited)
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		client.Write([]byte("1\n2\n3\n4\n5\n6\n7\n8\n"))
		replies := 0
		client.OnInbound(func(in *socket.Inbound) {
			for line := nextLine(in); line != nil; line = nextLine(in) {
				if replies++; replies == 8 {
					fmt.Println("client: 8 replies")
					client.End(nil)
				}
			}
		})
		client.OnClose(func(bool) { srv.Close(nil) })
	})
	l.Run(loop.RunDefault)
	// Output:
	// client: 8 replies
	// server: most in flight: 3
}

// ---- 4. Replying after the client half-closed

// serveWholeRequest reads the whole request, up to the client's FIN, and
// answers it from a goroutine.
func serveWholeRequest(c *netloop.Socket) {
	c.OnError(logError)
	lp := c.Loop()
	var req []byte
	c.OnData(func(data []byte) { req = append(req, data...) }) // a copy: data is the loop's buffer
	c.OnEnd(func() {
		// The client has sent everything. With AllowHalfOpen our side
		// stays open until we End it, however long the answer takes.
		go func() {
			answer := fmt.Sprintf("%d bytes, %d words\n", len(req), len(bytes.Fields(req)))
			lp.Post(func() {
				if !c.Destroyed() {
					c.End([]byte(answer))
				}
			})
		}()
	})
}

// Example_halfOpen sends a request in two writes and half-closes; the
// answer comes back after the FIN.
func Example_halfOpen() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l, AllowHalfOpen: true}, serveWholeRequest)
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		client.Write([]byte("a request in "))
		client.Write([]byte("two writes"))
		client.End(nil) // "that is all": the server gets 'end', we can still read
		client.OnData(func(data []byte) { fmt.Print("client got: ", string(data)) })
		client.OnClose(func(bool) { srv.Close(nil) })
	})
	l.Run(loop.RunDefault)
	// Output:
	// client got: 23 bytes, 5 words
}

// ---- 5. Idle timeouts

// serveIdle echoes, and closes connections idle for 50ms.
func serveIdle(c *netloop.Socket) {
	c.OnError(logError)
	c.SetTimeout(50 * time.Millisecond) // every read or write restarts it
	c.OnTimeout(func() {
		// 'timeout' only warns: closing is up to us.
		if c.Writable() {
			fmt.Println("server: idle, closing")
			c.End([]byte("bye\n"))
			c.SetTimeout(50 * time.Millisecond) // one more period to close its side
			return
		}
		c.Destroy(nil) // it does not read, or does not close: drop it
	})
	c.OnData(func(data []byte) { c.Write(data) })
}

// Example_idleTimeout has a client that sends one line and goes quiet.
func Example_idleTimeout() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, serveIdle)
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		client.Write([]byte("ping\n")) // then nothing
		client.OnData(func(data []byte) { fmt.Print("client got: ", string(data)) })
		client.OnEnd(func() { fmt.Println("client: the server ended the connection") })
		client.OnClose(func(bool) { srv.Close(nil) })
	})
	l.Run(loop.RunDefault)
	// Output:
	// client got: ping
	// server: idle, closing
	// client got: bye
	// client: the server ended the connection
}

// ---- 6. Writing with backpressure

// rows of 1 KiB make a reply of 16 MiB, more than the kernel and the
// high-water mark take at once.
const rows = 16384

var filler = strings.Repeat("x", 1016)

// serveRows streams rows through an io.Writer, waiting for 'drain'
// whenever the socket has buffered its high-water mark.
func serveRows(c *netloop.Socket) {
	c.OnError(logError)
	w := c.IOWriter()
	row, waits := 0, 0
	var produce func()
	produce = func() {
		for ; row < rows; row++ {
			if c.NeedDrain() {
				waits++
				c.OnceDrain(produce) // go on once the queue has emptied
				return
			}
			if _, err := fmt.Fprintf(w, "%06d %s\n", row, filler); err != nil {
				return // destroyed: the client has gone
			}
		}
		fmt.Println("server: all rows queued, waited for drain:", waits > 0)
		c.End(nil)
	}
	produce()
}

// Example_backpressure streams 16 MiB to a client on the same loop, which
// cannot read while the server writes: the server has to wait for drain.
func Example_backpressure() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, serveRows)
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		got := 0
		client.OnData(func(data []byte) { got += bytes.Count(data, []byte("\n")) })
		client.OnEnd(func() { fmt.Println("client: rows:", got) })
		client.OnClose(func(bool) { srv.Close(nil) })
	})
	l.Run(loop.RunDefault)
	// Output:
	// server: all rows queued, waited for drain: true
	// client: rows: 16384
}

// TestGuideSnippetsAreTested keeps docs/guide.md honest: the text of
// every ```go block in it must appear, verbatim, in this file.
func TestGuideSnippetsAreTested(t *testing.T) {
	guide, err := os.ReadFile("docs/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("guide_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	rest := string(guide)
	for {
		_, after, ok := strings.Cut(rest, "```go\n")
		if !ok {
			break
		}
		line := strings.Count(string(guide), "\n") - strings.Count(after, "\n") // the fence's
		block, after, ok := strings.Cut(after, "\n```")
		if !ok {
			t.Fatalf("docs/guide.md:%d: unterminated ```go block", line)
		}
		rest = after
		blocks++
		if !bytes.Contains(src, []byte(block+"\n")) {
			t.Errorf("docs/guide.md:%d: this ```go block is not in guide_test.go:\n%s", line, block)
		}
	}
	if blocks == 0 {
		t.Fatal("docs/guide.md has no ```go block")
	}
}
