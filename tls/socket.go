package tls

import (
	gotls "crypto/tls"
	"crypto/x509"
	"sync"
	"time"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/internal/layer"
	"github.com/netloop/netloop/socket"
)

// Event kinds of a TLSSocket.
const (
	evSecureConnect emitter.Kind = iota
	evSession
	evKeylog
	evOCSPResponse
)

// TLSSocket is Node's tls.TLSSocket: a socket.Socket whose bytes are
// encrypted. Every socket.Socket method works on the plaintext ('data',
// Write and its backpressure, 'drain', End (close_notify, then FIN),
// allowHalfOpen, Pause/Resume, SetTimeout, encodings, paused mode, Pipe,
// BytesRead/BytesWritten counting plaintext as Node does); TLSSocket adds
// Node's TLS events and accessors. Loop-affine, like the socket.
//
// Writes made before the handshake completes are held (they count in
// WritableLength) and sent once it has; 'data' starts after it.
// Reconnecting a TLSSocket (socket.Socket's Connect after 'close') and
// the socket option OnRead are not supported.
type TLSSocket struct {
	*socket.Socket
	e  engine
	ev emitter.Set

	srv        *Server        // the server that accepted it, nil for clients
	ctx        *secureContext // server side: the secure context it was accepted or upgraded with
	servername string         // client: requested; server: what the client asked for
	host       string         // client: the name its certificate must carry
	authorized bool
	authErr    error

	cfg         *gotls.Config // the configuration of the handshake to start
	sess        *sessionCache // client: its Config's ClientSessionCache
	requestOCSP bool          // client: emit 'OCSPResponse'
	keylog      bool          // the handshake logs its secrets to 'keylog'
	keylines    [][]byte      // key log lines the handshake wrote, not emitted yet
}

// Listener is returned by the TLS On/Once methods; Remove unregisters it.
type Listener struct {
	l  emitter.Listener
	mu *sync.Mutex // a server's listener lock, nil for a socket's
}

// Remove unregisters the listener; removing it twice does nothing.
func (l Listener) Remove() {
	if l.mu != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	l.l.Remove()
}

// newTLSSocket attaches the TLS layer to s.
func newTLSSocket(s *socket.Socket, server bool) (*TLSSocket, error) {
	t := &TLSSocket{Socket: s}
	t.e.t = t
	t.e.l = (*core.Loop)(s.Loop())
	t.e.ad.e = &t.e
	if server {
		t.e.flags |= eServer
	}
	hooks, err := layer.Attach(s, &t.e)
	if err != nil {
		return nil, err
	}
	t.e.hooks = hooks
	return t, nil
}

func (t *TLSSocket) affine(method string) { t.e.l.CheckAffinity(method) }

// OnSecureConnect adds a 'secureConnect' listener (client sockets): the
// handshake completed; Authorized and AuthorizationError tell whether the
// server's certificate verified.
func (t *TLSSocket) OnSecureConnect(fn func()) Listener {
	t.affine("TLSSocket.OnSecureConnect")
	return Listener{l: t.ev.On(evSecureConnect, fn, false)}
}

// OnceSecureConnect adds a one-shot 'secureConnect' listener.
func (t *TLSSocket) OnceSecureConnect(fn func()) Listener {
	t.affine("TLSSocket.OnceSecureConnect")
	return Listener{l: t.ev.On(evSecureConnect, fn, true)}
}

// secured runs on the loop when the handshake has completed.
func (t *TLSSocket) secured() {
	if t.e.flags&eServer == 0 {
		t.authorized = t.authErr == nil
		if t.requestOCSP && t.emitOCSPResponse() {
			return
		}
		emitter.Emit0(&t.ev, evSecureConnect)
		t.emitSessions()
		return
	}
	cs := t.e.conn.ConnectionState()
	t.servername = cs.ServerName
	if srv := t.ctx; srv != nil && srv.requestCert {
		switch {
		case len(cs.PeerCertificates) == 0:
			t.authErr = verifyCodeError(CodeUnableToGetIssuer, nil)
		case srv.allowUnauth:
			t.authErr = verifyChain(cs.PeerCertificates, srv.clientRoots(), x509.ExtKeyUsageClientAuth, time.Now())
		}
		t.authorized = t.authErr == nil
	}
	if t.srv != nil {
		t.srv.emitSecureConnection(t)
	}
}

// handshakeFailed ends a socket whose handshake failed.
func (t *TLSSocket) handshakeFailed(err error) {
	if t.srv != nil {
		t.srv.emitClientError(err, t)
		t.Socket.Destroy(nil)
		return
	}
	t.Socket.Destroy(err)
}

// Encrypted is Node's tlsSocket.encrypted: always true.
func (t *TLSSocket) Encrypted() bool { return true }

// Authorized reports whether the peer's certificate verified (Node's
// authorized). A server without RequestCert does not ask for one and
// reports false.
func (t *TLSSocket) Authorized() bool {
	t.affine("TLSSocket.Authorized")
	return t.authorized
}

// AuthorizationError is why the peer's certificate did not verify (Node's
// authorizationError), nil when it did; errs.CodeOf gives Node's string
// (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED,
// ERR_TLS_CERT_ALTNAME_INVALID...).
func (t *TLSSocket) AuthorizationError() error {
	t.affine("TLSSocket.AuthorizationError")
	return t.authErr
}

// state returns the connection's state once the handshake completed.
func (t *TLSSocket) state() (gotls.ConnectionState, bool) {
	if t.e.flags&eSecure == 0 || t.e.conn == nil {
		return gotls.ConnectionState{}, false
	}
	return t.e.conn.ConnectionState(), true
}

// ConnectionState returns crypto/tls's view of the connection (zero
// before the handshake completed).
func (t *TLSSocket) ConnectionState() gotls.ConnectionState {
	t.affine("TLSSocket.ConnectionState")
	cs, _ := t.state()
	return cs
}

// GetPeerCertificate returns the peer's certificate (Node's
// getPeerCertificate), nil when there is none or before the handshake
// completed; detailed adds the chain through IssuerCertificate.
func (t *TLSSocket) GetPeerCertificate(detailed bool) *PeerCertificate {
	t.affine("TLSSocket.GetPeerCertificate")
	cs, ok := t.state()
	if !ok {
		return nil
	}
	return newPeerCertificate(cs.PeerCertificates, detailed)
}

// GetProtocol returns the negotiated version ("TLSv1.3", "TLSv1.2"), or
// "" before the handshake completed (Node's getProtocol).
func (t *TLSSocket) GetProtocol() string {
	t.affine("TLSSocket.GetProtocol")
	cs, ok := t.state()
	if !ok {
		return ""
	}
	return protocolName(cs.Version)
}

// GetCipher returns the negotiated cipher suite (Node's getCipher).
func (t *TLSSocket) GetCipher() CipherInfo {
	t.affine("TLSSocket.GetCipher")
	cs, ok := t.state()
	if !ok {
		return CipherInfo{}
	}
	return cipherInfo(cs.CipherSuite, cs.Version)
}

// ALPNProtocol returns the protocol ALPN selected, "" when none (Node's
// alpnProtocol, which is false then).
func (t *TLSSocket) ALPNProtocol() string {
	t.affine("TLSSocket.ALPNProtocol")
	cs, _ := t.state()
	return cs.NegotiatedProtocol
}

// Servername returns the SNI server name: the one the client asked for
// (server side) or requested (client side); "" when none (Node's
// servername).
func (t *TLSSocket) Servername() string {
	t.affine("TLSSocket.Servername")
	return t.servername
}

// IsSessionReused reports whether the handshake resumed a session.
func (t *TLSSocket) IsSessionReused() bool {
	t.affine("TLSSocket.IsSessionReused")
	cs, _ := t.state()
	return cs.DidResume
}

// ExportKeyingMaterial is Node's exportKeyingMaterial (RFC 5705).
func (t *TLSSocket) ExportKeyingMaterial(length int, label string, context []byte) ([]byte, error) {
	t.affine("TLSSocket.ExportKeyingMaterial")
	cs, ok := t.state()
	if !ok {
		return nil, invalidArg("TLS socket connection must be securely established")
	}
	return cs.ExportKeyingMaterial(label, context, length)
}
