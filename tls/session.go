package tls

import (
	gotls "crypto/tls"
	"encoding/binary"
	"io"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/emitter"
)

// Node's 'session', 'keylog' and 'OCSPResponse' events, and setSession.
//
// crypto/tls calls back from inside the handshake's coroutine or from
// inside the tls.Conn.Read the pump makes; neither is a place to run user
// code, so each callback only records, and the loop emits afterwards:
//
//   - ClientSessionCache.Put runs in the handshake for a TLS 1.2 ticket
//     (at its end) and in the pump's Read for a TLS 1.3 NewSessionTicket.
//     Either way it only appends to sessionCache.fresh; the loop emits
//     what it holds after 'secureConnect' and after each Read of the pump.
//   - Config.KeyLogWriter is written in the handshake only (crypto/tls
//     logs no secret after it): each line is copied to TLSSocket.keylines,
//     which the loop emits as 'keylog' each time the handshake yields or
//     returns, so every line comes before 'secureConnect'.

// codeInvalidState is Node's ERR_INVALID_STATE.
const codeInvalidState = "ERR_INVALID_STATE"

// sessionMagic starts a serialized session: "nl", then the format's
// version (1).
var sessionMagic = [3]byte{'n', 'l', 1}

// marshalSession serializes a client session: sessionMagic, the ticket's
// length (uint16, as in TLS), the ticket, then crypto/tls's
// SessionState.Bytes.
func marshalSession(cs *gotls.ClientSessionState) ([]byte, error) {
	ticket, state, err := cs.ResumptionState()
	if err != nil {
		return nil, err
	}
	if state == nil || len(ticket) == 0 || len(ticket) > 0xffff {
		return nil, errInvalidSession()
	}
	sb, err := state.Bytes()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(sessionMagic)+2+len(ticket)+len(sb))
	b = append(b, sessionMagic[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ticket)))
	b = append(b, ticket...)
	return append(b, sb...), nil
}

// unmarshalSession parses what marshalSession made.
func unmarshalSession(b []byte) (*gotls.ClientSessionState, error) {
	h := len(sessionMagic) + 2
	if len(b) < h || [3]byte(b[:3]) != sessionMagic {
		return nil, errInvalidSession()
	}
	n := int(binary.BigEndian.Uint16(b[3:5]))
	if n == 0 || len(b) < h+n+3 {
		return nil, errInvalidSession()
	}
	ticket := append([]byte(nil), b[h:h+n]...)
	sb := b[h+n:]
	// A SessionState starts with its version (2 bytes) and its type: 2
	// is a client's. A server's state has no server certificate, which
	// crypto/tls's client assumes a resumed session has.
	if sb[2] != 2 {
		return nil, errInvalidSession()
	}
	state, err := gotls.ParseSessionState(sb)
	if err != nil {
		return nil, errInvalidSession()
	}
	return gotls.NewResumptionState(ticket, state)
}

func errInvalidSession() error {
	return invalidArg("The session is not one a netloop TLSSocket emitted with 'session'")
}

// sessionCache is a client socket's ClientSessionCache: Get offers the
// session given with Session or SetSession (else asks the Config's own
// cache), Put keeps what the server sent for 'session' (and tells the
// Config's own cache too).
type sessionCache struct {
	t     *TLSSocket
	user  gotls.ClientSessionCache
	set   *gotls.ClientSessionState
	fresh []*gotls.ClientSessionState
}

// key replaces crypto/tls's cache key for a server without a name (an IP
// address), which would be the adapter's constant RemoteAddr, with the
// host connected to.
func (c *sessionCache) key(k string) string {
	if k == (tlsAddr{}).String() {
		return c.t.host
	}
	return k
}

// Get implements crypto/tls's ClientSessionCache (inside the handshake).
func (c *sessionCache) Get(key string) (*gotls.ClientSessionState, bool) {
	if c.set != nil {
		return c.set, true
	}
	if c.user != nil {
		return c.user.Get(c.key(key))
	}
	return nil, false
}

// Put implements crypto/tls's ClientSessionCache (inside the handshake or
// the pump's Read, see above). A nil cs (crypto/tls dropping a session that failed
// or expired) only reaches the Config's cache.
func (c *sessionCache) Put(key string, cs *gotls.ClientSessionState) {
	if c.user != nil {
		c.user.Put(c.key(key), cs)
	}
	if cs != nil {
		c.fresh = append(c.fresh, cs)
	}
}

// emitSessions emits 'session' for each session received since the last
// call (on the loop, once the handshake has completed).
func (t *TLSSocket) emitSessions() {
	c := t.sess
	for len(c.fresh) > 0 && t.e.flags&eDestroyed == 0 {
		cs := c.fresh[0]
		c.fresh[0] = nil
		c.fresh = c.fresh[1:]
		if !t.ev.Has(evSession) {
			continue
		}
		if b, err := marshalSession(cs); err == nil {
			emitter.Emit(&t.ev, evSession, b)
		}
	}
	c.fresh = nil
}

// OnSession adds a 'session' listener (client sockets): the server sent a
// session ticket, serialized in session, which Session or SetSession take
// to resume the session on a later connection. A TLS 1.2 server sends one
// during the handshake, emitted right after 'secureConnect'; a TLS 1.3
// server sends any number after the handshake, each emitted when the
// socket reads it. As with Node, a listener added late misses the tickets
// read before.
//
// The bytes are netloop's own format (a version prefix, the ticket, then
// crypto/tls's SessionState.Bytes), not OpenSSL's, so Node's sessions and
// these do not mix; they hold the session's secret and must be stored as
// such.
func (t *TLSSocket) OnSession(fn func(session []byte)) Listener {
	t.affine("TLSSocket.OnSession")
	return Listener{l: t.ev.On(evSession, fn, false)}
}

// OnceSession adds a one-shot 'session' listener.
func (t *TLSSocket) OnceSession(fn func(session []byte)) Listener {
	t.affine("TLSSocket.OnceSession")
	return Listener{l: t.ev.On(evSession, fn, true)}
}

// SetSession sets the session a client socket offers to resume (Node's
// tlsSocket.setSession; the Session option does the same): session is
// what a 'session' listener received. It must be called before the
// handshake starts, that is before 'connect' (or, for a socket upgraded
// with Connect's Socket option or NewTLSSocket, in the same callback that
// created it); later it returns an error with Node's code
// ERR_INVALID_STATE. A session that does not parse is an
// ERR_INVALID_ARG_VALUE error. Whether the server accepted it shows in
// IsSessionReused once connected; a server that refuses it makes a full
// handshake.
func (t *TLSSocket) SetSession(session []byte) error {
	t.affine("TLSSocket.SetSession")
	switch {
	case t.sess == nil:
		return &errs.Error{Code: codeInvalidState, Message: "setSession is for client sockets"}
	case t.e.flags&(eStarted|eDestroyed) != 0:
		return &errs.Error{Code: codeInvalidState, Message: "setSession after the TLS handshake started"}
	}
	cs, err := unmarshalSession(session)
	if err != nil {
		return err
	}
	t.sess.set = cs
	return nil
}

// keylogWriter is the Config.KeyLogWriter of a socket with 'keylog'
// listeners (its own or its server's); crypto/tls calls it inside the
// handshake's coroutine with one line at a time.
type keylogWriter struct {
	t    *TLSSocket
	user io.Writer // the Config's own KeyLogWriter
}

func (w *keylogWriter) Write(line []byte) (int, error) {
	w.t.keylines = append(w.t.keylines, append([]byte(nil), line...))
	if w.user != nil {
		return w.user.Write(line)
	}
	return len(line), nil
}

// wantsKeylog reports whether the handshake about to start must log its
// secrets: the socket or its server has 'keylog' listeners.
func (t *TLSSocket) wantsKeylog() bool {
	return t.ev.Has(evKeylog) || (t.srv != nil && t.srv.hasListeners(evServerKeylog))
}

// keylogConfig wraps a server configuration's GetConfigForClient so that
// the handshake of a socket with keylog set (see engine.start) logs to it:
// the configuration crypto/tls would use is cloned with the socket's
// writer. The server's own configuration is never cloned for this, so its
// session ticket keys (made and rotated inside it by crypto/tls) stay the
// same for every connection. It runs inside the handshake's coroutine,
// which started after keylog was set.
func keylogConfig(cfg *gotls.Config) {
	inner := cfg.GetConfigForClient
	cfg.GetConfigForClient = func(h *gotls.ClientHelloInfo) (*gotls.Config, error) {
		var c *gotls.Config
		if inner != nil {
			var err error
			if c, err = inner(h); err != nil {
				return nil, err
			}
		}
		a, ok := h.Conn.(*adapter)
		if !ok || !a.e.t.keylog {
			return c, nil
		}
		if c == nil {
			c = cfg
		}
		c = c.Clone()
		c.KeyLogWriter = &keylogWriter{t: a.e.t, user: c.KeyLogWriter}
		return c, nil
	}
}

// emitKeylines emits the key log lines the handshake wrote since the last
// call (on the loop, each time the handshake yields or returns).
func (t *TLSSocket) emitKeylines() {
	for len(t.keylines) > 0 && t.e.flags&eDestroyed == 0 {
		line := t.keylines[0]
		t.keylines = t.keylines[1:]
		t.emitKeylog(line)
	}
	t.keylines = nil
}

func (t *TLSSocket) emitKeylog(line []byte) {
	emitter.Emit(&t.ev, evKeylog, line)
	if t.srv != nil {
		for _, fn := range listeners[func([]byte, *TLSSocket)](t.srv, evServerKeylog) {
			fn(line, t)
		}
	}
}

// OnKeylog adds a 'keylog' listener: line is one line of NSS's
// SSLKEYLOGFILE format, ending with a newline, for each secret the
// handshake makes (CLIENT_RANDOM for TLS 1.2; CLIENT_HANDSHAKE_TRAFFIC_SECRET,
// SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0 and
// SERVER_TRAFFIC_SECRET_0 for TLS 1.3). Appending the lines to a file lets
// Wireshark decrypt the connection. The listener must be there when the
// handshake starts (before 'connect', or in the callback that created an
// upgraded socket); a Config's own KeyLogWriter still receives the lines.
// Lines arrive before 'secureConnect' (or the handshake's error), as
// Node's do. A server's connections log to Server.OnKeylog.
func (t *TLSSocket) OnKeylog(fn func(line []byte)) Listener {
	t.affine("TLSSocket.OnKeylog")
	return Listener{l: t.ev.On(evKeylog, fn, false)}
}

// OnceKeylog adds a one-shot 'keylog' listener.
func (t *TLSSocket) OnceKeylog(fn func(line []byte)) Listener {
	t.affine("TLSSocket.OnceKeylog")
	return Listener{l: t.ev.On(evKeylog, fn, true)}
}

// OnKeylog adds a 'keylog' listener to the server (Node's server
// 'keylog'): line (see TLSSocket.OnKeylog) comes from the handshake of
// the connection t. Connections accepted while the server has no such
// listener log nothing.
func (s *Server) OnKeylog(fn func(line []byte, t *TLSSocket)) Listener {
	s.affine("Server.OnKeylog")
	return s.on(evServerKeylog, fn, false)
}

// OnceKeylog adds a one-shot server 'keylog' listener.
func (s *Server) OnceKeylog(fn func(line []byte, t *TLSSocket)) Listener {
	s.affine("Server.OnceKeylog")
	return s.on(evServerKeylog, fn, true)
}

// emitOCSPResponse emits 'OCSPResponse' as Node does: with the stapled
// response after a full handshake; after a resumed one (where crypto/tls
// reports the response of the original handshake) with nil for TLS 1.3,
// and not at all for TLS 1.2. It reports whether the socket was destroyed
// meanwhile.
func (t *TLSSocket) emitOCSPResponse() bool {
	cs := t.e.conn.ConnectionState()
	resp := cs.OCSPResponse
	if cs.DidResume {
		if cs.Version != gotls.VersionTLS13 {
			return false
		}
		resp = nil
	}
	emitter.Emit(&t.ev, evOCSPResponse, resp)
	return t.e.flags&eDestroyed != 0
}

// OnOCSPResponse adds an 'OCSPResponse' listener (client sockets made
// with RequestOCSP): response is the OCSP response the server stapled to
// its certificate, nil when it stapled none. It is emitted once, before
// 'secureConnect'; as with Node, a resumed TLS 1.3 session gives nil and a
// resumed TLS 1.2 one no event. crypto/tls does not check the response:
// that is the listener's job, as with Node. (A server staples the
// OCSPStaple of its Config's Certificate.)
func (t *TLSSocket) OnOCSPResponse(fn func(response []byte)) Listener {
	t.affine("TLSSocket.OnOCSPResponse")
	return Listener{l: t.ev.On(evOCSPResponse, fn, false)}
}

// OnceOCSPResponse adds a one-shot 'OCSPResponse' listener.
func (t *TLSSocket) OnceOCSPResponse(fn func(response []byte)) Listener {
	t.affine("TLSSocket.OnceOCSPResponse")
	return Listener{l: t.ev.On(evOCSPResponse, fn, true)}
}
