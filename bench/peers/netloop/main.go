// Command netloop is the netloop echo peer of the benchmark: one loop, the
// root package's API, writes back whatever arrived (no greeting),
// TCP_NODELAY on like every other peer.
//
// With -cpuprofile FILE it writes a CPU profile until SIGTERM/SIGINT (for
// profiling; the harness does not use it).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"syscall"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/handle"
)

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file until SIGTERM")
	flag.Parse()
	srv := netloop.CreateServerWith(netloop.ServerOptions{NoDelay: true}, func(c *netloop.Socket) {
		c.OnData(func(data []byte) { c.Write(data) })
		c.OnError(func(error) {})
	})
	srv.OnError(func(err error) { log.Fatal(err) })
	if err := srv.ListenHost(*port, "127.0.0.1", 0, func() { fmt.Println("ready") }); err != nil {
		log.Fatal(err)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		sig := handle.NewSignal(netloop.DefaultLoop())
		sig.Start(syscall.SIGTERM, func(os.Signal) {
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		})
		sig.Unref()
	}
	if err := netloop.Run(); err != nil {
		log.Fatal(err)
	}
}
