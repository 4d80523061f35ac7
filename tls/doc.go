// Package tls is Node's tls module on netloop's loop: TLSSocket (a
// socket.Socket whose bytes are encrypted), Server (tls.createServer),
// Connect (tls.connect) and NewTLSSocket (upgrading a connected socket,
// the STARTTLS case), with Go's crypto/tls doing the cryptography.
//
// # Events and accessors
//
// A TLSSocket keeps every net.Socket event and method, applied to the
// plaintext, and adds 'secureConnect' (OnSecureConnect, clients),
// Authorized and AuthorizationError (Node's codes:
// DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE,
// CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID...), GetPeerCertificate,
// GetProtocol, GetCipher, ALPNProtocol, Servername, IsSessionReused,
// ExportKeyingMaterial and the crypto/tls ConnectionState, and Node's
// 'session' (OnSession: each session ticket the server sends, serialized;
// the Session option or SetSession resume it), 'keylog' (OnKeylog: NSS
// key log lines) and 'OCSPResponse' (OnOCSPResponse, with the RequestOCSP
// option). A Server is a server.Server (its 'connection' still gives the
// raw socket) adding 'secureConnection', 'tlsClientError' and 'keylog'.
// Every event is emitted on the socket's loop, never from inside a
// crypto/tls callback.
//
// # Options
//
// Node's option names map onto a crypto/tls Config: Cert/Key (PEM)
// become Certificates, CA the roots (RootCAs, or ClientCAs on a server),
// MinVersion/MaxVersion ("TLSv1.2", "TLSv1.3") the version range,
// ALPNProtocols NextProtos, ServerName the SNI name, RequestCert the
// client-auth mode, SNICallback GetConfigForClient. Anything else (cipher
// suites, session caches, KeyLogWriter, curve preferences) comes from a
// Config given in SecureOptions.Config, which is cloned, never changed.
// Node's rejectUnauthorized: false is AllowUnauthorized (so that the zero
// value rejects, as Node does).
//
// # How it runs on the loop
//
// The loop never blocks. A handshake runs crypto/tls's Handshake as a
// coroutine (iter.Pull) that the loop resumes on its own thread whenever
// the socket has received something; when the handshake needs more than
// it has, its connection yields back to the loop instead of blocking. What
// it writes is queued on the socket's stream each time it yields, and its
// outcome is handled as soon as it returns: no other thread is woken, so a
// full handshake costs the server about what it costs crypto/tls over Go's
// net (0.97x its handshakes per core in `cd bench && go run ./cmd/tlsbench`,
// docs/bench/tls.md). The handshake's cryptography
// runs on the loop's thread, as Node's does on its main thread; spread
// handshake-heavy servers over a loop group. From then on the loop drives the same
// tls.Conn itself: its connection hands crypto/tls the bytes just read and
// then answers "would block" with a net.Error whose Temporary() is true,
// which crypto/tls's record layer does not treat as fatal; records are
// encrypted into a buffer shared by the loop's connections and queued on
// the socket's stream as one write. There is no goroutine per established
// connection, and the decrypt and encrypt buffers are per loop.
// crypto/tls keeps its own input buffer (about one record) inside each
// tls.Conn; see the package's memory test for what an idle connection
// costs.
//
// # Differences from Node
//
// A server never renegotiates and a client accepts no renegotiation
// (crypto/tls's default; Node allows a few client-initiated ones).
// Sessions: the bytes 'session' gives are netloop's serialization of
// crypto/tls's client state, not OpenSSL's, so sessions do not move
// between Node and netloop processes (each resumes against any server,
// Node's included); getSession, getTLSTicket, the server's 'newSession'
// and 'resumeSession' events and the ticketKeys option are not
// implemented (servers issue session tickets with crypto/tls's keys,
// rotated daily; a Config's SetSessionTicketKeys sets them). Key log:
// crypto/tls logs no EXPORTER_SECRET line, and nothing for a resumed
// TLS 1.2 session, where OpenSSL logs CLIENT_RANDOM; 'keylog' listeners
// must be added before the handshake starts. OCSP: a server staples the
// OCSPStaple of its Config's certificate; Node's server 'OCSPRequest'
// event is not implemented. PSK and the pfx option are not implemented.
// SNICallback runs inside the handshake's coroutine. OnRead (caller-owned read
// buffers) and reconnecting a TLSSocket are not supported.
package tls
