//go:build !windows

package tls_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/tls"
)

// Interoperability with the node binary: Node's tls client against a
// netloop server and a netloop client against Node's tls server, TLS 1.2
// and 1.3, ALPN, SNI and client certificates, a checksummed echo; and the
// same failed verifications (self-signed, wrong host name, expired) giving
// the same codes to a Node client and a netloop client.

const nodeTimeLimit = 30 * time.Second

// nodeTLSServerJS: argv = JSON options (file names for key/cert/ca). It
// prints "LISTENING <port>", then for each connection "SECURE <protocol>
// <alpn> <servername> <authorized> <peer CN>", echoes, and prints "CLOSE"
// when the connection closed; "CLIENTERROR <code>" on tlsClientError.
const nodeTLSServerJS = `
const tls = require('tls'), fs = require('fs');
const o = JSON.parse(process.argv[1]);
for (const k of ['key', 'cert', 'ca']) if (o[k]) o[k] = fs.readFileSync(o[k]);
const srv = tls.createServer(o, (c) => {
  const peer = c.getPeerCertificate();
  console.log('SECURE ' + c.getProtocol() + ' ' + (c.alpnProtocol || '-') + ' ' + (c.servername || '-') + ' ' + c.authorized + ' ' + ((peer && peer.subject && peer.subject.CN) || '-'));
  c.on('error', (e) => console.log('ERROR ' + e.code));
  c.on('close', () => { console.log('CLOSE'); srv.close(); });
  c.pipe(c);
});
srv.on('tlsClientError', (e) => { console.log('CLIENTERROR ' + e.code); srv.close(); });
srv.listen(0, '127.0.0.1', () => console.log('LISTENING ' + srv.address().port));
`

// nodeTLSClientJS: argv = JSON options (port, file names, size). It sends
// size bytes, ends, and prints "SECURE <protocol> <alpn> <authorized>",
// "SENT <sha256>", "RECV <n> <sha256>" at 'end', "ERROR <code>" on error
// and "CLOSE" at the end.
const nodeTLSClientJS = `
const tls = require('tls'), fs = require('fs'), crypto = require('crypto');
const o = JSON.parse(process.argv[1]);
for (const k of ['key', 'cert', 'ca']) if (o[k]) o[k] = fs.readFileSync(o[k]);
o.host = '127.0.0.1';
const size = o.size || 0;
const c = tls.connect(o, () => {
  console.log('SECURE ' + c.getProtocol() + ' ' + (c.alpnProtocol || '-') + ' ' + c.authorized);
  const h = crypto.createHash('sha256'); let n = 0;
  (function pump() {
    while (n < size) {
      const b = crypto.randomBytes(Math.min(64 * 1024, size - n));
      h.update(b); n += b.length;
      if (!c.write(b)) { c.once('drain', pump); return; }
    }
    console.log('SENT ' + h.digest('hex'));
    c.end();
  })();
});
const rh = crypto.createHash('sha256'); let rn = 0;
c.on('data', (d) => { rh.update(d); rn += d.length; });
c.on('end', () => console.log('RECV ' + rn + ' ' + rh.digest('hex')));
c.on('error', (e) => console.log('ERROR ' + e.code));
c.on('close', () => console.log('CLOSE'));
`

// nodeProc is a running node script whose stdout lines are collected.
type nodeProc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	lines  chan string
	stderr bytes.Buffer
	mu     sync.Mutex
	all    []string
	done   chan struct{}
}

func startNode(t *testing.T, script string, opts map[string]any) *nodeProc {
	t.Helper()
	node := testutil.RequireNode(t)
	js, err := json.Marshal(opts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeLimit)
	cmd := exec.CommandContext(ctx, node, "-e", script, string(js))
	p := &nodeProc{cmd: cmd, cancel: cancel, lines: make(chan string, 64), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.all = append(p.all, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		p.wait()
	})
	return p
}

// first waits for the first line starting with prefix.
func (p *nodeProc) first(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(nodeTimeLimit)
	for {
		select {
		case l := <-p.lines:
			if strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		case <-p.done:
			t.Fatalf("node exited before printing %q; stderr:\n%s", prefix, p.stderr.String())
		case <-deadline:
			t.Fatalf("node did not print %q within %v", prefix, nodeTimeLimit)
		}
	}
}

// wait waits for node to exit and returns all it printed.
func (p *nodeProc) wait() []string {
	p.cmd.Wait()
	<-p.done
	p.cancel()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.all...)
}

func outLine(out []string, key string) string {
	for _, l := range out {
		if strings.HasPrefix(l, key+" ") || l == key {
			return strings.TrimSpace(strings.TrimPrefix(l, key))
		}
	}
	return "<none>"
}

// writePEMs writes the PEM files a node script reads and returns their
// paths by option name.
func writePEMs(t *testing.T, files map[string][]byte) map[string]any {
	dir := t.TempDir()
	m := map[string]any{}
	for k, v := range files {
		p := filepath.Join(dir, k+".pem")
		require.NoError(t, os.WriteFile(p, v, 0o600))
		m[k] = p
	}
	return m
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestNodeClientToServer: Node's tls.connect against a netloop server,
// TLS 1.2 and 1.3, ALPN, SNI and a client certificate; 1 MiB echoed and
// checked with sha256 both ways.
func TestNodeClientToServer(t *testing.T) {
	p := getPKI(t)
	for _, vers := range []string{"TLSv1.2", "TLSv1.3"} {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			so := serverOpts(t)
			so.ALPNProtocols = []string{"echo/1"}
			so.RequestCert = true
			so.CA = p.CA.CertPEM
			so.AllowHalfOpen = true
			var got *tls.TLSSocket
			closed := false
			var recv []byte
			srv, port := listen(t, l, so, func(s *tls.TLSSocket) {
				got = s
				s.OnData(func(b []byte) { recv = append(recv, b...); s.Write(b) })
				s.OnEnd(func() { s.End(nil) })
				s.OnClose(func(bool) { closed = true })
			})
			o := writePEMs(t, map[string][]byte{"ca": p.CA.CertPEM, "cert": p.Client.CertPEM, "key": p.Client.KeyPEM})
			o["port"], o["servername"], o["maxVersion"], o["size"] = port, "localhost", vers, 1<<20
			o["ALPNProtocols"] = []string{"echo/1"}
			n := startNode(t, nodeTLSClientJS, o)
			testutil.RunUntil(t, l, nodeTimeLimit, func() bool { return closed })
			out := n.wait()
			require.Equal(t, vers+" echo/1 true", outLine(out, "SECURE"), "node: %v\n%s", out, n.stderr.String())
			require.Equal(t, outLine(out, "SENT"), sha(recv))
			require.Equal(t, strconv.Itoa(1<<20)+" "+sha(recv), outLine(out, "RECV"))
			require.Equal(t, vers, got.GetProtocol())
			require.Equal(t, "echo/1", got.ALPNProtocol())
			require.Equal(t, "localhost", got.Servername())
			require.True(t, got.Authorized())
			require.Equal(t, "client", got.GetPeerCertificate(false).Subject.CN)
			srv.Close(nil)
			testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
		})
	}
}

// TestClientToNodeServer: a netloop client against Node's tls.createServer
// with requestCert, TLS 1.2 and 1.3, ALPN, SNI; 1 MiB echoed.
func TestClientToNodeServer(t *testing.T) {
	p := getPKI(t)
	for _, vers := range []string{"TLSv1.2", "TLSv1.3"} {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			o := writePEMs(t, map[string][]byte{"ca": p.CA.CertPEM, "cert": p.Server.CertPEM, "key": p.Server.KeyPEM})
			o["requestCert"], o["rejectUnauthorized"] = true, true
			o["ALPNProtocols"] = []string{"x/2", "echo/1"}
			n := startNode(t, nodeTLSServerJS, o)
			port, err := strconv.Atoi(n.first(t, "LISTENING "))
			require.NoError(t, err)
			co := clientOpts(t, l, port)
			co.MaxVersion = vers
			co.ALPNProtocols = []string{"echo/1"}
			co.Cert, co.Key = p.Client.CertPEM, p.Client.KeyPEM
			co.AllowHalfOpen = true
			payload := make([]byte, 1<<20)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			var recv []byte
			closed, ended := false, false
			c, err := tls.Connect(co)
			require.NoError(t, err)
			c.OnError(func(err error) { t.Errorf("client error: %v", err) })
			c.OnData(func(b []byte) { recv = append(recv, b...) })
			c.OnEnd(func() { ended = true })
			c.OnClose(func(bool) { closed = true })
			c.Write(payload)
			c.End(nil)
			testutil.RunUntil(t, l, nodeTimeLimit, func() bool { return closed })
			out := n.wait()
			require.True(t, ended)
			require.Equal(t, sha(payload), sha(recv))
			require.Equal(t, vers+" echo/1 localhost true client", outLine(out, "SECURE"), "%v", out)
			require.Equal(t, vers, c.GetProtocol())
			require.True(t, c.Authorized())
		})
	}
}

// TestVerifyCodesMatchNode: for a server certificate that is self-signed,
// names another host, or has expired, a Node client and a netloop client
// fail with the same code, and the netloop client emits 'error' then
// 'close' once.
func TestVerifyCodesMatchNode(t *testing.T) {
	p := getPKI(t)
	cases := []struct {
		name string
		cert *cert
		ca   []byte
		code string
	}{
		{"self-signed", newCert(t, certSpec{CN: "localhost", DNS: []string{"localhost"}}), p.CA.CertPEM, tls.CodeDepthZeroSelfSigned},
		{"wrong-host", newCert(t, certSpec{CN: "other", DNS: []string{"other.example"}, Issuer: p.CA}), p.CA.CertPEM, tls.CodeCertAltnameInvalid},
		{"expired", newCert(t, certSpec{CN: "localhost", DNS: []string{"localhost"}, Issuer: p.CA,
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}), p.CA.CertPEM, tls.CodeCertHasExpired},
		{"leaf-only", p.Server, newCert(t, certSpec{CN: "unrelated CA", IsCA: true}).CertPEM, tls.CodeUnableToVerifyLeaf},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testutil.NewLoop(t)
			var so tls.ServerOptions
			so.Cert, so.Key = tc.cert.CertPEM, tc.cert.KeyPEM
			var srvErrs []string
			srv, port := listen(t, l, so, func(s *tls.TLSSocket) { s.Pipe(s) })
			srv.OnTLSClientError(func(err error, _ *tls.TLSSocket) { srvErrs = append(srvErrs, errs.CodeOf(err)) })

			// netloop client
			co := clientOpts(t, l, port)
			co.CA = tc.ca
			var cliErr error
			closes := 0
			c, err := tls.Connect(co)
			require.NoError(t, err)
			c.OnError(func(err error) { cliErr = err })
			c.OnClose(func(hadError bool) { closes++; require.True(t, hadError) })
			testutil.RunUntil(t, l, testTimeout, func() bool { return closes == 1 && len(srvErrs) == 1 })
			require.Equal(t, tc.code, errs.CodeOf(cliErr), "%v", cliErr)
			require.False(t, c.Authorized())
			require.Equal(t, "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", srvErrs[0])

			// Node client, same server and roots
			o := writePEMs(t, map[string][]byte{"ca": tc.ca})
			o["port"], o["servername"] = port, "localhost"
			n := startNode(t, nodeTLSClientJS, o)
			var done atomic.Bool
			go func() { n.wait(); done.Store(true) }()
			testutil.RunUntil(t, l, nodeTimeLimit, done.Load)
			out := n.wait()
			require.Equal(t, tc.code, outLine(out, "ERROR"), "%v", out)

			// AllowUnauthorized: connected, with the same code as the reason.
			co.AllowUnauthorized = true
			secure, closed := false, false
			c2, err := tls.Connect(co, func() { secure = true })
			require.NoError(t, err)
			c2.OnError(func(err error) { t.Errorf("client error: %v", err) })
			c2.OnSecureConnect(func() { c2.End(nil) })
			c2.OnClose(func(bool) { closed = true })
			testutil.RunUntil(t, l, testTimeout, func() bool { return closed })
			require.True(t, secure)
			require.False(t, c2.Authorized())
			require.Equal(t, tc.code, errs.CodeOf(c2.AuthorizationError()))
			srv.Close(nil)
			testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
		})
	}
}
