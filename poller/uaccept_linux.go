//go:build linux

package poller

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/internal/uring"
)

// Accept mode on the io_uring backend (see pollx.Accept): a listener's
// registration whose interest carries pollx.Accept has, while it wants
// Read, one multishot IORING_OP_ACCEPT in flight instead of a poll for
// readability. The descriptors it accepts queue per listener until the
// owner pops them after a Wait that reported the listener with Read.
//
// Requests carry udAccept | fd | id<<32 in their user data: id numbers
// every accept armed, from one counter, so a completion tells whether it
// belongs to the accept in flight, to an earlier one of the same
// registration (cancelled: its descriptors are still the listener's), or
// to an earlier registration (id below the registration's first: its
// descriptor is closed, since nobody will take it).
//
// The state is kept per listener in a map: listeners are few, and an
// accepted connection's registration costs nothing more.

// acceptBit is pollx.Accept as an Interest.
const acceptBit Interest = pollx.Accept

const (
	udAccept    = 1 << 61
	acceptIDMax = 1 << 29 // ids stay clear of udAccept (and polls' seq of it)
	acceptFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
)

// acceptIoprio is the SQE's multishot flag; tests set a bit the kernel
// refuses, to play a kernel without multishot accept.
var acceptIoprio uint16 = uring.AcceptMultishot

// acceptQ is one listener's accept-mode state.
type acceptQ struct {
	first  uint32  // id of the registration's first accept: older ids are not its
	id     uint32  // id of the accept in flight (with live)
	fds    []int32 // queued results from head on: descriptors, or -errno
	head   int
	live   bool // the accept with id is in flight, not cancelled
	want   bool // Read wanted: an accept should be in flight
	ended  bool // an error is queued: arm again once it was popped
	queued bool // in acceptState.arms
	listed bool // in acceptState.listed
	took   bool // the kernel accepted something for it (a later EINVAL is no refusal)

	// Out of descriptors (EMFILE, ENFILE), the kernel ends the multishot
	// accept, and ends a new one at once while a connection is pending:
	// arming it again would spin. The listener is polled for readability
	// instead (polling), and its owner, once it popped what was queued,
	// accepts with accept4 and handles the shortage as on epoll; once a
	// poll reported it (revert), the next Wait tries the accept again.
	polling bool
	revert  bool
	plain   bool // Plain: polled for good, never armed again
}

func (q *acceptQ) empty() bool { return q.head == len(q.fds) }

// acceptState is the io_uring backend's accept-mode state.
type acceptState struct {
	disabled bool // no accept mode: old kernel, or it refused the op
	q        map[int32]*acceptQ
	arms     []int32 // listeners whose accept is to be armed at the next Wait
	cancel   []uint64
	listed   listed // listeners with queued results
	lastID   uint32
	polling  int // listeners polling (acceptQ.polling)
	reverts  int // of which revert is set

	// Descriptors popped since the last Wait: sockets, so Add skips its
	// fstat for them (their owner registers them before the next Wait).
	popped []int32

	accepted, armed uint64
}

func init() {
	pollx.AcceptorOf = func(p any) pollx.Acceptor {
		pp, _ := p.(*Poller)
		if pp == nil || pp.u == nil || pp.u.acc.disabled {
			return nil
		}
		return (*acceptor)(pp.u)
	}
}

// acceptor is ioUring seen as a pollx.Acceptor.
type acceptor ioUring

func acceptUD(fd int32, id uint32) uint64 {
	return udAccept | uint64(uint32(fd)) | uint64(id)<<32
}

func (a *acceptState) nextID() uint32 {
	a.lastID++
	if a.lastID >= acceptIDMax {
		a.lastID = 1
	}
	return a.lastID
}

// splitAccept applies the accept-mode part of fd's interest in and
// returns what is left to poll for: in accept mode Read is accepted, not
// polled for.
func (u *ioUring) splitAccept(fd int, in Interest) Interest {
	a := &u.acc
	if in&acceptBit == 0 {
		if a.q[int32(fd)] != nil {
			u.acceptOff(fd)
		}
		return in
	}
	in &^= acceptBit
	if a.disabled {
		return in // polled for readability; the owner calls accept4
	}
	q := a.q[int32(fd)]
	if q == nil {
		if a.q == nil {
			a.q = make(map[int32]*acceptQ)
		}
		q = &acceptQ{first: a.lastID + 1}
		a.q[int32(fd)] = q
	}
	if want := in&Read != 0; want != q.want {
		q.want = want
		if want {
			u.queueAccept(int32(fd), q)
			if !q.empty() {
				a.listAccept(int32(fd), q)
			}
		} else {
			a.cancelAccept(int32(fd), q)
		}
	}
	if q.polling {
		return in
	}
	return in &^ Read
}

func (u *ioUring) queueAccept(fd int32, q *acceptQ) {
	if !q.queued {
		q.queued = true
		u.acc.arms = append(u.acc.arms, fd)
	}
}

func (a *acceptState) listAccept(fd int32, q *acceptQ) {
	if !q.listed {
		q.listed = true
		a.listed.fds = append(a.listed.fds, fd)
	}
}

// cancelAccept queues the cancellation of q's accept in flight; its late
// completions still queue what they accepted.
func (a *acceptState) cancelAccept(fd int32, q *acceptQ) {
	if q.live {
		a.cancel = append(a.cancel, acceptUD(fd, q.id))
		q.live = false
	}
}

// acceptOff ends fd's accept mode: its accept is cancelled and the
// descriptors still queued are closed. It reports whether an accept was
// in flight (which holds the listening socket open, as a poll does).
func (u *ioUring) acceptOff(fd int) bool {
	a := &u.acc
	q := a.q[int32(fd)]
	if q == nil {
		return false
	}
	live := q.live
	a.cancelAccept(int32(fd), q)
	u.stopPolling(q)
	for _, v := range q.fds[q.head:] {
		if v >= 0 {
			resetClose(v)
		}
	}
	delete(a.q, int32(fd))
	return live
}

// inAcceptMode reports whether fd's registration is in accept mode.
func (u *ioUring) inAcceptMode(fd int) bool { return u.acc.q[int32(fd)] != nil }

// fillAccept turns queued cancellations and arms into submission entries.
func (u *ioUring) fillAccept() error {
	a := &u.acc
	for i, x := range a.cancel {
		e, err := u.sqe()
		if err != nil {
			a.cancel = append(a.cancel[:0], a.cancel[i:]...)
			return err
		}
		uring.PrepCancel(e, x, udRemove)
	}
	a.cancel = a.cancel[:0]
	for i, fd := range a.arms {
		q := a.q[fd]
		if q == nil {
			continue // deleted since
		}
		q.queued = false
		if !q.want || q.live || q.ended || q.polling {
			continue
		}
		e, err := u.sqe()
		if err != nil {
			a.arms = append(a.arms[:0], a.arms[i:]...)
			q.queued = true
			return err
		}
		q.id = a.nextID()
		uring.PrepAcceptMultishot(e, int(fd), acceptFlags, acceptUD(fd, q.id))
		e.Ioprio = acceptIoprio
		q.live = true
		a.armed++
	}
	a.arms = a.arms[:0]
	return nil
}

// reapAccept handles one accept completion, and returns the number of
// events after reporting its listener if that is due.
func (u *ioUring) reapAccept(x uint64, res int32, flags uint32, events []Event, j int) int {
	a := &u.acc
	fd, id := int32(uint32(x)), uint32(x>>32)&(acceptIDMax-1)
	q := a.q[fd]
	mine := q != nil && id >= q.first
	current := mine && q.live && q.id == id
	more := flags&uring.CQEFMore != 0
	if current && !more {
		q.live = false
	}
	switch {
	case res >= 0:
		if !mine {
			resetClose(res) // a deleted listener's: nobody takes it
			return j
		}
		a.accepted++
		q.took = true
		q.fds = append(q.fds, res)
		if current && !more {
			u.queueAccept(fd, q) // the kernel ended it (e.g. completions overflowed)
		}
	case !mine:
		return j
	case res == -int32(unix.ECANCELED):
		// Ours (then q.live was cleared already, and current is false),
		// or the kernel's when the thread that armed the accept exited
		// (see reapIOUring): arm again if still wanted.
		if current && q.want {
			u.queueAccept(fd, q)
		}
		return j
	case res == -int32(unix.ECONNABORTED) || res == -int32(unix.EINTR):
		// A connection reset before it was accepted (accept4 is called
		// again then): nothing to report.
		if current && !more && q.want {
			u.queueAccept(fd, q)
		}
		return j
	case res == -int32(unix.EMFILE) || res == -int32(unix.ENFILE):
		if current && !more {
			u.pollAccept(int(fd), q)
		}
		return j
	case res == -int32(unix.EINVAL) && current && !q.took:
		u.acceptRefused()
		return j
	default:
		// Any other error (ENOMEM, ENOBUFS...): the owner hears of it as
		// from accept4, and the kernel is asked again once it was popped.
		q.fds = append(q.fds, res)
		if !more {
			q.ended = true
		}
	}
	if q.want && !q.listed {
		a.listAccept(fd, q)
		if r := u.lookup(int(fd)); r != nil && r.seq != 0 {
			// First in the batch, for Node's order ('connection' before
			// the client's 'connect' in a process that is both ends):
			// epoll lists the listener first, readied by the handshake
			// before the client registers, but the accept's completion
			// came after the client's poll (posted from task work,
			// probably, after what the same enter submitted).
			copy(events[1:j+1], events[:j])
			events[0] = Event{Token: r.tok, Events: Read}
			j++
		}
	}
	return j
}

// pollAccept has listener fd polled for readability until a poll reports
// it (see acceptQ.polling).
func (u *ioUring) pollAccept(fd int, q *acceptQ) {
	if q.polling {
		return
	}
	q.polling = true
	u.acc.polling++
	if r := u.lookup(fd); r != nil && r.seq != 0 && q.want {
		u.pollRead(fd, r, true)
	}
}

// pollRead adds Read to (on) or removes it from r's polled interest.
func (u *ioUring) pollRead(fd int, r *urec, on bool) {
	if on {
		r.in |= Read
	} else {
		r.in &^= Read
	}
	r.multi = false
	if r.armed {
		u.disarm(fd, r)
		r.seq = u.nextSeq()
	}
	u.queue(fd, r)
}

func (u *ioUring) stopPolling(q *acceptQ) {
	u.acc.keepPolling(q)
	if q.polling {
		q.polling = false
		u.acc.polling--
	}
}

// keepPolling drops q's pending revert to the accept, if any.
func (a *acceptState) keepPolling(q *acceptQ) {
	if q.revert {
		q.revert = false
		a.reverts--
	}
}

// polledReadable notes that the poll of fd, a listener in accept mode
// out of descriptors, reported it readable: its owner accepts with
// accept4 in this dispatch, and the next Wait tries the accept again.
func (u *ioUring) polledReadable(fd int) {
	if q := u.acc.q[int32(fd)]; q != nil && q.polling && !q.revert && !q.plain {
		q.revert = true
		u.acc.reverts++
	}
}

// revertPolling takes the listeners whose poll reported them back to the
// multishot accept.
func (u *ioUring) revertPolling() {
	a := &u.acc
	for fd, q := range a.q {
		if !q.revert {
			continue
		}
		u.stopPolling(q)
		if r := u.lookup(int(fd)); r != nil && r.seq != 0 {
			u.pollRead(int(fd), r, false)
		}
		if q.want {
			u.queueAccept(fd, q)
		}
	}
}

// acceptRefused turns accept mode off for good, after the kernel refused
// a multishot accept (EINVAL before any connection): every listener in
// accept mode is polled for readability from now on, and its owner, told
// by Accepting, calls accept4 itself.
func (u *ioUring) acceptRefused() {
	a := &u.acc
	a.disabled = true
	for fd, q := range a.q {
		want := q.want
		u.acceptOff(int(fd))
		r := u.lookup(int(fd))
		if r == nil || r.seq == 0 || !want {
			continue
		}
		r.in |= Read
		r.multi = false
		if r.armed {
			u.disarm(int(fd), r)
			r.seq = u.nextSeq()
		}
		u.queue(int(fd), r)
	}
}

// rearmAccept replaces every accept in flight with a new one, after the
// kernel dropped completions (what they accepted is lost).
func (u *ioUring) rearmAccept() {
	a := &u.acc
	for fd, q := range a.q {
		a.cancelAccept(fd, q)
		if q.want {
			u.queueAccept(fd, q)
		}
	}
}

// pruneAccept drops from the list the listeners whose queue was emptied,
// and reports whether some still have results queued: the next reap
// reports them again, and the Wait must not block. It also forgets the
// descriptors popped since the last Wait, which are registered by now.
func (u *ioUring) pruneAccept() bool {
	a := &u.acc
	a.popped = a.popped[:0]
	if a.reverts > 0 {
		u.revertPolling()
	}
	return a.listed.prune(func(fd int32) bool {
		q := a.q[fd]
		if q == nil || !q.listed {
			return false // deleted, or a new registration listed afresh
		}
		if !q.want || q.empty() {
			q.listed = false
			return false
		}
		return true
	})
}

// poppedSocket reports whether fd was popped since the last Wait: an
// accepted socket, which needs no fstat.
func (u *ioUring) poppedSocket(fd int) bool {
	for _, p := range u.acc.popped {
		if p == int32(fd) {
			return true
		}
	}
	return false
}

// resetClose closes a descriptor the kernel accepted that nobody will
// take, with a reset (SO_LINGER of zero) rather than a FIN: its client
// then sees what a client left in the listen queue of a closed listener
// sees on epoll, ECONNRESET, and not an orderly end of stream it could
// take for the server's answer.
func resetClose(fd int32) {
	unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1})
	unix.Close(int(fd))
}

// closeAccept runs as the poller closes: the accepts in flight are
// cancelled, and every descriptor accepted but not taken, queued or still
// in the completion queue, is closed, so that none leaks with the ring.
func (u *ioUring) closeAccept() {
	a := &u.acc
	live := 0
	for fd, q := range a.q {
		for _, v := range q.fds[q.head:] {
			if v >= 0 {
				resetClose(v)
			}
		}
		if q.live {
			a.cancel = append(a.cancel, acceptUD(fd, q.id))
			q.live = false
			live++
		}
	}
	a.q, a.arms = nil, nil
	if len(a.cancel) == 0 {
		return
	}
	// Submit the cancellations alone (fill is not called: the rest is
	// dropped with the ring) and wait, boundedly, for each accept's last
	// completion.
	if u.fillAccept() != nil {
		return
	}
	deadline := time.Now().Add(time.Second)
	for live > 0 && time.Now().Before(deadline) {
		err := u.ring.SubmitAndWait(1, int64(10*time.Millisecond))
		if err != nil && !transient(err) && err != unix.ETIME {
			return
		}
		for c := u.ring.PeekCQE(); c != nil; c = u.ring.PeekCQE() {
			x, res, more := c.UserData, c.Res, c.Flags&uring.CQEFMore != 0
			u.ring.Advance(1)
			if x&(udInternal|udRecv|udAccept) != udAccept {
				continue
			}
			if res >= 0 {
				resetClose(res)
			} else if !more {
				live--
			}
		}
	}
}

// Pop implements pollx.Acceptor.
func (ac *acceptor) Pop(fd int) (newfd int, err syscall.Errno, ok bool) {
	u := (*ioUring)(ac)
	q := u.acc.q[int32(fd)]
	if q == nil || q.empty() {
		return -1, 0, false
	}
	v := q.fds[q.head]
	q.head++
	if q.empty() {
		q.fds, q.head = q.fds[:0], 0
	}
	if v < 0 {
		q.ended = false
		if q.want {
			u.queueAccept(int32(fd), q)
		}
		return -1, syscall.Errno(-v), true
	}
	u.acc.popped = append(u.acc.popped, v)
	return int(v), 0, true
}

// Accepting implements pollx.Acceptor.
func (ac *acceptor) Accepting(fd int) bool {
	if ac.acc.disabled {
		return false
	}
	q := ac.acc.q[int32(fd)]
	return q != nil && !q.polling
}

// Plain implements pollx.Acceptor: the listener is polled as out of
// descriptors is, but for good.
func (ac *acceptor) Plain(fd int) {
	u := (*ioUring)(ac)
	q := u.acc.q[int32(fd)]
	if q == nil || q.plain {
		return
	}
	q.plain = true
	u.acc.cancelAccept(int32(fd), q)
	u.acc.keepPolling(q)
	u.pollAccept(fd, q)
}

// Stats implements pollx.Acceptor.
func (ac *acceptor) Stats() (accepted, arms uint64) { return ac.acc.accepted, ac.acc.armed }
