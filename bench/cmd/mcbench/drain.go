package main

import (
	"github.com/netloop/netloop/bench/internal/measure"

	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// drainOutcome counts what the clients of one drain run saw.
type drainOutcome struct {
	attempts, greeted, refused, reset, other, served int64
	rate                                             float64 // connects started per second before Close
}

// drainCase: clients connect at -drain-rate per second (each reads the
// server's "hi" to the end) while the server is closed; every loop is
// kept busy for 50 ms just before Close so its listen queue holds
// connections the kernel completed but nobody accepted. A group server (both
// modes) must serve those, so no client sees a reset; a one-loop server
// closes as Node's does, resetting its queue, and is shown for reference.
func drainCase(rep *strings.Builder, rate, loops, trials int) {
	fmt.Fprintf(rep, "## Drain\n\nClients connect at %d per second (64 goroutines, paced; each reads the greeting to EOF) for 1 s, then the server is closed; every loop is held busy for 50 ms just before `Close`, so its listen queue fills. %d trials per server, totals below. A reset is a client whose read failed with ECONNRESET: a connection completed by the kernel and dropped at close.\n\n", rate, trials)
	fmt.Fprintf(rep, "| server | connects/s reached | connects | greeted | refused after close | reset | other |\n|---|---|---|---|---|---|---|\n")
	for _, m := range []struct {
		name string
		run  func(rate int) (drainOutcome, error)
	}{
		{fmt.Sprintf("netloop, %d loops, acceptor", loops), func(r int) (drainOutcome, error) { return drainGroup(server.BalanceAcceptor, loops, r) }},
		{fmt.Sprintf("netloop, %d loops, reuseport", loops), func(r int) (drainOutcome, error) { return drainGroup(server.BalanceReusePort, loops, r) }},
		{"netloop, one loop (Node's close: resets its queue)", drainOneLoop},
	} {
		var tot drainOutcome
		var rates []float64
		for i := 0; i < trials; i++ {
			progress("drain: %s, trial %d", m.name, i+1)
			o, err := m.run(rate)
			if err != nil {
				fatalf("drain %s: %v", m.name, err)
			}
			tot.attempts += o.attempts
			tot.greeted += o.greeted
			tot.refused += o.refused
			tot.reset += o.reset
			tot.other += o.other
			rates = append(rates, o.rate)
		}
		fmt.Fprintf(rep, "| %s | %.0f | %d | %d | %d | %d | %d |\n", m.name, measure.Median(rates), tot.attempts, tot.greeted, tot.refused, tot.reset, tot.other)
	}
	rep.WriteString("\n")
}

// greet is the drain servers' connection handler.
func greet(served *atomic.Int64) func(c *socket.Socket) {
	return func(c *socket.Socket) {
		served.Add(1)
		c.OnError(func(error) {})
		c.End([]byte("hi\n"), nil)
	}
}

func drainGroup(b server.Balance, nloops, rate int) (drainOutcome, error) {
	g, err := loop.NewGroup(nloops)
	if err != nil {
		return drainOutcome{}, err
	}
	var served atomic.Int64
	srv := server.New(server.Options{Group: g, Balance: b}, greet(&served))
	if err := srv.ListenHost(0, "127.0.0.1", 1024); err != nil {
		return drainOutcome{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", srv.Address().Port)
	if err := g.Start(); err != nil {
		return drainOutcome{}, err
	}
	o := drive(addr, rate, func() {
		for _, l := range g.Loops()[1:] {
			l.Post(func() { time.Sleep(50 * time.Millisecond) })
		}
		g.Loops()[0].Post(func() {
			time.Sleep(50 * time.Millisecond)
			srv.Close(nil)
		})
	}, func() error { return g.Wait() })
	o.served = served.Load()
	return o, g.Close()
}

func drainOneLoop(rate int) (drainOutcome, error) {
	l, err := loop.New()
	if err != nil {
		return drainOutcome{}, err
	}
	var served atomic.Int64
	srv := server.New(server.Options{Loop: l}, greet(&served))
	if err := srv.ListenHost(0, "127.0.0.1", 1024); err != nil {
		return drainOutcome{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", srv.Address().Port)
	done := make(chan error, 1)
	go func() { done <- l.Run(loop.RunDefault) }()
	o := drive(addr, rate, func() {
		l.Post(func() {
			time.Sleep(50 * time.Millisecond)
			srv.Close(nil)
		})
	}, func() error { return <-done })
	o.served = served.Load()
	return o, l.Close()
}

// drive runs paced clients against addr for a second, calls closeServer,
// keeps connecting until the connects are refused (or 2 s more), then waits
// for the server with wait.
func drive(addr string, rate int, closeServer func(), wait func() error) drainOutcome {
	var o drainOutcome
	var attempts, greeted, refused, reset, other atomic.Int64
	tokens := make(chan struct{}, rate)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-tokens:
				}
				attempts.Add(1)
				c, err := net.DialTimeout("tcp", addr, 3*time.Second)
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
					} else {
						other.Add(1)
					}
					continue
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				b, err := io.ReadAll(c)
				c.Close()
				switch {
				case errors.Is(err, syscall.ECONNRESET):
					reset.Add(1)
				case err == nil && string(b) == "hi\n":
					greeted.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	// Pace in 1 ms steps.
	start := time.Now()
	sent := 0
	closed := false
	var closedAt time.Time
	tick := time.NewTicker(time.Millisecond)
	for now := range tick.C {
		el := now.Sub(start)
		want := int(el.Seconds() * float64(rate))
		for ; sent < want; sent++ {
			select {
			case tokens <- struct{}{}:
			default: // the clients fall behind: the rate reached says so
			}
		}
		if !closed && el >= time.Second {
			o.rate = float64(attempts.Load()) / el.Seconds()
			closeServer()
			closed, closedAt = true, now
		}
		if closed && (refused.Load() >= 64 || now.Sub(closedAt) > 2*time.Second) {
			break
		}
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	if err := wait(); err != nil {
		progress("drain: server: %v", err)
	}
	o.attempts, o.greeted, o.refused, o.reset, o.other = attempts.Load(), greeted.Load(), refused.Load(), reset.Load(), other.Load()
	return o
}
