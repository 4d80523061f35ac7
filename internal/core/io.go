package core

import (
	"errors"
	"math"

	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/poller"
)

// IOWatcher watches one file descriptor for readiness and calls its handler
// from the poll phase (libuv's uv__io_t). Interest changes after the first
// registration are applied lazily, just before the next poll, so stopping
// and restarting within one callback costs no system call.
//
// A watcher is registered with the poller under a token naming its slot in
// the loop's watcher table (see ioTable), never under its descriptor, so
// events that a closed watcher left in the batch being dispatched reach
// nobody, even when the descriptor number has been reused.
type IOWatcher struct {
	loop     *Loop
	h        IOHandler
	tok      poller.Token    // slot | generation<<32, while loop is set
	fd       int32           // unix descriptors and Windows handles (32 significant bits) fit
	interest poller.Interest // wanted
	bits     uint8           // registered with the poller (kernelMask; 0: not registered), bitQueued, bitComplete

	// Aux is not the watcher's: the handle that embeds it keeps its own
	// state bits here, in what would otherwise be padding (a stream's
	// flags), which keeps every connection a size class smaller.
	Aux uint16
}

const (
	kernelMask  = uint8(poller.Read | poller.Write | pollx.Recv) // pollx.Recv: receive mode (io_recv.go)
	bitQueued   = 1 << 6
	bitComplete = 1 << 7 // driven by completions, not readiness (Windows named pipes): Start and Stop do nothing
)

// kernel returns the interest registered with the poller (0: none).
func (w *IOWatcher) kernel() poller.Interest { return poller.Interest(w.bits & kernelMask) }

func (w *IOWatcher) setKernel(k poller.Interest) { w.bits = w.bits&^kernelMask | uint8(k)&kernelMask }

func (w *IOWatcher) queued() bool { return w.bits&bitQueued != 0 }

func (w *IOWatcher) complete() bool { return w.bits&bitComplete != 0 }

// IOHandler receives a watcher's events.
type IOHandler interface {
	HandleIO(events poller.Interest)
}

// IOFunc adapts a function to IOHandler.
type IOFunc func(events poller.Interest)

// HandleIO calls f.
func (f IOFunc) HandleIO(events poller.Interest) { f(events) }

// ErrWatcherBusy is returned by InitIOWatcher when another watcher already
// watches the descriptor.
var ErrWatcherBusy = errors.New("loop: descriptor already has a watcher")

var errTooManyWatchers = errors.New("loop: too many IO watchers")

// ioTable is a loop's registry of IO watchers. Each live watcher holds a
// slot; its poller token is the slot index in the low 32 bits and the
// slot's generation in the high 32. Releasing a slot bumps its generation,
// so a token collected before the release matches no watcher afterwards:
// the dispatcher drops such events without knowing why they are stale.
type ioTable struct {
	slots chunkedSlice[ioSlot]
	free  uint32 // index+1 of the first free slot; 0: none

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

type ioSlot struct {
	w    *IOWatcher // nil while free
	gen  uint32     // bumped on release
	next uint32     // while free: index+1 of the next free slot
}

// maxIOSlots keeps slot indexes below 1<<32-1, so that no token is
// poller.ReservedToken and index+1 fits in uint32.
const maxIOSlots = 1<<32 - 1

func (t *ioTable) acquire(w *IOWatcher) (poller.Token, error) {
	var i uint32
	if t.free != 0 {
		i = t.free - 1
		t.free = t.slots.at(int(i)).next
	} else {
		if uint64(t.slots.len()) >= maxIOSlots {
			return 0, errTooManyWatchers
		}
		i = uint32(t.slots.push(ioSlot{}))
	}
	s := t.slots.at(int(i))
	s.w, s.next = w, 0
	return poller.Token(i) | poller.Token(s.gen)<<32, nil
}

func (t *ioTable) release(w *IOWatcher) {
	i := uint32(w.tok)
	s := t.slots.at(int(i))
	*s = ioSlot{gen: s.gen + 1, next: t.free}
	t.free = i + 1
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
	s := t.slots.at(int(i))
	if s.gen != uint32(tok>>32) {
		return nil
	}
	return s.w
}

func (t *ioTable) owner(fd int) *IOWatcher {
	if fd < t.fds.len() {
		if i := *t.fds.at(fd); i != 0 {
			return t.slots.at(int(i - 1)).w
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
func (l *Loop) InitIOWatcher(w *IOWatcher, fd int, cb func(events poller.Interest)) error {
	return l.InitIOHandler(w, fd, IOFunc(cb))
}

// InitIOHandler is InitIOWatcher with the callback given as an interface,
// which costs no allocation when h is a pointer the caller already has.
// Initialising a watcher that is still open closes it first (removing its
// registration from the poller).
func (l *Loop) InitIOHandler(w *IOWatcher, fd int, h IOHandler) error {
	if fd < 0 || fd > math.MaxInt32 {
		return errors.New("loop: descriptor out of range")
	}
	if cur := l.io.owner(fd); cur != nil && cur != w {
		return ErrWatcherBusy
	}
	w.Close(false)
	*w = IOWatcher{fd: int32(fd), h: h, Aux: w.Aux}
	tok, err := l.io.acquire(w)
	if err != nil {
		return err
	}
	w.loop, w.tok = l, tok
	l.io.setOwner(fd, tok)
	return nil
}

// Fd returns the watched descriptor, or -1 when the watcher is not
// initialised (before InitIOWatcher, after Close).
func (w *IOWatcher) Fd() int {
	if w.loop == nil {
		return -1
	}
	return int(w.fd)
}

// Interest returns what the watcher currently waits for.
func (w *IOWatcher) Interest() poller.Interest { return w.interest &^ pollx.Recv }

// Err returns the error of the watcher's last failed registration change,
// or nil once a later change succeeds. A change that Start or Stop leaves
// for the next poll and that the poller then refuses (EBADF when the
// descriptor was closed behind the watcher's back) is also delivered to
// the handler, as an event with poller.Err set, unless the watcher no
// longer wants any events. Interest keeps reporting what was asked for.
func (w *IOWatcher) Err() error {
	if w.loop == nil || len(w.loop.io.errs) == 0 {
		return nil
	}
	return w.loop.io.errs[w]
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
		if err := w.loop.poller.Add(int(w.fd), w.tok, want); err != nil {
			w.loop.io.setErr(w, err)
			return err
		}
		w.loop.io.setErr(w, nil)
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
		w.loop.io.queue = append(w.loop.io.queue, w)
	}
}

// Close detaches the watcher from its descriptor: it is never called again,
// not even for events of the batch being dispatched. fdClosing tells that
// the caller closes the descriptor right after, which removes it from the
// poller without a system call (not on Windows, where it is deleted
// anyway).
func (w *IOWatcher) Close(fdClosing bool) {
	l := w.loop
	if l == nil {
		return
	}
	if w.kernel() != 0 && (!fdClosing || !l.closeRemoves) {
		// An error means there is nothing left to remove (EBADF: the fd
		// was closed already); the watcher goes away either way.
		l.poller.Delete(int(w.fd))
	}
	// The slot's new generation makes this watcher's events still in the
	// batch, and any Err owed to it, stale.
	l.io.release(w)
	w.interest, w.bits = 0, 0
	w.loop = nil
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
		if !w.queued() || w.loop != l {
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
	w.h.HandleIO(got)
	l.drainTicks()
}
