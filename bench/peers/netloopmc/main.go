// Command netloopmc is the netloop echo peer for the multi-core cases of
// the benchmark (cmd/mcbench): the echo of peers/netloop on a loop group
// of -loops loops, spread by -balance (acceptor or reuseport). -loops 1
// is the single-loop server, as peers/netloop.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
)

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	loops := flag.Int("loops", 2, "event loops (threads)")
	balance := flag.String("balance", "acceptor", "acceptor or reuseport")
	flag.Parse()
	opts := netloop.ServerOptions{NoDelay: true}
	var g *loop.Group
	if *loops > 1 {
		var err error
		if g, err = loop.NewGroup(*loops); err != nil {
			log.Fatal(err)
		}
		opts.Group = g
		switch *balance {
		case "acceptor":
		case "reuseport":
			opts.Balance = server.BalanceReusePort
		default:
			log.Fatalf("-balance %q: acceptor or reuseport", *balance)
		}
	}
	srv := netloop.CreateServerWith(opts, func(c *netloop.Socket) {
		c.OnData(func(data []byte) { c.Write(data) })
		c.OnError(func(error) {})
	})
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.ListenHost(*port, "127.0.0.1", 0, func() { fmt.Println("ready") }); err != nil {
		log.Fatal(err)
	}
	var err error
	if g == nil {
		err = netloop.Run()
	} else if err = g.Start(); err == nil {
		err = g.Wait()
	}
	if err != nil {
		log.Fatal(err)
	}
}
