// Command resp is a small Redis server: the RESP2 protocol with PING, ECHO,
// SET, GET, DEL and INCR (plus COMMAND and CONFIG GET, answered just enough
// for redis-cli and redis-benchmark), inline commands ("PING\r\n" from nc),
// pipelining and large values. The data lives in a map owned by the one
// event loop, so nothing needs a lock.
//
//	go run ./examples/resp              # port 6380: redis-cli -p 6380
//	redis-benchmark -p 6380 -t ping,set,get,incr -P 16
//	printf 'PING\r\nSET k v\r\nGET k\r\n' | nc localhost 6380
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
	port := flag.Int("port", 6380, "TCP port to listen on")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, "", *port, func(addr string) { fmt.Println("resp server on", addr) })
	if err != nil {
		log.Fatal(err)
	}
}

// run serves RESP on host:port (port 0 picks a free one; host "" is every
// address) on an event loop of its own, calling ready with the bound
// address once listening. It returns when ctx is done, after closing the
// server and every connection, or with the server's error.
func run(ctx context.Context, host string, port int, ready func(addr string)) error {
	l, err := loop.New()
	if err != nil {
		return err
	}
	db := newStore()
	conns := make(map[*netloop.Socket]struct{}) // for the shutdown
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l, NoDelay: true}, func(c *netloop.Socket) {
		conns[c] = struct{}{}
		c.OnClose(func(bool) { delete(conns, c) })
		db.serve(c)
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
