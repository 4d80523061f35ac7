package tls

import (
	gotls "crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"

	"github.com/netloop/netloop/errs"
)

// Node's codes for the errors of this package (besides the certificate
// verification codes in verify.go).
const (
	// CodeHandshakeTimeout is the server's 'tlsClientError' when a
	// handshake outlives ServerOptions.HandshakeTimeout.
	CodeHandshakeTimeout = "ERR_TLS_HANDSHAKE_TIMEOUT"
	// CodeCertAltnameInvalid: the certificate does not name the host.
	CodeCertAltnameInvalid = "ERR_TLS_CERT_ALTNAME_INVALID"
	// CodeWrongVersionNumber: the peer does not speak TLS (OpenSSL's
	// "wrong version number").
	CodeWrongVersionNumber = "ERR_SSL_WRONG_VERSION_NUMBER"
	// CodeBadRecordMAC: a record failed to decrypt.
	CodeBadRecordMAC = "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
	// CodeUnsupportedProtocol: no TLS version in common.
	CodeUnsupportedProtocol = "ERR_SSL_UNSUPPORTED_PROTOCOL"
	// CodeHandshakeFailure: any other handshake failure.
	CodeHandshakeFailure = "ERR_SSL_SSL_HANDSHAKE_FAILURE"
)

// alertReasons are OpenSSL's reason names for the TLS alerts a peer may
// send; Node's code for a received alert is "ERR_SSL_" + reason.
var alertReasons = map[uint8]string{
	10: "SSLV3_ALERT_UNEXPECTED_MESSAGE", 20: "SSLV3_ALERT_BAD_RECORD_MAC",
	22: "TLSV1_ALERT_RECORD_OVERFLOW", 40: "SSLV3_ALERT_HANDSHAKE_FAILURE",
	42: "SSLV3_ALERT_BAD_CERTIFICATE", 43: "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
	44: "SSLV3_ALERT_CERTIFICATE_REVOKED", 45: "SSLV3_ALERT_CERTIFICATE_EXPIRED",
	46: "SSLV3_ALERT_CERTIFICATE_UNKNOWN", 47: "SSLV3_ALERT_ILLEGAL_PARAMETER",
	48: "TLSV1_ALERT_UNKNOWN_CA", 49: "TLSV1_ALERT_ACCESS_DENIED",
	50: "TLSV1_ALERT_DECODE_ERROR", 51: "TLSV1_ALERT_DECRYPT_ERROR",
	70: "TLSV1_ALERT_PROTOCOL_VERSION", 71: "TLSV1_ALERT_INSUFFICIENT_SECURITY",
	80: "TLSV1_ALERT_INTERNAL_ERROR", 86: "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
	90: "TLSV1_ALERT_USER_CANCELLED", 109: "TLSV13_ALERT_MISSING_EXTENSION",
	112: "TLSV1_UNRECOGNIZED_NAME", 116: "TLSV13_ALERT_CERTIFICATE_REQUIRED",
	120: "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
}

func tlsError(code, msg string, cause error) *errs.Error {
	return &errs.Error{Code: code, Message: msg, Cause: cause}
}

func errHandshakeTimeout() error {
	return tlsError(CodeHandshakeTimeout, "TLS handshake timeout", nil)
}

// errDisconnected is Node's error for a connection that closed before the
// handshake completed.
func errDisconnected(cause error) error {
	e := tlsError("ECONNRESET", "Client network socket disconnected before secure TLS connection was established", cause)
	return e
}

// nodeError turns a crypto/tls or x509 error into Node's form: an
// *errs.Error whose Code is the one Node (OpenSSL) gives. Errors that are
// already *errs.Error pass through.
func nodeError(err error, server bool) error {
	var ne *errs.Error
	if errors.As(err, &ne) {
		if ne.Code == "" || ne.Errno != 0 {
			return err
		}
		return ne
	}
	if err == errAborted || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errDisconnected(err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		if v := reflect.ValueOf(op.Err); v.Kind() == reflect.Uint8 {
			n := uint8(v.Uint())
			reason, ok := alertReasons[n]
			if !ok {
				reason = "TLSV1_ALERT_" + strconv.Itoa(int(n))
			}
			return tlsError("ERR_SSL_"+reason, "SSL alert received from the peer: "+strings.TrimPrefix(op.Err.Error(), "tls: ")+" ("+reason+")", err)
		}
	}
	var cve *gotls.CertificateVerificationError
	if errors.As(err, &cve) {
		return verifyError(cve.UnverifiedCertificates, cve.Err, "")
	}
	var rhe gotls.RecordHeaderError
	if errors.As(err, &rhe) {
		return tlsError(CodeWrongVersionNumber, "wrong version number ("+err.Error()+")", err)
	}
	var ue x509.UnknownAuthorityError
	var ie x509.CertificateInvalidError
	var he x509.HostnameError
	if errors.As(err, &ue) || errors.As(err, &ie) || errors.As(err, &he) {
		return verifyError(nil, err, "")
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "bad record MAC"):
		return tlsError(CodeBadRecordMAC, "decryption failed or bad record mac ("+msg+")", err)
	case strings.Contains(msg, "protocol version not supported"), strings.Contains(msg, "unsupported versions"):
		return tlsError(CodeUnsupportedProtocol, "unsupported protocol ("+msg+")", err)
	case strings.Contains(msg, "didn't provide a certificate"):
		return tlsError("ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE", "peer did not return a certificate ("+msg+")", err)
	case strings.Contains(msg, "no application protocol"):
		return tlsError("ERR_SSL_NO_APPLICATION_PROTOCOL", "no application protocol ("+msg+")", err)
	}
	return tlsError(CodeHandshakeFailure, msg, err)
}
