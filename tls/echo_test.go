//go:build !windows

package tls_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/tls"
)

// TestEchoServerClient: a netloop TLS client and server on one loop, TLS
// 1.3 and 1.2: the echo comes back, both sides report the protocol, ALPN,
// the server name and the verified peer, and each socket closes once.
func TestEchoServerClient(t *testing.T) {
	for _, vers := range []string{"TLSv1.3", "TLSv1.2"} {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			var srvSock *tls.TLSSocket
			srvClosed := 0
			so := serverOpts(t)
			so.ALPNProtocols = []string{"h2", "echo/1"}
			srv, port := listen(t, l, so, func(s *tls.TLSSocket) {
				srvSock = s
				s.OnData(func(b []byte) { s.Write(b) })
				s.OnClose(func(bool) { srvClosed++ })
			})
			co := clientOpts(t, l, port)
			co.MaxVersion = vers
			co.ALPNProtocols = []string{"echo/1"}
			var got []byte
			secure, cliClosed := false, 0
			c, err := tls.Connect(co, func() { secure = true })
			require.NoError(t, err)
			c.OnError(func(err error) { t.Errorf("client error: %v", err) })
			c.OnData(func(b []byte) {
				got = append(got, b...)
				if len(got) == 11 {
					c.End(nil)
				}
			})
			c.OnClose(func(bool) { cliClosed++ })
			c.Write([]byte("hello world"))
			testutil.RunUntil(t, l, testTimeout, func() bool { return cliClosed == 1 && srvClosed == 1 })
			require.True(t, secure)
			require.Equal(t, "hello world", string(got))
			require.Equal(t, vers, c.GetProtocol())
			require.Equal(t, vers, srvSock.GetProtocol())
			require.Equal(t, "echo/1", c.ALPNProtocol())
			require.Equal(t, "echo/1", srvSock.ALPNProtocol())
			require.Equal(t, "localhost", srvSock.Servername())
			require.True(t, c.Authorized())
			require.NoError(t, c.AuthorizationError())
			require.Equal(t, "localhost", c.GetPeerCertificate(false).Subject.CN)
			require.NotEmpty(t, c.GetCipher().Name)
			require.Equal(t, int64(11), c.BytesWritten())
			require.Equal(t, int64(11), c.BytesRead())
			srv.Close(nil)
			testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
		})
	}
}
