//go:build windows

package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/pipe"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
	"github.com/netloop/netloop/tcp"
)

// Handle passing between Node-level sockets over Windows named pipes (IPC
// pipes framed as libuv frames them; run under Wine by make wine-test).

// ipcPipeServer serves name with a pipe whose accepted end is an IPC pipe,
// stored in *got.
func ipcPipeServer(t *testing.T, l *loop.Loop, name string, got **pipe.Pipe) *pipe.Pipe {
	t.Helper()
	ps := pipe.New(l)
	require.NoError(t, ps.Bind(name))
	require.NoError(t, ps.Listen(4, func(err error) {
		require.NoError(t, err)
		p := pipe.NewIPC(l)
		require.NoError(t, ps.Accept(p))
		*got = p
	}))
	return ps
}

// winRoundTrip writes msg on nc and returns what comes back, want bytes,
// running l meanwhile.
func winRoundTrip(t *testing.T, l *loop.Loop, nc net.Conn, msg string, want int) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		nc.SetDeadline(time.Now().Add(winTimeout))
		if _, err := nc.Write([]byte(msg)); err != nil {
			done <- "write: " + err.Error()
			return
		}
		buf := make([]byte, want)
		if _, err := io.ReadFull(nc, buf); err != nil {
			done <- "read: " + err.Error()
			return
		}
		done <- string(buf)
	}()
	return testutil.Receive(t, l, winTimeout, done)
}

// An IPC Socket connected to a named pipe sends a connection its server
// accepted (paused) with SendHandle: the other end takes it and echoes
// through it, and the sender's socket closes (Node's default). The other
// way, a TCP connection sent with Write2 to the Socket arrives at its
// 'handle' listener after the bytes written with it, and Handle.Socket
// serves it.
func TestWindowsSendHandleOverNamedPipe(t *testing.T) {
	l := testutil.NewLoop(t)
	name := winPipeName()
	var pp *pipe.Pipe
	ps := ipcPipeServer(t, l, name, &pp)
	ch, err := socket.New(socket.Options{Loop: l, IPC: true})
	require.NoError(t, err)
	var msgs bytes.Buffer
	var served *socket.Socket
	ch.OnData(func(b []byte) { msgs.Write(b) })
	ch.OnHandle(func(h *socket.Handle) {
		assert.Equal(t, socket.HandleSocket, h.Type())
		assert.True(t, h.IsTCP())
		assert.True(t, strings.HasSuffix(msgs.String(), "take this"), "the handle comes after its bytes: %q", msgs.String())
		c, err := h.Socket(socket.Options{})
		require.NoError(t, err)
		served = c
		c.OnData(func(b []byte) { c.Write(append([]byte("socket:"), b...)) })
	})
	ch.OnError(func(err error) { t.Errorf("IPC socket: %v", err) })
	require.NoError(t, ch.ConnectPath(name))
	testutil.RunUntil(t, l, winTimeout, func() bool { return pp != nil && !ch.Connecting() })

	// Socket -> pipe: a server's connection, sent with SendHandle.
	var recv *tcp.TCP
	require.NoError(t, pp.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		for pp.PendingCount() > 0 {
			recv = tcp.New(l)
			require.NoError(t, pp.AcceptPending(&recv.Stream))
			require.NoError(t, recv.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					recv.Close(nil)
					return
				}
				recv.Write([][]byte{[]byte("pipe:"), append([]byte(nil), buf[:n]...)}, nil)
			}))
		}
	}))
	sentClosed := false
	var sendErr error
	sendDone := false
	srv := server.New(server.Options{Loop: l, PauseOnConnect: true}, func(c *socket.Socket) {
		c.OnClose(func(bool) { sentClosed = true })
		ok, err := ch.SendHandle(c, []byte("conn"), socket.SendHandleOptions{}, func(err error) { sendErr, sendDone = err, true })
		assert.NoError(t, err)
		assert.True(t, ok)
	})
	listening := false
	require.NoError(t, srv.ListenOptions(server.ListenOptions{Host: "127.0.0.1", PortGiven: true}, func() { listening = true }))
	testutil.RunUntil(t, l, winTimeout, func() bool { return listening })
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.Address().Port))
	require.NoError(t, err)
	defer nc.Close()
	testutil.RunUntil(t, l, winTimeout, func() bool { return sendDone && recv != nil })
	require.NoError(t, sendErr)
	assert.True(t, sentClosed, "the sent socket closed in the sender")
	assert.Equal(t, "pipe:hello", winRoundTrip(t, l, nc, "hello", len("pipe:hello")))

	// Pipe -> Socket: a TCP connection sent with Write2.
	lst := tcp.New(l)
	require.NoError(t, lst.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	var acc *tcp.TCP
	require.NoError(t, lst.Listen(4, func(err error) {
		require.NoError(t, err)
		acc = tcp.New(l)
		require.NoError(t, lst.Accept(acc))
		require.NoError(t, pp.Write([][]byte{[]byte("plain, ")}, nil))
		require.NoError(t, pp.Write2([][]byte{[]byte("take this")}, &acc.Stream, nil))
		acc.Close(nil)
	}))
	addr, err := lst.SockName()
	require.NoError(t, err)
	nc2, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	defer nc2.Close()
	testutil.RunUntil(t, l, winTimeout, func() bool { return served != nil })
	assert.Equal(t, "plain, take this", msgs.String())
	assert.Equal(t, "socket:hi", winRoundTrip(t, l, nc2, "hi", len("socket:hi")))

	served.Destroy(nil)
	ch.Destroy(nil)
	srv.Close(nil)
	testutil.CloseAll(t, l, ps, pp)
	testutil.CloseAll(t, l, lst, recv)
	testutil.CloseLoop(t, l)
}

// winIPCChildEnv makes the test binary TestWindowsSendHandleToChildProcess's
// child: it connects an IPC Socket to the named pipe the variable names
// and serves every connection it receives.
const winIPCChildEnv = "NETLOOP_WIN_IPC_CHILD"

func init() {
	if name := os.Getenv(winIPCChildEnv); name != "" {
		os.Exit(winIPCChild(name))
	}
}

// winIPCChild answers "child:" then echoes on each connection received
// over the IPC pipe name; it exits when the parent closes the pipe and
// the last connection has closed, printing how many it served.
func winIPCChild(name string) int {
	l, err := loop.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	ch, err := socket.New(socket.Options{Loop: l, IPC: true})
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
		c.Write([]byte("child:"))
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnError(func(error) {})
	})
	ch.OnData(func([]byte) {})
	ch.OnError(func(err error) { fmt.Fprintln(os.Stderr, "child: channel:", err) })
	if err := ch.ConnectPath(name); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	stop := time.AfterFunc(2*winTimeout, l.Stop)
	err = l.Run(loop.RunDefault)
	stop.Stop()
	if err != nil || l.Alive() {
		fmt.Fprintln(os.Stderr, "child: loop:", err, "alive:", l.Alive())
		return 1
	}
	fmt.Printf("served %d\n", n)
	return 0
}

// Node's cluster case across processes on Windows: the parent accepts TCP
// connections and sends each over an IPC named pipe to a child process
// (WSADuplicateSocketW for the child's PID, found from the pipe), which
// serves it; every client's bytes reach the child and come back.
func TestWindowsSendHandleToChildProcess(t *testing.T) {
	l := testutil.NewLoop(t)
	name := winPipeName()
	var pp *pipe.Pipe
	ps := ipcPipeServer(t, l, name, &pp)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), winIPCChildEnv+"="+name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	testutil.RunUntil(t, l, winTimeout, func() bool { return pp != nil })
	require.NoError(t, pp.ReadStart(nil, func(int, []byte, error) {}))

	const clients = 3
	lst := tcp.New(l)
	require.NoError(t, lst.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	sent := 0
	require.NoError(t, lst.Listen(16, func(err error) {
		require.NoError(t, err)
		c := tcp.New(l)
		require.NoError(t, lst.Accept(c))
		require.NoError(t, pp.Write2([][]byte{[]byte("c")}, &c.Stream, func(err error) {
			assert.NoError(t, err)
			sent++
		}))
		c.Close(nil)
	}))
	addr, err := lst.SockName()
	require.NoError(t, err)
	for i := range clients {
		nc, err := net.Dial("tcp", addr.String())
		require.NoError(t, err)
		msg := fmt.Sprintf("client %d", i)
		assert.Equal(t, "child:"+msg, winRoundTrip(t, l, nc, msg, len("child:"+msg)), "child output: %s", out.String())
		nc.Close()
	}
	assert.Equal(t, clients, sent)
	testutil.CloseAll(t, l, ps, pp)
	testutil.CloseAll(t, l, lst)
	select {
	case err := <-waited:
		assert.NoError(t, err, "child output: %s", out.String())
	case <-time.After(2 * winTimeout):
		cmd.Process.Kill()
		t.Fatalf("child still running; output: %s", out.String())
	}
	assert.Equal(t, fmt.Sprintf("served %d\n", clients), out.String())
	testutil.CloseLoop(t, l)
}

// A listening server sent over an IPC named pipe (SendHandle of a
// Server) arrives as a 'net.Server' handle; ListenFD serves it on the same
// port once the sender's copy has closed.
func TestWindowsSendHandleServerOverNamedPipe(t *testing.T) {
	l := testutil.NewLoop(t)
	name := winPipeName()
	var pp *pipe.Pipe
	ps := ipcPipeServer(t, l, name, &pp)
	sender, err := socket.New(socket.Options{Loop: l, IPC: true})
	require.NoError(t, err)
	sender.OnData(func([]byte) {})
	require.NoError(t, sender.ConnectPath(name))
	testutil.RunUntil(t, l, winTimeout, func() bool { return pp != nil && !sender.Connecting() })

	// pp passes on what it receives to a second IPC Socket: first a
	// pipe-level receive, then a Node-level one.
	name2 := winPipeName()
	var pp2 *pipe.Pipe
	ps2 := ipcPipeServer(t, l, name2, &pp2)
	recv, err := socket.New(socket.Options{Loop: l, IPC: true})
	require.NoError(t, err)
	var srv2 *server.Server
	recv.OnHandle(func(h *socket.Handle) {
		assert.Equal(t, socket.HandleServer, h.Type())
		_, err := h.Socket(socket.Options{})
		assert.Error(t, err, "a listening handle is not a Socket")
		srv2 = server.New(server.Options{Loop: l}, func(c *socket.Socket) {
			c.Write([]byte("second:"))
			c.OnData(func(b []byte) { c.Write(b) })
		})
		require.NoError(t, srv2.ListenFD(h.FD()))
	})
	require.NoError(t, recv.ConnectPath(name2))
	testutil.RunUntil(t, l, winTimeout, func() bool { return pp2 != nil && !recv.Connecting() })

	require.NoError(t, pp.ReadStart(nil, func(n int, buf []byte, err error) {
		require.NoError(t, err)
		for pp.PendingCount() > 0 {
			assert.Equal(t, "tcp", pp.PendingType())
			got := tcp.New(l)
			require.NoError(t, pp.AcceptPending(&got.Stream))
			require.NoError(t, pp2.Write2([][]byte{[]byte("srv")}, &got.Stream, nil))
			got.Close(nil)
		}
	}))
	srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) { c.Destroy(nil) })
	listening := false
	require.NoError(t, srv.ListenOptions(server.ListenOptions{Host: "127.0.0.1", PortGiven: true}, func() { listening = true }))
	testutil.RunUntil(t, l, winTimeout, func() bool { return listening })
	port := srv.Address().Port
	_, err = sender.SendHandle(srv, []byte("srv"), socket.SendHandleOptions{}, func(err error) {
		assert.NoError(t, err)
		srv.Close(nil) // the sender's copy stops accepting
	})
	require.NoError(t, err)
	testutil.RunUntil(t, l, winTimeout, func() bool { return srv2 != nil && srv2.Listening() && !srv.Listening() })
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err)
	defer nc.Close()
	assert.Equal(t, "second:x", winRoundTrip(t, l, nc, "x", len("second:x")))

	nc.Close()
	srv2.Close(nil)
	sender.Destroy(nil)
	recv.Destroy(nil)
	testutil.CloseAll(t, l, ps, pp, ps2, pp2)
	testutil.CloseLoop(t, l)
}
