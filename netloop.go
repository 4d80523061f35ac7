// Package netloop is Node.js's net module for Go, on a libuv-like event
// loop built directly on epoll and kqueue: one import gives a program what
// require('net') gives a Node program.
//
//	srv := netloop.CreateServer(func(c *netloop.Socket) {
//		c.Write([]byte("hello\r\n"))
//		c.Pipe(c)
//	})
//	srv.Listen(8124, func() { fmt.Println("server bound") })
//	netloop.Run()
//
// Servers and sockets created without an explicit loop run on the default
// loop, which Run drives until nothing referenced is left. Everything is
// loop-affine: call methods from the loop's callbacks, or use
// DefaultLoop().Post from other goroutines.
//
// Windows is not supported yet: there the package holds only this
// documentation.
package netloop
