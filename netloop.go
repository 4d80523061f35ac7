// Package netloop is Node.js's net module for Go, on a libuv-like event
// loop built directly on epoll and kqueue: one import gives a program what
// require('net') gives a Node program, with Node's events, ordering,
// backpressure, half-open connections, timeouts and errors.
//
//	srv := netloop.CreateServer(func(c *netloop.Socket) {
//		c.Write([]byte("hello\r\n"))
//		c.Pipe(c)
//	})
//	srv.OnError(func(err error) { log.Fatal(err) })
//	srv.Listen(8124, func() { fmt.Println("server bound") })
//	netloop.Run()
//
// # Servers
//
// CreateServer and CreateServerWith make a Server (net.Server). It
// listens on a port (Listen, ListenHost, ListenOptions with IPv6Only,
// ReusePort, Backlog, a Context to close it), a Unix-domain path
// (ListenPath, with ReadableAll/WritableAll), an inherited descriptor
// (ListenFD) or another server's handle (ListenHandle). Every accepted
// connection is a Socket emitted with 'connection'. SetMaxConnections
// refuses connections past a limit and emits 'drop'; a BlockList closes
// matching peers. Connections and GetConnections count open connections;
// Close stops listening and emits 'close' once the last connection has
// gone. Address reports the bound address; Ref and Unref decide whether
// a listening server keeps Run going.
//
// # Sockets
//
// Connect, ConnectPath and CreateConnection open a client Socket
// (net.Socket); NewSocket makes one to connect later or wraps a connected
// descriptor. A Socket emits 'connect', 'ready', 'data' (OnData, or OnText
// after SetEncoding), 'end', 'drain', 'finish', 'error', 'close', 'timeout'
// and 'lookup', each with an On and a Once form returning a Listener.
// Write returns false once HighWaterMark bytes are buffered: wait for
// 'drain'. End half-closes (the peer reads EOF); Destroy and
// ResetAndDestroy (RST) close at once. Pause and Resume stop and restart
// reading, which slows the peer down. SetTimeout emits 'timeout' after
// idleness; SetNoDelay and SetKeepAlive tune TCP; Cork and Uncork batch
// writes; Pipe forwards everything to another Socket with backpressure.
// Host names resolve off the loop, and several addresses are tried Happy
// Eyeballs style, as in Node 20. BytesRead, BytesWritten, the local and
// remote addresses and ReadyState report on the connection.
//
// # Buffers
//
// The []byte a 'data' listener receives is the loop's shared read buffer:
// it is valid only until the listener returns; copy what you keep, or
// give the socket your own buffer with OnRead. Write copies what the
// kernel does not take at once, so the caller may reuse its slice when
// Write returns.
//
// # Loops and goroutines
//
// Servers and sockets created without an explicit loop run on the default
// loop, which Run drives until nothing referenced is left. Everything is
// loop-affine: call methods from the loop's callbacks, or hand work over
// with DefaultLoop().Post from other goroutines; built with
// -tags netloopdebug, a call from the wrong goroutine panics with the
// method's name. Packages loop, handle, stream, tcp and pipe are the
// libuv-level API under this one, for programs that embed the loop.
//
// Errors are *errs.Error values with Node's code, syscall, errno, address
// and port; errors.Is(err, syscall.ECONNREFUSED) works.
//
// On Windows (Winsock sockets polled through AFD, see package poller) the
// TCP side works, and paths are named pipes (\\.\pipe\name, completed on
// the same port; docs/windows.md), and IPC named pipes pass TCP sockets
// and servers between processes. Errors there carry Winsock's errno, and errors.Is
// against syscall's names (syscall.ECONNREFUSED) still matches: it
// compares Node's names.
package netloop
