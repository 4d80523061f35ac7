//go:build windows

package tls_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	gotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/tls"
)

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }

// A TLS echo server on Windows (under Wine in make test): a crypto/tls
// client completes a TLS 1.3 handshake with it, verifies its certificate,
// and gets its bytes back.
func TestWindowsTLSEcho(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kd, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	cert, _ := x509.ParseCertificate(der)

	l := testutil.NewLoop(t)
	var opts tls.ServerOptions
	opts.Loop = l
	opts.Cert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	opts.Key = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	var protocol string
	srv, err := tls.CreateServer(opts, func(c *tls.TLSSocket) {
		protocol = c.GetProtocol()
		c.OnData(func(b []byte) { c.Write(b) })
		c.OnError(func(error) {})
	})
	require.NoError(t, err)
	listening := false
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() { listening = true }))
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return listening })

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	result := make(chan error, 1)
	go func() {
		c, err := gotls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srv.Address().Port), &gotls.Config{RootCAs: roots})
		if err != nil {
			result <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		msg := make([]byte, 100<<10)
		rand.Read(msg)
		go c.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			result <- err
			return
		}
		if string(got) != string(msg) {
			result <- io.ErrUnexpectedEOF
			return
		}
		result <- nil
	}()
	cerr := testutil.Receive(t, l, 20*time.Second, result)
	assert.NoError(t, cerr)
	assert.Equal(t, "TLSv1.3", protocol)
	closed := false
	srv.Close(func(error) { closed = true })
	testutil.RunUntil(t, l, 20*time.Second, func() bool { return closed })
}
