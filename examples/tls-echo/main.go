// Command tls-echo is the echo server of Node's tls documentation on
// netloop: it greets each client with "hello\r\n" over TLS and sends back
// whatever it receives. Without -cert and -key it makes a self-signed
// certificate for localhost (kept in memory only). TLS 1.3 only by
// default; -min TLSv1.2 admits TLS 1.2 clients too.
//
//	go run ./examples/tls-echo                  # port 8000
//	openssl s_client -connect localhost:8000    # then type lines
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"os"
	"time"

	"github.com/netloop/netloop"
)

func main() {
	port := flag.Int("port", 8000, "TCP port to listen on")
	certFile := flag.String("cert", "", "PEM certificate chain (default: a self-signed one for localhost)")
	keyFile := flag.String("key", "", "PEM private key of -cert")
	minVersion := flag.String("min", "TLSv1.3", "lowest TLS version accepted (TLSv1.2 or TLSv1.3)")
	flag.Parse()

	var opts netloop.SecureServerOptions
	opts.MinVersion = *minVersion
	var err error
	if *certFile != "" {
		if opts.Cert, err = os.ReadFile(*certFile); err == nil {
			opts.Key, err = os.ReadFile(*keyFile)
		}
	} else {
		opts.Cert, opts.Key, err = selfSigned()
		fmt.Println("using a self-signed certificate for localhost")
	}
	if err != nil {
		log.Fatal(err)
	}
	srv, err := netloop.CreateSecureServer(opts, func(c *netloop.TLSSocket) {
		fmt.Println("client connected", c.GetProtocol(), c.GetCipher().StandardName)
		c.OnEnd(func() { fmt.Println("client disconnected") })
		c.OnError(func(err error) { log.Print(err) })
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnTLSClientError(func(err error, _ *netloop.TLSSocket) { log.Print("handshake failed: ", err) })
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.Listen(*port, func() { fmt.Println("server bound") }); err != nil {
		log.Fatal(err)
	}
	if err := netloop.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// selfSigned makes an ECDSA P-256 certificate for localhost, 127.0.0.1
// and ::1, valid for a day.
func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
