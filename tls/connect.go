package tls

import (
	"context"
	gotls "crypto/tls"
	"crypto/x509"
	"net/netip"
	"time"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/socket"
)

func coreLoop(l *loop.Loop) *core.Loop { return (*core.Loop)(l) }

// ClientOptions are the client side's TLS choices, shared by Connect and
// NewTLSSocket.
type ClientOptions struct {
	SecureOptions
	// ServerName is the SNI name sent and the name the server's
	// certificate must carry (Node's servername); "" means the host
	// connected to ("localhost" when none).
	ServerName string
	// CheckServerIdentity replaces Node's tls.checkServerIdentity (which
	// see) for the name check, done once the chain verified.
	CheckServerIdentity func(host string, cert *PeerCertificate) error
	// Session is a session to resume (Node's session option): the bytes
	// a 'session' listener received (see TLSSocket.OnSession and
	// SetSession). A Config with SessionTicketsDisabled resumes nothing
	// and emits no 'session'; a Config's own ClientSessionCache still
	// stores and offers sessions (Session, when given, is offered first).
	Session []byte
	// RequestOCSP emits 'OCSPResponse' with what the server stapled
	// (Node's requestOCSP). crypto/tls asks servers for a stapled
	// response on every connection either way.
	RequestOCSP bool
}

// ConnectOptions are Node's tls.connect options: where to connect (the
// net options, or an existing Socket), the socket's options and the TLS
// ones.
type ConnectOptions struct {
	ClientOptions
	socket.ConnectOptions
	// Socket, when not nil, runs TLS over this socket (connected or
	// connecting) instead of connecting a new one (Node's socket option);
	// the connect and socket options are then ignored.
	Socket *socket.Socket
	// Loop runs the socket; nil means the default loop.
	Loop *loop.Loop
	// AllowHalfOpen keeps the writable side open after the peer ends.
	AllowHalfOpen bool
	// HighWaterMark is the writable high-water mark (0: 64 KiB).
	HighWaterMark int
	// Context plays Node's AbortSignal.
	Context context.Context
}

// Connect is Node's tls.connect: it connects a socket (or takes
// opts.Socket) and runs the client handshake once connected.
// secureConnectListener, if given, is added as a 'secureConnect' listener.
// Argument errors are returned; connection, handshake and verification
// errors arrive as the socket's 'error' (Node's codes: ECONNREFUSED,
// DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID...).
func Connect(opts ConnectOptions, secureConnectListener ...func()) (*TLSSocket, error) {
	host := opts.Host
	if opts.Socket != nil {
		return upgradeClient(opts.Socket, opts.ClientOptions, host, secureConnectListener)
	}
	s, err := socket.New(socket.Options{Loop: opts.Loop, AllowHalfOpen: opts.AllowHalfOpen,
		HighWaterMark: opts.HighWaterMark, Context: opts.Context})
	if err != nil {
		return nil, err
	}
	t, err := clientSocket(s, opts.ClientOptions, host, secureConnectListener)
	if err != nil {
		s.Destroy(nil)
		return nil, err
	}
	if err := s.Connect(opts.ConnectOptions); err != nil {
		s.Destroy(nil)
		return nil, err
	}
	return t, nil
}

func upgradeClient(s *socket.Socket, o ClientOptions, host string, listeners []func()) (*TLSSocket, error) {
	if host == "" {
		host = s.RemoteAddress()
	}
	return clientSocket(s, o, host, listeners)
}

// clientSocket attaches the client side to s and starts the handshake once
// s is connected.
func clientSocket(s *socket.Socket, o ClientOptions, host string, listeners []func()) (*TLSSocket, error) {
	cfg, roots, err := o.build()
	if err != nil {
		return nil, err
	}
	var session *gotls.ClientSessionState
	if len(o.Session) > 0 {
		if session, err = unmarshalSession(o.Session); err != nil {
			return nil, err
		}
	}
	t, err := newTLSSocket(s, false)
	if err != nil {
		return nil, err
	}
	t.sess = &sessionCache{t: t, user: cfg.ClientSessionCache, set: session}
	if !cfg.SessionTicketsDisabled {
		// Always offered, as Node's client does: the server's tickets
		// become 'session' events.
		cfg.ClientSessionCache = t.sess
	}
	t.requestOCSP = o.RequestOCSP
	name := o.ServerName
	if name == "" {
		name = cfg.ServerName
	}
	if name == "" {
		name = host
	}
	if name == "" {
		name = "localhost"
	}
	t.host = name
	if _, err := netip.ParseAddr(name); err != nil {
		t.servername = name // SNI carries names, not addresses
	}
	cfg.ServerName = t.servername
	if roots == nil {
		roots = cfg.RootCAs
	}
	allow := o.AllowUnauthorized || cfg.InsecureSkipVerify
	check := o.CheckServerIdentity
	if check == nil {
		check = CheckServerIdentity
	}
	userVerify := cfg.VerifyConnection
	cfg.InsecureSkipVerify = true // verified below, in Node's order and with its codes
	cfg.VerifyConnection = func(cs gotls.ConnectionState) error {
		// Inside the handshake's coroutine, which the loop resumes and
		// waits for: the loop reads authErr once the handshake returned.
		err := verifyChain(cs.PeerCertificates, roots, x509.ExtKeyUsageServerAuth, time.Now())
		if err == nil {
			err = check(name, newPeerCertificate(cs.PeerCertificates, false))
		}
		t.authErr = err
		if err != nil && !allow {
			return err
		}
		if userVerify != nil {
			return userVerify(cs)
		}
		return nil
	}
	for _, fn := range listeners {
		if fn != nil {
			t.OnceSecureConnect(fn)
		}
	}
	t.cfg = cfg
	t.startWhenConnected()
	return t, nil
}

// startWhenConnected starts the handshake on 'connect', or on the next
// tick for a connected socket, so that listeners and SetSession added
// right after the socket was made apply to it.
func (t *TLSSocket) startWhenConnected() {
	if s := t.Socket; s.Connecting() || s.Pending() {
		s.OnceConnect(func() { t.e.start(0) })
	} else {
		t.e.l.NextTick(func() { t.e.start(0) })
	}
}

// TLSSocketOptions configure NewTLSSocket (Node's new tls.TLSSocket
// options).
type TLSSocketOptions struct {
	ClientOptions
	// IsServer runs the server side of the handshake (then Config, Cert
	// and Key must give a certificate).
	IsServer bool
	// RequestCert asks the client for a certificate (server side).
	RequestCert bool
}

// NewTLSSocket upgrades an existing socket to TLS (Node's new
// tls.TLSSocket(socket, options)), the STARTTLS case: the handshake starts
// on the next tick on a connected socket (so that listeners and SetSession
// added right after apply to it), or on 'connect'. Bytes the socket reads
// from now on are TLS records. A server-side failure is the socket's
// 'error' (there is no server to emit 'tlsClientError').
func NewTLSSocket(s *socket.Socket, opts TLSSocketOptions) (*TLSSocket, error) {
	if !opts.IsServer {
		return upgradeClient(s, opts.ClientOptions, "", nil)
	}
	srv := &Server{requestCert: opts.RequestCert}
	if err := srv.setContext(opts.SecureOptions, nil); err != nil {
		return nil, err
	}
	t, err := newTLSSocket(s, true)
	if err != nil {
		return nil, err
	}
	t.ctx = srv.ctx.Load()
	t.cfg = t.ctx.cfg
	t.startWhenConnected()
	return t, nil
}
