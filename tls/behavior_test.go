//go:build !windows

package tls_test

import (
	"bufio"
	"crypto/sha256"
	gotls "crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
	"github.com/netloop/netloop/tls"
)

// TestStartTLS upgrades plaintext connections on both sides (the STARTTLS
// case): a line in clear, then NewTLSSocket on the server and Connect with
// Socket on the client, then an echo over TLS.
func TestStartTLS(t *testing.T) {
	l := testutil.NewLoop(t)
	p := getPKI(t)
	var upgraded *tls.TLSSocket
	srvClosed := 0
	srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		c.OnceData(func(b []byte) {
			require.Equal(t, "STARTTLS\n", string(b))
			c.Write([]byte("GO\n"))
			var o tls.TLSSocketOptions
			o.IsServer = true
			o.Cert, o.Key = p.Server.CertPEM, p.Server.KeyPEM
			ts, err := tls.NewTLSSocket(c, o)
			require.NoError(t, err)
			upgraded = ts
			ts.OnData(func(b []byte) { ts.Write(b) })
			ts.OnClose(func(bool) { srvClosed++ })
		})
	})
	listening := false
	require.NoError(t, srv.ListenOptions(server.ListenOptions{Port: 0, PortGiven: true, Host: "127.0.0.1"}, func() { listening = true }))
	testutil.RunUntil(t, l, testTimeout, func() bool { return listening })

	plain, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	require.NoError(t, plain.Connect(socket.ConnectOptions{Port: srv.Address().Port, Host: "127.0.0.1"}))
	plain.Write([]byte("STARTTLS\n"))
	var got []byte
	cliClosed := 0
	plain.OnceData(func(b []byte) {
		require.Equal(t, "GO\n", string(b))
		var co tls.ConnectOptions
		co.Socket = plain
		co.ServerName = "localhost"
		co.CA = p.CA.CertPEM
		c, err := tls.Connect(co, nil)
		require.NoError(t, err)
		c.OnError(func(err error) { t.Errorf("client: %v", err) })
		c.OnData(func(b []byte) {
			got = append(got, b...)
			if len(got) == 5 {
				c.End(nil)
			}
		})
		c.OnClose(func(bool) { cliClosed++ })
		c.Write([]byte("hello"))
	})
	testutil.RunUntil(t, l, testTimeout, func() bool { return cliClosed == 1 && srvClosed == 1 })
	require.Equal(t, "hello", string(got))
	require.Equal(t, "TLSv1.3", upgraded.GetProtocol())
	srv.Close(nil)
	testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
}

// eofBlocker hides the raw connection's EOF (its Read blocks instead), so
// a crypto/tls Read on top returns io.EOF only for a close_notify.
type eofBlocker struct {
	net.Conn
	stop chan struct{}
}

func (c eofBlocker) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		<-c.stop
	}
	return n, err
}

// TestHalfCloseCloseNotify: End sends close_notify before the FIN (a Go
// crypto/tls peer that never sees the FIN still reads io.EOF), the peer
// keeps writing after it, and the netloop side (allowHalfOpen) reads it
// all, then 'end', then 'close' once.
func TestHalfCloseCloseNotify(t *testing.T) {
	l := testutil.NewLoop(t)
	p := getPKI(t)
	pair, err := gotls.X509KeyPair(p.Server.CertPEM, p.Server.KeyPEM)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	stop := make(chan struct{})
	defer close(stop)
	peerResult := make(chan string, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			peerResult <- err.Error()
			return
		}
		defer raw.Close()
		c := gotls.Server(eofBlocker{raw, stop}, &gotls.Config{Certificates: []gotls.Certificate{pair}})
		b, err := io.ReadAll(c) // ends at close_notify only
		if err != nil {
			peerResult <- "read: " + err.Error()
			return
		}
		c.Write([]byte("after your close_notify: " + string(b)))
		c.CloseWrite()
		raw.(*net.TCPConn).CloseWrite()
		peerResult <- "ok"
	}()
	co := clientOpts(t, l, ln.Addr().(*net.TCPAddr).Port)
	co.AllowHalfOpen = true
	c, err := tls.Connect(co)
	require.NoError(t, err)
	var got []byte
	var events []string
	c.OnError(func(err error) { t.Errorf("client: %v", err) })
	c.OnData(func(b []byte) { got = append(got, b...) })
	c.OnFinish(func() { events = append(events, "finish") })
	c.OnEnd(func() { events = append(events, "end") })
	c.OnClose(func(bool) { events = append(events, "close") })
	c.End([]byte("ping"))
	testutil.RunUntil(t, l, testTimeout, func() bool { return len(events) == 3 })
	require.Equal(t, "ok", <-peerResult)
	require.Equal(t, "after your close_notify: ping", string(got))
	require.Equal(t, []string{"finish", "end", "close"}, events)
}

// TestHandshakeStallBoundedBySetTimeout: a server that accepts and never
// answers the ClientHello: the client's SetTimeout fires and Destroy ends
// it with 'close' once; a client that sends half a ClientHello and stalls
// is dropped by the server's HandshakeTimeout with 'tlsClientError'
// ERR_TLS_HANDSHAKE_TIMEOUT.
func TestHandshakeStallBoundedBySetTimeout(t *testing.T) {
	l := testutil.NewLoop(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c) // reads the ClientHello, answers nothing
			c.Close()
		}
	}()
	co := clientOpts(t, l, ln.Addr().(*net.TCPAddr).Port)
	c, err := tls.Connect(co)
	require.NoError(t, err)
	timeouts, closes := 0, 0
	c.SetTimeout(100 * time.Millisecond)
	c.OnTimeout(func() { timeouts++; c.Destroy(nil) })
	c.OnSecureConnect(func() { t.Error("secureConnect from a silent server") })
	c.OnClose(func(bool) { closes++ })
	testutil.RunUntil(t, l, testTimeout, func() bool { return closes == 1 })
	require.Equal(t, 1, timeouts)

	so := serverOpts(t)
	so.HandshakeTimeout = 150 * time.Millisecond
	var clientErrs []string
	srvCloses := 0
	srv, port := listen(t, l, so, nil)
	srv.OnTLSClientError(func(err error, s *tls.TLSSocket) {
		clientErrs = append(clientErrs, errs.CodeOf(err))
		s.OnClose(func(bool) { srvCloses++ })
	})
	raw, err := net.Dial("tcp", "127.0.0.1:"+itoa(port))
	require.NoError(t, err)
	defer raw.Close()
	raw.Write([]byte{0x16, 0x03, 0x01, 0x01, 0x00, 0x01}) // a record header and one byte
	testutil.RunUntil(t, l, testTimeout, func() bool { return srvCloses == 1 })
	require.Equal(t, []string{tls.CodeHandshakeTimeout}, clientErrs)
	srv.Close(nil)
	testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSlowHandshakesDoNotBlockOthers: many connections that dribble a
// ClientHello one byte at a time (a slow-loris handshake flood) while a
// normal client completes its handshake and echo.
func TestSlowHandshakesDoNotBlockOthers(t *testing.T) {
	const slow = 200
	l := testutil.NewLoop(t)
	so := serverOpts(t)
	so.HandshakeTimeout = -1
	srv, port := listen(t, l, so, func(s *tls.TLSSocket) { s.Pipe(s) })
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < slow; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port))
		require.NoError(t, err)
		conns = append(conns, c)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	var dribbled atomic.Int64
	go func(conns []net.Conn) {
		defer close(stopped)
		hello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}
		for i := 0; i < len(hello); i++ {
			for _, c := range conns {
				c.Write(hello[i : i+1])
				dribbled.Add(1)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}(conns)
	testutil.RunUntil(t, l, testTimeout, func() bool { return srv.Connections() == slow })
	start := time.Now()
	c, err := tls.Connect(clientOpts(t, l, port))
	require.NoError(t, err)
	var got []byte
	closed := false
	c.OnData(func(b []byte) { got = append(got, b...); c.End(nil) })
	c.OnClose(func(bool) { closed = true })
	c.Write([]byte("x"))
	testutil.RunUntil(t, l, testTimeout, func() bool { return closed })
	require.Equal(t, "x", string(got))
	t.Logf("echo with %d stalled handshakes: %v (bytes dribbled so far %d)", slow, time.Since(start), dribbled.Load())
	close(stop)
	<-stopped
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	testutil.RunUntil(t, l, testTimeout, func() bool { return srv.Connections() == 0 })
	srv.Close(nil)
	testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
}

// TestLargeTransferBackpressure: 64 MiB (16 MiB under -race) from a
// netloop client through a netloop server that echoes with Pipe, written
// with Write/'drain' backpressure, checked with sha256; the client's
// write buffer never grows far past the high-water mark.
func TestLargeTransferBackpressure(t *testing.T) {
	size := 64 << 20
	if raceEnabled {
		size = 16 << 20
	}
	l := testutil.NewLoop(t)
	so := serverOpts(t)
	so.AllowHalfOpen = true
	srv, port := listen(t, l, so, func(s *tls.TLSSocket) { s.Pipe(s) })
	co := clientOpts(t, l, port)
	co.AllowHalfOpen = true
	c, err := tls.Connect(co)
	require.NoError(t, err)
	sent, recvd := sha256.New(), sha256.New()
	n, got, maxBuf, drains := 0, 0, 0, 0
	chunk := make([]byte, 64<<10)
	var pump func()
	pump = func() {
		for n < size {
			for i := range chunk {
				chunk[i] = byte(n + i*31)
			}
			sent.Write(chunk)
			n += len(chunk)
			ok := c.Write(chunk)
			if b := c.WritableLength(); b > maxBuf {
				maxBuf = b
			}
			if !ok {
				return
			}
		}
		c.End(nil)
	}
	c.OnDrain(func() { drains++; pump() })
	c.OnSecureConnect(pump)
	closed := false
	c.OnError(func(err error) { t.Errorf("client: %v", err) })
	c.OnData(func(b []byte) { recvd.Write(b); got += len(b) })
	c.OnClose(func(bool) { closed = true })
	testutil.RunUntil(t, l, 120*time.Second, func() bool { return closed })
	require.Equal(t, size, got)
	require.Equal(t, sent.Sum(nil), recvd.Sum(nil))
	require.Greater(t, drains, 0)
	require.LessOrEqual(t, maxBuf, 64<<10+64<<10+4096, "buffered past the high-water mark plus one chunk")
	srv.Close(nil)
	testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
}

// TestRequestCertWithoutClientCert: a server with RequestCert rejects a
// client without a certificate (both sides see Node's codes); with
// AllowUnauthorized it accepts it, unauthorized, with Node's reason.
func TestRequestCertWithoutClientCert(t *testing.T) {
	l := testutil.NewLoop(t)
	so := serverOpts(t)
	so.RequestCert = true
	so.CA = getPKI(t).CA.CertPEM
	var srvErr string
	srv, port := listen(t, l, so, func(s *tls.TLSSocket) { s.Pipe(s) })
	srv.OnTLSClientError(func(err error, _ *tls.TLSSocket) { srvErr = errs.CodeOf(err) })
	c, err := tls.Connect(clientOpts(t, l, port))
	require.NoError(t, err)
	var cliErr string
	closed := false
	c.OnError(func(err error) { cliErr = errs.CodeOf(err) })
	c.OnClose(func(bool) { closed = true })
	testutil.RunUntil(t, l, testTimeout, func() bool { return closed && srvErr != "" })
	require.Equal(t, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", cliErr)
	require.Equal(t, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE", srvErr)
	srv.Close(nil)

	so.AllowUnauthorized = true
	var accepted *tls.TLSSocket
	srv2, port2 := listen(t, l, so, func(s *tls.TLSSocket) { accepted = s; s.Pipe(s) })
	c2, err := tls.Connect(clientOpts(t, l, port2))
	require.NoError(t, err)
	closed = false
	c2.OnSecureConnect(func() { c2.End(nil) })
	c2.OnClose(func(bool) { closed = true })
	testutil.RunUntil(t, l, testTimeout, func() bool { return closed })
	require.NotNil(t, accepted)
	require.False(t, accepted.Authorized())
	require.Equal(t, tls.CodeUnableToGetIssuer, errs.CodeOf(accepted.AuthorizationError()))
	srv2.Close(nil)
	testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() && !srv2.Listening() })
}

// TestGoClientInterop: Go's crypto/tls client (on its own goroutine)
// against a netloop server, line echo, TLS 1.2 and 1.3.
func TestGoClientInterop(t *testing.T) {
	for _, vers := range []uint16{gotls.VersionTLS12, gotls.VersionTLS13} {
		l := testutil.NewLoop(t)
		srv, port := listen(t, l, serverOpts(t), func(s *tls.TLSSocket) { s.Pipe(s) })
		roots := x509.NewCertPool()
		roots.AddCert(getPKI(t).CA.X509)
		res := make(chan string, 1)
		go func() {
			c, err := gotls.Dial("tcp", "127.0.0.1:"+itoa(port), &gotls.Config{RootCAs: roots, ServerName: "localhost", MaxVersion: vers})
			if err != nil {
				res <- err.Error()
				return
			}
			defer c.Close()
			c.Write([]byte("line one\n"))
			s, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				res <- err.Error()
				return
			}
			res <- s
		}()
		var got string
		testutil.RunUntil(t, l, testTimeout, func() bool {
			select {
			case got = <-res:
				return true
			default:
				return false
			}
		})
		require.Equal(t, "line one\n", got)
		testutil.RunUntil(t, l, testTimeout, func() bool { return srv.Connections() == 0 })
		srv.Close(nil)
		testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
	}
}
