package loadgen

import (
	"io"
	"net"
	"testing"
	"time"
)

// echoServer is a tiny Go echo server for end-to-end tests of the generator.
func echoServer(t *testing.T, corrupt bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if n > 0 && corrupt {
						buf[0] ^= 0xff
					}
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestEchoRun(t *testing.T) {
	addr := echoServer(t, false)
	res, err := Run(Config{Mode: "echo", Addr: addr, Conns: 4, Size: 64, Depth: 4,
		Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages == 0 || res.Bytes != res.Messages*64 && res.Bytes < res.Messages*64 {
		t.Fatalf("messages=%d bytes=%d", res.Messages, res.Bytes)
	}
	if res.P50Ns == 0 || res.P99Ns < res.P50Ns || res.P999Ns < res.P99Ns {
		t.Fatalf("latency %d %d %d", res.P50Ns, res.P99Ns, res.P999Ns)
	}
}

func TestChurnRun(t *testing.T) {
	addr := echoServer(t, false)
	res, err := Run(Config{Mode: "churn", Addr: addr, Size: 64, Depth: 4,
		Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages == 0 {
		t.Fatal("no connections churned")
	}
}

func TestIdleRun(t *testing.T) {
	addr := echoServer(t, false)
	res, err := Run(Config{Mode: "idle", Addr: addr, Conns: 50, Size: 64, Depth: 16, Out: io.Discard, Hold: func() {}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Held != 50 {
		t.Fatalf("held %d", res.Held)
	}
}

func TestDetectsCorruption(t *testing.T) {
	addr := echoServer(t, true)
	_, err := Run(Config{Mode: "echo", Addr: addr, Conns: 1, Size: 64, Depth: 1,
		Warmup: 50 * time.Millisecond, Duration: 100 * time.Millisecond, Out: io.Discard})
	if err == nil {
		t.Fatal("corrupted echo not detected")
	}
}
