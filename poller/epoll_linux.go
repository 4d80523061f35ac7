//go:build linux

package poller

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller is an epoll instance plus an eventfd that wakes a blocked Wait.
// Tokens live in the 64-bit data of each epoll registration; the eventfd is
// registered under ReservedToken. On the opt-in io_uring backend, u is set
// and epfd is -1 (see uring_linux.go).
type Poller struct {
	u       *ioUring
	epfd    int
	wakefd  int
	batch   []unix.EpollEvent // reused between waits
	gate    wakeGate
	wakeBuf [8]byte
}

// The epoll_event data union is the 8 bytes that x/sys splits into Fd and
// Pad, on every Linux architecture: at offset 4 where the kernel packs the
// struct (x86), at offset 8 after padding elsewhere. Each pair of array
// lengths below is non-negative only if Pad directly follows Fd and ends the
// struct, so the package fails to compile where that stops being true.
var (
	_ [unsafe.Offsetof(unix.EpollEvent{}.Pad) - unsafe.Offsetof(unix.EpollEvent{}.Fd) - 4]struct{}
	_ [unsafe.Offsetof(unix.EpollEvent{}.Fd) + 4 - unsafe.Offsetof(unix.EpollEvent{}.Pad)]struct{}
	_ [unsafe.Sizeof(unix.EpollEvent{}) - unsafe.Offsetof(unix.EpollEvent{}.Pad) - 4]struct{}
	_ [unsafe.Offsetof(unix.EpollEvent{}.Pad) + 4 - unsafe.Sizeof(unix.EpollEvent{})]struct{}
)

// setToken stores tok in ev's data. The kernel hands the 8 bytes back
// unread, so which half goes where only has to agree with eventToken.
func setToken(ev *unix.EpollEvent, tok Token) {
	ev.Fd = int32(uint32(tok))
	ev.Pad = int32(uint32(tok >> 32))
}

// eventToken is the token setToken stored in ev.
func eventToken(ev *unix.EpollEvent) Token {
	return Token(uint32(ev.Fd)) | Token(uint32(ev.Pad))<<32
}

// New creates an epoll poller with its eventfd registered for wake-ups,
// or an io_uring one when NETLOOP_IOURING=1 and the kernel allows it (see
// "io_uring" in the package documentation).
func New() (*Poller, error) {
	wfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if ioUringWanted() {
		// Any setup failure (EPERM under seccomp, ENOSYS, a kernel too
		// old for EXT_ARG) falls back to epoll.
		if u, err := newIOUring(wfd); err == nil {
			return &Poller{u: u, epfd: -1, wakefd: wfd}, nil
		}
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		unix.Close(wfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setToken(&ev, ReservedToken)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wfd, &ev); err != nil {
		unix.Close(wfd)
		unix.Close(epfd)
		return nil, err
	}
	return &Poller{epfd: epfd, wakefd: wfd, batch: make([]unix.EpollEvent, MaxEvents)}, nil
}

func toEpoll(in Interest) uint32 {
	var ev uint32
	if in&Read != 0 {
		// RDHUP only with read interest: reported level-triggered, it would
		// otherwise wake a paused reader over and over.
		ev |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if in&Write != 0 {
		ev |= unix.EPOLLOUT
	}
	return ev
}

func (p *Poller) ctl(op, fd int, tok Token, in Interest) error {
	if p.gate.closed.Load() {
		return ErrClosed // the epoll descriptor's number may be reused
	}
	if tok == ReservedToken {
		return ErrReservedToken
	}
	if p.u != nil {
		if op == unix.EPOLL_CTL_ADD {
			return p.u.add(fd, tok, in)
		}
		return p.u.modify(fd, tok, in)
	}
	ev := unix.EpollEvent{Events: toEpoll(in)}
	setToken(&ev, tok)
	return epollCtlRaw(p.epfd, op, fd, &ev)
}

// epollCtlRaw is epoll_ctl(2) without the scheduler hand-off of a
// blocking system call: it never sleeps for long (only on the epoll
// instance's own lock, held briefly), and it runs once or twice per
// connection.
func epollCtlRaw(epfd, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Add registers fd under tok for the given interest (which may be empty:
// epoll then reports only Hup and Err). It fails with EEXIST if fd is
// already registered.
func (p *Poller) Add(fd int, tok Token, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_ADD, fd, tok, in)
}

// Modify replaces the token and interest of fd's registration. It fails
// with ENOENT if fd is not registered.
func (p *Poller) Modify(fd int, tok Token, in Interest) error {
	return p.ctl(unix.EPOLL_CTL_MOD, fd, tok, in)
}

// Delete removes fd's registration. It fails with ENOENT if fd is not
// registered and EBADF if it is not open.
func (p *Poller) Delete(fd int) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	if p.u != nil {
		return p.u.delete(fd)
	}
	var ev unix.EpollEvent // ignored, but kernels before 2.6.9 wanted one
	return epollCtlRaw(p.epfd, unix.EPOLL_CTL_DEL, fd, &ev)
}

// Wait blocks for up to timeoutMs milliseconds (negative: no limit) and
// fills events with what became ready, at most MaxEvents, returning how
// many. A wake-up from Wake returns early and is not reported as an event.
// EINTR returns 0, nil.
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) {
	if p.gate.closed.Load() {
		return 0, ErrClosed
	}
	if p.u != nil {
		if len(events) == 0 {
			return 0, unix.EINVAL
		}
		return p.waitIOUring(events, timeoutMs)
	}
	room := min(len(events), len(p.batch))
	if room == 0 {
		return 0, unix.EINVAL
	}
	var n int
	var err error
	if timeoutMs == 0 {
		n, err = epollWaitRaw(p.epfd, p.batch[:room])
	} else {
		n, err = unix.EpollWait(p.epfd, p.batch[:room], msTimeout(timeoutMs))
	}
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, err
	}
	j := 0
	for i := 0; i < n; i++ {
		e := &p.batch[i]
		tok := eventToken(e)
		if tok == ReservedToken {
			p.drainWake()
			continue
		}
		var got Interest
		if e.Events&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
			got |= Read
		}
		if e.Events&unix.EPOLLOUT != 0 {
			got |= Write
		}
		if e.Events&unix.EPOLLHUP != 0 {
			got |= Hup
		}
		if e.Events&unix.EPOLLERR != 0 {
			got |= Err
		}
		if e.Events&unix.EPOLLRDHUP != 0 {
			got |= RdHup
		}
		events[j] = Event{Token: tok, Events: got}
		j++
	}
	return j, nil
}

// epollWaitRaw polls without blocking, skipping the scheduler hand-off a
// blocking syscall needs.
func epollWaitRaw(epfd int, events []unix.EpollEvent) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func (p *Poller) drainWake() {
	// Read before clearing the flag. Clearing first would let a Wake that
	// runs between the two write the eventfd while the flag is set again,
	// and the read would then swallow its wake-up: the flag would stay set
	// with the eventfd empty, and every later Wake would be dropped. A Wake
	// that runs between the read and the clear is dropped instead, but its
	// work (a posted function, a stop request) was published before it and
	// is seen by the caller right after this Wait.
	unix.Read(p.wakefd, p.wakeBuf[:])
	p.gate.consumed()
}

// wakeOne is the eventfd increment Wake writes. It is shared and never
// written: a local array would escape to the heap in race-enabled builds
// (x/sys/unix annotates the buffer), costing an allocation per Wake.
var wakeOne = [8]byte{1}

// Wake makes a blocked (or the next) Wait return. Safe from any goroutine,
// Close included; wake-ups that arrive before Wait drains them coalesce.
func (p *Poller) Wake() error {
	signal, err := p.gate.enter()
	if !signal {
		return err
	}
	for {
		_, err = unix.Write(p.wakefd, wakeOne[:])
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EAGAIN {
		err = nil // counter saturated: a wake-up is already pending
	}
	return p.gate.exit(err)
}

// Backend names the kernel interface the poller runs on: "epoll", or
// "io_uring" on the opt-in backend.
func (p *Poller) Backend() string {
	if p.u != nil {
		return "io_uring"
	}
	return "epoll"
}

// Close releases the epoll and eventfd descriptors. A second Close returns
// ErrClosed.
func (p *Poller) Close() error {
	if err := p.gate.close(); err != nil {
		return err
	}
	var err2 error
	if p.u != nil {
		// Closing the ring cancels its polls and drops their file
		// references. Accepted descriptors nobody took are closed first.
		p.u.closeAccept()
		err2 = p.u.ring.Close()
		p.u.closeRecv()
	} else {
		err2 = unix.Close(p.epfd)
	}
	err1 := unix.Close(p.wakefd)
	if err1 != nil {
		return err1
	}
	return err2
}
