// Command client is the client from Node's net.createConnection
// documentation: it connects to the echo server, writes a line, prints
// what comes back and then destroys the connection.
//
//	go run ./examples/echo &  go run ./examples/client
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/netloop/netloop"
)

func main() {
	port := flag.Int("port", 8124, "TCP port to connect to")
	host := flag.String("host", "", "host to connect to (default localhost)")
	path := flag.String("path", "", "connect to this Unix-domain socket instead")
	flag.Parse()

	connected := func() { fmt.Println("connected to server!") }
	var (
		client *netloop.Socket
		err    error
	)
	if *path != "" {
		client, err = netloop.ConnectPath(*path, connected)
	} else {
		client, err = netloop.Connect(*port, *host, connected)
	}
	if err != nil {
		log.Fatal(err)
	}
	client.Write([]byte("world!\r\n"))
	got := 0
	client.OnData(func(data []byte) {
		fmt.Print(string(data))
		got += len(data)
		// The server greets with "hello\r\n" and echoes "world!\r\n".
		if got >= len("hello\r\nworld!\r\n") {
			client.End(nil)
		}
	})
	client.OnEnd(func() { fmt.Println("disconnected from server") })
	client.OnError(func(err error) { log.Fatal(err) })
	client.OnClose(func(bool) { client.Destroy(nil) })
	if err := netloop.Run(); err != nil {
		log.Fatal(err)
	}
}
