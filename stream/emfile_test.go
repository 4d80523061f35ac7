//go:build linux

package stream_test

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/tcp"
)

// TestEMFILE runs a server in a child process with a low RLIMIT_NOFILE;
// the parent opens more connections than the child can hold. The child
// holds what it accepted; the connections it has no descriptor for are
// shed (their clients see them closed instead of hanging) and, as in
// libuv and Node, onConnection hears nothing of it: a server whose error
// handler exits (the seed's echo server) keeps running. Once the child
// frees its descriptors it serves again: a later client gets its echo.
// Before the fix every EMFILE reached onConnection as an error.
func TestEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) != "" {
		emfileChild(t)
		return
	}
	if testutil.CountFDs() < 0 {
		t.Skip("needs /proc/self/fd")
	}
	c := startChild(t, "TestEMFILE", emfileChildEnv)
	var clients []int
	defer func() {
		for _, fd := range clients {
			unix.Close(fd)
		}
	}()
	expect := c.expect
	port, err := strconv.Atoi(expect("PORT "))
	require.NoError(t, err)

	dial := func() int {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		clients = append(clients, fd)
		require.NoError(t, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
		require.NoError(t, unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10}))
		return fd
	}
	for i := 0; i < 24; i++ {
		dial()
	}

	// Some clients were shed by the child: they see their connection
	// closed instead of hanging.
	pfds := make([]unix.PollFd, len(clients))
	for i, fd := range clients {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	}
	n, err := unix.Poll(pfds, 10000)
	require.NoError(t, err)
	require.Greater(t, n, 0, "no client saw its connection closed")
	c.send("FREE")
	c.stdin.Close() // ends the child's reader
	held := expect("FREED held=")
	t.Logf("child held %s connections at the limit", held)

	// Close the first clients: the connections the child accepted after
	// freeing its descriptors (late arrivals of the burst) go away too.
	for _, fd := range clients {
		unix.Close(fd)
	}
	clients = nil

	// The server still serves. A connection may still be shed while the
	// child catches up with the late arrivals: then retry.
	var fd int
	buf := make([]byte, 16)
	served := false
	for try := 0; try < 100 && !served; try++ {
		fd = dial()
		_, err = unix.Write(fd, []byte("ping"))
		if err == nil {
			n, err = unix.Read(fd, buf)
			if err == nil && n > 0 {
				require.Equal(t, "ping", string(buf[:n]))
				served = true
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, served, "the server stopped serving after EMFILE")
	_, err = unix.Write(fd, []byte("bye"))
	require.NoError(t, err)
	require.Equal(t, "0", expect("DONE errors="), "EMFILE reached onConnection although the connections were shed")
	c.wait()
}

func emfileChild(t *testing.T) {
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl))
	// Room for the loop's own descriptors, the listener, the reserve and
	// a few connections.
	rl.Cur = uint64(testutil.CountFDs() + 8)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl))

	l := testutil.NewLoop(t)
	lis := tcp.New(l)
	require.NoError(t, lis.Bind(netip.MustParseAddr("127.0.0.1"), 0, 0))
	var held []*tcp.TCP
	freed, done := false, false
	var conns []*tcp.TCP
	echo := func(c *tcp.TCP) {
		conns = append(conns, c)
		require.NoError(t, c.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				c.Close(nil)
				return
			}
			if bytes.Contains(buf[:n], []byte("bye")) {
				done = true
				return
			}
			err = c.Write([][]byte{buf[:n]}, nil)
			require.NoError(t, err)
		}))
	}
	errorsSeen := 0
	require.NoError(t, lis.Listen(511, func(err error) {
		if err != nil {
			errorsSeen++
			say("ERR %s", errs.CodeOf(err))
			return
		}
		c := tcp.New(l)
		require.NoError(t, lis.Accept(c))
		if freed {
			echo(c)
		} else {
			held = append(held, c)
		}
	}))
	// The parent says FREE once it saw connections shed.
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "FREE" {
				l.Post(func() {
					n := len(held)
					for _, c := range held {
						c.Close(nil)
					}
					held = nil
					freed = true
					say("FREED held=%d", n)
				})
			}
		}
	}()
	ap, err := lis.SockName()
	require.NoError(t, err)
	say("PORT %d", ap.Port())
	testutil.RunUntil(t, l, 40*time.Second, func() bool { return done })
	lis.Close(nil)
	for _, c := range conns {
		if !c.IsClosing() {
			c.Close(nil)
		}
	}
	l.Run(loop.RunNoWait)
	say("DONE errors=%d", errorsSeen)
}
