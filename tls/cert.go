package tls

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"strings"
)

// CertName is a certificate's subject or issuer as Node reports it (the
// attributes most certificates carry).
type CertName struct {
	C, ST, L, O, OU, CN string
}

// PeerCertificate is Node's getPeerCertificate() result as a Go value,
// with the parsed *x509.Certificate alongside.
type PeerCertificate struct {
	Subject        CertName
	Issuer         CertName
	SubjectAltName string // "DNS:localhost, IP Address:127.0.0.1", Node's format
	CA             bool
	Bits           int    // key size in bits (RSA modulus, EC curve)
	ValidFrom      string // "Jan  2 15:04:05 2006 GMT", OpenSSL's format
	ValidTo        string
	SerialNumber   string // upper-case hex
	Fingerprint    string // SHA-1 of the DER, "AB:CD:..."
	Fingerprint256 string
	Fingerprint512 string
	ExtKeyUsage    []string // OIDs, as Node's ext_key_usage
	Raw            []byte   // DER
	// IssuerCertificate is the next certificate of the chain the peer
	// sent, when GetPeerCertificate was asked for the detailed form.
	IssuerCertificate *PeerCertificate
	// Certificate is the parsed certificate.
	Certificate *x509.Certificate
}

var extKeyUsageOIDs = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageServerAuth:      "1.3.6.1.5.5.7.3.1",
	x509.ExtKeyUsageClientAuth:      "1.3.6.1.5.5.7.3.2",
	x509.ExtKeyUsageCodeSigning:     "1.3.6.1.5.5.7.3.3",
	x509.ExtKeyUsageEmailProtection: "1.3.6.1.5.5.7.3.4",
	x509.ExtKeyUsageTimeStamping:    "1.3.6.1.5.5.7.3.8",
	x509.ExtKeyUsageOCSPSigning:     "1.3.6.1.5.5.7.3.9",
}

func certName(n pkix.Name) CertName {
	first := func(s []string) string {
		if len(s) == 0 {
			return ""
		}
		return s[0]
	}
	return CertName{C: first(n.Country), ST: first(n.Province), L: first(n.Locality),
		O: first(n.Organization), OU: first(n.OrganizationalUnit), CN: n.CommonName}
}

func fingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func subjectAltName(c *x509.Certificate) string {
	var parts []string
	for _, d := range c.DNSNames {
		parts = append(parts, "DNS:"+d)
	}
	for _, ip := range c.IPAddresses {
		parts = append(parts, "IP Address:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		parts = append(parts, "email:"+e)
	}
	for _, u := range c.URIs {
		parts = append(parts, "URI:"+u.String())
	}
	return strings.Join(parts, ", ")
}

// opensslTime is the date format of Node's valid_from / valid_to.
const opensslTime = "Jan _2 15:04:05 2006 GMT"

func newPeerCertificate(chain []*x509.Certificate, detailed bool) *PeerCertificate {
	if len(chain) == 0 {
		return nil
	}
	c := chain[0]
	s1 := sha1.Sum(c.Raw)
	s256 := sha256.Sum256(c.Raw)
	s512 := sha512.Sum512(c.Raw)
	p := &PeerCertificate{
		Subject: certName(c.Subject), Issuer: certName(c.Issuer),
		SubjectAltName: subjectAltName(c), CA: c.IsCA,
		ValidFrom:    c.NotBefore.UTC().Format(opensslTime),
		ValidTo:      c.NotAfter.UTC().Format(opensslTime),
		SerialNumber: strings.ToUpper(c.SerialNumber.Text(16)),
		Fingerprint:  fingerprint(s1[:]), Fingerprint256: fingerprint(s256[:]), Fingerprint512: fingerprint(s512[:]),
		Raw: c.Raw, Certificate: c,
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		p.Bits = k.N.BitLen()
	case *ecdsa.PublicKey:
		p.Bits = k.Curve.Params().BitSize
	case ed25519.PublicKey:
		p.Bits = 256
	}
	for _, u := range c.ExtKeyUsage {
		if oid, ok := extKeyUsageOIDs[u]; ok {
			p.ExtKeyUsage = append(p.ExtKeyUsage, oid)
		}
	}
	if detailed && len(chain) > 1 {
		p.IssuerCertificate = newPeerCertificate(chain[1:], true)
	} else if detailed && selfSigned(c) {
		p.IssuerCertificate = p // Node: a self-signed certificate is its own issuer
	}
	return p
}
