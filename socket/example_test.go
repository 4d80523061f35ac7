//go:build !windows

package socket_test

import (
	"fmt"
	"strings"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// A server and a client on one loop exchange a line; the server answers
// and ends, the client ends in turn, and Run returns once everything has
// closed.
func ExampleSocket() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()

	var srv *server.Server
	srv = server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		srv.Close(nil) // one connection is enough
		c.SetEncoding("utf8")
		c.OnText(func(line string) {
			fmt.Print("server got: ", line)
			c.End([]byte("HELLO, " + strings.ToUpper(strings.TrimSpace(line)) + "\n"))
		})
	})
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := socket.New(socket.Options{Loop: l})
		client.OnData(func(b []byte) { fmt.Print("client got: ", string(b)) })
		client.OnEnd(func() { fmt.Println("client: server ended") })
		client.OnClose(func(hadError bool) { fmt.Println("client closed, hadError:", hadError) })
		client.ConnectTCP(srv.Address().Port, "127.0.0.1", func() {
			client.Write([]byte("hello netloop\n"))
		})
	})
	l.Run(loop.RunDefault)
	// Output:
	// server got: hello netloop
	// client got: HELLO, HELLO NETLOOP
	// client: server ended
	// client closed, hadError: false
}
