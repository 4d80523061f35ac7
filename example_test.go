//go:build !windows

package netloop_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
)

// ExampleSocket_Write streams 4 MiB to a slow reader the way Node
// documents it: write while Write returns true, then wait for 'drain'.
func ExampleSocket_Write() {
	l, _ := loop.New()
	defer l.Close()
	chunk := make([]byte, 64<<10)
	const total = 64 // chunks
	received := 0
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, func(c *netloop.Socket) {
		c.OnData(func(data []byte) { received += len(data) })
	})
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		client, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		sent, waits := 0, 0
		var produce func()
		produce = func() {
			for sent < total {
				sent++
				if !client.Write(chunk) {
					waits++
					client.OnceDrain(produce) // the kernel and the queue caught up
					return
				}
			}
			client.End(nil)
		}
		produce()
		client.OnClose(func(bool) {
			fmt.Println("waited for drain:", waits > 0)
			srv.Close(nil)
		})
	})
	l.Run(loop.RunDefault)
	fmt.Println("received:", received)
	// Output:
	// waited for drain: true
	// received: 4194304
}

// ExampleConnectPath talks over a Unix-domain socket (Node's IPC
// connections): the server listens on a path, the client connects to it.
func ExampleConnectPath() {
	dir, _ := os.MkdirTemp("", "netloop-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "echo.sock")

	var srv *netloop.Server
	srv = netloop.CreateServer(func(c *netloop.Socket) {
		c.Pipe(c) // echo
		c.OnClose(func(bool) { srv.Close(nil) })
	})
	srv.ListenPath(path, func() {
		fmt.Println("listening on a path:", srv.Address().Address == path)
		client, _ := netloop.ConnectPath(path, func() { fmt.Println("connected") })
		client.SetEncoding("utf8")
		client.OnText(func(text string) {
			fmt.Println("echoed:", text)
			client.End(nil)
		})
		client.Write([]byte("ping"))
	})
	netloop.Run()
	// Output:
	// listening on a path: true
	// connected
	// echoed: ping
}

// ExampleCreateServerWith_group spreads a server's connections over a
// group of loops, one per core: each connection lives on one loop, whose
// goroutine runs all of its callbacks.
func ExampleCreateServerWith_group() {
	g, _ := loop.NewGroup(2)
	defer g.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Group: g}, func(c *netloop.Socket) {
		// On the connection's loop.
		c.Write([]byte("hello from a loop of the group\n"))
		c.End(nil)
	})
	srv.OnError(func(err error) { panic(err) })
	srv.ListenHost(0, "127.0.0.1", 0) // before Start, or from the first loop
	port := srv.Address().Port
	g.Start()

	// A client on a loop of its own.
	cl, _ := loop.New()
	c, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: cl, Port: port, Host: "127.0.0.1"})
	c.OnData(func(b []byte) { fmt.Print(string(b)) })
	c.OnClose(func(bool) {
		// Server methods belong to the group's first loop.
		g.Loops()[0].Post(func() { srv.Close(nil) })
	})
	cl.Run(loop.RunDefault)
	cl.Close()
	fmt.Println("group done:", g.Wait())
	// Output:
	// hello from a loop of the group
	// group done: <nil>
}
