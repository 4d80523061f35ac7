// Command gnet is the gnet v2 echo peer of the netloop benchmark: one event
// loop (Multicore false), write back whatever arrived, TCP_NODELAY on.
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
	// The listener is bound and listening before OnBoot runs.
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
	flag.Parse()
	err := gnet.Run(&echo{}, fmt.Sprintf("tcp://127.0.0.1:%d", *port),
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithReusePort(false),
		gnet.WithLogLevel(logging.ErrorLevel))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gnet:", err)
		os.Exit(1)
	}
}
