//go:build netloopdebug

package core

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
)

// Debug reports whether this build checks loop affinity and invariants
// (the netloopdebug build tag).
const Debug = true

// goid returns the calling goroutine's id, parsed from its stack header
// ("goroutine 123 [running]:"); slow, which is why only debug builds do it.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}

func (l *Loop) enterRun() { l.owner.Store(goid()) }

func (l *Loop) exitRun() { l.owner.Store(0) }

// CheckAffinity panics, naming method, when it is called from a goroutine
// other than the one running the loop. Before Run and between runs any
// goroutine may set the loop up. Without the netloopdebug tag it does
// nothing and costs nothing.
func (l *Loop) CheckAffinity(method string) {
	owner := l.owner.Load()
	if owner == 0 {
		return
	}
	if g := goid(); g != owner {
		panic(fmt.Sprintf("netloop: %s called from goroutine %d while its loop runs on goroutine %d: "+
			"it is loop-affine; call it from the loop's callbacks or hand the call over with Loop.Post", method, g, owner))
	}
}

// Invariant panics with msg in debug builds; release builds carry on
// (callers keep their state sane either way).
func Invariant(msg string) { panic("netloop: invariant violated: " + msg) }
