//go:build !windows

package server_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// socketPair returns the two ends of a Unix-domain stream pair.
func socketPair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	return fds[0], fds[1]
}

// ipcSocket wraps fd as an IPC socket on l.
func ipcSocket(t *testing.T, l *loop.Loop, fd int) *socket.Socket {
	t.Helper()
	s, err := socket.New(socket.Options{Loop: l, FD: fd, IPC: true, Readable: true, Writable: true})
	require.NoError(t, err)
	return s
}

// serveEcho makes c answer prefix, then echo, then end when the peer ends.
func serveEcho(c *socket.Socket, prefix string) {
	c.Write([]byte(prefix))
	c.OnData(func(b []byte) { c.Write(b) })
	c.OnError(func(error) {})
}

// A connection accepted (paused) by one socket of an IPC pair is sent to
// the other, which serves it: nothing the client sent before or after the
// hand-off is lost, and the sender's socket closes (Node's default).
func TestSendHandleSocket(t *testing.T) {
	e := newEnv(t)
	a, b := socketPair(t)
	parent, child := ipcSocket(t, e.l, a), ipcSocket(t, e.l, b)
	parent.OnData(func([]byte) {})
	const clients = 3
	var sentClosed, served int
	srv := e.server(server.Options{PauseOnConnect: true}, func(c *socket.Socket) {
		c.OnClose(func(bool) { sentClosed++ })
		ok, err := parent.SendHandle(c, []byte("conn"), socket.SendHandleOptions{}, func(err error) {
			assert.NoError(t, err)
		})
		assert.NoError(t, err)
		assert.True(t, ok)
	})
	var msgs bytes.Buffer
	child.OnData(func(b []byte) { msgs.Write(b) })
	child.OnHandle(func(h *socket.Handle) {
		assert.Equal(t, socket.HandleSocket, h.Type())
		assert.True(t, h.IsTCP())
		assert.Equal(t, "conn", msgs.String()[len(msgs.String())-4:], "the handle comes after its message's bytes")
		c, err := h.Socket(socket.Options{})
		require.NoError(t, err)
		assert.Equal(t, -1, h.FD(), "taken")
		served++
		serveEcho(c, "child:")
	})
	errc := make(chan error, clients)
	e.listen(srv, func(port int) {
		for i := 0; i < clients; i++ {
			go func() { errc <- echoClient(port, 256<<10, "child:") }()
		}
	})
	done := 0
	testutil.RunUntil(t, e.l, safetyTimeout, func() bool {
		for {
			select {
			case err := <-errc:
				assert.NoError(t, err)
				done++
				continue
			default:
			}
			return done == clients
		}
	})
	assert.Equal(t, clients, served)
	assert.Equal(t, clients, sentClosed, "each sent socket closed in the sender")
	assert.Equal(t, 0, srv.Connections())
	srv.Close(nil)
	parent.End(nil)
	child.End(nil)
	e.run()
	e.finish()
}

// A listening server sent over an IPC pair is served on the other side
// with ListenFD; once the sender closes its copy, the receiver alone
// answers on the same port.
func TestSendHandleServer(t *testing.T) {
	e := newEnv(t)
	a, b := socketPair(t)
	parent, child := ipcSocket(t, e.l, a), ipcSocket(t, e.l, b)
	parent.OnData(func([]byte) {})
	srv := e.server(server.Options{}, func(c *socket.Socket) { serveEcho(c, "first:") })
	var srv2 *server.Server
	child.OnHandle(func(h *socket.Handle) {
		assert.Equal(t, socket.HandleServer, h.Type())
		assert.Equal(t, "net.Server", h.Type().String())
		_, err := h.Socket(socket.Options{})
		testutil.AsError(t, err) // a listening handle is not a Socket
		srv2 = e.server(server.Options{}, func(c *socket.Socket) { serveEcho(c, "second:") })
		require.NoError(t, srv2.ListenFD(h.FD()))
		srv.Close(nil) // the sender's copy stops accepting
	})
	var port int
	e.listen(srv, func(p int) {
		port = p
		_, err := parent.SendHandle(srv, []byte("srv"), socket.SendHandleOptions{}, nil)
		assert.NoError(t, err)
	})
	testutil.RunUntil(t, e.l, safetyTimeout, func() bool { return srv2 != nil && srv2.Listening() && !srv.Listening() })
	errc := make(chan error, 1)
	go func() { errc <- echoClient(port, 1000, "second:") }()
	err := testutil.Receive(t, e.l, safetyTimeout, errc)
	assert.NoError(t, err)
	srv2.Close(nil)
	parent.End(nil)
	child.End(nil)
	e.run()
	e.finish()
}

// A handle sent behind megabytes the peer has not read yet waits in the
// stream's queue and arrives with its own message's first byte.
func TestSendHandleQueuedBehindData(t *testing.T) {
	e := newEnv(t)
	a, b := socketPair(t)
	parent := ipcSocket(t, e.l, a)
	srv := e.server(server.Options{}, func(*socket.Socket) {})
	const bulk = 4 << 20
	var cbErr = fmt.Errorf("not called")
	e.listen(srv, func(int) {
		parent.Write(make([]byte, bulk))
		_, err := parent.SendHandle(srv, []byte("H"), socket.SendHandleOptions{}, func(err error) { cbErr = err })
		assert.NoError(t, err)
	})
	type result struct {
		end int // offset just past the read the descriptor came with
		fds []int
		err error
	}
	res := make(chan result, 1)
	go func() {
		var r result
		buf := make([]byte, 64<<10)
		oob := make([]byte, unix.CmsgSpace(4*4))
		total := 0
		for total < bulk+1 {
			n, oobn, _, _, err := unix.Recvmsg(b, buf, oob, 0)
			if err != nil {
				r.err = err
				break
			}
			if oobn > 0 {
				msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
				for i := range msgs {
					fds, _ := unix.ParseUnixRights(&msgs[i])
					r.fds = append(r.fds, fds...)
				}
				r.end = total + n
			}
			total += n
		}
		res <- r
	}()
	r := testutil.Receive(t, e.l, safetyTimeout, res)
	require.NoError(t, r.err)
	require.Len(t, r.fds, 1)
	// The read that brings a descriptor ends with the bytes it was sent
	// with (the kernel may join earlier bytes to that read, never later).
	assert.Equal(t, bulk+1, r.end, "the descriptor travels with its own message")
	v, err := unix.GetsockoptInt(r.fds[0], unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	assert.NoError(t, err)
	assert.Equal(t, 1, v, "a listening socket arrived")
	unix.Close(r.fds[0])
	unix.Close(b)
	testutil.RunUntil(t, e.l, safetyTimeout, func() bool { return cbErr == nil })
	srv.Close(nil)
	parent.Destroy(nil)
	e.run()
	e.finish()
}

// A handle sent while the IPC socket is still connecting waits with the
// other pending writes; destroyed before connecting, it is closed (the
// leak check of TestMain counts descriptors).
func TestSendHandleWhileConnecting(t *testing.T) {
	e := newEnv(t)
	path := testutil.SockPath(t)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 16), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil || oobn == 0 {
			got <- -1
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		fds, _ := unix.ParseUnixRights(&msgs[0])
		got <- fds[0]
	}()
	srv := e.server(server.Options{}, func(*socket.Socket) {})
	e.listen(srv, func(int) {
		s, err := socket.New(socket.Options{Loop: e.l, IPC: true})
		require.NoError(t, err)
		require.NoError(t, s.ConnectPath(path))
		_, err = s.SendHandle(srv, []byte("S"), socket.SendHandleOptions{}, nil)
		assert.NoError(t, err)
		s.End(nil)

		// Another one destroyed before it connects: the callback hears
		// of it and the queued descriptor is closed.
		s2, err := socket.New(socket.Options{Loop: e.l, IPC: true})
		require.NoError(t, err)
		require.NoError(t, s2.ConnectPath(path+".none"))
		s2.OnError(func(error) {})
		_, err = s2.SendHandle(srv, []byte("S"), socket.SendHandleOptions{}, func(err error) { e.log("s2 cb: %v", err != nil) })
		assert.NoError(t, err)
		s2.Destroy(nil)
	})
	fd := testutil.Receive(t, e.l, safetyTimeout, got)
	require.GreaterOrEqual(t, fd, 0)
	unix.Close(fd)
	srv.Close(nil)
	e.run()
	e.finish()
	assert.Equal(t, []string{"s2 cb: true"}, e.got())
}

// SendHandle refuses, with Node's codes, what Node throws for.
func TestSendHandleErrors(t *testing.T) {
	e := newEnv(t)
	a, b := socketPair(t)
	parent := ipcSocket(t, e.l, a)
	parent.OnData(func([]byte) {})
	plainA, plainB := socketPair(t)
	plain, err := socket.New(socket.Options{Loop: e.l, FD: plainA, Readable: true, Writable: true})
	require.NoError(t, err)
	srv := e.server(server.Options{}, func(*socket.Socket) {})

	_, err = plain.SendHandle(srv, []byte("x"), socket.SendHandleOptions{}, nil)
	assert.Equal(t, errs.CodeInvalidArgValue, testutil.AsError(t, err).Code, "not an IPC socket")
	_, err = parent.SendHandle(srv, nil, socket.SendHandleOptions{}, nil)
	assert.Equal(t, errs.CodeInvalidArgValue, testutil.AsError(t, err).Code, "no data to carry it")
	_, err = parent.SendHandle("a string", []byte("x"), socket.SendHandleOptions{}, nil)
	assert.Equal(t, errs.CodeInvalidHandleType, testutil.AsError(t, err).Code)
	_, err = parent.SendHandle(srv, []byte("x"), socket.SendHandleOptions{}, nil)
	assert.ErrorIs(t, err, errs.ErrSocketClosed, "a server that is not listening")
	other := e.socket()
	_, err = parent.SendHandle(other, []byte("x"), socket.SendHandleOptions{}, nil)
	assert.ErrorIs(t, err, errs.ErrSocketClosed, "a socket that never connected")

	// IPC needs a Unix-domain socket.
	tcp, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	require.NoError(t, err)
	_, err = socket.New(socket.Options{Loop: e.l, FD: tcp, IPC: true})
	assert.Equal(t, errs.CodeInvalidArgValue, testutil.AsError(t, err).Code)
	unix.Close(tcp) // still the caller's
	s, err := socket.New(socket.Options{Loop: e.l, IPC: true})
	require.NoError(t, err)
	err = s.ConnectTCP(80, "127.0.0.1")
	assert.Equal(t, errs.CodeInvalidArgValue, testutil.AsError(t, err).Code)

	// A handle nobody takes is closed after the 'handle' callback; with
	// no listener at all it is closed too (TestMain counts descriptors).
	child := ipcSocket(t, e.l, b)
	var handles int
	child.OnceHandle(func(*socket.Handle) { handles++ })
	e.listen(srv, func(int) {
		_, err := parent.SendHandle(srv, []byte("1"), socket.SendHandleOptions{}, nil)
		assert.NoError(t, err)
		_, err = parent.SendHandle(srv, []byte("2"), socket.SendHandleOptions{}, func(error) {
			srv.Close(nil)
			parent.End(nil)
		})
		assert.NoError(t, err)
	})
	child.OnEnd(func() { child.End(nil) })
	plain.Destroy(nil)
	unix.Close(plainB)
	s.Destroy(nil)
	other.Destroy(nil)
	e.run()
	e.finish()
	assert.Equal(t, 1, handles)
}

// sendHandleChildEnv runs the test binary as TestSendHandleToChildProcess's
// child: it serves the connections its parent sends on descriptor 3.
const sendHandleChildEnv = "NETLOOP_SENDHANDLE_CHILD"

// sendHandleChild is the child process's main: every connection received
// on the IPC channel (fd 3) is answered "child:" and echoed; the process
// exits when the parent ends the channel and the last connection closed.
func sendHandleChild() int {
	l, err := loop.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	ch, err := socket.New(socket.Options{Loop: l, FD: 3, IPC: true, Readable: true, Writable: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	n := 0
	ch.OnHandle(func(h *socket.Handle) {
		c, err := h.Socket(socket.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return
		}
		n++
		serveEcho(c, "child:")
	})
	ch.OnData(func([]byte) {})
	ch.OnEnd(func() { ch.End(nil) })
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(safetyTimeout):
			l.Stop()
		}
	}()
	err = l.Run(loop.RunDefault)
	close(done)
	if err != nil || l.Alive() {
		fmt.Fprintln(os.Stderr, "child: loop:", err, "alive:", l.Alive())
		return 1
	}
	fmt.Printf("served %d\n", n)
	return 0
}

// Node's cluster case across processes: the parent accepts connections
// paused and sends each to a child process, which serves it; every byte
// each client sent reaches the child and comes back.
func TestSendHandleToChildProcess(t *testing.T) {
	e := newEnv(t)
	a, b := socketPair(t)
	childEnd := os.NewFile(uintptr(b), "ipc")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), sendHandleChildEnv+"=1")
	cmd.ExtraFiles = []*os.File{childEnd}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	childEnd.Close()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	parent := ipcSocket(t, e.l, a)
	parent.OnData(func([]byte) {})
	const clients = 4
	srv := e.server(server.Options{PauseOnConnect: true}, func(c *socket.Socket) {
		_, err := parent.SendHandle(c, []byte("c"), socket.SendHandleOptions{}, nil)
		assert.NoError(t, err)
	})
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	e.listen(srv, func(port int) {
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- echoClient(port, 512<<10, "child:")
			}()
		}
	})
	done := 0
	testutil.RunUntil(t, e.l, 2*safetyTimeout, func() bool {
		for {
			select {
			case err := <-errc:
				assert.NoError(t, err)
				done++
				continue
			default:
			}
			return done == clients
		}
	})
	wg.Wait()
	srv.Close(nil)
	parent.End(nil)
	parent.OnEnd(func() {})
	e.run()
	e.finish()
	select {
	case err := <-waited:
		assert.NoError(t, err, "child output: %s", out.String())
	case <-time.After(safetyTimeout):
		cmd.Process.Kill()
		t.Fatalf("child still running; output: %s", out.String())
	}
	assert.Equal(t, fmt.Sprintf("served %d\n", clients), out.String())
}
