// Command echo is the echo server from Node's net.createServer documentation:
// it greets each client with "hello\r\n" and sends back whatever it receives.
//
//	go run ./examples/echo              # TCP port 8124: telnet localhost 8124
//	go run ./examples/echo -path /tmp/echo.sock   # nc -U /tmp/echo.sock
//	go run ./examples/echo -loops 4     # spread connections over 4 loops
//
// With -loops N above 1 the server runs on a loop.Group of N loops, each on
// its own thread: every connection lives on one of them, and its callbacks
// run there, so the handler below is unchanged.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
)

func main() {
	port := flag.Int("port", 8124, "TCP port to listen on")
	path := flag.String("path", "", "listen on this Unix-domain socket path instead of TCP")
	loops := flag.Int("loops", 1, "number of event loops (threads) serving connections")
	flag.Parse()

	var group *loop.Group
	if *loops > 1 {
		g, err := loop.NewGroup(*loops)
		if err != nil {
			log.Fatal(err)
		}
		group = g
	}
	srv := netloop.CreateServerWith(netloop.ServerOptions{Group: group}, func(c *netloop.Socket) {
		// 'connection' listener.
		fmt.Println("client connected")
		c.OnEnd(func() { fmt.Println("client disconnected") })
		// A client that resets its connection is this client's problem,
		// not the server's: log it (without a listener, Run would return
		// the error, as Node would crash with it).
		c.OnError(func(err error) { log.Print(err) })
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
	})
	srv.OnError(func(err error) { log.Fatal(err) })
	bound := func() { fmt.Println("server bound") }
	var err error
	if *path != "" {
		err = srv.ListenPath(*path, bound)
	} else {
		err = srv.Listen(*port, bound)
	}
	if err != nil {
		log.Fatal(err)
	}
	if group == nil {
		err = netloop.Run()
	} else if err = group.Start(); err == nil {
		err = group.Wait()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
