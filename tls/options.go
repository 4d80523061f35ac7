package tls

import (
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"strings"

	"github.com/netloop/netloop/errs"
)

// SecureOptions are the options both sides share: Node's
// tls.createSecureContext options (cert, key, ca, minVersion, maxVersion)
// plus ALPNProtocols and rejectUnauthorized, mapped onto a crypto/tls
// Config. The zero value is Node's default: TLS 1.2 to 1.3, the system's
// roots, unauthorized peers rejected.
type SecureOptions struct {
	// Config is the crypto/tls configuration to start from (cloned, never
	// changed): certificates, roots, cipher suites, session caches,
	// KeyLogWriter... The Node-named fields below override it where set.
	Config *gotls.Config
	// Cert and Key are a PEM certificate chain and its PEM private key
	// (Node's cert and key).
	Cert, Key []byte
	// CA holds PEM certificates to trust instead of the system's roots
	// (Node's ca): the server's roots for a client, the client
	// certificates' roots for a server that requests them.
	CA []byte
	// MinVersion and MaxVersion are "TLSv1.2" or "TLSv1.3" (also "TLSv1",
	// "TLSv1.1"); "" means Node's defaults, TLSv1.2 and TLSv1.3.
	MinVersion, MaxVersion string
	// ALPNProtocols are the protocols offered (client) or accepted
	// (server), in order of preference.
	ALPNProtocols []string
	// AllowUnauthorized is Node's rejectUnauthorized: false: a peer whose
	// certificate does not verify is accepted, with Authorized false and
	// AuthorizationError set. (A server checks client certificates only
	// with RequestCert.)
	AllowUnauthorized bool
}

var versions = map[string]uint16{
	"TLSv1": gotls.VersionTLS10, "TLSv1.1": gotls.VersionTLS11,
	"TLSv1.2": gotls.VersionTLS12, "TLSv1.3": gotls.VersionTLS13,
}

func protocolName(v uint16) string {
	for name, n := range versions {
		if n == v {
			return name
		}
	}
	return "unknown"
}

func invalidArg(msg string) error {
	return &errs.Error{Code: errs.CodeInvalidArgValue, Message: msg}
}

// build returns the crypto/tls Config the options describe and the roots
// to verify the peer against (nil: the system's).
func (o *SecureOptions) build() (*gotls.Config, *x509.CertPool, error) {
	var cfg *gotls.Config
	if o.Config != nil {
		cfg = o.Config.Clone()
	} else {
		cfg = &gotls.Config{}
	}
	if len(o.Cert) > 0 || len(o.Key) > 0 {
		pair, err := gotls.X509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, nil, invalidArg("The cert and key options are invalid: " + err.Error())
		}
		cfg.Certificates = append([]gotls.Certificate{pair}, cfg.Certificates...)
	}
	var roots *x509.CertPool
	if len(o.CA) > 0 {
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(o.CA) {
			return nil, nil, invalidArg("The ca option holds no PEM certificate")
		}
	}
	if cfg.MinVersion == 0 || o.MinVersion != "" {
		cfg.MinVersion = gotls.VersionTLS12
		if o.MinVersion != "" {
			v, ok := versions[o.MinVersion]
			if !ok {
				return nil, nil, invalidArg("The minVersion option is invalid: " + o.MinVersion)
			}
			cfg.MinVersion = v
		}
	}
	if o.MaxVersion != "" {
		v, ok := versions[o.MaxVersion]
		if !ok {
			return nil, nil, invalidArg("The maxVersion option is invalid: " + o.MaxVersion)
		}
		cfg.MaxVersion = v
	}
	if cfg.MaxVersion != 0 && cfg.MinVersion > cfg.MaxVersion {
		return nil, nil, errors.New("tls: minVersion is above maxVersion")
	}
	if o.ALPNProtocols != nil {
		cfg.NextProtos = append([]string(nil), o.ALPNProtocols...)
	}
	return cfg, roots, nil
}

// CipherInfo is Node's getCipher() result.
type CipherInfo struct {
	Name         string // OpenSSL's name ("ECDHE-RSA-AES128-GCM-SHA256"; the standard name for TLS 1.3)
	StandardName string // IANA's name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
	Version      string // the suite's minimum version as OpenSSL reports it: "TLSv1.3", "TLSv1.2", "TLSv1.0"
}

// opensslNames are OpenSSL's names for the TLS 1.2 suites crypto/tls
// offers.
var opensslNames = map[uint16]string{
	gotls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	gotls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	gotls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	gotls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	gotls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
	gotls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	gotls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:            "ECDHE-RSA-AES128-SHA",
	gotls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:            "ECDHE-RSA-AES256-SHA",
	gotls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:          "ECDHE-ECDSA-AES128-SHA",
	gotls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:          "ECDHE-ECDSA-AES256-SHA",
	gotls.TLS_RSA_WITH_AES_128_GCM_SHA256:               "AES128-GCM-SHA256",
	gotls.TLS_RSA_WITH_AES_256_GCM_SHA384:               "AES256-GCM-SHA384",
	gotls.TLS_RSA_WITH_AES_128_CBC_SHA:                  "AES128-SHA",
	gotls.TLS_RSA_WITH_AES_256_CBC_SHA:                  "AES256-SHA",
}

func cipherInfo(id uint16, vers uint16) CipherInfo {
	std := gotls.CipherSuiteName(id)
	name := std
	if n, ok := opensslNames[id]; ok {
		name = n
	}
	v := "TLSv1.2"
	switch {
	case vers == gotls.VersionTLS13:
		v = "TLSv1.3"
	case strings.HasSuffix(name, "-SHA"):
		v = "TLSv1.0" // OpenSSL's minimum version of the CBC-SHA suites
	}
	return CipherInfo{Name: name, StandardName: std, Version: v}
}
