//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller is a kqueue instance. Read and write interest are separate
// EVFILT_READ and EVFILT_WRITE filters; wake-ups use EVFILT_USER where the
// system has it and a self-pipe elsewhere (see kqueue_wake_*.go).
//
// kqueue has no "modify" and no view of what is registered, so the poller
// keeps a record per descriptor: the filters registered and the token.
//
// This implementation compiles and is vetted for every BSD target, but the
// test suite only runs on Linux.
type Poller struct {
	kq     int
	batch  []unix.Kevent_t // noscan, see newKevents
	change []unix.Kevent_t // one change at a time, noscan
	regs   []kreg          // indexed by fd
	gate   wakeGate
	wake   waker
}

// kreg is what the poller registered for one descriptor.
type kreg struct {
	tok  Token
	in   Interest // filters registered: Read, Write
	live bool     // between Add and Delete (close(2) may have ended it)
}

// udataWide reports whether a kevent's udata holds a whole Token: true on
// 64-bit systems. Elsewhere Wait takes the token from the fd's record.
const udataWide = unsafe.Sizeof(uintptr(0)) >= unsafe.Sizeof(Token(0))

// udata is *byte on most BSDs and an integer on NetBSD, always as wide as a
// pointer; the two arrays have non-negative lengths only if that holds.
var (
	_ [unsafe.Sizeof(unix.Kevent_t{}.Udata) - unsafe.Sizeof(uintptr(0))]struct{}
	_ [unsafe.Sizeof(uintptr(0)) - unsafe.Sizeof(unix.Kevent_t{}.Udata)]struct{}
)

// newKevents returns n kevent records in memory the garbage collector does
// not scan. udata carries tokens, not pointers: in scanned memory a *byte
// holding a token that happens to fall in the Go heap's address range (slot
// 0 at generation 0xc0 is 0xc000000000 on amd64) would crash the collector.
// For the same reason tokens are written through a uintptr view (no write
// barrier), and records are never copied into pointer-typed variables.
func newKevents(n int) []unix.Kevent_t {
	size := unsafe.Sizeof(unix.Kevent_t{})
	words := make([]uint64, (uintptr(n)*size+7)/8)
	return unsafe.Slice((*unix.Kevent_t)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

func setUdata(ev *unix.Kevent_t, tok Token) {
	if udataWide {
		*(*uintptr)(unsafe.Pointer(&ev.Udata)) = uintptr(tok)
	}
}

func (p *Poller) token(ev *unix.Kevent_t) Token {
	if udataWide {
		return Token(*(*uintptr)(unsafe.Pointer(&ev.Udata)))
	}
	if fd := int(ev.Ident); fd < len(p.regs) {
		return p.regs[fd].tok
	}
	return ReservedToken // not ours; callers find no owner for it
}

// New creates a kqueue poller with its wake-up source registered.
func New() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, err
	}
	unix.CloseOnExec(kq)
	p := &Poller{kq: kq, batch: newKevents(MaxEvents), change: newKevents(1)}
	if err := p.wake.init(kq); err != nil {
		unix.Close(kq)
		return nil, err
	}
	return p, nil
}

// kevent applies one change. One at a time, because a failing change in a
// list stops the kernel from applying the rest, and the record must say
// exactly what is registered.
func (p *Poller) kevent(fd int, filter int16, flags uint16, tok Token) error {
	ev := &p.change[0]
	unix.SetKevent(ev, fd, int(filter), int(flags))
	setUdata(ev, tok)
	_, err := unix.Kevent(p.kq, p.change, nil, nil)
	if err == unix.EINTR {
		err = nil // kevent(2): the changes were applied
	}
	return err
}

// reg returns fd's record, growing the table as needed.
func (p *Poller) reg(fd int) *kreg {
	if fd >= len(p.regs) {
		n := max(2*len(p.regs), 64, fd+1)
		regs := make([]kreg, n)
		copy(regs, p.regs)
		p.regs = regs
	}
	return &p.regs[fd]
}

// set makes the filters registered for fd match in, all under tok. With
// stale set, the record may describe filters that close(2) already removed,
// so failures to delete them are ignored.
func (p *Poller) set(fd int, tok Token, in Interest, stale bool) error {
	r := p.reg(fd)
	r.live = true
	filters := [2]struct {
		bit    Interest
		filter int16
	}{{Read, unix.EVFILT_READ}, {Write, unix.EVFILT_WRITE}}
	for _, f := range filters {
		want, have := in&f.bit != 0, r.in&f.bit != 0
		switch {
		case want && (!have || r.tok != tok || stale):
			// EV_ADD on a registered filter replaces its udata.
			if err := p.kevent(fd, f.filter, unix.EV_ADD, tok); err != nil {
				return err
			}
			r.in |= f.bit
			r.tok = tok
		case !want && have:
			err := p.kevent(fd, f.filter, unix.EV_DELETE, 0)
			if err != nil && !stale && err != unix.ENOENT {
				return err
			}
			r.in &^= f.bit
		}
	}
	r.tok = tok
	return nil
}

func (p *Poller) check(fd int, tok Token) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	if tok == ReservedToken {
		return ErrReservedToken
	}
	if fd < 0 {
		return unix.EBADF
	}
	return nil
}

// Add registers fd under tok for the given interest. A record left by a
// registration that close(2) ended is replaced (see "Errors" in the
// package documentation). Like epoll's, a failed Add leaves nothing
// registered.
func (p *Poller) Add(fd int, tok Token, in Interest) error {
	if err := p.check(fd, tok); err != nil {
		return err
	}
	err := p.set(fd, tok, in, true)
	if err != nil {
		p.Delete(fd) // undo the filter that may have been added
	}
	return err
}

// Modify replaces the token and interest of fd's registration. It fails
// with ENOENT if fd is not registered; after another error, the filters
// changed before it stay changed.
func (p *Poller) Modify(fd int, tok Token, in Interest) error {
	if err := p.check(fd, tok); err != nil {
		return err
	}
	if fd >= len(p.regs) || !p.regs[fd].live {
		return unix.ENOENT
	}
	return p.set(fd, tok, in, false)
}

// Delete removes fd's registration. It fails with ENOENT if fd is not
// registered; the record is dropped even when the kernel reports an error
// (EBADF: fd was closed, which removed the filters already).
func (p *Poller) Delete(fd int) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	if fd < 0 {
		return unix.EBADF
	}
	if fd >= len(p.regs) || !p.regs[fd].live {
		return unix.ENOENT
	}
	r := &p.regs[fd]
	var err error
	if r.in&Read != 0 {
		err = p.kevent(fd, unix.EVFILT_READ, unix.EV_DELETE, 0)
	}
	if r.in&Write != 0 {
		if werr := p.kevent(fd, unix.EVFILT_WRITE, unix.EV_DELETE, 0); err == nil {
			err = werr
		}
	}
	*r = kreg{}
	return err
}

// Wait blocks for up to timeoutMs milliseconds (negative: no limit) and
// fills events with what became ready, at most MaxEvents, returning how
// many. A wake-up is not reported. EINTR returns 0, nil.
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) {
	if p.gate.closed.Load() {
		return 0, ErrClosed
	}
	room := min(len(events), len(p.batch))
	if room == 0 {
		return 0, unix.EINVAL
	}
	var ts *unix.Timespec
	if timeoutMs >= 0 {
		t := unix.NsecToTimespec(int64(timeoutMs) * 1e6)
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.batch[:room], ts)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, err
	}
	j := 0
	for i := 0; i < n; i++ {
		e := &p.batch[i] // by pointer: a copy would put udata in a scanned *byte
		if p.wake.is(e) {
			// Drain before clearing the flag (see the epoll poller).
			p.wake.drain()
			p.gate.consumed()
			continue
		}
		var got Interest
		switch e.Filter {
		case unix.EVFILT_READ:
			got = Read
			if e.Flags&unix.EV_EOF != 0 {
				got |= RdHup
			}
		case unix.EVFILT_WRITE:
			got = Write
			if e.Flags&unix.EV_EOF != 0 {
				got |= Hup
			}
		default:
			continue
		}
		// With EV_EOF, fflags holds the socket error, if any.
		if e.Flags&unix.EV_ERROR != 0 || (e.Flags&unix.EV_EOF != 0 && e.Fflags != 0) {
			got |= Err
		}
		events[j] = Event{Token: p.token(e), Events: got}
		j++
	}
	return j, nil
}

// Wake makes a blocked (or the next) Wait return. Safe from any goroutine,
// Close included; wake-ups that arrive before Wait drains them coalesce.
func (p *Poller) Wake() error {
	signal, err := p.gate.enter()
	if !signal {
		return err
	}
	return p.gate.exit(p.wake.wake(p.kq))
}

// Backend names the kernel interface the poller runs on: "kqueue".
func (p *Poller) Backend() string { return "kqueue" }

// Close releases the kqueue and wake-up descriptors. A second Close
// returns ErrClosed.
func (p *Poller) Close() error {
	if err := p.gate.close(); err != nil {
		return err
	}
	p.wake.close()
	return unix.Close(p.kq)
}
