// Command tls-echo is the echo server of Node's tls documentation; netloop
// does not support Windows yet.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "netloop: not supported on windows yet")
	os.Exit(1)
}
