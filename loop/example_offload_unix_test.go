//go:build unix

package loop_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/loop"
)

// lookup stands for a blocking call, such as a database query.
func lookup(key string) (string, error) {
	time.Sleep(10 * time.Millisecond)
	if key == "" {
		return "", fmt.Errorf("empty key")
	}
	return strings.ToUpper(key), nil
}

// A server answers each request after a blocking lookup: Offload runs the
// lookup on a goroutine and the answer's callback back on the
// connection's loop, where it may write to the socket.
func ExampleOffload() {
	l, _ := loop.New()
	defer l.Close()
	srv := netloop.CreateServerWith(netloop.ServerOptions{Loop: l}, func(c *netloop.Socket) {
		c.OnError(func(error) {})
		c.OnData(func(b []byte) {
			key := strings.TrimSpace(string(b)) // a copy: b dies with this callback
			loop.Offload(c.Loop(), func() (string, error) {
				return lookup(key) // off the loop: touches nothing of it
			}, func(v string, err error) {
				if c.Destroyed() {
					return // the client has gone
				}
				if err != nil {
					v = "error: " + err.Error()
				}
				c.End([]byte(v+"\n"), nil)
			})
		})
	})
	srv.ListenHost(0, "127.0.0.1", 0, func() {
		c, _ := netloop.CreateConnection(netloop.ConnectionOptions{Loop: l, Port: srv.Address().Port, Host: "127.0.0.1"})
		c.OnData(func(b []byte) { fmt.Print("client got: ", string(b)) })
		c.OnClose(func(bool) { srv.Close(nil) })
		c.Write([]byte("netloop\n"))
	})
	fmt.Println(l.Run(loop.RunDefault))
	// Output:
	// client got: NETLOOP
	// <nil>
}
