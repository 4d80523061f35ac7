//go:build linux

package tls_test

import (
	"bufio"
	gotls "crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
	"github.com/netloop/netloop/tls"
)

// The idle-memory measurement: a child process (this test binary, run as
// TestHelperIdleClients) opens n connections to a server in this process,
// TLS or plain, writes one byte on each and holds them; the server's live
// heap per connection is measured once all are idle.

const helperEnv = "NETLOOP_TLS_IDLE_CLIENTS" // "tls|plain,port,n"

// TestHelperIdleClients is not a test: it is the child process of
// idleHeapPerConn and does nothing unless helperEnv is set.
func TestHelperIdleClients(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		return
	}
	parts := strings.Split(spec, ",")
	port, _ := strconv.Atoi(parts[1])
	n, _ := strconv.Atoi(parts[2])
	var conns []net.Conn
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		if parts[0] == "tls" {
			tc := gotls.Client(c, &gotls.Config{InsecureSkipVerify: true})
			if err := tc.Handshake(); err != nil {
				fmt.Println("ERROR", err)
				os.Exit(1)
			}
			c = tc
		}
		c.Write([]byte("x"))
		conns = append(conns, c)
	}
	fmt.Println("READY")
	io.Copy(io.Discard, os.Stdin) // hold them until the parent is done
	os.Exit(0)
}

// idleHeapPerConn returns the server's live heap per idle connection with
// n connections, TLS (a TLS server, each client wrote one byte over TLS)
// or plain (the same with a net server).
func idleHeapPerConn(tb testing.TB, useTLS bool, n int) float64 {
	l, err := loop.New()
	require.NoError(tb, err)
	defer l.Close()
	count, closed := 0, 0
	track := func(c interface {
		OnClose(func(bool)) socket.Listener
	}) {
		count++
		c.OnClose(func(bool) { closed++ })
	}
	var closeSrv func()
	var port int
	if useTLS {
		so := serverOpts(tb)
		so.Loop = l
		srv, err := tls.CreateServer(so, func(c *tls.TLSSocket) {
			track(c)
			c.OnData(func(b []byte) {})
			c.OnError(func(error) {})
		})
		require.NoError(tb, err)
		require.NoError(tb, srv.ListenHost(0, "127.0.0.1", 4096))
		closeSrv = func() { srv.Close(nil) }
		for srv.Address() == nil {
			require.NoError(tb, l.Run(loop.RunNoWait))
		}
		port = srv.Address().Port
	} else {
		srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
			track(c)
			c.OnData(func(b []byte) {})
			c.OnError(func(error) {})
		})
		require.NoError(tb, srv.ListenHost(0, "127.0.0.1", 4096))
		closeSrv = func() { srv.Close(nil) }
		for srv.Address() == nil {
			require.NoError(tb, l.Run(loop.RunNoWait))
		}
		port = srv.Address().Port
	}
	kind := "plain"
	if useTLS {
		kind = "tls"
	}
	var stops []func()
	run := func(spec string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIdleClients$")
		cmd.Env = append(os.Environ(), helperEnv+"="+spec)
		stdin, err := cmd.StdinPipe()
		require.NoError(tb, err)
		out, err := cmd.StdoutPipe()
		require.NoError(tb, err)
		require.NoError(tb, cmd.Start())
		ready := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "READY") || strings.HasPrefix(sc.Text(), "ERROR") {
					ready <- sc.Text()
				}
			}
			close(ready)
		}()
		deadline := time.Now().Add(60 * time.Second)
		for {
			select {
			case s := <-ready:
				require.Equal(tb, "READY", s)
				stops = append(stops, func() { stdin.Close(); cmd.Wait() })
				return cmd
			default:
			}
			require.True(tb, time.Now().Before(deadline), "clients not ready")
			require.NoError(tb, l.Run(loop.RunNoWait))
		}
	}
	// Warm up the loop's shared buffers with one connection first.
	run(kind + "," + strconv.Itoa(port) + ",1")
	for count < 1 {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	run(kind + "," + strconv.Itoa(port) + "," + strconv.Itoa(n))
	for count < n+1 {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	for i := 0; i < 20; i++ {
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if p := os.Getenv("NETLOOP_TLS_HEAPPROFILE"); p != "" && useTLS {
		f, err := os.Create(p)
		require.NoError(tb, err)
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	// The children exit, their connections end, the sockets close.
	closeSrv()
	for _, stop := range stops {
		stop()
	}
	deadline := time.Now().Add(60 * time.Second)
	for closed < count || l.Alive() {
		require.True(tb, time.Now().Before(deadline), "connections did not close")
		require.NoError(tb, l.Run(loop.RunNoWait))
	}
	return float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / float64(n)
}

// TestIdleTLSConnectionHeap logs the live heap of an idle TLS connection
// against a plain one (2,000 each) and guards against regressions: the
// TLS one must stay under 8 KiB more than the plain one. (The issue's
// goal is 4 KiB; see the figure logged, and BenchmarkIdleTLSConnectionHeap
// with 5,000 connections.)
func TestIdleTLSConnectionHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4,000 connections")
	}
	plain := idleHeapPerConn(t, false, 2000)
	tlsPer := idleHeapPerConn(t, true, 2000)
	t.Logf("live heap per idle connection: plain %.0f B, TLS %.0f B, TLS extra %.0f B", plain, tlsPer, tlsPer-plain)
	require.Less(t, tlsPer-plain, 8192.0)
}

// BenchmarkIdleTLSConnectionHeap reports the live heap per idle TLS
// connection and what it adds to a plain one, with 5,000 connections.
func BenchmarkIdleTLSConnectionHeap(b *testing.B) {
	for i := 0; i < b.N; i++ {
		plain := idleHeapPerConn(b, false, 5000)
		t := idleHeapPerConn(b, true, 5000)
		b.ReportMetric(plain, "plainB/conn")
		b.ReportMetric(t, "tlsB/conn")
		b.ReportMetric(t-plain, "extraB/conn")
	}
}

// TestTrimActive: the engine found crypto/tls's record and handshake
// buffers (see trim.go), so idle connections do not keep them.
func TestTrimActive(t *testing.T) {
	require.True(t, tls.TrimActive(), "crypto/tls's Conn.rawInput/hand were not found: idle TLS connections keep their buffers")
}
