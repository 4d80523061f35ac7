//go:build !windows

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vars is the part of /debug/vars this example publishes.
type vars struct {
	Netloop struct {
		Total         view    `json:"total"`
		Recent        *view   `json:"recent"`
		RecentSeconds float64 `json:"recent_seconds"`
		Connections   int64   `json:"connections"`
	} `json:"netloop"`
}

// TestMetricsExample runs the example on free loopback ports, echoes
// through it on three connections and checks that /debug/vars follows.
func TestMetricsExample(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "metrics")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-port", "0", "-http", "127.0.0.1:0", "-window", "100ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var echoAddr, varsURL string
	for echoAddr == "" || varsURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the example exited before it was ready")
			}
			if p, ok := strings.CutPrefix(l, "echo server on "); ok {
				echoAddr = "127.0.0.1:" + p
			}
			if u, ok := strings.CutPrefix(l, "metrics on "); ok {
				varsURL = u
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the example did not start")
		}
	}

	client := &http.Client{Timeout: 5 * time.Second}
	fetch := func() vars {
		t.Helper()
		resp, err := client.Get(varsURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v vars
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// waitFor fetches until cond holds (the loop updates its counters as
	// it goes; the recent window closes every 100 ms).
	waitFor := func(what string, cond func(v vars) bool) vars {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			v := fetch()
			if cond(v) {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not reached; last %+v", what, v.Netloop)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	before := fetch()
	msg := []byte(strings.Repeat("metrics!", 1024)) // 8 KiB per connection
	const greeting = "hello\r\n"
	var conns []net.Conn
	for range 3 {
		c, err := net.DialTimeout("tcp", echoAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(greeting)+len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != greeting+string(msg) {
			t.Fatalf("echo: got %q...", got[:32])
		}
	}
	sent := int64(3 * len(msg))
	open := waitFor("three connections", func(v vars) bool {
		n := v.Netloop
		return n.Connections == 3 && n.Total.BytesRead >= before.Netloop.Total.BytesRead+sent
	})
	tot := open.Netloop.Total
	if tot.Streams != 4 || tot.Handles["tcp"] != 4 {
		t.Errorf("streams %d, tcp handles %d; want 4 (3 connections and the listener)", tot.Streams, tot.Handles["tcp"])
	}
	if want := sent + 3*int64(len(greeting)); tot.BytesWritten < want {
		t.Errorf("bytes_written %d, want at least %d", tot.BytesWritten, want)
	}
	if tot.Iterations <= before.Netloop.Total.Iterations || tot.Events <= before.Netloop.Total.Events {
		t.Errorf("iterations %d -> %d, events %d -> %d: want both to grow",
			before.Netloop.Total.Iterations, tot.Iterations, before.Netloop.Total.Events, tot.Events)
	}
	checkView(t, "total", tot)

	for _, c := range conns {
		c.Close()
	}
	closed := waitFor("connections closed, a recent window", func(v vars) bool {
		n := v.Netloop
		return n.Connections == 0 && n.Total.Streams == 1 && n.Recent != nil
	})
	checkView(t, "total", closed.Netloop.Total)
	checkView(t, "recent", *closed.Netloop.Recent)
	if s := closed.Netloop.RecentSeconds; s <= 0 || s > 10 {
		t.Errorf("recent_seconds %v", s)
	}
}

func checkView(t *testing.T, name string, v view) {
	t.Helper()
	if v.Utilization < 0 || v.Utilization > 1 {
		t.Errorf("%s: utilization %v outside [0, 1]", name, v.Utilization)
	}
	if !(v.DelayP50Ms <= v.DelayP99Ms && v.DelayP99Ms <= v.DelayMaxMs) {
		t.Errorf("%s: delay p50 %v, p99 %v, max %v out of order", name, v.DelayP50Ms, v.DelayP99Ms, v.DelayMaxMs)
	}
	if v.BusySeconds < 0 || v.IdleSeconds < 0 {
		t.Errorf("%s: busy %v, idle %v", name, v.BusySeconds, v.IdleSeconds)
	}
}
