package core

import (
	"sync"
	"time"
)

var runtimePollerOnce sync.Once

// initRuntimePoller makes the Go runtime create its own network poller
// now. netloop never uses it, so the runtime would create it lazily, at
// the first runtime timer (a time.Sleep, a context deadline, the GC's
// scavenger...), and a process that has reached its descriptor limit by
// then (a busy netloop server may well be there) is killed with "fatal
// error: runtime: netpollinit failed". Arming a runtime timer once, while
// descriptors are still free, makes the runtime create its poller here.
func initRuntimePoller() {
	runtimePollerOnce.Do(func() { time.AfterFunc(time.Hour, func() {}).Stop() })
}
