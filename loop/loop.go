// Package loop is netloop's event loop for embedders: one goroutine, one
// poller, and the phases libuv runs (timers, pending callbacks, idle,
// prepare, poll, check, closing callbacks), plus a next-tick queue drained
// after every callback, as Node drains process.nextTick.
//
// Handles live in packages handle (Timer, Idle, Prepare, Check, Async,
// Signal), tcp and pipe (streams); the Node-level API (package netloop,
// socket, server) runs on the same loops.
//
// # Threading
//
// A Loop runs on exactly one goroutine, locked to its OS thread while Run is
// executing. Every method of Loop and of the handles on it is loop-affine:
// call it from that loop's callbacks, or before Run starts. The exceptions,
// safe from any goroutine, are Post, Stop, the release function returned by
// Hold, and the documented thread-safe methods of other packages (such as
// handle.Async.Send), which are built on them. Built with -tags netloopdebug,
// a loop-affine method called from another goroutine while the loop runs
// panics with the method's name.
//
// Several loops may run at once in one process; the package keeps no
// mutable state besides the lazily created default loop.
package loop

import (
	"time"

	"github.com/netloop/netloop/internal/core"
)

// Loop is one event loop. Create it with New (or use Default); the zero
// value is not usable.
type Loop core.Loop

// RunMode selects how long Run runs.
type RunMode int

// The run modes.
const (
	// RunDefault runs until no active and referenced handles or requests
	// remain, or Stop is called.
	RunDefault = RunMode(core.RunDefault)
	// RunOnce polls for I/O once, blocking if there is nothing pending,
	// runs what became ready, and returns.
	RunOnce = RunMode(core.RunOnce)
	// RunNoWait polls for I/O once without blocking and returns.
	RunNoWait = RunMode(core.RunNoWait)
)

var (
	// ErrClosed is returned by Post and Run on a closed loop, and by Close
	// on a loop already closed.
	ErrClosed = core.ErrClosed
	// ErrRunning is returned by Run when the loop is already running and
	// by Close when it is called while Run is in progress.
	ErrRunning = core.ErrRunning
	// ErrBusy is wrapped by the error Close returns while handles, closing
	// handles or posted functions remain; the message names them.
	ErrBusy = core.ErrBusy
)

// New creates a loop with its own poller.
func New() (*Loop, error) {
	c, err := core.New()
	return (*Loop)(c), err
}

// Default returns the process's default loop, creating it on first use.
// It panics if the poller cannot be created; use New to get the error.
func Default() *Loop { return (*Loop)(core.Default()) }

func (l *Loop) c() *core.Loop { return (*core.Loop)(l) }

// Run runs the loop in the given mode on the calling goroutine, which is
// locked to its OS thread until Run returns. Calling Run while the loop is
// already running returns ErrRunning.
func (l *Loop) Run(mode RunMode) error { return l.c().Run(core.RunMode(mode)) }

// Stop makes Run return at the end of the current iteration. Safe from any
// goroutine.
func (l *Loop) Stop() { l.c().Stop() }

// Post queues fn to run on the loop's goroutine during its next poll phase
// and wakes the loop. It is safe from any goroutine; functions posted from
// one goroutine run in the order posted. Posting to a closed loop returns
// ErrClosed and fn is not run. A queued posted function keeps the loop
// alive until it has run.
func (l *Loop) Post(fn func()) error { return l.c().Post(fn) }

// Hold keeps the loop alive (Run in RunDefault mode does not return for
// lack of work) until the returned release function is called, for work
// that runs outside the loop and reports back with Post. Release is safe
// from any goroutine; calls after the first do nothing.
func (l *Loop) Hold() (release func()) { return l.c().Hold() }

// NextTick queues fn to run after the current callback returns and before
// the loop continues (Node's process.nextTick). Functions queued while the
// queue drains run in the same drain. Loop-affine.
func (l *Loop) NextTick(fn func()) {
	l.c().CheckAffinity("Loop.NextTick")
	l.c().NextTick(fn)
}

// Now returns the loop's cached monotonic time: the duration since the
// loop was created, updated once per iteration (and by UpdateTime).
func (l *Loop) Now() time.Duration {
	l.c().CheckAffinity("Loop.Now")
	return l.c().Now()
}

// UpdateTime refreshes the cached time from the monotonic clock.
func (l *Loop) UpdateTime() {
	l.c().CheckAffinity("Loop.UpdateTime")
	l.c().UpdateTime()
}

// Alive reports whether the loop has active and referenced handles, active
// requests, holds, closing handles or queued callbacks.
func (l *Loop) Alive() bool {
	l.c().CheckAffinity("Loop.Alive")
	return l.c().Alive()
}

// OnUnhandledError makes fn receive every 'error' event that a Socket or
// Server emitted with no 'error' listener (Node's
// process.on('uncaughtException')). Without it, the first such error stops
// the loop and Run returns it, as an *UnhandledError, as Node would crash
// with it. fn nil restores that default. Loop-affine.
func (l *Loop) OnUnhandledError(fn func(err error)) {
	l.c().CheckAffinity("Loop.OnUnhandledError")
	l.c().SetUnhandledHandler(fn)
}

// UnhandledError is an 'error' event nobody listened to, as Run returns
// it: Source names the emitter ("socket 127.0.0.1:50514 -> 127.0.0.1:8124",
// "server [::]:8124"), Err is the error emitted.
type UnhandledError struct {
	Source string
	Err    error
}

// Error reads "unhandled 'error' event on <source>: <err>".
func (e *UnhandledError) Error() string {
	return "unhandled 'error' event on " + e.Source + ": " + e.Err.Error()
}

// Unwrap returns Err, so errors.Is and errors.As see the emitted error.
func (e *UnhandledError) Unwrap() error { return e.Err }

// Close releases the poller. It fails with an error wrapping ErrBusy,
// naming what is still open ("2 tcp, 1 timer"), if any handle has not been
// closed (or its close callback has not run yet) or posted functions have
// not run. After Close, Post returns ErrClosed.
func (l *Loop) Close() error { return l.c().Close() }
