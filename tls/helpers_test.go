//go:build !windows

package tls_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/tls"
)

// TestMain runs the tests under the leak check, except when fuzzing (the
// fuzzing engine's own signal goroutine outlives the run).
func TestMain(m *testing.M) {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzz=") || strings.HasPrefix(a, "-test.fuzzworker") {
			os.Exit(m.Run())
		}
	}
	os.Exit(testutil.LeakCheckMain(m))
}

// testTimeout bounds every loop run of these tests.
const testTimeout = 10 * time.Second

// cert is a generated certificate with its PEM forms. Every key is made
// by the test that uses it; none is checked in.
type cert struct {
	CertPEM, KeyPEM []byte
	X509            *x509.Certificate
	key             *ecdsa.PrivateKey
}

type certSpec struct {
	CN        string
	DNS       []string
	IPs       []net.IP
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	Client    bool  // client-auth usage instead of server-auth
	Issuer    *cert // nil: self-signed
}

func newCert(t testing.TB, s certSpec) *cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	if s.NotBefore.IsZero() {
		s.NotBefore = time.Now().Add(-time.Hour)
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = time.Now().Add(24 * time.Hour)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: s.CN, Organization: []string{"netloop test"}},
		NotBefore:    s.NotBefore, NotAfter: s.NotAfter,
		DNSNames: s.DNS, IPAddresses: s.IPs,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	if s.IsCA {
		tmpl.IsCA = true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else if s.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	parent, signer := tmpl, key
	if s.Issuer != nil {
		parent, signer = s.Issuer.X509, s.Issuer.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return &cert{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		X509:    c, key: key,
	}
}

// pki is a CA with a server certificate for localhost and 127.0.0.1 and a
// client certificate, made once per test binary.
type pki struct {
	CA, Server, Client *cert
}

var testPKI *pki

func getPKI(t testing.TB) *pki {
	if testPKI == nil {
		ca := newCert(t, certSpec{CN: "netloop test CA", IsCA: true})
		testPKI = &pki{
			CA:     ca,
			Server: newCert(t, certSpec{CN: "localhost", DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Issuer: ca}),
			Client: newCert(t, certSpec{CN: "client", Client: true, Issuer: ca}),
		}
	}
	return testPKI
}

// listen starts a TLS server on 127.0.0.1 with an ephemeral port and
// returns it with its port once listening.
func listen(t testing.TB, l *loop.Loop, opts tls.ServerOptions, onSecure func(*tls.TLSSocket)) (*tls.Server, int) {
	t.Helper()
	opts.Loop = l
	srv, err := tls.CreateServer(opts, onSecure)
	require.NoError(t, err)
	listening := false
	srv.OnError(func(err error) { t.Errorf("server error: %v", err) })
	require.NoError(t, srv.ListenOptions(server.ListenOptions{Port: 0, PortGiven: true, Host: "127.0.0.1"}, func() { listening = true }))
	testutil.RunUntil(t, l, testTimeout, func() bool { return listening })
	return srv, srv.Address().Port
}

// serverOpts are server options with the test PKI's server certificate.
func serverOpts(t testing.TB) tls.ServerOptions {
	p := getPKI(t)
	var o tls.ServerOptions
	o.Cert, o.Key = p.Server.CertPEM, p.Server.KeyPEM
	return o
}

// clientOpts are connect options trusting the test CA for port on
// localhost.
func clientOpts(t testing.TB, l *loop.Loop, port int) tls.ConnectOptions {
	var o tls.ConnectOptions
	o.Loop = l
	o.Port = port
	o.Host = "127.0.0.1"
	o.ServerName = "localhost"
	o.CA = getPKI(t).CA.CertPEM
	return o
}
