//go:build !windows

package tls_test

import (
	gotls "crypto/tls"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/socket"
	"github.com/netloop/netloop/tls"
)

// fuzzServer is one loop and TLS server shared by a fuzz function's inputs.
type fuzzServer struct {
	l        *loop.Loop
	srv      *tls.Server
	port     int
	accepted int
	closed   int
	secured  int
}

func newFuzzServer(f *testing.F) *fuzzServer {
	fs := &fuzzServer{l: testutil.NewLoop(f)}
	so := serverOpts(f)
	so.HandshakeTimeout = 5 * time.Second
	fs.srv, fs.port = listen(f, fs.l, so, func(s *tls.TLSSocket) {
		fs.secured++
		s.OnError(func(error) {}) // record errors end the socket; that is all
		s.OnData(func([]byte) {})
	})
	fs.srv.OnConnection(func(c *socket.Socket) {
		fs.accepted++
		c.OnClose(func(bool) { fs.closed++ })
	})
	f.Cleanup(func() {
		fs.srv.Close(nil)
		testutil.RunUntil(f, fs.l, testTimeout, func() bool { return !fs.srv.Listening() })
	})
	return fs
}

// clientHello captures the first flight of a crypto/tls client.
func clientHello(t testing.TB) []byte {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go gotls.Client(a, &gotls.Config{ServerName: "localhost"}).Handshake()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := b.Read(buf)
	require.NoError(t, err)
	return buf[:n]
}

// FuzzHandshakeInput sends arbitrary bytes to a TLS server as a client's
// first flight, then FIN: the server never panics and closes the
// connection exactly once. `go test` runs the seed corpus; `go test
// -fuzz FuzzHandshakeInput ./tls` explores further.
func FuzzHandshakeInput(f *testing.F) {
	ch := clientHello(f)
	f.Add([]byte{})
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add(ch)
	f.Add(ch[:len(ch)/2])
	f.Add(append(append([]byte(nil), ch...), 0x17, 0x03, 0x03, 0x00, 0x10))
	bad := append([]byte(nil), ch...)
	bad[len(bad)/3] ^= 0xff
	f.Add(bad)
	f.Add([]byte{0x16, 0x03, 0x01, 0xff, 0xff})        // oversized record
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 2, 40}) // fatal alert
	f.Add([]byte{0x80, 0x2e, 0x01, 0x00, 0x02})        // SSLv2 hello
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x00})        // empty handshake record
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(fs.port))
		require.NoError(t, err)
		defer raw.Close()
		want := fs.accepted + 1
		raw.Write(data)
		raw.(*net.TCPConn).CloseWrite()
		testutil.RunUntil(t, fs.l, testTimeout, func() bool { return fs.accepted == want && fs.closed == want })
	})
}

// FuzzRecordsAfterHandshake completes a TLS 1.3 handshake with crypto/tls,
// then sends arbitrary bytes under it as records: the server never
// panics and closes exactly once.
func FuzzRecordsAfterHandshake(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("plain text where records belong"))
	f.Add([]byte{0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32})
	f.Add([]byte{0x17, 0x03, 0x03, 0x00, 0x00, 0x17, 0x03, 0x03, 0x00, 0x00}) // empty records
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 1, 0})                         // cleartext close_notify
	f.Add([]byte{0x14, 0x03, 0x03, 0x00, 0x01, 0x01})                         // change_cipher_spec
	f.Add([]byte{0x17, 0x03, 0x03, 0x40, 0x01})                               // oversized length
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(fs.port))
		require.NoError(t, err)
		defer raw.Close()
		want := fs.accepted + 1
		var done atomic.Bool
		go func() {
			c := gotls.Client(raw, &gotls.Config{InsecureSkipVerify: true, MinVersion: gotls.VersionTLS13})
			if c.Handshake() == nil {
				raw.Write(data)
			}
			raw.(*net.TCPConn).CloseWrite()
			done.Store(true)
		}()
		testutil.RunUntil(t, fs.l, testTimeout, func() bool { return done.Load() && fs.accepted == want && fs.closed == want })
	})
}
