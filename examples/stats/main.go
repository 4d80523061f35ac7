// Command stats is the connection-statistics server from Node's net
// documentation: for each client it reports the server's connection count
// (getConnections) and the socket's bytesRead, bytesWritten and bufferSize.
//
//	go run ./examples/stats -port 8125   # then: nc localhost 8125
package main

import (
	"flag"
	"fmt"
	"log"
	"strings"

	"github.com/netloop/netloop"
)

func main() {
	port := flag.Int("port", 8125, "TCP port to listen on")
	flag.Parse()

	var srv *netloop.Server
	srv = netloop.CreateServer(func(c *netloop.Socket) {
		srv.GetConnections(func(err error, count int) {
			if err != nil {
				log.Print(err)
				return
			}
			fmt.Printf("connections: %d\n", count)
		})
		c.OnData(func(data []byte) {
			line := strings.TrimSpace(string(data))
			c.Write([]byte(fmt.Sprintf("you said %q\r\n", line)))
			fmt.Printf("bytesRead=%d bytesWritten=%d bufferSize=%d\n", c.BytesRead(), c.BytesWritten(), c.BufferSize())
		})
		c.OnEnd(func() {
			fmt.Printf("client left: bytesRead=%d bytesWritten=%d\n", c.BytesRead(), c.BytesWritten())
		})
		c.OnError(func(err error) { log.Print(err) }) // a client's reset must not stop the server
	})
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.Listen(*port, func() { fmt.Printf("stats server on %d\n", srv.Address().Port) }); err != nil {
		log.Fatal(err)
	}
	if err := netloop.Run(); err != nil {
		log.Fatal(err)
	}
}
