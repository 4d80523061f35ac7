//go:build !windows

package tls_test

import (
	gotls "crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/tls"
)

// BenchmarkTLSHandshake measures what running the handshake on a
// short-lived goroutine fed by the loop costs: one op is a whole TLS 1.3
// connection from the same crypto/tls client (dial, handshake, a 1-byte
// echo, close) against a netloop TLS server on a loop of its own
// ("netloop") and against crypto/tls over Go's net with a goroutine per
// connection ("gonet"). The client's work is the same in both, so the
// difference is the servers'.
func BenchmarkTLSHandshake(b *testing.B) {
	p := getPKI(b)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.CA.CertPEM)
	client := &gotls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: gotls.VersionTLS13}
	conn := func(b *testing.B, addr string) {
		c, err := gotls.Dial("tcp", addr, client)
		if err != nil {
			b.Fatal(err)
		}
		one := []byte{'x'}
		if _, err := c.Write(one); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, one); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.Run("netloop", func(b *testing.B) {
		l := testutil.NewLoop(b)
		srv, port := listen(b, l, serverOpts(b), func(s *tls.TLSSocket) {
			s.OnError(func(error) {})
			s.OnData(func(d []byte) { s.Write(d) })
		})
		release := l.Hold()
		done := make(chan error, 1)
		go func() { done <- l.Run(loop.RunDefault) }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			conn(b, addr)
		}
		b.StopTimer()
		require.NoError(b, l.Post(func() { srv.Close(nil); release() }))
		require.NoError(b, <-done)
	})
	b.Run("gonet", func(b *testing.B) {
		cert, err := gotls.X509KeyPair(p.Server.CertPEM, p.Server.KeyPEM)
		require.NoError(b, err)
		ln, err := gotls.Listen("tcp", "127.0.0.1:0", &gotls.Config{Certificates: []gotls.Certificate{cert}})
		require.NoError(b, err)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					buf := make([]byte, 512)
					for {
						n, err := c.Read(buf)
						if err != nil {
							return
						}
						c.Write(buf[:n])
					}
				}()
			}
		}()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			conn(b, ln.Addr().String())
		}
		b.StopTimer()
		ln.Close()
	})
}
