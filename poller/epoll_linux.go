//go:build linux

package poller

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller is an epoll instance plus an eventfd used to wake a blocked Wait.
type Poller struct {
	epfd    int
	wakefd  int
	batch   []unix.EpollEvent // reused between waits
	waking  atomic.Int32      // 1 while a wake-up is in flight (coalesces Wake)
	closed  bool
	wakeBuf [8]byte
}

// New creates an epoll poller with its eventfd registered for wake-ups.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wfd)}
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

// Add registers fd for the given interest.
func (p *Poller) Add(fd int, in Interest) error {
	ev := unix.EpollEvent{Events: toEpoll(in), Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Modify changes fd's interest from old to in (old is used by kqueue).
func (p *Poller) Modify(fd int, old, in Interest) error {
	ev := unix.EpollEvent{Events: toEpoll(in), Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// Delete removes fd, whose current interest is old, from the poller.
func (p *Poller) Delete(fd int, old Interest) error {
	var ev unix.EpollEvent
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, &ev)
}

// Wait blocks for up to timeoutMs milliseconds (negative: no limit) and
// fills events with what became ready, returning how many. A wake-up from
// Wake returns early and is not reported as an event. EINTR returns 0, nil.
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) {
	if p.closed {
		return 0, ErrClosed
	}
	max := len(events)
	if max > len(p.batch) {
		max = len(p.batch)
	}
	if max == 0 {
		return 0, unix.EINVAL
	}
	var n int
	var err error
	if timeoutMs == 0 {
		n, err = epollWaitRaw(p.epfd, p.batch[:max])
	} else {
		n, err = unix.EpollWait(p.epfd, p.batch[:max], msTimeout(timeoutMs))
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
		if int(e.Fd) == p.wakefd {
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
		events[j] = Event{Fd: e.Fd, Events: got}
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
	// is seen by the loop right after this Wait.
	unix.Read(p.wakefd, p.wakeBuf[:])
	p.waking.Store(0)
}

// wakeOne is the eventfd increment Wake writes. It is shared and never
// written: a local array would escape to the heap in race-enabled builds
// (x/sys/unix annotates the buffer), costing an allocation per Wake.
var wakeOne = [8]byte{1}

// Wake makes a blocked (or the next) Wait return. Safe from any goroutine;
// wake-ups that arrive before the poller drains them coalesce.
func (p *Poller) Wake() error {
	if !p.waking.CompareAndSwap(0, 1) {
		return nil
	}
	for {
		_, err := unix.Write(p.wakefd, wakeOne[:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return nil // counter saturated: a wake-up is already pending
		}
		return err
	}
}

// Close releases the epoll and eventfd descriptors.
func (p *Poller) Close() error {
	if p.closed {
		return ErrClosed
	}
	p.closed = true
	err1 := unix.Close(p.wakefd)
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return err1
	}
	return err2
}
