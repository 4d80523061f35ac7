//go:build !windows

package tcp_test

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/tcp"
)

// Example is an echo exchange on raw TCP handles (libuv's uv_tcp_t): a
// listener accepts, echoes what it reads and closes at EOF; a client
// connects, writes, reads the echo and shuts down its side.
func Example() {
	l, _ := loop.New()
	defer l.Close()
	lo := netip.MustParseAddr("127.0.0.1")

	lis := tcp.New(l)
	lis.Bind(lo, 0, 0)
	lis.Listen(128, func(err error) {
		conn := tcp.New(l)
		if err := lis.Accept(conn); err != nil {
			conn.Close(nil)
			return
		}
		lis.Close(nil) // one connection is enough here
		conn.ReadStart(nil, func(n int, buf []byte, err error) {
			if err == io.EOF {
				conn.Close(nil)
				return
			}
			// buf belongs to the loop: Write copies what it cannot send now.
			conn.Write([][]byte{buf[:n]}, nil)
		})
	})
	addr, _ := lis.SockName()

	client := tcp.New(l)
	client.Connect(lo, int(addr.Port()), func(err error) {
		fmt.Println("connected:", err == nil)
		client.Write([][]byte{[]byte("hello")}, nil)
		client.ReadStart(nil, func(n int, buf []byte, err error) {
			if err != nil {
				client.Close(func() { fmt.Println("closed") })
				return
			}
			fmt.Printf("echo: %s\n", buf[:n])
			client.Shutdown(nil) // the server reads EOF and closes
		})
	})
	l.Run(loop.RunDefault)
	// Output:
	// connected: true
	// echo: hello
	// closed
}
