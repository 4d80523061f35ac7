//go:build !windows

package socket_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// Interoperability with the real node binary: a netloop client against a
// Node server and a Node client against a netloop server, over TCP and a
// Unix socket: 'hello' first, a 16 MiB echo checked with sha256 both ways,
// half-close in both directions (allowHalfOpen), and ECONNRESET seen by
// netloop when Node calls resetAndDestroy().

const (
	interopSize   = 16 << 20
	halfCloseSize = 1 << 20
	nodeTimeLimit = 20 * time.Second
)

// nodeServerJS: argv = mode, where ("tcp" or a socket path). It prints
// "LISTENING <port|path>", then per mode:
//
//	echo      writes "hello", then echoes everything and ends after the
//	          client's end (allowHalfOpen)
//	serverend writes "bye" and ends at once, then prints
//	          "RECV <n> <sha256>" of what the client sent after that
//	reset     calls resetAndDestroy() on the first data
const nodeServerJS = `
const net = require('net'), crypto = require('crypto');
const [mode, where] = process.argv.slice(1);
const srv = net.createServer({allowHalfOpen: true}, (c) => {
  srv.close();
  c.on('error', (e) => console.log('ERROR ' + e.code));
  if (mode === 'echo') { c.write('hello'); c.pipe(c); return; }
  if (mode === 'serverend') {
    const h = crypto.createHash('sha256'); let n = 0;
    c.on('data', (d) => { h.update(d); n += d.length; });
    c.on('end', () => console.log('RECV ' + n + ' ' + h.digest('hex')));
    c.end('bye');
    return;
  }
  if (mode === 'reset') { c.once('data', () => c.resetAndDestroy()); return; }
});
srv.listen(where === 'tcp' ? {port: 0, host: '127.0.0.1'} : where, () => {
  const a = srv.address();
  console.log('LISTENING ' + (typeof a === 'string' ? a : a.port));
});
`

// nodeClientJS: argv = mode, where (a port or a socket path), size. Modes:
//
//	echo      expects "hello" first, sends size random bytes and ends,
//	          prints "SENT <n> <sha>" and, at 'end', "RECV <n> <sha>" of
//	          what followed "hello" (and "HELLO ok" or "HELLO bad")
//	serverend reads until the server's end, then sends size random bytes
//	          and ends; prints "GOT <text>" and "SENT <n> <sha>"
//	reset     sends "x", then resetAndDestroy()
const nodeClientJS = `
const net = require('net'), crypto = require('crypto');
const [mode, where, sizeArg] = process.argv.slice(1);
const size = +sizeArg;
const opts = where.startsWith('/') ? {path: where} : {port: +where, host: '127.0.0.1'};
opts.allowHalfOpen = true;
const c = net.connect(opts);
c.on('error', (e) => console.log('ERROR ' + e.code));
function send(done) {
  const h = crypto.createHash('sha256'); let n = 0;
  (function pump() {
    while (n < size) {
      const b = crypto.randomBytes(Math.min(64 * 1024, size - n));
      h.update(b); n += b.length;
      if (!c.write(b)) { c.once('drain', pump); return; }
    }
    c.end(() => { console.log('SENT ' + n + ' ' + h.digest('hex')); if (done) done(); });
  })();
}
if (mode === 'echo') {
  let head = Buffer.alloc(0); const h = crypto.createHash('sha256'); let n = 0;
  c.on('data', (d) => {
    if (head.length < 5) {
      const k = Math.min(5 - head.length, d.length);
      head = Buffer.concat([head, d.subarray(0, k)]);
      d = d.subarray(k);
      if (head.length === 5) { console.log('HELLO ' + (head.toString() === 'hello' ? 'ok' : 'bad')); send(); }
    }
    h.update(d); n += d.length;
  });
  c.on('end', () => console.log('RECV ' + n + ' ' + h.digest('hex')));
} else if (mode === 'serverend') {
  let got = '';
  c.setEncoding('latin1');
  c.on('data', (d) => { got += d; });
  c.on('end', () => { console.log('GOT ' + got); send(); });
} else if (mode === 'reset') {
  c.on('connect', () => c.write('x', () => setTimeout(() => c.resetAndDestroy(), 20)));
}
`

func nodePath(t *testing.T) string { return testutil.RequireNode(t) }

// nodeProc is a running node script whose stdout lines are collected.
type nodeProc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	lines  chan string
	stderr bytes.Buffer
	mu     sync.Mutex
	all    []string
	done   chan struct{}
}

func startNode(t *testing.T, script string, args ...string) *nodeProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeLimit)
	cmd := exec.CommandContext(ctx, nodePath(t), append([]string{"-e", script}, args...)...)
	p := &nodeProc{cmd: cmd, cancel: cancel, lines: make(chan string, 16), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.all = append(p.all, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		p.wait()
	})
	return p
}

// first waits for the first line starting with prefix.
func (p *nodeProc) first(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(nodeTimeLimit)
	for {
		select {
		case l := <-p.lines:
			if strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		case <-p.done:
			t.Fatalf("node exited before printing %q; stderr:\n%s", prefix, p.stderr.String())
		case <-deadline:
			t.Fatalf("node did not print %q within %v", prefix, nodeTimeLimit)
		}
	}
}

// wait waits for node to exit and returns all it printed.
func (p *nodeProc) wait() []string {
	p.cmd.Wait()
	<-p.done
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.all...)
}

// line returns the value of the "<key> ..." line of out ("" when absent).
func line(out []string, key string) string {
	for _, l := range out {
		if strings.HasPrefix(l, key+" ") {
			return strings.TrimPrefix(l, key+" ")
		}
	}
	return ""
}

func digest(n int, h []byte) string { return strconv.Itoa(n) + " " + hex.EncodeToString(h) }

func randomPayload(t *testing.T, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// writeAll writes data in 64 KiB pieces with backpressure and ends.
func writeAll(c *socket.Socket, data []byte) {
	var pump func()
	pump = func() {
		for len(data) > 0 {
			k := min(len(data), 64<<10)
			ok := c.Write(data[:k])
			data = data[k:]
			if !ok {
				c.OnceDrain(pump)
				return
			}
		}
		c.End(nil)
	}
	pump()
}

func interopWhere(t *testing.T, kind string) string {
	if kind == "tcp" {
		return "tcp"
	}
	return testutil.SockPath(t)
}

func connectTo(t *testing.T, c *socket.Socket, kind, where string) {
	if kind == "tcp" {
		port, err := strconv.Atoi(where)
		require.NoError(t, err)
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		return
	}
	require.NoError(t, c.ConnectPath(where))
}

// TestInteropNodeServer: a netloop client against a Node server.
func TestInteropNodeServer(t *testing.T) {
	nodePath(t)
	for _, kind := range []string{"tcp", "unix"} {
		t.Run(kind+"/echo", func(t *testing.T) {
			node := startNode(t, nodeServerJS, "echo", interopWhere(t, kind))
			where := node.first(t, "LISTENING ")
			e := newEnv(t)
			payload := randomPayload(t, interopSize)
			var got bytes.Buffer
			c := e.newSocket(socket.Options{AllowHalfOpen: true})
			ev := track(c, false)
			c.OnData(func(b []byte) {
				before := got.Len()
				got.Write(b)
				if before < 5 && got.Len() >= 5 {
					assert.Equal(t, "hello", string(got.Bytes()[:5]), "'hello' comes first")
					writeAll(c, payload)
				}
			})
			connectTo(t, c, kind, where)
			e.run()
			out := node.wait()
			assert.Empty(t, line(out, "ERROR"))
			require.GreaterOrEqual(t, got.Len(), 5)
			echoed := got.Bytes()[5:]
			assert.Equal(t, len(payload), len(echoed))
			want := sha256.Sum256(payload)
			have := sha256.Sum256(echoed)
			assert.Equal(t, hex.EncodeToString(want[:]), hex.EncodeToString(have[:]))
			// Half-close: we ended first and kept receiving the echo.
			assert.Equal(t, []string{"connect", "ready", "finish", "end", "close:false"}, ev.Get())
		})
		t.Run(kind+"/serverend", func(t *testing.T) {
			node := startNode(t, nodeServerJS, "serverend", interopWhere(t, kind))
			where := node.first(t, "LISTENING ")
			e := newEnv(t)
			payload := randomPayload(t, halfCloseSize)
			var got []byte
			c := e.newSocket(socket.Options{AllowHalfOpen: true})
			ev := track(c, false)
			c.OnData(func(b []byte) { got = append(got, b...) })
			c.OnEnd(func() {
				// The peer has ended; we are still writable.
				assert.True(t, c.Writable())
				writeAll(c, payload)
			})
			connectTo(t, c, kind, where)
			e.run()
			out := node.wait()
			assert.Equal(t, "bye", string(got))
			sum := sha256.Sum256(payload)
			assert.Equal(t, digest(len(payload), sum[:]), line(out, "RECV"), "node output: %v", out)
			assert.Equal(t, []string{"connect", "ready", "end", "finish", "close:false"}, ev.Get())
		})
	}
	t.Run("tcp/reset", func(t *testing.T) {
		node := startNode(t, nodeServerJS, "reset", "tcp")
		where := node.first(t, "LISTENING ")
		e := newEnv(t)
		c := e.newSocket(socket.Options{})
		ev := track(c, true)
		var rerr error
		c.OnError(func(err error) { rerr = err })
		c.OnConnect(func() { c.Write([]byte("x")) })
		connectTo(t, c, "tcp", where)
		e.run()
		node.wait()
		assert.Equal(t, []string{"connect", "ready", "error:ECONNRESET", "close:true"}, ev.Get())
		require.Error(t, rerr)
		assert.Equal(t, "read ECONNRESET", rerr.Error())
	})
}

// TestInteropNodeClient: a Node client against a netloop server.
func TestInteropNodeClient(t *testing.T) {
	nodePath(t)
	listen := func(t *testing.T, e *env, kind string, srv *server.Server, ready func(where string)) {
		if kind == "tcp" {
			e.listenTCP(srv, func(port int) { ready(strconv.Itoa(port)) })
			return
		}
		path := testutil.SockPath(t)
		require.NoError(t, srv.ListenPath(path, func() { ready(path) }))
	}
	for _, kind := range []string{"tcp", "unix"} {
		t.Run(kind+"/echo", func(t *testing.T) {
			e := newEnv(t)
			h := sha256.New()
			n := 0
			var ev *testutil.Events
			var node *nodeProc
			var srv *server.Server
			srv = e.server(server.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
				srv.Close(nil)
				ev = track(s, false)
				s.Write([]byte("hello"))
				s.OnData(func(b []byte) { h.Write(b); n += len(b) })
				s.Pipe(s)
			})
			listen(t, e, kind, srv, func(where string) {
				node = startNode(t, nodeClientJS, "echo", where, strconv.Itoa(interopSize))
			})
			e.run()
			require.NotNil(t, node)
			out := node.wait()
			assert.Empty(t, line(out, "ERROR"), "node stderr: %s", node.stderr.String())
			assert.Equal(t, "ok", line(out, "HELLO"), "node output: %v", out)
			mine := digest(n, h.Sum(nil))
			assert.Equal(t, strconv.Itoa(interopSize), strings.Fields(line(out, "SENT") + " x")[0])
			assert.Equal(t, line(out, "SENT"), mine, "what netloop received is what node sent")
			assert.Equal(t, line(out, "SENT"), line(out, "RECV"), "node got its bytes back")
			// Node ended first; the half-open server still echoed, then ended.
			assert.Equal(t, []string{"end", "finish", "close:false"}, ev.Get())
		})
		t.Run(kind+"/serverend", func(t *testing.T) {
			e := newEnv(t)
			h := sha256.New()
			n := 0
			var ev *testutil.Events
			var node *nodeProc
			var srv *server.Server
			srv = e.server(server.Options{AllowHalfOpen: true}, func(s *socket.Socket) {
				srv.Close(nil)
				ev = track(s, false)
				s.OnData(func(b []byte) { h.Write(b); n += len(b) })
				s.End([]byte("bye"))
				s.OnFinish(func() { assert.True(t, s.Readable(), "still reading after our end") })
			})
			listen(t, e, kind, srv, func(where string) {
				node = startNode(t, nodeClientJS, "serverend", where, strconv.Itoa(halfCloseSize))
			})
			e.run()
			require.NotNil(t, node)
			out := node.wait()
			assert.Equal(t, "bye", line(out, "GOT"), "node output: %v %s", out, node.stderr.String())
			assert.Equal(t, line(out, "SENT"), digest(n, h.Sum(nil)))
			assert.Equal(t, halfCloseSize, n)
			assert.Equal(t, []string{"finish", "end", "close:false"}, ev.Get())
		})
	}
	t.Run("tcp/reset", func(t *testing.T) {
		e := newEnv(t)
		var ev *testutil.Events
		var rerr error
		var node *nodeProc
		var srv *server.Server
		srv = e.server(server.Options{}, func(s *socket.Socket) {
			srv.Close(nil)
			ev = track(s, true)
			s.OnError(func(err error) { rerr = err })
		})
		listen(t, e, "tcp", srv, func(where string) {
			node = startNode(t, nodeClientJS, "reset", where, "0")
		})
		e.run()
		require.NotNil(t, node)
		node.wait()
		got := testutil.Without(ev.Get(), "data")
		assert.Equal(t, []string{"error:ECONNRESET", "close:true"}, got)
		require.Error(t, rerr)
		assert.Equal(t, "read ECONNRESET", rerr.Error())
	})
}
