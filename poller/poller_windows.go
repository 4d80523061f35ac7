//go:build windows

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Completion keys of the port: the AFD handle's requests and Wake's
// packets.
const (
	keyAFD  = 1
	keyWake = 2
)

// sockState is one registration. The kernel writes iosb and info while a
// poll request is outstanding, so a sockState stays reachable (in sockets,
// or in zombies once deleted) until that request's completion arrived; the
// Go heap does not move objects, so the addresses the kernel holds stay
// valid.
type sockState struct {
	iosb windows.IO_STATUS_BLOCK
	info afdPollInfo

	sock     windows.Handle
	base     windows.Handle
	tok      Token
	interest Interest

	pending  bool   // a poll request is outstanding
	mask     uint32 // the events that request waits for
	queued   bool   // in Poller.update: (re)issue its request before waiting
	deleted  bool   // Delete ran: free once the outstanding request completed
	failed   error  // issuing the request failed: reported as Err once
	canceled bool   // a cancel for the outstanding request was sent
}

// leaked keeps the registrations of a poller closed while the kernel had
// not completed their requests, so their memory is never reused.
var leaked []*sockState

// Poller is the Windows backend: readiness from AFD poll requests, one per
// registered socket, completed on one I/O completion port.
type Poller struct {
	port    windows.Handle
	afd     windows.Handle
	sockets map[windows.Handle]*sockState
	zombies map[*sockState]struct{} // deleted, request still outstanding
	update  []*sockState
	entries []overlappedEntry
	wake    wakeGate
	closed  bool
}

// New creates a poller: an I/O completion port and a handle to the AFD
// device on it. Winsock must be started (any socket created through Go's
// or x/sys's calls has done it).
func New() (*Poller, error) {
	var d windows.WSAData
	if err := windows.WSAStartup(uint32(0x202), &d); err != nil {
		return nil, err
	}
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	afd, err := openAFD(port, keyAFD)
	if err != nil {
		windows.CloseHandle(port)
		return nil, err
	}
	return &Poller{
		port:    port,
		afd:     afd,
		sockets: make(map[windows.Handle]*sockState),
		zombies: make(map[*sockState]struct{}),
		entries: make([]overlappedEntry, 256),
	}, nil
}

// afdMask is what a registration's request waits for: its interest, and
// always the conditions that are reported whatever the interest.
func afdMask(in Interest) uint32 {
	m := uint32(afdPollAbort | afdPollLocalClose | afdPollConnectFail)
	if in&Read != 0 {
		m |= afdPollReceive | afdPollReceiveExp | afdPollAccept | afdPollDisconnect
	}
	if in&Write != 0 {
		m |= afdPollSend
	}
	return m
}

// eventsOf translates AFD's events into this package's bits.
func eventsOf(ev uint32) Interest {
	var in Interest
	if ev&(afdPollReceive|afdPollReceiveExp|afdPollAccept) != 0 {
		in |= Read
	}
	if ev&afdPollDisconnect != 0 {
		in |= Read | RdHup
	}
	if ev&afdPollSend != 0 {
		in |= Write
	}
	if ev&afdPollAbort != 0 {
		in |= Hup
	}
	if ev&afdPollConnectFail != 0 {
		in |= Err
	}
	return in
}

// Add registers the socket fd (a Winsock SOCKET) under tok.
func (p *Poller) Add(fd int, tok Token, in Interest) error {
	if p.closed {
		return ErrClosed
	}
	if tok == ReservedToken {
		return ErrReservedToken
	}
	sock := windows.Handle(fd)
	if _, ok := p.sockets[sock]; ok {
		return syscall.EEXIST
	}
	base, err := baseHandle(sock)
	if err != nil {
		return err
	}
	st := &sockState{sock: sock, base: base, tok: tok, interest: in & (Read | Write)}
	p.sockets[sock] = st
	p.queue(st)
	return nil
}

// Modify changes the token and interest of fd's registration.
func (p *Poller) Modify(fd int, tok Token, in Interest) error {
	if p.closed {
		return ErrClosed
	}
	if tok == ReservedToken {
		return ErrReservedToken
	}
	st, ok := p.sockets[windows.Handle(fd)]
	if !ok {
		return syscall.ENOENT
	}
	st.tok = tok
	st.interest = in & (Read | Write)
	if st.pending && afdMask(st.interest)&^st.mask != 0 && !st.canceled {
		// The outstanding request misses events now wanted: cancel it;
		// its completion queues a new one.
		st.canceled = true
		afdCancel(p.afd, &st.iosb)
	}
	p.queue(st)
	return nil
}

// Delete removes fd's registration; no later Wait reports it.
func (p *Poller) Delete(fd int) error {
	if p.closed {
		return ErrClosed
	}
	sock := windows.Handle(fd)
	st, ok := p.sockets[sock]
	if !ok {
		return syscall.ENOENT
	}
	delete(p.sockets, sock)
	st.deleted = true
	if st.pending {
		p.zombies[st] = struct{}{}
		if !st.canceled {
			st.canceled = true
			afdCancel(p.afd, &st.iosb)
		}
	}
	return nil
}

func (p *Poller) queue(st *sockState) {
	if !st.queued {
		st.queued = true
		p.update = append(p.update, st)
	}
}

// submit issues the requests of the registrations queued since the last
// Wait; a failure is reported as Err on the registration.
func (p *Poller) submit(events []Event, n int) int {
	for i, st := range p.update {
		p.update[i] = nil
		st.queued = false
		if st.deleted || st.pending {
			continue
		}
		if st.failed != nil {
			continue
		}
		st.mask = afdMask(st.interest)
		st.info = afdPollInfo{timeout: 1<<63 - 1, count: 1}
		st.info.handles[0] = afdPollHandleInfo{handle: st.base, events: st.mask}
		st.canceled = false
		switch s := afdPoll(p.afd, &st.iosb, &st.info, unsafe.Pointer(st)); s {
		case windows.STATUS_PENDING, windows.STATUS_SUCCESS:
			st.pending = true
		default:
			st.failed = errnoFor(s)
			if n < len(events) {
				events[n] = Event{Token: st.tok, Events: Err}
				n++
			}
		}
	}
	p.update = p.update[:0]
	return n
}

// Wait reports readiness into events, blocking up to timeoutMs
// milliseconds (negative: until an event or a Wake).
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) {
	if p.closed {
		return 0, ErrClosed
	}
	if len(events) == 0 {
		return 0, nil
	}
	if len(events) > MaxEvents {
		events = events[:MaxEvents]
	}
	n := p.submit(events, 0)
	ms := uint32(windows.INFINITE)
	if timeoutMs >= 0 {
		ms = uint32(timeoutMs)
	}
	if n > 0 {
		ms = 0
	}
	want := len(events) - n
	if want > len(p.entries) {
		want = len(p.entries)
	}
	if want == 0 {
		return n, nil
	}
	got, err := getQueuedCompletions(p.port, p.entries[:want], ms)
	if err != nil {
		return n, err
	}
	for _, e := range p.entries[:got] {
		if e.key == keyWake {
			p.wake.consumed()
			continue
		}
		st := e.overlapped
		st.pending = false
		if st.deleted {
			delete(p.zombies, st)
			continue
		}
		status := windows.NTStatus(st.iosb.Status)
		var ev Interest
		switch {
		case status == windows.STATUS_CANCELLED:
		case status != windows.STATUS_SUCCESS:
			ev = Err
		case st.info.count < 1:
		default:
			afdEv := st.info.handles[0].events
			if afdEv&afdPollLocalClose != 0 {
				// Closed behind the poller's back: the registration ends.
				delete(p.sockets, st.sock)
				st.deleted = true
				continue
			}
			ev = eventsOf(afdEv) & (st.interest | Hup | Err | RdHup)
		}
		// Level-triggered: poll again before the next wait, so a condition
		// that still holds is reported again.
		p.queue(st)
		if ev != 0 {
			events[n] = Event{Token: st.tok, Events: ev}
			n++
		}
	}
	return n, nil
}

// Wake makes a blocked Wait return, or the next Wait if none is blocked.
// Safe from any goroutine.
func (p *Poller) Wake() error {
	signal, err := p.wake.enter()
	if !signal {
		return err
	}
	return p.wake.exit(windows.PostQueuedCompletionStatus(p.port, 0, keyWake, nil))
}

// Close releases the port and the AFD handle; outstanding requests are
// cancelled with the handle.
func (p *Poller) Close() error {
	if p.closed {
		return ErrClosed
	}
	if err := p.wake.close(); err != nil {
		return err
	}
	p.closed = true
	// Closing the AFD handle cancels its requests. The kernel still writes
	// their status blocks when it completes them, so wait (briefly) for
	// every completion before the sockStates may be collected.
	err := windows.CloseHandle(p.afd)
	outstanding := 0
	for _, st := range p.sockets {
		if st.pending {
			outstanding++
		}
	}
	outstanding += len(p.zombies)
	deadline := 50 // rounds of up to 20 ms
	for outstanding > 0 && deadline > 0 {
		deadline--
		got, werr := getQueuedCompletions(p.port, p.entries, 20)
		if werr != nil {
			break
		}
		for _, e := range p.entries[:got] {
			if e.key == keyAFD && e.overlapped != nil && e.overlapped.pending {
				e.overlapped.pending = false
				outstanding--
			}
		}
	}
	if outstanding > 0 {
		// Never freed: the kernel may still write into them.
		for _, st := range p.sockets {
			leaked = append(leaked, st)
		}
		for st := range p.zombies {
			leaked = append(leaked, st)
		}
	}
	if err2 := windows.CloseHandle(p.port); err == nil {
		err = err2
	}
	p.sockets, p.zombies, p.update = nil, nil, nil
	return err
}
