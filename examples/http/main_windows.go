// Command http is an HTTP/1.1 server; netloop does not
// support Windows yet.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "netloop: not supported on windows yet")
	os.Exit(1)
}
