// Command metrics is the echo server with the loop's metrics published by
// expvar; netloop does not support Windows yet.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "netloop: not supported on windows yet")
	os.Exit(1)
}
