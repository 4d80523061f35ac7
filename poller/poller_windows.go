//go:build windows

package poller

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Poller polls sockets through AFD: one IOCTL_AFD_POLL outstanding per
// registration, issued on the poller's own \Device\Afd handle and completed
// on its I/O completion port (the design of wepoll and mio). The fd
// argument of Add, Modify and Delete carries a SOCKET handle.
//
// A poll completes once; the poller re-issues it at the start of the next
// Wait (after the caller had its chance to drain the socket), which makes
// registrations level-triggered: a socket that stays readable completes
// its new poll at once and is reported again.
type Poller struct {
	port    windows.Handle // I/O completion port
	afd     windows.Handle // \Device\Afd handle the polls are issued on
	socks   map[windows.Handle]*afdReg
	ids     map[uintptr]*afdReg // registrations with a poll outstanding, or live
	nextID  uintptr
	updates []*afdReg               // registrations whose poll must be (re-)issued
	failed  []*afdReg               // registrations whose poll could not be issued
	pending int                     // polls the kernel still owns
	ops     map[uintptr]*Completion // requests begun and not completed, by OVERLAPPED address
	batch   []overlappedEntry
	gate    wakeGate
}

// Completion keys: the AFD handle's completions and Wake's packets.
const (
	afdKey  = 1
	wakeKey = 2
)

// afdReg is one registration. The kernel writes iosb and info while a poll
// is outstanding; the record stays reachable from the Poller's ids map
// until that poll's completion has been dequeued, and Go's collector does
// not move heap objects, so the memory stays valid for the kernel.
type afdReg struct {
	iosb    windows.IO_STATUS_BLOCK
	info    afdPollInfo
	sock    windows.Handle // as given to Add
	base    windows.Handle // base provider socket, polled
	id      uintptr        // ApcContext of its polls, key in Poller.ids
	tok     Token
	in      Interest
	mask    uint32 // AFD events of the outstanding poll
	polling bool   // a poll is outstanding: the kernel owns iosb and info
	queued  bool   // in Poller.updates
	deleted bool   // Delete (or LOCAL_CLOSE) ended it; freed on completion
	failed  bool   // in Poller.failed: its last poll could not be issued
}

var wsaOnce sync.Once

// New creates an AFD poller: a completion port and an AFD handle
// associated with it.
func New() (*Poller, error) {
	wsaOnce.Do(func() {
		// Winsock must be started before any socket exists; the caller's
		// sockets imply it, but SIO_BASE_HANDLE is issued here.
		var d windows.WSAData
		windows.WSAStartup(uint32(0x0202), &d)
	})
	if err := findProcs(); err != nil {
		return nil, err
	}
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
	if err != nil {
		return nil, err
	}
	afd, err := openAFD()
	if err != nil {
		windows.CloseHandle(port)
		return nil, err
	}
	if _, err := windows.CreateIoCompletionPort(afd, port, afdKey, 0); err != nil {
		windows.CloseHandle(afd)
		windows.CloseHandle(port)
		return nil, err
	}
	if err := windows.SetFileCompletionNotificationModes(afd, windows.FILE_SKIP_SET_EVENT_ON_HANDLE); err != nil {
		windows.CloseHandle(afd)
		windows.CloseHandle(port)
		return nil, err
	}
	return &Poller{
		port:  port,
		afd:   afd,
		socks: make(map[windows.Handle]*afdReg),
		ids:   make(map[uintptr]*afdReg),
		ops:   make(map[uintptr]*Completion),
		batch: make([]overlappedEntry, MaxEvents),
	}, nil
}

// afdMask is the AFD event mask a poll for interest in asks for. Abort,
// local close and connect failure are always asked for.
func afdMask(in Interest) uint32 {
	m := uint32(afdPollAbort | afdPollLocalClose | afdPollConnectFail)
	if in&Read != 0 {
		m |= afdPollReceive | afdPollReceiveExpedited | afdPollAccept | afdPollDisconnect
	}
	if in&Write != 0 {
		m |= afdPollSend
	}
	return m
}

// fromAFD translates AFD events into this package's bits, keeping only
// what interest in asks for plus Hup and Err.
func fromAFD(ev uint32, in Interest) Interest {
	var got Interest
	if ev&(afdPollReceive|afdPollReceiveExpedited|afdPollAccept) != 0 {
		got |= Read
	}
	if ev&afdPollSend != 0 {
		got |= Write
	}
	if ev&afdPollDisconnect != 0 {
		got |= Read | RdHup
	}
	if ev&afdPollAbort != 0 {
		got |= Hup
	}
	if ev&afdPollConnectFail != 0 {
		got |= Err
	}
	keep := Hup | Err
	if in&Read != 0 {
		keep |= Read | RdHup
	}
	if in&Write != 0 {
		keep |= Write
	}
	return got & keep
}

func (p *Poller) queue(r *afdReg) {
	if !r.queued {
		r.queued = true
		p.updates = append(p.updates, r)
	}
}

// Add registers the socket fd (a SOCKET handle converted to int) under
// tok for the given interest; with empty interest only Hup and Err are
// reported. It fails with ERROR_ALREADY_EXISTS if the socket is already
// registered, and with the WSAIoctl error (WSAENOTSOCK) if fd is not a
// socket. The poll itself is issued by the next Wait.
func (p *Poller) Add(fd int, tok Token, in Interest) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	if tok == ReservedToken {
		return ErrReservedToken
	}
	s := windows.Handle(fd)
	if _, ok := p.socks[s]; ok {
		return windows.ERROR_ALREADY_EXISTS
	}
	base, err := baseSocket(s)
	if err != nil {
		return err
	}
	p.nextID++
	r := &afdReg{sock: s, base: base, id: p.nextID, tok: tok, in: in}
	p.socks[s] = r
	p.ids[r.id] = r
	p.queue(r)
	return nil
}

// Modify replaces the token and interest of fd's registration. It fails
// with ERROR_NOT_FOUND if fd is not registered. An outstanding poll that
// asks for other events is cancelled and re-issued by the next Wait.
func (p *Poller) Modify(fd int, tok Token, in Interest) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	if tok == ReservedToken {
		return ErrReservedToken
	}
	r, ok := p.socks[windows.Handle(fd)]
	if !ok {
		return windows.ERROR_NOT_FOUND
	}
	r.tok, r.in = tok, in
	if r.polling {
		if r.mask != afdMask(in) {
			p.cancel(r) // its completion queues the new poll
		}
		return nil
	}
	p.queue(r)
	return nil
}

// cancel asks the kernel to end r's outstanding poll. The completion
// still arrives (STATUS_CANCELLED, or the events if the poll won the
// race) and is handled by Wait.
func (p *Poller) cancel(r *afdReg) {
	ntCancelIoFileEx(p.afd, &r.iosb)
}

// Delete removes fd's registration. It fails with ERROR_NOT_FOUND if fd
// is not registered. No later Wait reports it; an outstanding poll is
// cancelled and its record freed when the cancellation completes.
func (p *Poller) Delete(fd int) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	s := windows.Handle(fd)
	r, ok := p.socks[s]
	if !ok {
		return windows.ERROR_NOT_FOUND
	}
	p.drop(r)
	return nil
}

// drop ends r: it leaves the socket table at once and the id table when
// the kernel no longer owns its memory.
func (p *Poller) drop(r *afdReg) {
	if p.socks[r.sock] == r {
		delete(p.socks, r.sock)
	}
	r.deleted = true
	if r.polling {
		p.cancel(r)
		return
	}
	delete(p.ids, r.id)
}

// issue starts r's poll. A poll that is ready at once still completes on
// the port, so the result is always handled by Wait.
func (p *Poller) issue(r *afdReg) {
	mask := afdMask(r.in)
	r.info = afdPollInfo{
		Timeout:         1<<63 - 1,
		NumberOfHandles: 1,
		Handles:         [1]afdPollHandleInfo{{Handle: r.base, Events: mask}},
	}
	r.iosb = windows.IO_STATUS_BLOCK{Status: windows.STATUS_PENDING}
	st := ntDeviceIoControlFile(p.afd, r.id, &r.iosb, ioctlAFDPoll,
		unsafe.Pointer(&r.info), uint32(unsafe.Sizeof(r.info)),
		unsafe.Pointer(&r.info), uint32(unsafe.Sizeof(r.info)))
	if st != windows.STATUS_SUCCESS && st != windows.STATUS_PENDING {
		// The request failed without queueing a completion (a socket
		// closed before its first poll, for one): Wait reports Err, as
		// for a failed completion, and tries again at the next Wait.
		if !r.failed {
			r.failed = true
			p.failed = append(p.failed, r)
		}
		return
	}
	r.mask = mask
	r.polling = true
	p.pending++
}

// reportFailed reports Err for the registrations whose last poll could
// not be issued, and queues them to try again.
func (p *Poller) reportFailed(events []Event) int {
	j := 0
	k := 0
	for _, r := range p.failed {
		if j == len(events) {
			p.failed[k] = r
			k++
			continue
		}
		r.failed = false
		if r.deleted {
			continue
		}
		events[j] = Event{Token: r.tok, Events: Err}
		j++
		p.queue(r)
	}
	clear(p.failed[k:])
	p.failed = p.failed[:k]
	return j
}

// flush issues the polls of the registrations queued since the last Wait.
func (p *Poller) flush() {
	for i, r := range p.updates {
		p.updates[i] = nil
		r.queued = false
		if r.deleted || r.polling {
			continue
		}
		p.issue(r)
	}
	p.updates = p.updates[:0]
}

// Wait blocks for up to timeoutMs milliseconds (negative: no limit) and
// fills events with what became ready, at most MaxEvents, returning how
// many. A wake-up from Wake returns early and is not reported as an event.
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) {
	if p.gate.closed.Load() {
		return 0, ErrClosed
	}
	room := min(len(events), len(p.batch))
	if room == 0 {
		return 0, windows.ERROR_INVALID_PARAMETER
	}
	var deadline time.Time
	if timeoutMs > 0 {
		deadline = time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	}
	for pass := 0; ; pass++ {
		p.flush()
		j := 0
		if pass == 0 { // once per Wait: at most one event per registration
			j = p.reportFailed(events[:room])
			if j == room {
				return j, nil
			}
		}
		ms := uint32(windows.INFINITE)
		switch {
		case j > 0:
			ms = 0
		case timeoutMs == 0:
			ms = 0
		case timeoutMs > 0:
			left := time.Until(deadline)
			if left < 0 {
				left = 0
			}
			ms = uint32((left + time.Millisecond - 1) / time.Millisecond)
		}
		n, err := getQueuedCompletionStatusEx(p.port, p.batch[:room-j], ms)
		if err != nil {
			return j, err
		}
		woke := false
		for i := 0; i < n; i++ {
			e := &p.batch[i]
			if e.CompletionKey == wakeKey {
				p.gate.consumed()
				woke = true
				continue
			}
			if e.CompletionKey == ioKey {
				if ev, ok := p.completeIO(e); ok {
					events[j] = ev
					j++
				}
				continue
			}
			if ev, ok := p.complete(e.Overlapped); ok {
				events[j] = ev
				j++
			}
		}
		// Only silent completions (cancellations, events nobody asked
		// for): their polls are queued again, so wait out the timeout
		// instead of returning empty-handed. A non-blocking Wait gets one
		// more pass, for polls that complete at once.
		if j > 0 || woke || n == 0 || (timeoutMs == 0 && pass > 0) {
			return j, nil
		}
		if timeoutMs > 0 && !time.Now().Before(deadline) {
			return 0, nil
		}
	}
}

// complete handles the completion of the poll with ApcContext id and
// returns the event it reports, if any.
func (p *Poller) complete(id uintptr) (Event, bool) {
	r, ok := p.ids[id]
	if !ok || !r.polling {
		return Event{}, false // not ours
	}
	r.polling = false
	p.pending--
	if r.deleted {
		delete(p.ids, r.id)
		return Event{}, false
	}
	st := r.iosb.Status
	var afdEv uint32
	switch {
	case st == windows.STATUS_CANCELLED:
	case st != windows.STATUS_SUCCESS && st&0xC0000000 == 0xC0000000:
		afdEv = afdPollConnectFail // the request itself failed: Err
	case r.info.NumberOfHandles >= 1:
		afdEv = r.info.Handles[0].Events
	}
	if afdEv&afdPollLocalClose != 0 {
		// The socket was closed: the registration ends with it.
		p.drop(r)
		return Event{}, false
	}
	p.queue(r)
	got := fromAFD(afdEv, r.in)
	if got == 0 {
		return Event{}, false
	}
	return Event{Token: r.tok, Events: got}, true
}

// Wake makes a blocked (or the next) Wait return. Safe from any goroutine,
// Close included; wake-ups that arrive before Wait drains them coalesce.
func (p *Poller) Wake() error {
	signal, err := p.gate.enter()
	if !signal {
		return err
	}
	return p.gate.exit(windows.PostQueuedCompletionStatus(p.port, 0, wakeKey, nil))
}

// closeDrainTimeout bounds how long Close waits for the kernel to give
// back the memory of cancelled polls.
const closeDrainTimeout = 5 * time.Second

// leaked keeps the records of polls Close could not drain reachable
// forever, so the kernel never writes into freed memory.
var (
	leakedMu sync.Mutex
	leaked   []*afdReg
	leakedIO []*Completion
)

// Backend names the kernel interface the poller runs on: "afd".
func (p *Poller) Backend() string { return "afd" }

// Close cancels every outstanding poll, waits for their completions
// (the kernel owns the records until then), and closes the AFD handle and
// the completion port. It also waits for the completions of Completions
// still pending, which come at once for handles already closed; those of
// handles still open are waited for up to 5 s, then their Completions are
// kept reachable for good. A second Close returns ErrClosed.
func (p *Poller) Close() error {
	if err := p.gate.close(); err != nil {
		return err
	}
	for _, r := range p.ids {
		if r.polling {
			p.cancel(r)
		}
	}
	deadline := time.Now().Add(closeDrainTimeout)
	for (p.pending > 0 || len(p.ops) > 0) && time.Now().Before(deadline) {
		n, err := getQueuedCompletionStatusEx(p.port, p.batch, 100)
		if err != nil {
			break
		}
		for i := 0; i < n; i++ {
			e := &p.batch[i]
			if e.CompletionKey == ioKey {
				p.dropIO(e.Overlapped)
				continue
			}
			if e.CompletionKey != afdKey {
				continue
			}
			if r, ok := p.ids[e.Overlapped]; ok && r.polling {
				r.polling = false
				p.pending--
			}
		}
	}
	if p.pending > 0 {
		leakedMu.Lock()
		for _, r := range p.ids {
			if r.polling {
				leaked = append(leaked, r)
			}
		}
		leakedMu.Unlock()
	}
	if len(p.ops) > 0 {
		// Requests whose handles are still open: their memory stays
		// reachable for the kernel.
		leakedMu.Lock()
		for _, c := range p.ops {
			leakedIO = append(leakedIO, c)
		}
		leakedMu.Unlock()
	}
	clear(p.ops)
	clear(p.ids)
	clear(p.socks)
	p.updates = nil
	err1 := windows.CloseHandle(p.afd)
	err2 := windows.CloseHandle(p.port)
	if err1 != nil {
		return err1
	}
	return err2
}
