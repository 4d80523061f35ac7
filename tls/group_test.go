//go:build !windows

package tls_test

import (
	gotls "crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/tls"
)

// A TLS server on a loop group: each loop runs its connections'
// handshakes as coroutines on its own (locked) thread, across many Run
// iterations, while Go clients connect concurrently; every client gets its
// echo back, and every connection was served on one loop from handshake to
// close.
func TestServerOnLoopGroup(t *testing.T) {
	g, err := loop.NewGroup(2)
	require.NoError(t, err)
	var served, moved atomic.Int32
	opts := serverOpts(t)
	opts.Group = g
	opts.Balance = server.BalanceAcceptor
	srv, err := tls.CreateServer(opts, func(c *tls.TLSSocket) {
		home := c.Loop()
		served.Add(1)
		c.OnError(func(error) {})
		c.OnData(func(b []byte) {
			if c.Loop() != home {
				moved.Add(1)
			}
			c.Write(b)
		})
	})
	require.NoError(t, err)
	srv.OnError(func(err error) { t.Errorf("server error: %v", err) })
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	port := srv.Address().Port
	require.NoError(t, g.Start())

	roots := x509.NewCertPool()
	roots.AddCert(getPKI(t).CA.X509)
	const clients = 24
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &net.Dialer{Timeout: 5 * time.Second}
			c, err := gotls.DialWithDialer(d, "tcp", fmt.Sprintf("127.0.0.1:%d", port), &gotls.Config{RootCAs: roots, ServerName: "localhost"})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			msg := []byte(fmt.Sprintf("hello %d", i))
			if _, err := c.Write(msg); err != nil {
				errs <- err
				return
			}
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(c, got); err != nil {
				errs <- err
				return
			}
			if string(got) != string(msg) {
				errs <- fmt.Errorf("echo %q, want %q", got, msg)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, clients, served.Load())
	assert.Zero(t, moved.Load())
	g.Loops()[0].Post(func() { srv.Close(nil) })
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	select {
	case err := <-waited:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		g.Stop()
		t.Fatal("the group did not end after the server closed")
	}
	require.NoError(t, g.Close())
}
