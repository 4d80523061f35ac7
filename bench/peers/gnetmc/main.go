// Command gnetmc is the gnet v2 echo peer for the multi-core cases of the
// benchmark (cmd/mcbench): Multicore with -loops event loops; -reuseport
// gives each loop its own SO_REUSEPORT listener, otherwise one main
// reactor accepts and hands connections to the loops (gnet's default).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
)

type echo struct {
	gnet.BuiltinEventEngine
}

func (e *echo) OnBoot(gnet.Engine) gnet.Action {
	fmt.Println("ready")
	return gnet.None
}

func (e *echo) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	if len(buf) > 0 {
		_, _ = c.Write(buf)
	}
	return gnet.None
}

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	loops := flag.Int("loops", 2, "event loops")
	reuse := flag.Bool("reuseport", false, "one SO_REUSEPORT listener per loop")
	flag.Parse()
	err := gnet.Run(&echo{}, fmt.Sprintf("tcp://127.0.0.1:%d", *port),
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(*loops),
		gnet.WithLoadBalancing(gnet.LeastConnections),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReusePort(*reuse),
		gnet.WithLogLevel(logging.ErrorLevel))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gnet:", err)
		os.Exit(1)
	}
}
