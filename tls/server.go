package tls

import (
	gotls "crypto/tls"
	"crypto/x509"
	"sync"
	"sync/atomic"
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
// completed, or reported with 'tlsClientError' when it failed. On a loop
// group (server.Options.Group) these events, like 'connection', run on the
// connection's loop; listeners are added and removed on the server's loop.
type Server struct {
	*server.Server
	requestCert bool
	timeout     time.Duration
	// ctx is the secure context new connections take (SetSecureContext
	// replaces it); on a loop group they take it on their own loop.
	ctx atomic.Pointer[secureContext]
	// mu guards ev: on a loop group the server's events are emitted on
	// every loop, while listeners come and go on the server's own.
	mu sync.Mutex
	ev emitter.Set
}

// secureContext is what a connection needs from its server's options,
// never changed once made.
type secureContext struct {
	cfg         *gotls.Config
	roots       *x509.CertPool
	requestCert bool
	allowUnauth bool
}

func (c *secureContext) clientRoots() *x509.CertPool {
	if c.roots != nil {
		return c.roots
	}
	return c.cfg.ClientCAs
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
	s.ctx.Store(&secureContext{cfg: cfg, roots: roots, requestCert: s.requestCert, allowUnauth: o.AllowUnauthorized})
	return nil
}

// SetSecureContext replaces the server's certificate and TLS options for
// the connections accepted from now on (Node's setSecureContext).
func (s *Server) SetSecureContext(o SecureOptions) error {
	s.affine("Server.SetSecureContext")
	return s.setContext(o, nil)
}

func (s *Server) affine(method string) { coreLoop(s.Server.Loop()).CheckAffinity(method) }

// onConnection starts the handshake of an accepted connection.
func (s *Server) onConnection(c *socket.Socket) {
	t, err := newTLSSocket(c, true)
	if err != nil {
		c.Destroy(err)
		return
	}
	ctx := s.ctx.Load()
	t.srv, t.ctx, t.cfg = s, ctx, ctx.cfg
	t.e.start(s.timeout)
}

// OnSecureConnection adds a 'secureConnection' listener: a client's
// handshake completed.
func (s *Server) OnSecureConnection(fn func(*TLSSocket)) Listener {
	s.affine("Server.OnSecureConnection")
	return s.on(evSecureConnection, fn, false)
}

// OnceSecureConnection adds a one-shot 'secureConnection' listener.
func (s *Server) OnceSecureConnection(fn func(*TLSSocket)) Listener {
	s.affine("Server.OnceSecureConnection")
	return s.on(evSecureConnection, fn, true)
}

// OnTLSClientError adds a 'tlsClientError' listener: a client's handshake
// failed (the socket is destroyed right after, without an 'error' event).
func (s *Server) OnTLSClientError(fn func(err error, t *TLSSocket)) Listener {
	s.affine("Server.OnTLSClientError")
	return s.on(evTLSClientError, fn, false)
}

// OnceTLSClientError adds a one-shot 'tlsClientError' listener.
func (s *Server) OnceTLSClientError(fn func(err error, t *TLSSocket)) Listener {
	s.affine("Server.OnceTLSClientError")
	return s.on(evTLSClientError, fn, true)
}

// on adds a server listener under mu.
func (s *Server) on(kind emitter.Kind, fn any, once bool) Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Listener{l: s.ev.On(kind, fn, once), mu: &s.mu}
}

// listeners takes kind's listeners (once-listeners fire for one call
// only, whichever loop makes it).
func listeners[F any](s *Server, kind emitter.Kind) []F {
	s.mu.Lock()
	defer s.mu.Unlock()
	return emitter.Funcs[F](&s.ev, kind)
}

func (s *Server) hasListeners(kind emitter.Kind) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ev.Has(kind)
}

func (s *Server) emitSecureConnection(t *TLSSocket) {
	for _, fn := range listeners[func(*TLSSocket)](s, evSecureConnection) {
		fn(t)
	}
}

func (s *Server) emitClientError(err error, t *TLSSocket) {
	for _, fn := range listeners[func(error, *TLSSocket)](s, evTLSClientError) {
		fn(err, t)
	}
}
