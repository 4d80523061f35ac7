// Command http is a small HTTP/1.1 server: GET / answers "hello world\n",
// POST /echo sends the request body back, anything else is 404. It keeps
// connections alive (HTTP/1.1's default, HTTP/1.0's with "Connection:
// keep-alive"), answers pipelined requests in order, streams Content-Length
// bodies as they arrive, and answers a malformed request with 400 and a
// close.
//
//	go run ./examples/http               # port 8080
//	curl -v localhost:8080/ localhost:8080/   # two requests, one connection
//	curl --data-binary @file localhost:8080/echo
//	wrk -c 64 -d 10s http://localhost:8080/
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
)

func main() {
	port := flag.Int("port", 8080, "TCP port to listen on")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, "", *port, func(addr string) { fmt.Println("http server on", addr) })
	if err != nil {
		log.Fatal(err)
	}
}

// run serves HTTP on host:port (port 0 picks a free one; host "" is every
// address) on an event loop of its own, calling ready with the bound
// address once listening. It returns when ctx is done, after closing the
// server and every connection, or with the server's error.
func run(ctx context.Context, host string, port int, ready func(addr string)) error {
	l, err := loop.New()
	if err != nil {
		return err
	}
	h := &handler{}
	conns := make(map[*netloop.Socket]struct{}) // for the shutdown
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l, NoDelay: true}, func(c *netloop.Socket) {
		conns[c] = struct{}{}
		c.OnClose(func(bool) { delete(conns, c) })
		h.serve(c)
	})
	var srvErr error
	shutdown := func() {
		if srv.Listening() {
			srv.Close(nil)
		}
		for c := range conns {
			c.Destroy(nil)
		}
	}
	srv.OnError(func(err error) { srvErr = err; shutdown() })
	// ctx is done on another goroutine: hand the shutdown to the loop.
	stopWatch := context.AfterFunc(ctx, func() { l.Post(shutdown) })
	defer stopWatch()

	err = srv.ListenOptions(netloop.ListenOptions{Port: port, PortGiven: true, Host: host}, func() {
		a := srv.Address()
		ready(net.JoinHostPort(a.Address, strconv.Itoa(a.Port)))
	})
	if err == nil {
		err = l.Run(loop.RunDefault) // until the shutdown, or an unhandled error
	}
	stopWatch()
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = srvErr
	}
	return err
}
