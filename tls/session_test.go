//go:build !windows

package tls_test

import (
	"bytes"
	gotls "crypto/tls"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
	"github.com/netloop/netloop/tls"
)

// Node's 'session', 'keylog' and 'OCSPResponse' events and setSession:
// resumption between netloop's client and server, and against Node's
// (both directions), TLS 1.2 and 1.3; key log lines on both sides; OCSP
// stapling both ways.

var tlsVersions = []string{"TLSv1.2", "TLSv1.3"}

// clientRun is what one client connection saw.
type clientRun struct {
	c        *tls.TLSSocket
	events   []string // "ocsp", "secure", "session" in order
	sessions [][]byte
	ocsp     [][]byte
	keylog   []string
	reused   bool
	closed   bool
}

// runClient connects with co (setup may add listeners recording into the
// run before the handshake starts), writes one byte, waits for its echo and for a
// session ticket (unless noTicket), then ends; it returns once closed.
func runClient(t *testing.T, l *loop.Loop, co tls.ConnectOptions, noTicket bool, setup func(*tls.TLSSocket, *clientRun)) *clientRun {
	t.Helper()
	r := &clientRun{}
	c, err := tls.Connect(co)
	require.NoError(t, err)
	r.c = c
	echoed, ended := false, false
	maybeEnd := func() {
		if echoed && (noTicket || len(r.sessions) > 0) && !ended {
			ended = true
			c.End(nil)
		}
	}
	c.OnError(func(err error) { t.Errorf("client error: %v", err) })
	c.OnSecureConnect(func() {
		r.events = append(r.events, "secure")
		r.reused = c.IsSessionReused()
		c.Write([]byte{'x'})
	})
	c.OnSession(func(s []byte) {
		r.events = append(r.events, "session")
		r.sessions = append(r.sessions, s)
		maybeEnd()
	})
	c.OnOCSPResponse(func(b []byte) {
		r.events = append(r.events, "ocsp")
		r.ocsp = append(r.ocsp, b)
	})
	c.OnData(func([]byte) { echoed = true; maybeEnd() })
	c.OnClose(func(bool) { r.closed = true })
	if setup != nil {
		setup(c, r)
	}
	testutil.RunUntil(t, l, testTimeout, func() bool { return r.closed })
	return r
}

// echoServer listens with so and echoes; reused records IsSessionReused
// of each secure connection.
func echoServer(t *testing.T, l *loop.Loop, so tls.ServerOptions) (srv *tls.Server, port int, reused *[]bool) {
	var rs []bool
	so.AllowHalfOpen = true
	srv, port = listen(t, l, so, func(s *tls.TLSSocket) {
		rs = append(rs, s.IsSessionReused())
		s.OnError(func(error) {})
		s.OnData(func(b []byte) { s.Write(b) })
		s.OnEnd(func() { s.End(nil) })
	})
	t.Cleanup(func() {
		srv.Close(nil)
		testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
	})
	return srv, port, &rs
}

// TestSessionResume: a netloop client gets 'session' after 'secureConnect'
// from a netloop server, and a second client resumes it through the
// Session option, a third through SetSession; both sides report
// IsSessionReused.
func TestSessionResume(t *testing.T) {
	for _, vers := range tlsVersions {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			_, port, srvReused := echoServer(t, l, serverOpts(t))
			co := clientOpts(t, l, port)
			co.MaxVersion = vers
			first := runClient(t, l, co, false, nil)
			require.False(t, first.reused)
			require.Equal(t, "secure", first.events[0], "%v", first.events)
			require.Contains(t, first.events, "session")
			require.Empty(t, first.ocsp, "no RequestOCSP, no 'OCSPResponse'")

			co.Session = first.sessions[len(first.sessions)-1]
			second := runClient(t, l, co, true, nil)
			require.True(t, second.reused)
			require.Equal(t, vers, second.c.GetProtocol())

			co.Session = nil
			third := runClient(t, l, co, true, func(c *tls.TLSSocket, _ *clientRun) {
				require.NoError(t, c.SetSession(first.sessions[0]))
			})
			require.True(t, third.reused)
			require.Equal(t, []bool{false, true, true}, *srvReused)
		})
	}
}

// TestSetSessionMisuse: SetSession after the handshake started, on a
// server socket, or with bytes that are not a session fails with Node's
// codes; so does a bad Session option.
func TestSetSessionMisuse(t *testing.T) {
	l := testutil.NewLoop(t)
	var srvSock *tls.TLSSocket
	so := serverOpts(t)
	srv, port := listen(t, l, so, func(s *tls.TLSSocket) { srvSock = s; s.OnError(func(error) {}) })
	co := clientOpts(t, l, port)
	co.Session = []byte("not a session")
	_, err := tls.Connect(co)
	require.Equal(t, errs.CodeInvalidArgValue, errs.CodeOf(err), "%v", err)

	co.Session = nil
	c, err := tls.Connect(co)
	require.NoError(t, err)
	c.OnError(func(err error) { t.Errorf("client: %v", err) })
	require.Equal(t, errs.CodeInvalidArgValue, errs.CodeOf(c.SetSession(nil)))
	require.Equal(t, errs.CodeInvalidArgValue, errs.CodeOf(c.SetSession([]byte{'n', 'l', 1, 0, 1, 0, 0, 0, 0})))
	secure := false
	c.OnSecureConnect(func() { secure = true })
	testutil.RunUntil(t, l, testTimeout, func() bool { return secure && srvSock != nil })
	require.Equal(t, "ERR_INVALID_STATE", errs.CodeOf(c.SetSession([]byte("x"))))
	require.Equal(t, "ERR_INVALID_STATE", errs.CodeOf(srvSock.SetSession([]byte("x"))))
	c.Destroy(nil)
	srvSock.Destroy(nil)
	srv.Close(nil)
	testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
}

// lockedBuffer is a KeyLogWriter crypto/tls may call from any goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return splitLines(w.b.String())
}

func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	return lines[:len(lines)-1] // after the last newline: ""

}

// checkKeylog: lines are NSS key log lines with a trailing newline, one
// client random, and the labels the version logs.
func checkKeylog(t *testing.T, vers string, lines []string) {
	t.Helper()
	want := []string{"CLIENT_RANDOM"}
	if vers == "TLSv1.3" {
		want = []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"}
	}
	var labels []string
	random := ""
	for _, l := range lines {
		require.True(t, strings.HasSuffix(l, "\n"), "%q", l)
		f := strings.Fields(l)
		require.Len(t, f, 3, "%q", l)
		labels = append(labels, f[0])
		require.Len(t, f[1], 64, "client random: %q", l)
		if random == "" {
			random = f[1]
		}
		require.Equal(t, random, f[1], "one handshake, one client random")
	}
	require.ElementsMatch(t, want, labels)
}

// TestKeylog: 'keylog' on a client socket and on a server gives NSS key
// log lines (TLS 1.3's four traffic secrets, TLS 1.2's CLIENT_RANDOM)
// before 'secureConnect', the same secrets on both sides; each Config's
// own KeyLogWriter gets them too, and resumption still works with the
// server logging (its session ticket keys stay shared).
func TestKeylog(t *testing.T) {
	for _, vers := range tlsVersions {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			srvUser, cliUser := &lockedBuffer{}, &lockedBuffer{}
			so := serverOpts(t)
			so.Config = &gotls.Config{KeyLogWriter: srvUser}
			srv, port, srvReused := echoServer(t, l, so)
			var srvLines []string
			var srvSocks []*tls.TLSSocket
			srv.OnKeylog(func(line []byte, s *tls.TLSSocket) {
				srvLines = append(srvLines, string(line))
				if len(srvSocks) == 0 || srvSocks[len(srvSocks)-1] != s {
					srvSocks = append(srvSocks, s)
				}
			})
			co := clientOpts(t, l, port)
			co.MaxVersion = vers
			co.Config = &gotls.Config{KeyLogWriter: cliUser}
			first := runClient(t, l, co, false, func(c *tls.TLSSocket, r *clientRun) {
				c.OnKeylog(func(line []byte) {
					r.keylog = append(r.keylog, string(line))
					r.events = append(r.events, "keylog")
				})
			})
			checkKeylog(t, vers, first.keylog)
			require.Equal(t, "secure", first.events[len(first.keylog)], "every line before 'secureConnect': %v", first.events)
			require.Equal(t, first.keylog, cliUser.lines())
			require.ElementsMatch(t, first.keylog, srvLines)
			require.Equal(t, srvLines, srvUser.lines())
			require.Len(t, srvSocks, 1)

			// A resumed TLS 1.3 connection logs its own secrets; crypto/tls
			// logs nothing for a resumed TLS 1.2 one.
			co.Session = first.sessions[0]
			before := len(srvLines)
			second := runClient(t, l, co, true, nil)
			require.True(t, second.reused)
			require.Empty(t, second.keylog, "no listener on this client")
			if vers == "TLSv1.3" {
				checkKeylog(t, vers, srvLines[before:])
				require.Len(t, srvSocks, 2)
			} else {
				require.Len(t, srvLines, before)
			}
			require.Equal(t, []bool{false, true}, *srvReused)
		})
	}
}

// TestOCSPResponse: a netloop server staples its Certificate's
// OCSPStaple; a netloop client with RequestOCSP gets it in
// 'OCSPResponse' before 'secureConnect', and on resumption nil (TLS 1.3)
// or no event (TLS 1.2), as Node's client does.
func TestOCSPResponse(t *testing.T) {
	p := getPKI(t)
	pair, err := gotls.X509KeyPair(p.Server.CertPEM, p.Server.KeyPEM)
	require.NoError(t, err)
	pair.OCSPStaple = []byte("netloop staple")
	for _, vers := range tlsVersions {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			var so tls.ServerOptions
			so.Config = &gotls.Config{Certificates: []gotls.Certificate{pair}}
			_, port, _ := echoServer(t, l, so)
			co := clientOpts(t, l, port)
			co.MaxVersion = vers
			co.RequestOCSP = true
			first := runClient(t, l, co, false, nil)
			require.Equal(t, []string{"ocsp", "secure"}, first.events[:2])
			require.Equal(t, [][]byte{[]byte("netloop staple")}, first.ocsp)
			co.Session = first.sessions[0]
			second := runClient(t, l, co, true, nil)
			require.True(t, second.reused)
			if vers == "TLSv1.3" {
				require.Equal(t, [][]byte{nil}, second.ocsp)
			} else {
				require.Empty(t, second.ocsp)
			}
		})
	}
}

// nodeResumeServerJS: argv = JSON options (file names for key/cert). It
// staples "node staple" when asked, prints "LISTENING <port>", then
// "SECURE <protocol> <reused>" for each connection, and echoes; it runs
// until killed.
const nodeResumeServerJS = `
const tls = require('tls'), fs = require('fs');
const o = JSON.parse(process.argv[1]);
for (const k of ['key', 'cert']) o[k] = fs.readFileSync(o[k]);
const srv = tls.createServer(o, (c) => {
  console.log('SECURE ' + c.getProtocol() + ' ' + c.isSessionReused());
  c.on('error', () => {});
  c.pipe(c);
});
srv.on('OCSPRequest', (cert, issuer, cb) => cb(null, Buffer.from('node staple')));
srv.listen(0, '127.0.0.1', () => console.log('LISTENING ' + srv.address().port));
`

// TestSessionResumeNodeServer: a netloop client resumes a session of
// Node's tls server (both sides say so), and gets Node's stapled OCSP
// response, TLS 1.2 and 1.3.
func TestSessionResumeNodeServer(t *testing.T) {
	p := getPKI(t)
	for _, vers := range tlsVersions {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			o := writePEMs(t, map[string][]byte{"cert": p.Server.CertPEM, "key": p.Server.KeyPEM})
			o["maxVersion"] = vers
			n := startNode(t, nodeResumeServerJS, o)
			port, err := strconv.Atoi(n.first(t, "LISTENING "))
			require.NoError(t, err)
			co := clientOpts(t, l, port)
			co.RequestOCSP = true
			first := runClient(t, l, co, false, nil)
			require.False(t, first.reused)
			require.Equal(t, [][]byte{[]byte("node staple")}, first.ocsp)
			require.Equal(t, vers+" false", n.first(t, "SECURE "))

			co.Session = first.sessions[len(first.sessions)-1]
			second := runClient(t, l, co, true, nil)
			require.True(t, second.reused)
			require.Equal(t, vers+" true", n.first(t, "SECURE "))
		})
	}
}

// nodeResumeClientJS: argv = JSON options (port, ca file name). Two
// connections with requestOCSP and a 'keylog' listener, the second
// offering the session the first received; each writes a byte and ends
// once echoed (the first once it also has a session). It prints "OCSP<n>
// <response or null>", "KEYLOG<n> <line>", "SECURE<n> <protocol>
// <reused>", "ERROR <code>" and "DONE".
const nodeResumeClientJS = `
const tls = require('tls'), fs = require('fs');
const o = JSON.parse(process.argv[1]);
o.ca = fs.readFileSync(o.ca);
o.host = '127.0.0.1';
o.requestOCSP = true;
let sess = null;
function go(n) {
  const c = tls.connect(Object.assign({}, o, { session: sess }), () => {
    console.log('SECURE' + n + ' ' + c.getProtocol() + ' ' + c.isSessionReused());
    c.write('x');
  });
  let echoed = false;
  const maybeEnd = () => { if (echoed && (n === 2 || sess)) c.end(); };
  c.on('OCSPResponse', (r) => console.log('OCSP' + n + ' ' + (r ? r.toString() : 'null')));
  c.on('keylog', (l) => process.stdout.write('KEYLOG' + n + ' ' + l.toString()));
  c.on('session', (s) => { if (n === 1) { sess = s; maybeEnd(); } });
  c.on('data', () => { echoed = true; maybeEnd(); });
  c.on('error', (e) => console.log('ERROR ' + e.code));
  c.on('close', () => { if (n === 1) go(2); else console.log('DONE'); });
}
go(1);
`

// TestNodeClientResumesSession: Node's client resumes a session of a
// netloop server (both sides say so), TLS 1.2 and 1.3; it gets the
// server's stapled OCSP response; and its key log lines are the ones the
// server's 'keylog' gives (Node adds TLS 1.3's EXPORTER_SECRET, which
// crypto/tls does not log).
func TestNodeClientResumesSession(t *testing.T) {
	p := getPKI(t)
	pair, err := gotls.X509KeyPair(p.Server.CertPEM, p.Server.KeyPEM)
	require.NoError(t, err)
	pair.OCSPStaple = []byte("netloop staple")
	for _, vers := range tlsVersions {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			var so tls.ServerOptions
			so.Config = &gotls.Config{Certificates: []gotls.Certificate{pair}}
			srv, port, srvReused := echoServer(t, l, so)
			srvLines := map[string]bool{}
			srv.OnKeylog(func(line []byte, _ *tls.TLSSocket) { srvLines[string(line)] = true })
			o := writePEMs(t, map[string][]byte{"ca": p.CA.CertPEM})
			o["port"], o["servername"], o["maxVersion"] = port, "localhost", vers
			n := startNode(t, nodeResumeClientJS, o)
			var exited atomic.Bool
			go func() { n.wait(); exited.Store(true) }()
			testutil.RunUntil(t, l, nodeTimeLimit, exited.Load)
			out := n.wait()
			require.Contains(t, out, "DONE", "%s", n.stderr.String())
			require.Equal(t, "<none>", outLine(out, "ERROR"), "%v", out)
			require.Equal(t, vers+" false", outLine(out, "SECURE1"), "%v", out)
			require.Equal(t, vers+" true", outLine(out, "SECURE2"), "%v", out)
			require.Equal(t, []bool{false, true}, *srvReused)
			require.Equal(t, "netloop staple", outLine(out, "OCSP1"))
			nodeLines := map[string]bool{}
			for _, line := range out {
				if !strings.HasPrefix(line, "KEYLOG") || strings.Contains(line, "EXPORTER_SECRET") ||
					(vers == "TLSv1.2" && strings.HasPrefix(line, "KEYLOG2")) {
					// crypto/tls logs no EXPORTER_SECRET, and nothing for a
					// resumed TLS 1.2 session.
					continue
				}
				_, kl, _ := strings.Cut(line, " ")
				nodeLines[kl+"\n"] = true
			}
			require.Equal(t, nodeLines, srvLines)
		})
	}
}

// TestSessionConfigCache: a Config's own ClientSessionCache still stores
// and offers sessions (so a second connection resumes without Session),
// keyed by the host connected to when the server has no name.
func TestSessionConfigCache(t *testing.T) {
	l := testutil.NewLoop(t)
	_, port, srvReused := echoServer(t, l, serverOpts(t))
	cache := gotls.NewLRUClientSessionCache(4)
	co := clientOpts(t, l, port)
	co.ServerName = "" // 127.0.0.1, which the certificate names: no SNI
	co.Config = &gotls.Config{ClientSessionCache: cache}
	first := runClient(t, l, co, false, nil)
	require.False(t, first.reused)
	_, ok := cache.Get("127.0.0.1")
	require.True(t, ok, "the session is kept under the host's address")
	second := runClient(t, l, co, true, nil)
	require.True(t, second.reused)
	require.Equal(t, []bool{false, true}, *srvReused)
}

// TestKeylogSNICallback: a server whose SNICallback picks the
// configuration still logs its connections' secrets.
func TestKeylogSNICallback(t *testing.T) {
	l := testutil.NewLoop(t)
	p := getPKI(t)
	pair, err := gotls.X509KeyPair(p.Server.CertPEM, p.Server.KeyPEM)
	require.NoError(t, err)
	so := serverOpts(t)
	so.SNICallback = func(string) (*gotls.Config, error) {
		return &gotls.Config{Certificates: []gotls.Certificate{pair}}, nil
	}
	srv, port, _ := echoServer(t, l, so)
	var lines []string
	srv.OnKeylog(func(line []byte, _ *tls.TLSSocket) { lines = append(lines, string(line)) })
	runClient(t, l, clientOpts(t, l, port), false, nil)
	checkKeylog(t, "TLSv1.3", lines)
}

// TestKeylogUpgraded: on sockets upgraded after they connected (client
// through Connect's Socket option, server through NewTLSSocket), 'keylog'
// listeners and SetSession added right after the upgrade apply to the
// handshake, which starts on the next tick.
func TestKeylogUpgraded(t *testing.T) {
	l := testutil.NewLoop(t)
	p := getPKI(t)
	// A session to resume, from a TLS server on the same certificate.
	_, tlsPort, _ := echoServer(t, l, serverOpts(t))
	session := runClient(t, l, clientOpts(t, l, tlsPort), false, nil).sessions[0]

	var srvLines []string
	var upgraded *tls.TLSSocket
	srvClosed := false
	srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		var o tls.TLSSocketOptions
		o.IsServer = true
		o.Cert, o.Key = p.Server.CertPEM, p.Server.KeyPEM
		ts, err := tls.NewTLSSocket(c, o)
		require.NoError(t, err)
		upgraded = ts
		ts.OnKeylog(func(line []byte) { srvLines = append(srvLines, string(line)) })
		ts.OnData(func(b []byte) { ts.End(b) })
		ts.OnClose(func(bool) { srvClosed = true })
	})
	listening := false
	require.NoError(t, srv.ListenOptions(server.ListenOptions{Port: 0, PortGiven: true, Host: "127.0.0.1"}, func() { listening = true }))
	testutil.RunUntil(t, l, testTimeout, func() bool { return listening })
	defer func() {
		srv.Close(nil)
		testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
	}()

	plain, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	connected := false
	require.NoError(t, plain.Connect(socket.ConnectOptions{Port: srv.Address().Port, Host: "127.0.0.1"}, func() { connected = true }))
	testutil.RunUntil(t, l, testTimeout, func() bool { return connected })
	var co tls.ConnectOptions
	co.Socket, co.ServerName, co.CA = plain, "localhost", p.CA.CertPEM
	c, err := tls.Connect(co)
	require.NoError(t, err)
	var cliLines []string
	c.OnKeylog(func(line []byte) { cliLines = append(cliLines, string(line)) })
	require.NoError(t, c.SetSession(session))
	reused, closed := false, false
	c.OnError(func(err error) { t.Errorf("client: %v", err) })
	c.OnSecureConnect(func() { reused = c.IsSessionReused(); c.Write([]byte("x")) })
	c.OnClose(func(bool) { closed = true })
	c.OnData(func([]byte) {})
	testutil.RunUntil(t, l, testTimeout, func() bool { return closed && srvClosed })
	checkKeylog(t, "TLSv1.3", cliLines)
	require.ElementsMatch(t, cliLines, srvLines)
	// The upgraded server is another crypto/tls Config, with other ticket
	// keys: the session is offered and refused, a full handshake follows.
	require.False(t, reused)
	require.False(t, upgraded.IsSessionReused())
}
