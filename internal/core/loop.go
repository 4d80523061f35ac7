// Package loop is netloop's event loop: one goroutine, one poller, and the
// phases libuv runs (timers, pending callbacks, idle, prepare, poll, check,
// closing callbacks), plus a next-tick queue drained after every callback,
// as Node drains process.nextTick.
//
// # Threading
//
// A Loop runs on exactly one goroutine, locked to its OS thread while Run is
// executing. Every method of Loop, Handle, IOWatcher and the handle types
// built on them is loop-affine: call it from that loop's callbacks, or
// before Run starts. The exceptions, safe from any goroutine, are Post,
// Stop and the documented thread-safe methods of other packages (such as
// handle.Async.Send), which are built on Post.
//
// Several loops may run at once in one process; the package keeps no
// mutable state besides the lazily created default loop.
package core

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netloop/netloop/internal/bufpool"
	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/poller"
)

// RunMode selects how long Run runs.
type RunMode int

const (
	// RunDefault runs until no active and referenced handles or requests
	// remain, or Stop is called.
	RunDefault RunMode = iota
	// RunOnce polls for I/O once, blocking if there is nothing pending,
	// runs what became ready, and returns.
	RunOnce
	// RunNoWait polls for I/O once without blocking and returns.
	RunNoWait
)

// ErrClosed is returned by Post and Run on a closed loop.
var ErrClosed = errors.New("loop: closed")

// ErrRunning is returned by Run when the loop is already running and by
// Close when it is called while Run is in progress.
var ErrRunning = errors.New("loop: already running")

// Loop is one event loop. Create it with New (or use Default); the zero
// value is not usable.
type Loop struct {
	poller *poller.Poller
	events []poller.Event
	// closeRemoves: closing a descriptor ends its registration (not on
	// Windows, nor on io_uring, whose polls hold the file open).
	closeRemoves bool
	io           ioTable        // IO watchers by token, and their queued interest changes (io.go)
	recv         pollx.Receiver // the poller's receive mode, or nil (io_recv.go)
	acceptor     pollx.Acceptor // the poller's accept mode, or nil (io_recv.go)

	timers   timerHeap
	timerSeq uint64
	due      []*TimerEntry // scratch: timers expiring this iteration

	base time.Time     // monotonic origin
	now  time.Duration // cached per iteration

	ticks   taskQueue // next-tick queue
	pending taskQueue // deferred I/O callbacks (libuv's pending queue)

	hooks   [3][]*Hook // idle, prepare, check
	scratch []*Hook

	closing []closingHandle // handles whose close callback is due
	kinds   []handleKind    // indexed by Handle.kind
	handles handleList
	active  int // active and referenced handles
	reqs    int // active requests

	stopFlag atomic.Bool
	running  atomic.Bool
	owner    atomic.Int64 // goroutine running the loop, debug builds only (see CheckAffinity)

	readBuf []byte       // shared read buffer, see ReadBuffer
	locals  map[any]any  // per-loop state of upper layers, see Local
	buffers bufpool.Pool // write-queue memory

	postMu     sync.Mutex
	posted     []func()
	postSwap   []func()
	postQueued atomic.Int32 // posted functions not yet run (alive check)
	holds      atomic.Int32 // unreleased Hold calls (alive check)

	group      *Group // the group this loop belongs to, if any
	groupIndex int

	m loopMetrics // see Metrics (metrics.go)

	unhandled        error       // the first unhandled 'error' not yet returned by Run
	unhandledHandler func(error) // see SetUnhandledHandler
	closed           bool        // guarded by postMu
}

// New creates a loop with its own poller.
func New() (*Loop, error) {
	initRuntimePoller()
	p, err := poller.New()
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	l := &Loop{
		poller:       p,
		events:       make([]poller.Event, poller.MaxEvents),
		closeRemoves: closeRemovesRegistration && p.Backend() != "io_uring",
		recv:         pollx.ReceiverOf(p),
		acceptor:     pollx.AcceptorOf(p),
		base:         time.Now(),
	}
	return l, nil
}

// Backend names the poller's kernel interface: "epoll", "io_uring"
// (opt-in with NETLOOP_IOURING=1), "kqueue" or "afd".
func (l *Loop) Backend() string { return l.poller.Backend() }

var (
	defaultOnce sync.Once
	defaultLoop *Loop
	defaultErr  error
)

// Default returns the process's default loop, creating it on first use.
// It panics if the poller cannot be created (for example on Windows,
// which is not supported yet); use New to get the error instead.
func Default() *Loop {
	defaultOnce.Do(func() { defaultLoop, defaultErr = New() })
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultLoop
}

// ReadBufferSize is the size of the loop's shared read buffer.
const ReadBufferSize = 64 << 10

// ReadBuffer returns the loop's shared 64 KiB read buffer. Streams read into
// it by default; whatever lands there is valid only until the read callback
// returns.
func (l *Loop) ReadBuffer() []byte {
	if l.readBuf == nil {
		l.readBuf = make([]byte, ReadBufferSize)
	}
	return l.readBuf
}

// Local returns the per-loop value stored under key, or nil. Values that
// implement io.Closer are closed by Loop.Close. Upper layers
// keep per-loop state here (for example the reserve descriptor for EMFILE
// handling) instead of in package variables. Loop-affine.
func (l *Loop) Local(key any) any { return l.locals[key] }

// SetLocal stores a per-loop value under key (nil deletes it).
func (l *Loop) SetLocal(key, value any) {
	if value == nil {
		delete(l.locals, key)
		return
	}
	if l.locals == nil {
		l.locals = make(map[any]any)
	}
	l.locals[key] = value
}

// Buffers returns the loop's pool of write-queue buffers (loop-affine).
func (l *Loop) Buffers() *bufpool.Pool { return &l.buffers }

// Now returns the loop's cached monotonic time: the duration since the loop
// was created, updated once per iteration (and by UpdateTime).
func (l *Loop) Now() time.Duration { return l.now }

// UpdateTime refreshes the cached time from the monotonic clock.
func (l *Loop) UpdateTime() { l.now = time.Since(l.base) }

// Alive reports whether the loop has active and referenced handles, active
// requests, closing handles or queued callbacks.
func (l *Loop) Alive() bool {
	return l.active > 0 || l.reqs > 0 || len(l.closing) > 0 ||
		l.pending.len() > 0 || l.ticks.len() > 0 || l.postQueued.Load() > 0 ||
		l.holds.Load() > 0
}

// Hold keeps the loop alive until the returned function is called (from
// any goroutine; calls after the first do nothing).
func (l *Loop) Hold() (release func()) {
	l.holds.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			l.holds.Add(-1)
			l.postMu.Lock()
			if !l.closed {
				l.poller.Wake()
			}
			l.postMu.Unlock()
		}
	}
}

// Stop makes Run return at the end of the current iteration. Safe from any
// goroutine.
func (l *Loop) Stop() {
	l.stopFlag.Store(true)
	l.postMu.Lock()
	if !l.closed {
		l.poller.Wake()
	}
	l.postMu.Unlock()
}

// Run runs the loop in the given mode on the calling goroutine, which is
// locked to its OS thread until Run returns. Calling Run while the loop is
// already running returns ErrRunning.
func (l *Loop) Run(mode RunMode) error {
	if !l.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer l.running.Store(false)
	l.postMu.Lock()
	closed := l.closed
	l.postMu.Unlock()
	if closed {
		return ErrClosed
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	l.enterRun()
	l.metricsEnter(mode)
	defer l.leaveRun() // metricsExit, exitRun (one defer: Run's stay open-coded)

	// Ticks queued before Run (outside any callback) run before the first
	// callback of this run, as Node runs process.nextTick before timers.
	l.drainTicks()
	alive := l.Alive()
	if !alive {
		l.UpdateTime()
	}
	if mode == RunDefault && alive {
		l.UpdateTime()
		l.runTimers()
	}
	for alive && !l.stopFlag.Load() {
		ranPending := l.runPending()
		l.runHooks(PhaseIdle)
		l.runHooks(PhasePrepare)
		timeout := 0
		if (mode == RunOnce && !ranPending) || mode == RunDefault {
			timeout = l.pollTimeout()
		}
		if err := l.poll(timeout); err != nil {
			return err
		}
		// Callbacks that I/O made pending run now, a bounded number of
		// rounds so a callback that re-queues itself cannot starve the loop.
		for i := 0; i < 8 && l.pending.len() > 0; i++ {
			l.runPending()
		}
		l.runHooks(PhaseCheck)
		l.runClosing()
		l.UpdateTime()
		l.metricsIteration()
		l.runTimers()
		alive = l.Alive()
		if mode != RunDefault {
			break
		}
	}
	l.stopFlag.Store(false)
	if err := l.unhandled; err != nil {
		l.unhandled = nil
		return err
	}
	return nil
}

// ReportUnhandled is told of an 'error' event that had no listener: the
// handler set with SetUnhandledHandler gets it; without one, the loop
// stops at the end of this iteration and Run returns err (Node's process
// would crash with it). Only the first such error is kept.
func (l *Loop) ReportUnhandled(err error) {
	if h := l.unhandledHandler; h != nil {
		h(err)
		return
	}
	if l.unhandled == nil {
		l.unhandled = err
	}
	l.stopFlag.Store(true)
}

// SetUnhandledHandler makes fn receive unhandled 'error' events instead of
// Run returning the first; nil restores that default.
func (l *Loop) SetUnhandledHandler(fn func(error)) { l.unhandledHandler = fn }

// pollTimeout is how long the poll phase may block, in milliseconds (-1 for
// no limit): zero when anything is waiting to run, else until the nearest
// timer.
func (l *Loop) pollTimeout() int {
	if l.stopFlag.Load() || (l.active == 0 && l.reqs == 0 && l.holds.Load() == 0) ||
		l.pending.len() > 0 || l.ticks.len() > 0 || len(l.hooks[PhaseIdle]) > 0 ||
		len(l.closing) > 0 || l.postQueued.Load() > 0 {
		return 0
	}
	if len(l.timers) == 0 {
		return -1
	}
	d := l.timers[0].due - l.now
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<31-1 {
		ms = 1<<31 - 1
	}
	return int(ms)
}

// poll applies queued interest changes, waits for events and dispatches
// them, then runs posted functions.
func (l *Loop) poll(timeout int) error {
	if l.flushIO() {
		timeout = 0 // a refused interest change is owed an Err event: do not block
	}
	l.metricsWaitStart(timeout)
	n, err := l.poller.Wait(l.events, timeout)
	if err != nil {
		return fmt.Errorf("loop: poll: %w", err)
	}
	if n > 0 || timeout != 0 {
		l.UpdateTime()
	}
	l.metricsWaitEnd(n)
	l.dispatchIOErrors()
	// Events name watchers by token; dispatchIO drops those whose watcher
	// was closed since the batch was collected (see ioTable).
	for i := 0; i < n; i++ {
		l.dispatchIO(l.events[i].Token, l.events[i].Events)
	}
	l.runPosted()
	return nil
}

// Post queues fn to run on the loop's goroutine during its next poll phase
// and wakes the loop. It is safe from any goroutine; functions posted from
// one goroutine run in the order posted. Posting to a closed loop returns
// ErrClosed and fn is not run. A queued posted function keeps the loop
// alive until it has run.
func (l *Loop) Post(fn func()) error {
	if fn == nil {
		return errors.New("loop: Post: nil function")
	}
	l.postMu.Lock()
	if l.closed {
		l.postMu.Unlock()
		return ErrClosed
	}
	l.posted = append(l.posted, fn)
	l.postQueued.Add(1)
	err := l.poller.Wake()
	l.postMu.Unlock()
	return err
}

func (l *Loop) runPosted() {
	if l.postQueued.Load() == 0 {
		return
	}
	l.postMu.Lock()
	batch := l.posted
	l.posted = l.postSwap[:0]
	l.postMu.Unlock()
	for i, fn := range batch {
		batch[i] = nil
		l.postQueued.Add(-1)
		fn()
		l.drainTicks()
	}
	l.postSwap = batch[:0]
}

// NextTick queues fn to run after the current callback returns and before
// the loop continues (Node's process.nextTick). Functions queued while the
// queue drains run in the same drain.
func (l *Loop) NextTick(fn func()) { l.ticks.push(funcTask(fn)) }

// NextTickTask is NextTick for a Task, which costs no allocation when t
// is a pointer the caller already has (a method value would cost one).
func (l *Loop) NextTickTask(t Task) { l.ticks.push(t) }

// Invoke calls fn and then drains the next-tick queue; use it to run a user
// callback from outside the loop's own dispatch (for example right after
// Run starts work synchronously).
func (l *Loop) Invoke(fn func()) {
	fn()
	l.drainTicks()
}

func (l *Loop) drainTicks() {
	for l.ticks.len() > 0 {
		l.ticks.pop().RunTask()
	}
}

// QueuePending queues fn to run in the pending phase (deferred I/O
// callbacks, such as write completions), never inside the caller.
func (l *Loop) QueuePending(fn func()) { l.pending.push(funcTask(fn)) }

// Task is a deferred callback given as an interface; see QueuePendingTask.
type Task interface {
	RunTask()
}

type funcTask func()

// RunTask calls f.
func (f funcTask) RunTask() { f() }

// QueuePendingTask is QueuePending for a Task, which costs no allocation
// when t is a pointer the caller already has.
func (l *Loop) QueuePendingTask(t Task) { l.pending.push(t) }

// runPending runs the callbacks pending at entry; callbacks they queue wait
// for the next round. It reports whether any ran.
func (l *Loop) runPending() bool {
	n := l.pending.len()
	for i := 0; i < n; i++ {
		l.pending.pop().RunTask()
		l.drainTicks()
	}
	// Ticks queued outside any callback (for example before Run) run here.
	l.drainTicks()
	return n > 0
}

// ReqStart records an active request (a connect, write or shutdown in
// flight); active requests keep the loop alive. For handle implementations.
func (l *Loop) ReqStart() { l.reqs++ }

// ReqDone records the end of a request started with ReqStart. The count
// never goes negative; an unmatched ReqDone is an invariant violation
// (a panic in debug builds).
func (l *Loop) ReqDone() {
	if l.reqs == 0 {
		Invariant("Loop.ReqDone without a matching ReqStart")
		return
	}
	l.reqs--
}

// Close releases the poller. It fails, naming what is still open, if any
// handle has not been closed (or its close callback has not run yet);
// posted functions not yet run are reported too. After Close, Post returns
// ErrClosed.
func (l *Loop) Close() error {
	if l.running.Load() {
		return ErrRunning
	}
	if l.handles.n > 0 || len(l.closing) > 0 {
		return fmt.Errorf("loop: close: %w: %s", ErrBusy, l.describeOpen())
	}
	l.postMu.Lock()
	if l.closed {
		l.postMu.Unlock()
		return ErrClosed
	}
	if len(l.posted) > 0 {
		n := len(l.posted)
		l.postMu.Unlock()
		return fmt.Errorf("loop: close: %w: %d posted functions have not run", ErrBusy, n)
	}
	l.closed = true
	l.postMu.Unlock()
	for k, v := range l.locals {
		if c, ok := v.(io.Closer); ok {
			c.Close()
		}
		delete(l.locals, k)
	}
	return l.poller.Close()
}

// ErrBusy is wrapped by Close's error when handles or posted functions
// remain.
var ErrBusy = errors.New("resource busy")

func (l *Loop) describeOpen() string {
	counts := map[string]int{}
	for i := 0; i < l.handles.slots.len(); i++ {
		if h := *l.handles.slots.at(i); h != nil {
			counts[h.Kind()]++
		}
	}
	names := make([]string, 0, len(counts))
	for k, n := range counts {
		names = append(names, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(names)
	return fmt.Sprintf("%d handles still open (%s)", l.handles.n, strings.Join(names, ", "))
}

// handleKind is one kind of handle a loop has seen: its name and hooks.
type handleKind struct {
	name  string
	hooks *KindHooks
}

// kindIndex returns the index of a handle kind, adding it on first use (a
// loop sees a handful of kinds). Past 256 kinds, those without hooks share
// the last index under the name "other"; kinds with hooks cannot share
// one, and that panics.
func (l *Loop) kindIndex(name string, hooks *KindHooks) uint8 {
	for i, k := range l.kinds {
		if k.name == name && k.hooks == hooks {
			return uint8(i)
		}
	}
	if len(l.kinds) == 256 {
		if hooks != nil || l.kinds[255].hooks != nil {
			panic("core: more than 256 handle kinds on one loop, some with hooks")
		}
		l.kinds[255] = handleKind{name: "other"}
		return 255
	}
	l.kinds = append(l.kinds, handleKind{name, hooks})
	return uint8(len(l.kinds) - 1)
}

// Walk calls fn for every open handle (not yet fully closed), in the order
// they were initialised. fn must not close handles other than the one given.
func (l *Loop) Walk(fn func(h *Handle)) {
	// Handles that fn creates are not visited; no slot is removed or moved
	// during the walk (that happens in the closing phase).
	for i, n := 0, l.handles.slots.len(); i < n; i++ {
		if h := *l.handles.slots.at(i); h != nil {
			fn(h)
		}
	}
}

// Unlocked runs f with the OS-thread lock that Run holds released, if Run
// holds one (the caller is on the loop's goroutine). Coroutines
// (iter.Pull) created and resumed inside f are then free of a thread: the
// runtime requires a coroutine to be resumed on the thread it was created
// on when the goroutine is locked, and Run's lock lasts one Run only.
func (l *Loop) Unlocked(f func()) {
	if !l.running.Load() {
		f()
		return
	}
	runtime.UnlockOSThread()
	defer runtime.LockOSThread()
	f()
}
