//go:build !windows

package main

import (
	"bufio"
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

// The stats example answers each line and reports the connection count
// and the socket's byte counters.
func TestStats(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("netloop does not support windows yet")
	}
	bin := filepath.Join(t.TempDir(), "stats")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin, "-port", strconv.Itoa(port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l := <-lines:
			return l
		case <-time.After(20 * time.Second):
			t.Fatal("stats printed nothing")
			return ""
		}
	}
	if got, want := next(), "stats server on "+strconv.Itoa(port); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}

	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	answer, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := "you said \"hi\"\r\n"; answer != want {
		t.Fatalf("answer %q, want %q", answer, want)
	}
	c.Close()
	var got []string
	for len(got) < 3 {
		got = append(got, next())
	}
	want := []string{
		"connections: 1",
		"bytesRead=3 bytesWritten=" + strconv.Itoa(len(answer)) + " bufferSize=0",
		"client left: bytesRead=3 bytesWritten=" + strconv.Itoa(len(answer)),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stats printed %q, want %q", got, want)
	}
}
