//go:build !netloopdebug

package core

// Debug reports whether this build checks loop affinity and invariants
// (the netloopdebug build tag).
const Debug = false

func (l *Loop) enterRun() {}

func (l *Loop) exitRun() {}

// CheckAffinity panics, naming method, when it is called from a goroutine
// other than the one running the loop; only with the netloopdebug build
// tag. Here it does nothing and is inlined away.
func (l *Loop) CheckAffinity(method string) {}

// Invariant panics with msg in debug builds; release builds carry on
// (callers keep their state sane either way).
func Invariant(msg string) {}
