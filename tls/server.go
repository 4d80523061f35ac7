//go:build !windows

package tls

import (
	gotls "crypto/tls"
	"crypto/x509"
	"time"

	"github.com/netloop/netloop/internal/emitter"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// DefaultHandshakeTimeout is Node's handshakeTimeout: a server drops a
// connection whose handshake has not completed within it.
const DefaultHandshakeTimeout = 120 * time.Second

// ServerOptions are Node's tls.createServer options: the net server's,
// the secure context's, and the server-side TLS choices. The zero value
// (plus a certificate) is Node's default.
type ServerOptions struct {
	server.Options
	SecureOptions
	// RequestCert asks clients for a certificate. Unless
	// AllowUnauthorized, a client without a valid one (against CA, or the
	// system's roots) fails the handshake.
	RequestCert bool
	// SNICallback picks the configuration for the server name a client
	// asks for (Node's SNICallback returning a secure context); nil keeps
	// the server's. It runs inside the handshake's coroutine (on the loop's
	// thread, but not on its goroutine): it must not call loop-affine
	// methods.
	SNICallback func(servername string) (*gotls.Config, error)
	// HandshakeTimeout drops a connection whose handshake has not
	// completed in time with 'tlsClientError' ERR_TLS_HANDSHAKE_TIMEOUT;
	// 0 means DefaultHandshakeTimeout, negative means none.
	HandshakeTimeout time.Duration
}

// Server is Node's tls.Server: a server.Server (its 'connection' event
// still gives the raw socket.Socket, as Node's does) whose connections
// become TLSSockets, emitted with 'secureConnection' once their handshake
// completed, or reported with 'tlsClientError' when it failed.
type Server struct {
	*server.Server
	cfg         *gotls.Config
	roots       *x509.CertPool
	requestCert bool
	allowUnauth bool
	timeout     time.Duration
	ev          emitter.Set
}

// Server event kinds.
const (
	evSecureConnection emitter.Kind = iota
	evTLSClientError
	evServerKeylog
)

// CreateServer is Node's tls.createServer: secureConnectionListener, if
// not nil, receives every connection whose handshake completed. Invalid
// certificate options are returned as errors (Node throws).
func CreateServer(opts ServerOptions, secureConnectionListener func(*TLSSocket)) (*Server, error) {
	s := &Server{requestCert: opts.RequestCert, timeout: opts.HandshakeTimeout}
	if s.timeout == 0 {
		s.timeout = DefaultHandshakeTimeout
	}
	if err := s.setContext(opts.SecureOptions, opts.SNICallback); err != nil {
		return nil, err
	}
	s.Server = server.New(opts.Options, s.onConnection)
	if secureConnectionListener != nil {
		s.OnSecureConnection(secureConnectionListener)
	}
	return s, nil
}

func (s *Server) setContext(o SecureOptions, sni func(string) (*gotls.Config, error)) error {
	cfg, roots, err := o.build()
	if err != nil {
		return err
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil && sni == nil {
		return invalidArg("A TLS server needs a certificate: the cert and key options, or a Config with one")
	}
	if roots != nil {
		cfg.ClientCAs = roots
	}
	s.allowUnauth = o.AllowUnauthorized
	switch {
	case !s.requestCert:
		cfg.ClientAuth = gotls.NoClientCert
	case o.AllowUnauthorized:
		cfg.ClientAuth = gotls.RequestClientCert // verified after the handshake, for Authorized
	default:
		cfg.ClientAuth = gotls.RequireAndVerifyClientCert
	}
	if sni != nil {
		base := cfg
		cfg.GetConfigForClient = func(hello *gotls.ClientHelloInfo) (*gotls.Config, error) {
			c, err := sni(hello.ServerName)
			if err != nil || c == nil {
				return nil, err
			}
			c = c.Clone()
			c.ClientAuth, c.ClientCAs = base.ClientAuth, base.ClientCAs
			if c.MinVersion == 0 {
				c.MinVersion = base.MinVersion
			}
			if c.NextProtos == nil {
				c.NextProtos = base.NextProtos
			}
			return c, nil
		}
	}
	keylogConfig(cfg)
	s.cfg, s.roots = cfg, roots
	return nil
}

// SetSecureContext replaces the server's certificate and TLS options for
// the connections accepted from now on (Node's setSecureContext).
func (s *Server) SetSecureContext(o SecureOptions) error {
	s.affine("Server.SetSecureContext")
	return s.setContext(o, nil)
}

func (s *Server) affine(method string) { coreLoop(s.Server.Loop()).CheckAffinity(method) }

func (s *Server) clientRoots() *x509.CertPool {
	if s.roots != nil {
		return s.roots
	}
	return s.cfg.ClientCAs
}

// onConnection starts the handshake of an accepted connection.
func (s *Server) onConnection(c *socket.Socket) {
	t, err := newTLSSocket(c, true)
	if err != nil {
		c.Destroy(err)
		return
	}
	t.srv, t.ctx, t.cfg = s, s, s.cfg
	t.e.start(s.timeout)
}

// OnSecureConnection adds a 'secureConnection' listener: a client's
// handshake completed.
func (s *Server) OnSecureConnection(fn func(*TLSSocket)) Listener {
	s.affine("Server.OnSecureConnection")
	return Listener{s.ev.On(evSecureConnection, fn, false)}
}

// OnceSecureConnection adds a one-shot 'secureConnection' listener.
func (s *Server) OnceSecureConnection(fn func(*TLSSocket)) Listener {
	s.affine("Server.OnceSecureConnection")
	return Listener{s.ev.On(evSecureConnection, fn, true)}
}

// OnTLSClientError adds a 'tlsClientError' listener: a client's handshake
// failed (the socket is destroyed right after, without an 'error' event).
func (s *Server) OnTLSClientError(fn func(err error, t *TLSSocket)) Listener {
	s.affine("Server.OnTLSClientError")
	return Listener{s.ev.On(evTLSClientError, fn, false)}
}

// OnceTLSClientError adds a one-shot 'tlsClientError' listener.
func (s *Server) OnceTLSClientError(fn func(err error, t *TLSSocket)) Listener {
	s.affine("Server.OnceTLSClientError")
	return Listener{s.ev.On(evTLSClientError, fn, true)}
}

func (s *Server) emitSecureConnection(t *TLSSocket) {
	emitter.Emit(&s.ev, evSecureConnection, t)
}

func (s *Server) emitClientError(err error, t *TLSSocket) {
	for _, fn := range emitter.Funcs[func(error, *TLSSocket)](&s.ev, evTLSClientError) {
		fn(err, t)
	}
}
