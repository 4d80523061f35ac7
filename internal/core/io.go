package core

import (
	"errors"
	"math"
	"unsafe"

	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/poller"
)

// IOWatcher watches one file descriptor for readiness and calls its
// handle's KindHooks.IO from the poll phase (libuv's uv__io_t). Interest
// changes after the first registration are applied lazily, just before the
// next poll, so stopping and restarting within one callback costs no
// system call.
//
// A watcher is part of a handle: it must be the field declared right after
// the handle's Handle (an implementation checks this at compile time, as
// transport.Stream does), whose kind has an IO hook. It finds its loop and
// its handler through that Handle instead of holding them, which keeps
// every connection three words smaller. FuncWatcher is a watcher with a
// handle of its own, for callers that want a plain callback.
//
// A watcher is registered with the poller under a token naming its slot in
// the loop's watcher table (see ioTable), never under its descriptor, so
// events that a closed watcher left in the batch being dispatched reach
// nobody, even when the descriptor number has been reused.
type IOWatcher struct {
	tok      poller.Token    // slot | registration count<<32 (see ioTable), while bitOpen is set
	fd       int32           // unix descriptors and Windows handles (32 significant bits) fit
	interest poller.Interest // wanted
	bits     uint8           // registered with the poller (kernelMask; 0: not registered), bitOpen, bitQueued, bitComplete

	// Aux is not the watcher's: the handle that embeds it keeps its own
	// state bits here, in what would otherwise be padding (a stream's
	// flags), which keeps every connection a size class smaller.
	Aux uint16
}

const (
	kernelMask  = uint8(poller.Read | poller.Write | pollx.Recv | pollx.Accept) // the modes: receive and accept (io_recv.go)
	bitOpen     = 1 << 4                                                        // Init done, Close not yet
	bitQueued   = 1 << 6
	bitComplete = 1 << 3 // driven by completions, not readiness (Windows named pipes): Start and Stop do nothing
)

// The flag bits must stay clear of the interest bits kept in kernelMask.
var _ [0]struct{} = [kernelMask & (bitOpen | bitQueued | bitComplete)]struct{}{}

// handle returns the Handle the watcher belongs to: the field before it.
func (w *IOWatcher) handle() *Handle {
	return (*Handle)(unsafe.Add(unsafe.Pointer(w), -int(unsafe.Sizeof(Handle{}))))
}

// loop returns the loop of the watcher's handle.
func (w *IOWatcher) loop() *Loop { return w.handle().loop }

func (w *IOWatcher) open() bool { return w.bits&bitOpen != 0 }

// kernel returns the interest registered with the poller (0: none).
func (w *IOWatcher) kernel() poller.Interest { return poller.Interest(w.bits & kernelMask) }

func (w *IOWatcher) setKernel(k poller.Interest) { w.bits = w.bits&^kernelMask | uint8(k)&kernelMask }

func (w *IOWatcher) queued() bool { return w.bits&bitQueued != 0 }

func (w *IOWatcher) complete() bool { return w.bits&bitComplete != 0 }

// FuncWatcher is an IOWatcher with a handle of its own whose events go to
// a function (see Loop.InitIOWatcher). Its handle is not among the loop's
// open handles: closing the watcher is all it needs.
type FuncWatcher struct {
	h Handle
	IOWatcher
	cb func(events poller.Interest)
}

// Compiles only while the watcher follows its Handle, as IOWatcher needs.
var _ [0]struct{} = [unsafe.Offsetof(FuncWatcher{}.IOWatcher) - unsafe.Sizeof(Handle{})]struct{}{}

var funcWatcherHooks = KindHooks{
	IO: func(h *Handle, events poller.Interest) { (*FuncWatcher)(unsafe.Pointer(h)).cb(events) },
}

// ErrWatcherBusy is returned by InitIOWatcher when another watcher already
// watches the descriptor.
var ErrWatcherBusy = errors.New("loop: descriptor already has a watcher")

var errTooManyWatchers = errors.New("loop: too many IO watchers")

// ioTable is a loop's registry of IO watchers. Each live watcher holds a
// slot; its poller token is the slot index in the low 32 bits and, in the
// high 32, the loop's count of registrations when it took the slot. A
// token collected before its watcher released the slot matches no watcher
// afterwards (the slot is empty, or its new watcher has another count):
// the dispatcher drops such events without knowing why they are stale.
// The count wraps after 2^32 registrations, far more than one batch of
// events can outlive.
type ioTable struct {
	slots chunkedSlice[*IOWatcher] // nil while free
	free  []uint32                 // indexes of free slots
	count uint32                   // registrations so far

	// fds maps a descriptor to its watcher's slot index+1 (0: none), to
	// refuse a second watcher for one descriptor. Indexed by fd, which
	// suits unix descriptors; Windows socket handles will want a map.
	fds chunkedSlice[uint32]

	queue  []*IOWatcher   // watchers whose interest changed since the last poll
	failed []poller.Token // watchers owed an Err event for a failed change

	// errs holds each watcher's last registration error (see Err): rare,
	// so kept here rather than in every watcher.
	errs map[*IOWatcher]error
}

// setErr records (or, with nil, clears) w's last registration error.
func (t *ioTable) setErr(w *IOWatcher, err error) {
	if err == nil {
		if len(t.errs) != 0 {
			delete(t.errs, w)
		}
		return
	}
	if t.errs == nil {
		t.errs = make(map[*IOWatcher]error)
	}
	t.errs[w] = err
}

// maxIOSlots keeps slot indexes below 1<<32-1, so that no token is
// poller.ReservedToken and index+1 fits in uint32.
const maxIOSlots = 1<<32 - 1

func (t *ioTable) acquire(w *IOWatcher) (poller.Token, error) {
	var i uint32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
		*t.slots.at(int(i)) = w
	} else {
		if uint64(t.slots.len()) >= maxIOSlots {
			return 0, errTooManyWatchers
		}
		i = uint32(t.slots.push(w))
	}
	t.count++
	return poller.Token(i) | poller.Token(t.count)<<32, nil
}

func (t *ioTable) release(w *IOWatcher) {
	i := uint32(w.tok)
	*t.slots.at(int(i)) = nil
	t.free = append(t.free, i)
	if fd := int(w.fd); fd < t.fds.len() && *t.fds.at(fd) == i+1 {
		*t.fds.at(fd) = 0
	}
	t.setErr(w, nil)
}

// lookup returns the watcher tok names, or nil if its slot has been
// released since tok was handed out.
func (t *ioTable) lookup(tok poller.Token) *IOWatcher {
	i := uint64(uint32(tok))
	if i >= uint64(t.slots.len()) {
		return nil
	}
	if w := *t.slots.at(int(i)); w != nil && w.tok == tok {
		return w
	}
	return nil
}

func (t *ioTable) owner(fd int) *IOWatcher {
	if fd < t.fds.len() {
		if i := *t.fds.at(fd); i != 0 {
			return *t.slots.at(int(i - 1))
		}
	}
	return nil
}

func (t *ioTable) setOwner(fd int, tok poller.Token) {
	t.fds.grow(fd + 1)
	*t.fds.at(fd) = uint32(tok) + 1
}

// InitIOWatcher prepares w to watch fd, calling cb with the events that
// occurred (a subset of the interest plus Hup, Err and RdHup).
func (l *Loop) InitIOWatcher(w *FuncWatcher, fd int, cb func(events poller.Interest)) error {
	w.Close(false) // on the loop it is on, before it moves to l
	w.h.loop, w.h.kind, w.cb = l, l.kindIndex("iowatcher", &funcWatcherHooks), cb
	return w.Init(fd)
}

// Init prepares w to watch fd for its handle, which must be initialised
// and of a kind with an IO hook. Initialising a watcher that is still open
// closes it first (removing its registration from the poller).
func (w *IOWatcher) Init(fd int) error {
	if fd < 0 || fd > math.MaxInt32 {
		return errors.New("loop: descriptor out of range")
	}
	h := w.handle()
	l := h.loop
	if l == nil {
		panic("core: IOWatcher.Init before its Handle's Init")
	}
	if k := h.hooks(); k == nil || k.IO == nil {
		panic("core: IOWatcher.Init on a handle kind without an IO hook: " + h.Kind())
	}
	if cur := l.io.owner(fd); cur != nil && cur != w {
		return ErrWatcherBusy
	}
	w.Close(false)
	*w = IOWatcher{fd: int32(fd), Aux: w.Aux}
	tok, err := l.io.acquire(w)
	if err != nil {
		return err
	}
	w.tok = tok
	w.bits |= bitOpen
	l.io.setOwner(fd, tok)
	return nil
}

// Fd returns the watched descriptor, or -1 when the watcher is not
// initialised (before InitIOWatcher, after Close).
func (w *IOWatcher) Fd() int {
	if !w.open() {
		return -1
	}
	return int(w.fd)
}

// Interest returns what the watcher currently waits for.
func (w *IOWatcher) Interest() poller.Interest { return w.interest &^ (pollx.Recv | pollx.Accept) }

// Err returns the error of the watcher's last failed registration change,
// or nil once a later change succeeds. A change that Start or Stop leaves
// for the next poll and that the poller then refuses (EBADF when the
// descriptor was closed behind the watcher's back) is also delivered to
// the handler, as an event with poller.Err set, unless the watcher no
// longer wants any events. Interest keeps reporting what was asked for.
func (w *IOWatcher) Err() error {
	if !w.open() {
		return nil
	}
	if t := &w.loop().io; len(t.errs) != 0 {
		return t.errs[w]
	}
	return nil
}

// Start adds interest in the given events. The first registration with the
// poller happens at once, so its error (for example EPERM for a regular
// file) is returned here.
func (w *IOWatcher) Start(in poller.Interest) error {
	if w.complete() {
		return nil
	}
	want := w.interest | (in & (poller.Read | poller.Write))
	if want == w.interest {
		return nil
	}
	if w.kernel() == 0 {
		l := w.loop()
		if err := l.poller.Add(int(w.fd), w.tok, want); err != nil {
			l.io.setErr(w, err)
			return err
		}
		l.io.setErr(w, nil)
		w.interest = want
		w.setKernel(want)
		return nil
	}
	w.interest = want
	w.enqueue()
	return nil
}

// Stop removes interest in the given events; a watcher with no interest is
// not called, even for events already collected in the current batch.
func (w *IOWatcher) Stop(in poller.Interest) {
	if w.complete() {
		return
	}
	want := w.interest &^ in
	if want == w.interest {
		return
	}
	w.interest = want
	w.enqueue()
}

func (w *IOWatcher) enqueue() {
	if !w.queued() {
		w.bits |= bitQueued
		t := &w.loop().io
		t.queue = append(t.queue, w)
	}
}

// Close detaches the watcher from its descriptor: it is never called again,
// not even for events of the batch being dispatched. fdClosing tells that
// the caller closes the descriptor right after, which removes it from the
// poller without a system call (not on Windows, where it is deleted
// anyway).
func (w *IOWatcher) Close(fdClosing bool) {
	if !w.open() {
		return
	}
	l := w.loop()
	if w.kernel() != 0 && (!fdClosing || !l.closeRemoves) {
		// An error means there is nothing left to remove (EBADF: the fd
		// was closed already); the watcher goes away either way.
		l.poller.Delete(int(w.fd))
	}
	// The slot's new generation makes this watcher's events still in the
	// batch, and any Err owed to it, stale.
	l.io.release(w)
	w.interest, w.bits = 0, 0
}

// flushIO applies the interest changes queued since the last poll. It
// reports whether a change failed for a watcher that still wants events;
// dispatchIOErrors then owes it an Err event.
func (l *Loop) flushIO() bool {
	t := &l.io
	for i, w := range t.queue {
		t.queue[i] = nil
		// Watchers closed since they were queued have queued cleared;
		// one re-initialised on another loop is that loop's to flush.
		if !w.queued() || w.loop() != l {
			continue
		}
		w.bits &^= bitQueued
		if w.interest == w.kernel() {
			continue
		}
		var err error
		switch {
		case w.interest == 0:
			err = l.poller.Delete(int(w.fd))
			w.setKernel(0) // when Delete fails, nothing was registered either
		case w.kernel() == 0:
			if err = l.poller.Add(int(w.fd), w.tok, w.interest); err == nil {
				w.setKernel(w.interest)
			}
		default:
			// On failure the old registration stays (or close(2) ended
			// it); kernel keeps the old value, so Close still deletes.
			if err = l.poller.Modify(int(w.fd), w.tok, w.interest); err == nil {
				w.setKernel(w.interest)
			}
		}
		t.setErr(w, err)
		if err != nil && w.interest != 0 {
			t.failed = append(t.failed, w.tok)
		}
	}
	t.queue = t.queue[:0]
	return len(t.failed) > 0
}

// dispatchIOErrors delivers the Err events flushIO owes. Watchers closed
// since then are skipped: their tokens are stale.
func (l *Loop) dispatchIOErrors() {
	t := &l.io
	for i := 0; i < len(t.failed); i++ {
		l.dispatchIO(t.failed[i], poller.Err)
	}
	t.failed = t.failed[:0]
}

// dispatchIO calls the watcher tok names, if it is still registered under
// tok and wants events, with the events it asked for plus the conditions
// that are always reported.
func (l *Loop) dispatchIO(tok poller.Token, events poller.Interest) {
	w := l.io.lookup(tok)
	if w == nil || w.interest == 0 {
		return
	}
	got := events & (w.interest | poller.Hup | poller.Err | poller.RdHup)
	if got == 0 {
		return
	}
	h := w.handle()
	h.hooks().IO(h, got)
	l.drainTicks()
}
