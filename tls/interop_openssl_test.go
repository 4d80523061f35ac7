//go:build !windows

package tls_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/tls"
)

// opensslMissing is what the tests say without the openssl binary.
const opensslMissing = "the openssl binary is not on PATH: the OpenSSL interoperability tests need it (make tls-tools installs Debian's openssl)"

// requireOpenSSL returns the openssl binary's path; without one the test
// fails on CI (CI=true) and is skipped elsewhere, saying why.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(opensslMissing)
		}
		t.Skip(opensslMissing)
	}
	return p
}

// lines collects a process's output lines.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (ls *lines) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		ls.mu.Lock()
		ls.all = append(ls.all, sc.Text())
		ls.mu.Unlock()
	}
}

func (ls *lines) has(prefix string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, l := range ls.all {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func (ls *lines) String() string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return strings.Join(ls.all, "\n")
}

// TestOpenSSLClientToServer: openssl s_client against a netloop server,
// TLS 1.2 and 1.3 with ALPN and SNI: verification OK, a line echoed, and
// s_client's close_notify at stdin's end closes the connection cleanly.
func TestOpenSSLClientToServer(t *testing.T) {
	bin := requireOpenSSL(t)
	p := getPKI(t)
	for _, vers := range []string{"-tls1_2", "-tls1_3"} {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			so := serverOpts(t)
			so.ALPNProtocols = []string{"echo/1"}
			var got *tls.TLSSocket
			ended, closed := false, false
			srv, port := listen(t, l, so, func(s *tls.TLSSocket) {
				got = s
				s.Pipe(s)
				s.OnEnd(func() { ended = true })
				s.OnClose(func(bool) { closed = true })
			})
			files := writePEMs(t, map[string][]byte{"ca": p.CA.CertPEM})
			ctx, cancel := context.WithTimeout(context.Background(), nodeTimeLimit)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "s_client", "-connect", "127.0.0.1:"+strconv.Itoa(port),
				"-servername", "localhost", "-CAfile", files["ca"].(string), "-alpn", "echo/1", "-brief", vers)
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = cmd.Stdout
			var ls lines
			require.NoError(t, cmd.Start())
			done := make(chan struct{})
			go func() { ls.scan(out); close(done) }()
			io.WriteString(stdin, "hello openssl\n")
			testutil.RunUntil(t, l, nodeTimeLimit, func() bool { return ls.has("hello openssl") })
			stdin.Close() // s_client sends close_notify and exits
			testutil.RunUntil(t, l, nodeTimeLimit, func() bool { return closed })
			<-done
			cmd.Wait()
			require.True(t, ended)
			require.True(t, ls.has("Verification: OK"), ls.String())
			wantVers := map[string]string{"-tls1_2": "TLSv1.2", "-tls1_3": "TLSv1.3"}[vers]
			require.True(t, ls.has("Protocol version: "+wantVers), ls.String())
			require.Equal(t, wantVers, got.GetProtocol())
			require.Equal(t, "echo/1", got.ALPNProtocol())
			require.Equal(t, "localhost", got.Servername())
			srv.Close(nil)
			testutil.RunUntil(t, l, testTimeout, func() bool { return !srv.Listening() })
		})
	}
}

// TestClientToOpenSSLServer: a netloop client against openssl s_server
// -rev (which answers each line reversed), TLS 1.2 and 1.3, with a client
// certificate the server verifies.
func TestClientToOpenSSLServer(t *testing.T) {
	bin := requireOpenSSL(t)
	p := getPKI(t)
	for _, vers := range []string{"TLSv1.2", "TLSv1.3"} {
		t.Run(vers, func(t *testing.T) {
			l := testutil.NewLoop(t)
			files := writePEMs(t, map[string][]byte{"ca": p.CA.CertPEM, "cert": p.Server.CertPEM, "key": p.Server.KeyPEM})
			ctx, cancel := context.WithTimeout(context.Background(), nodeTimeLimit)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-rev",
				"-cert", files["cert"].(string), "-key", files["key"].(string),
				"-CAfile", files["ca"].(string), "-Verify", "1")
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			cmd.Stderr = cmd.Stdout
			require.NoError(t, cmd.Start())
			defer cmd.Wait()
			defer cancel()
			var ls lines
			go ls.scan(out)
			deadline := time.Now().Add(nodeTimeLimit)
			for !ls.has("ACCEPT") && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			var port int
			for _, line := range strings.Split(ls.String(), "\n") {
				if strings.HasPrefix(line, "ACCEPT") {
					port, _ = strconv.Atoi(line[strings.LastIndex(line, ":")+1:])
				}
			}
			require.NotZero(t, port, ls.String())
			co := clientOpts(t, l, port)
			co.MaxVersion = vers
			co.Cert, co.Key = p.Client.CertPEM, p.Client.KeyPEM
			c, err := tls.Connect(co)
			require.NoError(t, err)
			var got []byte
			closed := false
			c.OnError(func(err error) { t.Errorf("client: %v", err) })
			c.OnData(func(b []byte) {
				got = append(got, b...)
				if strings.Contains(string(got), "lessnepo olleh\n") {
					c.End(nil)
				}
			})
			c.OnClose(func(bool) { closed = true })
			c.Write([]byte("hello openssel\n"))
			testutil.RunUntil(t, l, nodeTimeLimit, func() bool { return closed })
			require.Contains(t, string(got), "lessnepo olleh\n")
			require.Equal(t, vers, c.GetProtocol())
			require.True(t, c.Authorized())
		})
	}
}
