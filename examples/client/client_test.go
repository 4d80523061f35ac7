//go:build !windows

package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func build(t *testing.T, dir, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", dir, err, out)
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

// startEcho starts examples/echo and waits for "server bound"; the
// returned channel yields its remaining output lines.
func startEcho(t *testing.T, bin string, args ...string) <-chan string {
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
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	select {
	case l := <-lines:
		if l != "server bound" {
			t.Fatalf("echo printed %q first", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("echo did not print \"server bound\"")
	}
	return lines
}

// The client example against the echo example prints what the client of
// Node's documentation prints.
func TestClientAgainstEcho(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("netloop does not support windows yet")
	}
	echoBin := build(t, "../echo", "echo")
	clientBin := build(t, ".", "client")
	for _, kind := range []string{"tcp", "path"} {
		t.Run(kind, func(t *testing.T) {
			var echoArgs, clientArgs []string
			if kind == "tcp" {
				port := strconv.Itoa(freePort(t))
				echoArgs = []string{"-port", port}
				clientArgs = []string{"-port", port, "-host", "127.0.0.1"}
			} else {
				path := filepath.Join(t.TempDir(), "echo.sock")
				echoArgs = []string{"-path", path}
				clientArgs = []string{"-path", path}
			}
			lines := startEcho(t, echoBin, echoArgs...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, clientBin, clientArgs...).CombinedOutput()
			if err != nil {
				t.Fatalf("client: %v\n%s", err, out)
			}
			// Node's example prints each 'data' with console.log; the Go
			// client prints the bytes as they come. Either way the text is:
			got := strings.ReplaceAll(string(out), "\r", "")
			want := "connected to server!\nhello\nworld!\ndisconnected from server\n"
			if got != want {
				t.Fatalf("client printed %q, want %q", got, want)
			}
			for _, w := range []string{"client connected", "client disconnected"} {
				select {
				case l := <-lines:
					if l != w {
						t.Fatalf("echo printed %q, want %q", l, w)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("echo did not print %q", w)
				}
			}
		})
	}
}
