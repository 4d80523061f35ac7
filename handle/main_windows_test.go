package handle_test

import (
	"os"
	"os/signal"
)

// installSafetyNet starts os/signal's goroutine before the leak check's
// baseline (the Signal tests start it otherwise, and it never ends); it
// also keeps a stray Ctrl-C from ending the tests.
func installSafetyNet() { signal.Notify(make(chan os.Signal, 1), os.Interrupt) }
