// Command loadgen runs the netloop benchmark's load generator as its own
// process (the harness pins it to CPU 1). It prints progress lines
// ("measure-start", "measure-end", "held N") and finally one JSON line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/netloop/netloop/bench/loadgen"
)

func main() {
	var cfg loadgen.Config
	flag.StringVar(&cfg.Mode, "mode", "echo", "echo | churn | idle")
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:9000", "server address")
	flag.IntVar(&cfg.Conns, "c", 100, "connections (echo, idle)")
	flag.IntVar(&cfg.Size, "s", 64, "message size in bytes")
	flag.IntVar(&cfg.Depth, "d", 1, "messages in flight per connection (echo); connections in flight (churn, idle connect)")
	flag.DurationVar(&cfg.Warmup, "w", time.Second, "warm-up")
	flag.DurationVar(&cfg.Duration, "t", 3*time.Second, "measured window")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	if cfg.Mode == "idle" {
		cfg.Hold = func() {
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
			select {
			case <-done:
			case <-sig:
			}
		}
	}
	res, err := loadgen.Run(cfg)
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
