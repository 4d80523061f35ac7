// Command metrics is the echo server of examples/echo with the default
// loop's metrics (Loop.Metrics: utilization, loop delay, events, handles,
// bytes) published by the standard library's expvar, as JSON under
// "netloop" at /debug/vars:
//
//	go run ./examples/metrics                  # echo on 8126, metrics on 127.0.0.1:8127
//	curl -s http://127.0.0.1:8127/debug/vars   # "netloop": {"total": ..., "recent": ...}
//
// "total" covers the loop's life so far, "recent" the last complete
// -window (utilization and delay percentiles over that interval, as Node's
// eventLoopUtilization(now, before)). Loop.Metrics is safe from any
// goroutine and does not wake the loop, so the HTTP handler calls it
// directly. Keep the endpoint on loopback: /debug/vars also shows the
// command line and the Go runtime's memory statistics.
package main

import (
	"expvar"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
)

func main() {
	port := flag.Int("port", 8126, "TCP port of the echo server")
	httpAddr := flag.String("http", "127.0.0.1:8127", "address of the expvar endpoint (/debug/vars)")
	window := flag.Duration("window", 10*time.Second, "interval of the \"recent\" figures")
	flag.Parse()

	// The connections the server has open: the loop counts streams, which
	// include the listener.
	var conns atomic.Int64
	srv := netloop.CreateServer(func(c *netloop.Socket) {
		conns.Add(1)
		c.OnClose(func(bool) { conns.Add(-1) })
		c.OnError(func(err error) { log.Print(err) }) // a client's reset is not the server's problem
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
	})
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.Listen(*port, func() { fmt.Printf("echo server on %d\n", srv.Address().Port) }); err != nil {
		log.Fatal(err)
	}

	e := newExporter(netloop.DefaultLoop(), &conns)
	expvar.Publish("netloop", expvar.Func(e.value))
	go e.sample(*window)
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("metrics on http://%s/debug/vars\n", ln.Addr())
	go func() { log.Fatal(http.Serve(ln, nil)) }() // expvar serves on the default mux

	if err := netloop.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// exporter turns a loop's metrics into expvar's JSON.
type exporter struct {
	l     *loop.Loop
	conns *atomic.Int64

	mu     sync.Mutex
	prev   loop.Metrics  // at the start of the current window
	recent *view         // the last complete window, nil before the first
	since  time.Duration // its length
}

func newExporter(l *loop.Loop, conns *atomic.Int64) *exporter {
	return &exporter{l: l, conns: conns, prev: l.Metrics()}
}

// sample closes a window every d.
func (e *exporter) sample(d time.Duration) {
	start := time.Now()
	for range time.Tick(d) {
		m := e.l.Metrics()
		now := time.Now()
		e.mu.Lock()
		v := newView(m.Since(e.prev))
		e.recent, e.since, e.prev = &v, now.Sub(start), m
		e.mu.Unlock()
		start = now
	}
}

// value is the expvar.Func: called by the HTTP handler's goroutine.
func (e *exporter) value() any {
	out := map[string]any{
		"total":       newView(e.l.Metrics()),
		"connections": e.conns.Load(),
	}
	e.mu.Lock()
	if e.recent != nil {
		out["recent"] = e.recent
		out["recent_seconds"] = e.since.Seconds()
	}
	e.mu.Unlock()
	return out
}

// view is Metrics in units a dashboard reads: seconds and milliseconds.
type view struct {
	Iterations         uint64         `json:"iterations"`
	Events             uint64         `json:"events"`
	EventsPerIteration float64        `json:"events_per_iteration"`
	BusySeconds        float64        `json:"busy_seconds"`
	IdleSeconds        float64        `json:"idle_seconds"`
	Utilization        float64        `json:"utilization"`
	DelayP50Ms         float64        `json:"delay_p50_ms"`
	DelayP99Ms         float64        `json:"delay_p99_ms"`
	DelayMaxMs         float64        `json:"delay_max_ms"`
	DelayMeanMs        float64        `json:"delay_mean_ms"`
	Handles            map[string]int `json:"handles"`
	Streams            int            `json:"streams"`
	BytesRead          int64          `json:"bytes_read"`
	BytesWritten       int64          `json:"bytes_written"`
}

func newView(m loop.Metrics) view {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return view{
		Iterations:         m.Iterations,
		Events:             m.Events,
		EventsPerIteration: m.EventsPerIteration,
		BusySeconds:        m.BusyTime.Seconds(),
		IdleSeconds:        m.IdleTime.Seconds(),
		Utilization:        m.Utilization,
		DelayP50Ms:         ms(m.DelayP50),
		DelayP99Ms:         ms(m.DelayP99),
		DelayMaxMs:         ms(m.DelayMax),
		DelayMeanMs:        ms(m.DelayMean),
		Handles:            m.Handles,
		Streams:            m.Streams,
		BytesRead:          m.BytesRead,
		BytesWritten:       m.BytesWritten,
	}
}
