// Command netloop is the netloop echo peer of the benchmark: one loop, the
// root package's API, writes back whatever arrived (no greeting),
// TCP_NODELAY on like every other peer.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/netloop/netloop"
)

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	flag.Parse()
	srv := netloop.CreateServerWith(netloop.ServerOptions{NoDelay: true}, func(c *netloop.Socket) {
		c.OnData(func(data []byte) { c.Write(data) })
		c.OnError(func(error) {})
	})
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.ListenHost(*port, "127.0.0.1", 0, func() { fmt.Println("ready") }); err != nil {
		log.Fatal(err)
	}
	if err := netloop.Run(); err != nil {
		log.Fatal(err)
	}
}
