// Command netlooptls is the netloop TLS echo peer of bench/cmd/tlsbench:
// one loop, netloop.CreateSecureServer with the given PEM certificate and
// key, writes back whatever arrived (no greeting), TCP_NODELAY on. Prints
// "ready" once listening.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/netloop/netloop"
)

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	certFile := flag.String("cert", "", "PEM certificate")
	keyFile := flag.String("key", "", "PEM private key")
	flag.Parse()
	var opts netloop.SecureServerOptions
	var err error
	if opts.Cert, err = os.ReadFile(*certFile); err != nil {
		log.Fatal(err)
	}
	if opts.Key, err = os.ReadFile(*keyFile); err != nil {
		log.Fatal(err)
	}
	opts.NoDelay = true
	srv, err := netloop.CreateSecureServer(opts, func(c *netloop.TLSSocket) {
		c.OnData(func(d []byte) { c.Write(d) })
		c.OnError(func(error) {})
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnTLSClientError(func(error, *netloop.TLSSocket) {})
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.ListenHost(*port, "127.0.0.1", 0, func() { fmt.Println("ready") }); err != nil {
		log.Fatal(err)
	}
	if err := netloop.Run(); err != nil {
		log.Fatal(err)
	}
}
