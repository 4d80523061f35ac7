//go:build linux

package poller

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/internal/uring"
)

// The io_uring backend (opt-in, see "io_uring" in the package
// documentation) keeps level-triggered readiness with one-shot
// IORING_OP_POLL_ADD requests: a poll that completed is armed again at the
// start of the next Wait, after the caller has had its chance to drain the
// descriptor, and a poll armed on a descriptor that is still ready
// completes at once, as the AFD backend on Windows does. Arming, removal
// and interest changes are queued and go to the kernel in the same
// io_uring_enter as the wait, so they cost no system call of their own.

// envIOUring is the environment variable that selects the io_uring
// backend: New uses io_uring when it is "1" and the kernel allows it.
const envIOUring = "NETLOOP_IOURING"

// User data of the poller's own requests; a registration's polls carry
// fd | seq<<32 with seq in [1, 1<<29): bit 62 marks receives (see
// urecv_linux.go), bit 61 accepts (uaccept_linux.go).
const (
	udInternal = 1 << 63
	udWake     = udInternal | 1
	udRemove   = udInternal | 2
	udProbe    = udInternal | 3
)

// ioUring is the io_uring state of a Poller on that backend.
type ioUring struct {
	ring *uring.Ring
	recs []urec  // by descriptor
	arm  []int32 // descriptors whose poll is armed at the next Wait
	rm   []uint64
	seq  uint32

	wakeArmed bool
	dropped   uint32 // the ring's count of dropped completions, as last seen
	fstats    uint64 // Add's fstat checks (tests count them)

	recv recvState   // receive mode (urecv_linux.go)
	acc  acceptState // accept mode (uaccept_linux.go)
}

// urec is one descriptor's registration.
type urec struct {
	tok    Token
	seq    uint32 // of the current poll; 0: not registered
	in     Interest
	armed  bool // a poll with the current seq is in flight
	queued bool // in arm
	multi  bool // arm a multishot (edge) poll: see reap

	// Receive mode (urecv_linux.go); with rMode and in == 0 no poll is
	// armed.
	rgen  uint32 // registration (low 24 bits) and receive (high bits)
	rhead uint16 // first queued buffer (noBuf: none)
	rfl   uint8  // r* flags
	rerr  uint8  // errno of a terminal error (with rEnd; 0: EOF)
}

func ioUringWanted() bool { return os.Getenv(envIOUring) == "1" }

// newIOUring sets up the ring and queues the wake-up eventfd's poll.
func newIOUring(wakefd int) (*ioUring, error) {
	r, err := uring.New(uring.Params{
		Entries:   1024,
		CQEntries: 4096,
		Flags:     uring.SetupClamp,
		// COOP_TASKRUN: a completion does not interrupt the loop's
		// thread with an IPI; the thread runs the task work at its next
		// kernel entry or exit (a sleeping thread is still woken). No
		// SINGLE_ISSUER or DEFER_TASKRUN: a loop's goroutine is locked
		// to one thread only while Run runs, and a later Run (or a
		// Delete between runs) may submit from another thread, which a
		// single-issuer ring refuses with EEXIST.
		Optional: uring.SetupCoopTaskrun | uring.SetupTaskrunFlag | uring.SetupSubmitAll | uring.SetupNoSQArray,
	})
	if err != nil {
		return nil, err
	}
	// Multishot polls (the wake-up's, and those of registrations whose
	// readiness the interest hides) need Linux 5.13; 5.11 and 5.12 have
	// EXT_ARG but refuse the flag with EINVAL, which would end the
	// wake-up poll at every Wait (each returning at once) and fail such
	// registrations with Err. Probe with a multishot poll removed at once:
	// the kernel checks the flag when it takes the entry, so a refusal is
	// queued when Submit returns. The wake-up's own poll is armed by the
	// first Wait, on the thread that runs the loop: a poll's completion
	// runs as task work on the thread that armed it.
	if err := probeMultishot(r, wakefd); err != nil {
		r.Close()
		return nil, err
	}
	u := &ioUring{ring: r}
	u.recv.entries, u.recv.size = pollx.BufEntries, min(pollx.BufSize, pollx.MaxResult)
	u.recv.disabled = !pollx.KernelHasRecv()
	u.acc.disabled = !pollx.KernelHasAccept()
	u.armWake(wakefd)
	return u, nil
}

// probeMultishot reports errNoMultishotPoll if the kernel refuses a
// multishot poll on fd. It leaves the completion queue empty.
func probeMultishot(r *uring.Ring, fd int) error {
	poll, remove := r.GetSQE(), r.GetSQE()
	if poll == nil || remove == nil {
		return unix.EAGAIN // a new ring's queue has room for two
	}
	poll.Opcode = uring.OpPollAdd
	poll.Fd = int32(fd)
	poll.OpFlags = unix.POLLIN
	poll.Len = pollAddMulti
	poll.UserData = udProbe
	remove.Opcode = uring.OpPollRemove
	remove.Fd = -1
	remove.Addr = udProbe
	remove.UserData = udRemove
	if err := r.SubmitAndWait(2, 0); err != nil {
		return err
	}
	var err error
	for c := r.PeekCQE(); c != nil; c = r.PeekCQE() {
		if c.UserData == udProbe && c.Res == -int32(unix.EINVAL) {
			err = errNoMultishotPoll
		}
		r.Advance(1)
	}
	return err
}

// errNoMultishotPoll is newIOUring's error on a kernel that refuses
// IORING_POLL_ADD_MULTI: New falls back to epoll.
var errNoMultishotPoll = errors.New("poller: kernel lacks multishot IORING_OP_POLL_ADD (Linux 5.13)")

// pollAddMulti is the flag that makes a POLL_ADD multishot; tests set
// bits the kernel refuses to play a kernel without multishot polls.
var pollAddMulti uint32 = uring.PollAddMulti

func (u *ioUring) armWake(wakefd int) {
	sqe := u.ring.GetSQE()
	if sqe == nil {
		return // retried at the next Wait
	}
	sqe.Opcode = uring.OpPollAdd
	sqe.Fd = int32(wakefd)
	sqe.OpFlags = unix.POLLIN
	sqe.Len = pollAddMulti
	sqe.UserData = udWake
	u.wakeArmed = true
}

func (u *ioUring) nextSeq() uint32 {
	u.seq++
	if u.seq >= 1<<29 {
		u.seq = 1
	}
	return u.seq
}

func (u *ioUring) rec(fd int) *urec {
	if fd < 0 {
		return nil
	}
	if fd >= len(u.recs) {
		n := max(2*len(u.recs), 64)
		for n <= fd {
			n *= 2
		}
		recs := make([]urec, n)
		copy(recs, u.recs)
		u.recs = recs
	}
	return &u.recs[fd]
}

// lookup returns fd's record if the table has one, without growing it.
func (u *ioUring) lookup(fd int) *urec {
	if fd < 0 || fd >= len(u.recs) {
		return nil
	}
	return &u.recs[fd]
}

func ud(fd int, seq uint32) uint64 { return uint64(uint32(fd)) | uint64(seq)<<32 }

func (u *ioUring) queue(fd int, r *urec) {
	if !r.queued {
		r.queued = true
		u.arm = append(u.arm, int32(fd))
	}
}

// disarm queues the removal of r's poll in flight, if any; its late
// completions carry the old seq and are dropped.
func (u *ioUring) disarm(fd int, r *urec) {
	if r.armed {
		u.rm = append(u.rm, ud(fd, r.seq))
		r.armed = false
	}
}

func (u *ioUring) add(fd int, tok Token, in Interest) error {
	if fd < 0 {
		return unix.EBADF
	}
	if r := u.lookup(fd); r != nil && r.seq != 0 {
		return unix.EEXIST
	}
	// epoll refuses what cannot be polled; io_uring would report a
	// regular file always ready. Keep epoll's answer. The check comes
	// before the table grows to fd, so that a number that is no open
	// descriptor (EBADF) cannot make it grow. A descriptor accept mode
	// just handed out is a socket: no check.
	if !u.poppedSocket(fd) {
		u.fstats++
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		if m := st.Mode & unix.S_IFMT; m == unix.S_IFREG || m == unix.S_IFDIR {
			return unix.EPERM
		}
	}
	u.acceptOff(fd) // a registration of a descriptor closed without Delete
	r := u.rec(fd)
	*r = urec{tok: tok, seq: u.nextSeq(), queued: r.queued, rhead: noBuf, rfl: r.rfl & rMember}
	r.in = u.splitAccept(fd, u.splitRecv(fd, r, in))
	u.queue(fd, r)
	return nil
}

func (u *ioUring) modify(fd int, tok Token, in Interest) error {
	r := u.lookup(fd)
	if r == nil || r.seq == 0 {
		return unix.ENOENT
	}
	r.tok = tok // tokens stay on this side: changing one costs nothing
	in = u.splitAccept(fd, u.splitRecv(fd, r, in))
	if r.in == in {
		return nil
	}
	r.in = in
	r.multi = false
	if r.armed {
		u.disarm(fd, r)
		r.seq = u.nextSeq()
	}
	u.queue(fd, r)
	return nil
}

func (u *ioUring) delete(fd int) error {
	if fd < 0 {
		return unix.EBADF
	}
	r := u.lookup(fd)
	if r == nil || r.seq == 0 {
		return unix.ENOENT
	}
	armed := r.armed
	u.disarm(fd, r)
	if u.recvOff(fd, r) {
		armed = true // a receive in flight holds the file as a poll does
	}
	if u.acceptOff(fd) {
		armed = true // and so does an accept
	}
	*r = urec{queued: r.queued, rfl: r.rfl} // a queued arm finds seq 0 and is skipped
	if armed {
		// A poll in flight holds a reference to the file: until it is
		// removed, closing the descriptor would not close the socket.
		// Remove it now rather than at the next Wait, which may never
		// come. The reference is dropped by task work on the OS thread
		// that armed the poll: at once when that is this thread (the
		// loop's, locked while it runs), otherwise when that thread next
		// enters or leaves the kernel: it is woken if it sleeps, but
		// one running user code is not interrupted before its next
		// timer tick.
		// The registration is gone whatever the kernel says: a removal
		// it cannot take now stays queued and goes with the next Wait.
		if err := u.fill(); err != nil && !transient(err) {
			return err
		}
		if _, err := u.ring.Submit(); err != nil && !transient(err) {
			return err
		}
	}
	return nil
}

// listed is the descriptors of one mode (receive, accept) with results
// queued, each reported once per batch: a Wait reports them again, without
// blocking, while their owner leaves results queued.
type listed struct {
	fds    []int32
	relist bool // prune kept some, to report at the next reap
}

// prune drops the descriptors keep refuses (keep clears the descriptor's
// own membership flag then) and reports whether some are left: the Wait
// must not block.
func (l *listed) prune(keep func(fd int32) bool) bool {
	if len(l.fds) == 0 {
		return false
	}
	k := 0
	for _, fd := range l.fds {
		if keep(fd) {
			l.fds[k] = fd
			k++
		}
	}
	l.fds = l.fds[:k]
	l.relist = k > 0
	return l.relist
}

// report puts an event with bits for each descriptor prune kept into
// events from j on, as many as fit before room, and returns the new j.
// Those that do not fit stay listed, for a later Wait.
func (u *ioUring) report(l *listed, bits Interest, events []Event, j, room int) int {
	l.relist = false
	for _, fd := range l.fds {
		if j >= room {
			break
		}
		events[j] = Event{Token: u.recs[fd].tok, Events: bits}
		j++
	}
	return j
}

// sqe returns a free submission entry, submitting what is queued when the
// submission queue is full. When the kernel takes none of it (EAGAIN,
// EBUSY, or an error), sqe gives up with that error rather than spin:
// entries are freed only by the kernel, and while sqe runs nobody reaps
// the completions an EBUSY kernel waits for.
func (u *ioUring) sqe() (*uring.SQE, error) {
	for try := 0; ; try++ {
		if e := u.ring.GetSQE(); e != nil {
			return e, nil
		}
		_, err := u.ring.Submit()
		if err == unix.EINTR && try < 3 {
			continue
		}
		if err == nil && u.ring.Pending() < u.ring.SQEntries() {
			continue // the kernel took some: there is room now
		}
		if err == nil || err == unix.EINTR {
			err = unix.EAGAIN
		}
		return nil, err
	}
}

// transient reports whether err, from io_uring_enter, means "the kernel
// cannot take submissions right now": what is queued stays queued and goes
// with a later enter.
func transient(err error) bool {
	return err == unix.EAGAIN || err == unix.EBUSY || err == unix.EINTR
}

func pollMask(in Interest) uint32 {
	var m uint32
	if in&Read != 0 {
		m |= unix.POLLIN | unix.POLLRDHUP
	}
	if in&Write != 0 {
		m |= unix.POLLOUT
	}
	return m // the kernel adds POLLERR, POLLHUP and POLLRDHUP to every poll
}

// fill turns the queued removals and arms into submission entries.
func (u *ioUring) fill() error {
	for i, x := range u.rm {
		e, err := u.sqe()
		if err != nil {
			u.rm = append(u.rm[:0], u.rm[i:]...) // the rest stay queued
			return err
		}
		e.Opcode = uring.OpPollRemove
		e.Fd = -1
		e.Addr = x
		e.UserData = udRemove
	}
	u.rm = u.rm[:0]
	for i, fd := range u.arm {
		r := &u.recs[fd]
		r.queued = false
		if r.seq == 0 || r.armed || r.in == 0 && (r.rfl&rMode != 0 || u.inAcceptMode(int(fd))) {
			continue
		}
		e, err := u.sqe()
		if err != nil {
			u.arm = append(u.arm[:0], u.arm[i:]...)
			r.queued = true
			return err
		}
		e.Opcode = uring.OpPollAdd
		e.Fd = fd
		e.OpFlags = pollMask(r.in)
		if r.multi {
			e.Len = pollAddMulti
		}
		e.UserData = ud(int(fd), r.seq)
		r.armed = true
	}
	u.arm = u.arm[:0]
	if err := u.fillRecv(); err != nil {
		return err
	}
	return u.fillAccept()
}

// waitIOUring submits what is queued, waits, and reaps completions into
// events. Completions that report nothing (a poll that only saw bits the
// interest does not report, a removed poll's late result) do not end a
// blocking Wait: it waits again for what is left of its timeout.
func (p *Poller) waitIOUring(events []Event, timeoutMs int) (int, error) {
	u := p.u
	var deadline time.Time // set on the first retry, from the Wait's start
	relist := u.pruneRecv()
	if u.pruneAccept() {
		relist = true
	}
	start := time.Time{}
	if timeoutMs > 0 {
		start = time.Now()
	}
	for {
		if !u.wakeArmed {
			u.armWake(p.wakefd)
		}
		err := u.fill()
		if err != nil && !transient(err) {
			return 0, err
		}
		// A transient error left changes queued (or the wake-up poll
		// found no free entry): submit what fits, reap, and fill again
		// at the next round, without blocking while registrations, or
		// the wake-up, wait to be armed.
		partial := err != nil || !u.wakeArmed
		var timeout int64 = -1
		if timeoutMs >= 0 {
			timeout = int64(timeoutMs) * 1e6
			if !deadline.IsZero() {
				timeout = max(int64(time.Until(deadline)), 0)
			}
		}
		if u.ring.CQReady() > 0 || partial || relist {
			timeout = 0 // completions already queued: only submit
		}
		err = u.ring.SubmitAndWait(1, timeout)
		switch err {
		case nil, unix.EAGAIN, unix.EBUSY:
		case unix.EBADR:
			// The kernel dropped completions and says so once (5.19).
			u.dropped = u.ring.Dropped()
			p.recoverDropped()
			n, _ := p.reapIOUring(events)
			return n, nil
		case unix.ETIME, unix.EINTR:
			n, woken := p.reapIOUring(events)
			if !woken && p.gate.pending.Load() != 0 {
				p.drainWake()
			}
			return n, nil
		default:
			return 0, err
		}
		if d := u.ring.Dropped(); d != u.dropped {
			// The kernel dropped completions (before 5.19, silently
			// but for this counter).
			u.dropped = d
			p.recoverDropped()
		}
		n, woken := p.reapIOUring(events)
		if !woken && p.gate.pending.Load() != 0 {
			// A Wake whose poll completion has not reached the ring yet:
			// the completion runs as task work on the thread that armed
			// the poll, which need not be this one. Consume it here
			// (the late completion then finds the eventfd empty).
			p.drainWake()
			woken = true
		}
		if n > 0 || woken || timeoutMs == 0 || u.ring.CQReady() > 0 {
			return n, nil
		}
		if timeoutMs > 0 && deadline.IsZero() {
			// The wait may have used its whole timeout: io_uring_enter
			// reports the entries it submitted rather than ETIME.
			deadline = start.Add(time.Duration(timeoutMs) * time.Millisecond)
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			return 0, nil
		}
	}
}

// recoverDropped repairs what completions the kernel dropped (it could
// not keep overflowing ones aside: out of memory) may have broken. Which
// ones is unknown: every registration's poll is replaced by a new one, and
// the wake-up is taken as pending, since its multishot poll may have lost
// the completion of the eventfd's last write.
func (p *Poller) recoverDropped() {
	p.u.rearmAll()
	p.drainWake()
}

// rearmAll replaces every registration's poll in flight with a new one.
func (u *ioUring) rearmAll() {
	u.rearmAccept()
	for fd := range u.recs {
		r := &u.recs[fd]
		if r.rfl&rLive != 0 {
			// A receive's last completion may be among those lost:
			// replace it too (the data of those lost is lost).
			u.cancelRecv(fd, r)
			u.queueRecv(fd, r)
		}
		if r.seq == 0 {
			continue
		}
		r.multi = false
		if r.armed {
			u.disarm(fd, r)
			r.seq = u.nextSeq()
		}
		u.queue(fd, r)
	}
}

// uringEvents maps a poll mask onto the bits epoll would report for the
// interest: RdHup only with Read interest, as toEpoll asks for it.
func uringEvents(mask uint32, in Interest) Interest {
	var got Interest
	if in&Read != 0 {
		if mask&(unix.POLLIN|unix.POLLPRI) != 0 {
			got |= Read
		}
		if mask&unix.POLLRDHUP != 0 {
			got |= RdHup
		}
	}
	if in&Write != 0 && mask&unix.POLLOUT != 0 {
		got |= Write
	}
	if mask&unix.POLLHUP != 0 {
		got |= Hup
	}
	if mask&unix.POLLERR != 0 {
		got |= Err
	}
	return got
}

// reapIOUring translates queued completions into events, as many as fit,
// and reports whether it consumed a wake-up.
func (p *Poller) reapIOUring(events []Event) (n int, woken bool) {
	u := p.u
	room := min(len(events), MaxEvents)
	j := 0
	if u.recv.listed.relist {
		j = u.report(&u.recv.listed, recvBit, events, j, room)
	}
	if u.acc.listed.relist {
		j = u.report(&u.acc.listed, Read, events, j, room)
	}
	for j < room {
		c := u.ring.PeekCQE()
		if c == nil {
			break
		}
		x, res, flags := c.UserData, c.Res, c.Flags
		more := flags&uring.CQEFMore != 0
		u.ring.Advance(1)
		if x&(udInternal|udRecv) == udRecv {
			j = u.reapRecv(x, res, flags, events, j)
			continue
		}
		if x&(udInternal|udRecv|udAccept) == udAccept {
			j = u.reapAccept(x, res, flags, events, j)
			continue
		}
		if x&udInternal != 0 {
			if x == udWake {
				if !more {
					u.wakeArmed = false
				}
				p.drainWake()
				woken = true
			}
			continue
		}
		fd, seq := int(uint32(x)), uint32(x>>32)
		if fd >= len(u.recs) {
			continue
		}
		r := &u.recs[fd]
		if r.seq != seq || !r.armed {
			continue // a removed or replaced poll's late completion
		}
		if !more {
			r.armed = false
		}
		if res == -int32(unix.ECANCELED) {
			// The kernel cancelled a poll this side did not remove (its
			// removals carry an older seq and were dropped above): the
			// OS thread that armed it exited, and io_uring cancels a
			// task's requests when it does. Go ends a thread when a
			// goroutine locked to it returns. The registration is intact:
			// arm it again.
			r.multi = false
			u.queue(fd, r)
			continue
		}
		if res < 0 {
			// The poll could not be armed: EBADF when the descriptor
			// was closed without Delete (epoll refuses the change that
			// follows such a close; this backend only learns of it
			// here). The registration ends, loudly if events were
			// wanted.
			if r.in != 0 {
				events[j] = Event{Token: r.tok, Events: Err}
				j++
			}
			u.recvOff(fd, r)
			u.acceptOff(fd)
			*r = urec{queued: r.queued, rfl: r.rfl}
			continue
		}
		got := uringEvents(uint32(res), r.in)
		if got == 0 {
			// Only bits the interest does not report, such as POLLRDHUP,
			// which io_uring polls for whatever the mask asks: a one-shot
			// poll armed again would complete at once, forever. Wait for
			// the next change instead, with a multishot poll.
			if !more {
				r.multi = true
				u.queue(fd, r)
			}
			continue
		}
		if r.multi {
			// Back to level-triggered one-shot polls.
			r.multi = false
			u.disarm(fd, r)
			r.seq = u.nextSeq()
		}
		if !r.armed {
			u.queue(fd, r)
		}
		if u.acc.polling > 0 && got&Read != 0 {
			u.polledReadable(fd)
		}
		events[j] = Event{Token: r.tok, Events: got}
		j++
	}
	return j, woken
}
