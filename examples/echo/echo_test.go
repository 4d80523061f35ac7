//go:build !windows

package main

import (
	"bufio"
	"context"
	"github.com/netloop/netloop/internal/testutil"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// nodeClient connects to the echo server (kind "tcp" with a port, or
// "path"), checks the greeting, echoes 16 MiB of random bytes through it
// and compares sha256 sums, then ends and waits for the close.
const nodeClient = `
const net = require('net');
const crypto = require('crypto');
const [kind, target] = process.argv.slice(1);
const size = 16 << 20;
const data = crypto.randomBytes(size);
const want = crypto.createHash('sha256').update(data).digest('hex');
const hash = crypto.createHash('sha256');
const c = kind === 'tcp'
  ? net.createConnection({ port: Number(target), host: '127.0.0.1' })
  : net.createConnection({ path: target });
let head = Buffer.alloc(0), greeted = false, got = 0, ended = false;
c.on('data', (b) => {
  if (!greeted) {
    head = Buffer.concat([head, b]);
    if (head.length < 7) return;
    const g = head.subarray(0, 7).toString();
    if (g !== 'hello\r\n') { console.log('bad greeting ' + JSON.stringify(g)); process.exit(2); }
    console.log('greeting ok');
    greeted = true;
    b = head.subarray(7);
    c.write(data);
  }
  hash.update(b);
  got += b.length;
  if (got > size) { console.log('too much data: ' + got); process.exit(3); }
  if (got === size) {
    const sum = hash.digest('hex');
    console.log(sum === want ? 'sha256 ok' : 'sha256 mismatch ' + sum + ' != ' + want);
    c.end();
  }
});
c.on('end', () => { ended = true; });
c.on('error', (err) => { console.log('error ' + err.message); process.exit(4); });
c.on('close', (hadError) => { console.log('close hadError=' + hadError + ' ended=' + ended); });
`

// requireNode returns the node binary, skipping (or failing on CI) when
// there is none.
func requireNode(t *testing.T) string { return testutil.RequireNode(t) }

// buildEcho builds this example into a temporary directory.
func buildEcho(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "echo")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// echoProc is a running echo server with its stdout split into lines.
type echoProc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	more  chan struct{}
	done  chan struct{}
}

func startEcho(t *testing.T, bin string, args ...string) *echoProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &echoProc{cmd: cmd, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() { p.stop(t) })
	p.waitLine(t, "server bound")
	return p
}

// waitLine waits until the server printed line.
func (p *echoProc) waitLine(t *testing.T, line string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if l == line {
				p.mu.Unlock()
				return
			}
		}
		got := append([]string(nil), p.lines...)
		p.mu.Unlock()
		select {
		case <-p.more:
		case <-p.done:
			t.Fatalf("echo exited before printing %q; output %q", line, got)
		case <-deadline:
			t.Fatalf("echo did not print %q; output %q", line, got)
		}
	}
}

func (p *echoProc) output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}

// stop terminates the server and reaps it.
func (p *echoProc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan struct{})
	go func() { p.cmd.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-waited
	}
}

func TestNodeClientAgainstEcho(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("netloop does not support windows yet")
	}
	node := requireNode(t)
	bin := buildEcho(t)
	for _, kind := range []string{"tcp", "path"} {
		t.Run(kind, func(t *testing.T) {
			var args []string
			var target string
			if kind == "tcp" {
				port := freePort(t)
				target = strconv.Itoa(port)
				args = []string{"-port", target}
			} else {
				target = filepath.Join(t.TempDir(), "echo.sock")
				args = []string{"-path", target}
			}
			p := startEcho(t, bin, args...)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, node, "-e", nodeClient, kind, target).CombinedOutput()
			if err != nil {
				t.Fatalf("node client: %v\n%s", err, out)
			}
			want := "greeting ok\nsha256 ok\nclose hadError=false ended=true\n"
			if string(out) != want {
				t.Fatalf("node client printed %q, want %q", out, want)
			}
			p.waitLine(t, "client disconnected")
			p.stop(t)
			if got, want := strings.Join(p.output(), "\n"), "server bound\nclient connected\nclient disconnected"; got != want {
				t.Errorf("echo printed %q, want %q", got, want)
			}
		})
	}
}

// TestNodeClientsAgainstEchoLoops runs the server with -loops 4 and four
// Node clients at once, over TCP and a Unix-domain path: every client gets
// its greeting and its 16 MiB back intact, and the server sees each one
// connect and disconnect.
func TestNodeClientsAgainstEchoLoops(t *testing.T) {
	node := requireNode(t)
	bin := buildEcho(t)
	const clients = 4
	for _, kind := range []string{"tcp", "path"} {
		t.Run(kind, func(t *testing.T) {
			args := []string{"-loops", "4"}
			var target string
			if kind == "tcp" {
				target = strconv.Itoa(freePort(t))
				args = append(args, "-port", target)
			} else {
				target = filepath.Join(t.TempDir(), "echo.sock")
				args = append(args, "-path", target)
			}
			p := startEcho(t, bin, args...)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			outs := make([][]byte, clients)
			errs := make([]error, clients)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					outs[i], errs[i] = exec.CommandContext(ctx, node, "-e", nodeClient, kind, target).CombinedOutput()
				}()
			}
			wg.Wait()
			want := "greeting ok\nsha256 ok\nclose hadError=false ended=true\n"
			for i := range clients {
				if errs[i] != nil || string(outs[i]) != want {
					t.Fatalf("node client %d: %v, printed %q, want %q", i, errs[i], outs[i], want)
				}
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				var conn, disc int
				for _, l := range p.output() {
					switch l {
					case "client connected":
						conn++
					case "client disconnected":
						disc++
					}
				}
				if conn == clients && disc == clients {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("echo printed %d connected, %d disconnected, want %d each; output %q", conn, disc, clients, p.output())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
