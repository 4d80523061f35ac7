package tls

import (
	"crypto/x509"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/netloop/netloop/errs"
)

// Node's (OpenSSL's) codes for certificate verification failures, the
// values of TLSSocket.AuthorizationError's code and of the 'error' a
// client gets when it rejects the server.
const (
	CodeDepthZeroSelfSigned       = "DEPTH_ZERO_SELF_SIGNED_CERT"
	CodeSelfSignedInChain         = "SELF_SIGNED_CERT_IN_CHAIN"
	CodeUnableToVerifyLeaf        = "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
	CodeUnableToGetIssuerLocally  = "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
	CodeUnableToGetIssuer         = "UNABLE_TO_GET_ISSUER_CERT"
	CodeCertHasExpired            = "CERT_HAS_EXPIRED"
	CodeCertNotYetValid           = "CERT_NOT_YET_VALID"
	CodeInvalidPurpose            = "INVALID_PURPOSE"
	CodeCertRejected              = "CERT_REJECTED"
	codeUnableToGetIssuerNoCert   = CodeUnableToGetIssuer
	messageUnableToGetIssuerNoCrt = "unable to get issuer certificate"
)

var verifyMessages = map[string]string{
	CodeDepthZeroSelfSigned:      "self-signed certificate",
	CodeSelfSignedInChain:        "self-signed certificate in certificate chain",
	CodeUnableToVerifyLeaf:       "unable to verify the first certificate",
	CodeUnableToGetIssuerLocally: "unable to get local issuer certificate",
	CodeUnableToGetIssuer:        messageUnableToGetIssuerNoCrt,
	CodeCertHasExpired:           "certificate has expired",
	CodeCertNotYetValid:          "certificate is not yet valid",
	CodeInvalidPurpose:           "unsupported certificate purpose",
	CodeCertRejected:             "certificate rejected",
}

func verifyCodeError(code string, cause error) *errs.Error {
	return tlsError(code, verifyMessages[code], cause)
}

// verifyChain checks a peer's chain (leaf first) against roots the way
// OpenSSL orders its findings: the issuer chain first, then validity
// times, then purpose. Roots nil means the system's.
func verifyChain(chain []*x509.Certificate, roots *x509.CertPool, usage x509.ExtKeyUsage, now time.Time) error {
	if len(chain) == 0 {
		return verifyCodeError(codeUnableToGetIssuerNoCert, nil)
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: now}
	_, err := leaf.Verify(opts)
	if err == nil {
		return nil
	}
	var ie x509.CertificateInvalidError
	if errors.As(err, &ie) && ie.Reason == x509.Expired {
		// Go checks times before the issuer; OpenSSL the issuer first.
		// Look again at a moment every certificate was valid.
		at := leaf.NotBefore.Add(time.Second)
		for _, c := range chain {
			if c.NotBefore.After(at) {
				at = c.NotBefore.Add(time.Second)
			}
		}
		opts.CurrentTime = at
		if _, err2 := leaf.Verify(opts); err2 != nil {
			return verifyError(chain, err2, "")
		}
		if now.Before(leaf.NotBefore) {
			return verifyCodeError(CodeCertNotYetValid, err)
		}
		return verifyCodeError(CodeCertHasExpired, err)
	}
	return verifyError(chain, err, "")
}

// verifyError classifies a verification failure with Node's code.
func verifyError(chain []*x509.Certificate, err error, _ string) error {
	var ie x509.CertificateInvalidError
	var he x509.HostnameError
	var ue x509.UnknownAuthorityError
	switch {
	case errors.As(err, &he):
		return altnameError(he.Host, he.Certificate, err)
	case errors.As(err, &ie):
		switch ie.Reason {
		case x509.Expired:
			if ie.Cert != nil && time.Now().Before(ie.Cert.NotBefore) {
				return verifyCodeError(CodeCertNotYetValid, err)
			}
			return verifyCodeError(CodeCertHasExpired, err)
		case x509.IncompatibleUsage:
			return verifyCodeError(CodeInvalidPurpose, err)
		}
		return verifyCodeError(CodeCertRejected, err)
	case errors.As(err, &ue):
		switch {
		case len(chain) == 1 && selfSigned(chain[0]):
			return verifyCodeError(CodeDepthZeroSelfSigned, err)
		case len(chain) > 1 && selfSigned(chain[len(chain)-1]):
			return verifyCodeError(CodeSelfSignedInChain, err)
		case len(chain) <= 1:
			return verifyCodeError(CodeUnableToVerifyLeaf, err)
		}
		return verifyCodeError(CodeUnableToGetIssuerLocally, err)
	}
	return verifyCodeError(CodeCertRejected, err)
}

// selfSigned reports whether c is signed by its own key.
func selfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// CheckServerIdentity is Node's tls.checkServerIdentity: it returns an
// ERR_TLS_CERT_ALTNAME_INVALID error when cert does not name host (a DNS
// name, with wildcards matched as Node does, or an IP address), nil
// otherwise.
func CheckServerIdentity(host string, cert *PeerCertificate) error {
	if cert == nil || cert.Certificate == nil {
		return tlsError(CodeCertAltnameInvalid, "Hostname/IP does not match certificate's altnames: no certificate", nil)
	}
	host = strings.TrimSuffix(host, ".")
	if err := cert.Certificate.VerifyHostname(host); err != nil {
		return altnameError(host, cert.Certificate, err)
	}
	return nil
}

func altnameError(host string, c *x509.Certificate, cause error) error {
	alt := subjectAltName(c)
	var reason string
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		reason = "IP: " + host + " is not in the cert's list: " + ipList(c)
	} else if alt == "" {
		reason = "Cert does not contain a DNS name"
	} else {
		reason = "Host: " + host + ". is not in the cert's altnames: " + alt
	}
	e := tlsError(CodeCertAltnameInvalid, "Hostname/IP does not match certificate's altnames: "+reason, cause)
	e.Hostname = host
	return e
}

func ipList(c *x509.Certificate) string {
	var b strings.Builder
	for i, ip := range c.IPAddresses {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ip.String())
	}
	return b.String()
}
