//go:build linux

package poller

import (
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/pollx"
	"github.com/netloop/netloop/internal/uring"
)

// Receive mode on the io_uring backend (see package pollx): a registration
// whose interest carries pollx.Recv gets a multishot IORING_OP_RECV into
// the poller's provided buffer ring while it wants Read, instead of a poll
// for readability. Its results queue per descriptor until the owner pops
// them after a Wait that reported the registration with the Recv bit.
//
// Requests carry udRecv | fd | gen<<32 | arm<<56 in their user data: gen
// names the registration (a late completion for a descriptor deleted, and
// perhaps reused, since finds another gen and only gives its buffer back),
// arm names one receive of it (a cancelled receive's last completions are
// told from those of the one armed after it).
//
// The state lives in the registration's urec (8 bytes of it, so that an
// idle connection costs no more than on the poll path) and in arrays
// indexed by buffer id: a descriptor's queued results are a list of
// buffers linked through next, its head in the urec, its tail kept in the
// head buffer's slot of tail. Only an end of stream or an error comes
// without a buffer; it ends the list (rEnd, rErr). Data copied out of the
// ring while the owner does not read (a stash) is rare and kept in a map.

// recvBit is pollx.Recv as an Interest.
const recvBit Interest = pollx.Recv

const (
	udRecv     = 1 << 62
	recvGroup  = 1 // buffer group id of the poller's ring
	recvGenMax = 1 << 24
	rRetried   = 1 << 30 // in urec.rgen: armed again by fillRecv's last retry of starved receives
	noBuf      = 0xffff  // end of a buffer list (ring ids stay below 1<<15)
)

// Receive flags (urec.rfl).
const (
	rMode    = 1 << iota // in receive mode: Read is received, not polled for
	rWant                // Read wanted: a receive should be armed
	rLive                // the receive with the current arm is in flight, not cancelled
	rEnded               // end of stream or an error was received: arm no more till it is popped
	rEnd                 // a terminal result (EOF, or -rerr) follows the queued buffers
	rQueued              // in recvState.rarm
	rListed              // in recvState.listed
	rStarved             // in recvState.starved

	rMember = rQueued | rListed | rStarved // list memberships, kept across registrations
)

// recvStash holds what a registration received while its owner did not
// read, copied out of the ring, to be popped before what is queued.
type recvStash struct {
	data   []byte
	end    bool  // a terminal result follows data
	endRes int32 // 0: EOF, < 0: -errno
}

// recvState is the io_uring backend's receive-mode state.
type recvState struct {
	br       *uring.BufRing // set up with the first registration in receive mode
	disabled bool           // no receive mode: old kernel, or it refused the ring
	entries  uint32
	size     int

	next []uint16 // by buffer id: the next queued buffer of the same descriptor
	tail []uint16 // by buffer id, valid for a list's head: its last buffer
	res  []int32  // by buffer id: the bytes received into it

	stash map[int32]*recvStash

	rarm    []int32 // descriptors whose receive is to be armed at the next Wait
	rcancel []uint64
	listed  listed  // descriptors with queued results
	starved []int32 // descriptors whose receive ended on an empty ring

	gen        uint32
	moves      uint64  // buffers taken or given back so far
	retryMoves uint64  // moves when starved receives were last armed again
	retried    []int32 // descriptors armed again then (rRetried set)
	starvedNew bool    // a receive starved since the last fill

	completions uint64
	arms        uint64
}

func init() {
	pollx.ReceiverOf = func(p any) pollx.Receiver {
		pp, _ := p.(*Poller)
		if pp == nil || pp.u == nil || pp.u.recv.disabled {
			return nil
		}
		return (*receiver)(pp.u)
	}
}

// receiver is ioUring seen as a pollx.Receiver.
type receiver ioUring

// bufRing sets the buffer ring up on first use; false when the kernel
// refuses it, which turns receive mode off for good.
func (u *ioUring) bufRing() bool {
	s := &u.recv
	if s.br != nil {
		return true
	}
	if s.disabled {
		return false
	}
	var br *uring.BufRing
	err := pollx.RefuseBufRing
	if err == nil {
		br, err = u.ring.RegisterBufRing(recvGroup, s.entries, s.size)
	}
	if err != nil {
		s.disabled = true
		return false
	}
	s.br = br
	s.next = make([]uint16, s.entries)
	s.tail = make([]uint16, s.entries)
	s.res = make([]int32, s.entries)
	return true
}

func (r *urec) gen() uint32 { return r.rgen & (recvGenMax - 1) }
func (r *urec) arm() uint8  { return uint8(r.rgen>>24) & 0x3f }

// splitRecv applies the receive-mode part of fd's interest in to r and
// returns what is left to poll for: in receive mode Read is received, not
// polled for.
func (u *ioUring) splitRecv(fd int, r *urec, in Interest) Interest {
	if in&recvBit == 0 {
		if r.rfl&rMode != 0 {
			u.recvOff(fd, r)
		}
		return in
	}
	in &^= recvBit
	if !u.bufRing() {
		return in // fall back to readiness
	}
	s := &u.recv
	if r.rfl&rMode == 0 {
		s.gen++
		if s.gen >= recvGenMax {
			s.gen = 1
		}
		r.rgen, r.rhead, r.rerr = s.gen, noBuf, 0
		r.rfl = r.rfl&rMember | rMode
		if r.rfl&rStarved != 0 {
			s.starvedNew = true // a new registration, still in the starved list
		}
	}
	want := in&Read != 0
	if want != (r.rfl&rWant != 0) {
		if want {
			r.rfl |= rWant
			u.queueRecv(fd, r)
			if u.recvQueued(fd, r) {
				u.listRecv(fd, r)
			}
		} else {
			r.rfl &^= rWant
			u.pauseRecv(fd, r)
		}
	}
	return in &^ Read
}

func (u *ioUring) queueRecv(fd int, r *urec) {
	if r.rfl&rQueued == 0 {
		r.rfl |= rQueued
		u.recv.rarm = append(u.recv.rarm, int32(fd))
	}
}

func (u *ioUring) listRecv(fd int, r *urec) {
	if r.rfl&rListed == 0 {
		r.rfl |= rListed
		u.recv.listed.fds = append(u.recv.listed.fds, int32(fd))
	}
}

func recvUD(fd int, gen uint32, arm uint8) uint64 {
	return udRecv | uint64(uint32(fd)) | uint64(gen)<<32 | uint64(arm&0x3f)<<56
}

// cancelRecv queues the cancellation of r's live receive.
func (u *ioUring) cancelRecv(fd int, r *urec) {
	if r.rfl&rLive != 0 {
		u.recv.rcancel = append(u.recv.rcancel, recvUD(fd, r.gen(), r.arm()))
		r.rfl &^= rLive
	}
}

// pauseRecv cancels r's receive and copies its queued results out of the
// ring, so that a paused reader holds no buffer.
func (u *ioUring) pauseRecv(fd int, r *urec) {
	u.cancelRecv(fd, r)
	u.dropQueued(fd, r, true)
	if r.rfl&rEnd != 0 {
		r.rfl &^= rEnd
		u.stashEnd(fd, -int32(r.rerr))
	}
}

// dropQueued gives r's queued buffers back to the ring, copying their
// data to fd's stash first when stash is set.
func (u *ioUring) dropQueued(fd int, r *urec, stash bool) {
	s := &u.recv
	for b := r.rhead; b != noBuf; {
		n := s.next[b]
		if stash {
			u.stashData(fd, s.br.Buf(b)[:s.res[b]])
		}
		u.recycle(b)
		b = n
	}
	r.rhead = noBuf
}

func (u *ioUring) stashOf(fd int) *recvStash {
	s := &u.recv
	st := s.stash[int32(fd)]
	if st == nil {
		if s.stash == nil {
			s.stash = make(map[int32]*recvStash)
		}
		st = &recvStash{}
		s.stash[int32(fd)] = st
	}
	return st
}

func (u *ioUring) stashData(fd int, b []byte) {
	if st := u.stashOf(fd); !st.end {
		st.data = append(st.data, b...)
	}
}

func (u *ioUring) stashEnd(fd int, res int32) {
	if st := u.stashOf(fd); !st.end {
		st.end, st.endRes = true, res
	}
}

func (u *ioUring) recycle(bid uint16) {
	u.recv.br.Recycle(bid)
	u.recv.moves++
}

// held returns how many buffers completions took from the ring and were
// not given back yet.
func (s *recvState) held() int {
	if s.br == nil {
		return 0
	}
	return s.br.Out()
}

// recvOff ends r's receive mode: its receive is cancelled, its queued
// results dropped and their buffers given back. It reports whether a
// receive was in flight.
func (u *ioUring) recvOff(fd int, r *urec) bool {
	if r.rfl&rMode == 0 {
		return false
	}
	live := r.rfl&rLive != 0
	u.cancelRecv(fd, r)
	u.dropQueued(fd, r, false)
	if u.recv.stash != nil {
		delete(u.recv.stash, int32(fd))
	}
	r.rgen, r.rerr = 0, 0
	r.rfl &= rMember
	return live
}

// fillRecv turns queued cancellations and arms into submission entries.
func (u *ioUring) fillRecv() error {
	s := &u.recv
	for i, x := range s.rcancel {
		e, err := u.sqe()
		if err != nil {
			s.rcancel = append(s.rcancel[:0], s.rcancel[i:]...)
			return err
		}
		uring.PrepCancel(e, x, udRemove)
	}
	s.rcancel = s.rcancel[:0]
	u.retryStarved()
	for i, fd := range s.rarm {
		r := &u.recs[fd]
		r.rfl &^= rQueued
		if r.rfl&(rMode|rWant|rLive|rEnded|rStarved) != rMode|rWant {
			continue
		}
		e, err := u.sqe()
		if err != nil {
			s.rarm = append(s.rarm[:0], s.rarm[i:]...)
			r.rfl |= rQueued
			return err
		}
		arm := r.arm() + 1
		r.rgen = r.gen() | uint32(arm&0x3f)<<24 | r.rgen&rRetried
		uring.PrepRecvMultishot(e, int(fd), recvGroup, recvUD(int(fd), r.gen(), r.arm()))
		r.rfl |= rLive
		s.arms++
	}
	s.rarm = s.rarm[:0]
	return nil
}

// retryStarved queues the receives that ran dry (ENOBUFS) to be armed
// again, whenever the ring holds buffers by this side's count; whether
// the ENOBUFS came before or after buffers went back, and in whichever
// batch it is reaped, does not matter. The count can be wrong: buffers
// taken by completions the kernel dropped never come back, and a ring
// this side thinks not empty may be. So a receive armed again that runs
// dry again with no buffer taken or given back since (rRetried, at
// retryMoves) waits for the next buffer to move instead: at most one
// arm per starved receive and buffer move, never a spin.
func (u *ioUring) retryStarved() {
	s := &u.recv
	starvedNew := s.starvedNew
	s.starvedNew = false
	if len(s.starved) == 0 || s.held() >= int(s.entries) || s.moves == s.retryMoves && !starvedNew {
		return
	}
	if s.moves != s.retryMoves {
		for _, fd := range s.retried {
			u.recs[fd].rgen &^= rRetried
		}
		s.retried, s.retryMoves = s.retried[:0], s.moves
	}
	k := 0
	for _, fd := range s.starved {
		r := &u.recs[fd]
		if r.rfl&rMode != 0 && r.rgen&rRetried != 0 {
			s.starved[k] = fd // ran dry again since its retry: wait for a move
			k++
			continue
		}
		r.rfl &^= rStarved
		if r.rfl&rMode != 0 {
			r.rgen |= rRetried
			s.retried = append(s.retried, fd)
			u.queueRecv(int(fd), r)
		}
	}
	s.starved = s.starved[:k]
}

// recvQueued reports whether r has results to pop.
func (u *ioUring) recvQueued(fd int, r *urec) bool {
	return r.rhead != noBuf || r.rfl&rEnd != 0 || u.recv.stash[int32(fd)] != nil
}

// pruneRecv drops from the list the registrations whose results were all
// taken, and reports whether some still have results queued: their owner
// stopped taking them in the last dispatch (a ReadStop and ReadStart in
// one callback), or resumed reading with a stash. The next reap reports
// them again, and the Wait must not block.
func (u *ioUring) pruneRecv() bool {
	return u.recv.listed.prune(func(fd int32) bool {
		r := &u.recs[fd]
		if r.rfl&(rMode|rWant) != rMode|rWant || !u.recvQueued(int(fd), r) {
			r.rfl &^= rListed
			return false
		}
		return true
	})
}

// reapRecv handles one receive completion, and returns the number of
// events after reporting its registration if that is due.
func (u *ioUring) reapRecv(x uint64, res int32, flags uint32, events []Event, j int) int {
	s := &u.recv
	fd, gen, arm := int(uint32(x)), uint32(x>>32)&(recvGenMax-1), uint8(x>>56)&0x3f
	var bid uint16
	hasBuf := false
	if s.br != nil {
		bid, _, hasBuf = s.br.Take(flags, 0)
		if hasBuf {
			s.moves++
		}
	}
	var r *urec
	if fd < len(u.recs) {
		r = &u.recs[fd]
	}
	stale := r == nil || r.rfl&rMode == 0 || r.gen() != gen // a deleted registration's late result
	if hasBuf && (stale || res <= 0) {
		u.recycle(bid)
	}
	if stale || res > 0 && !hasBuf {
		return j // (data without a buffer cannot happen with buffer select)
	}
	more := flags&uring.CQEFMore != 0
	current := r.rfl&rLive != 0 && r.arm() == arm
	if current && !more {
		r.rfl &^= rLive
	}
	switch {
	case res == -int32(unix.ECANCELED):
		// A cancellation this side asked for, or one by the kernel when
		// the thread that armed the receive exited (see reapIOUring):
		// arm again if still wanted.
		if current {
			u.queueRecv(fd, r)
		}
		return j
	case res == -int32(unix.ENOBUFS):
		// The ring ran dry. Data stays in the socket; the receive is
		// armed again by retryStarved once the ring holds buffers.
		if current {
			s.starvedNew = true
			if r.rfl&rStarved == 0 {
				r.rfl |= rStarved
				s.starved = append(s.starved, int32(fd))
			}
		}
		return j
	}
	if res <= 0 {
		r.rfl |= rEnded
		if r.rfl&rWant == 0 {
			u.stashEnd(fd, res)
			return j
		}
		if r.rfl&rEnd == 0 {
			r.rfl |= rEnd
			r.rerr = uint8(-res)
		}
	} else {
		s.completions++
		if r.rfl&rWant == 0 {
			u.stashData(fd, s.br.Buf(bid)[:res])
			u.recycle(bid)
			return j
		}
		s.res[bid] = res
		s.next[bid] = noBuf
		if r.rhead == noBuf {
			r.rhead = bid
		} else {
			s.next[s.tail[r.rhead]] = bid
		}
		s.tail[r.rhead] = bid
		if current && !more {
			u.queueRecv(fd, r) // the kernel ended it (e.g. completions overflowed)
		}
	}
	if r.rfl&rListed == 0 {
		u.listRecv(fd, r)
		events[j] = Event{Token: r.tok, Events: recvBit}
		j++
	}
	return j
}

// closeRecv releases the buffer ring after the ring is closed.
func (u *ioUring) closeRecv() {
	if u.recv.br != nil {
		u.recv.br.Close()
		u.recv.br = nil
	}
}

// Pop implements pollx.Receiver.
func (rv *receiver) Pop(fd int) (buf []byte, n int, id int32, ok bool) {
	u := (*ioUring)(rv)
	if fd < 0 || fd >= len(u.recs) {
		return nil, 0, -1, false
	}
	r := &u.recs[fd]
	if r.rfl&rMode == 0 {
		return nil, 0, -1, false
	}
	s := &u.recv
	if st := s.stash[int32(fd)]; st != nil {
		if len(st.data) > 0 {
			// In pieces of a readiness read's size, so that a reader
			// can stop in between and the rest waits.
			n := min(len(st.data), pollx.MaxResult)
			buf = st.data[:n:n]
			st.data = st.data[n:]
			return buf, n, -1, true
		}
		delete(s.stash, int32(fd))
		if st.end {
			u.endTaken(fd, r)
			return nil, int(st.endRes), -1, true
		}
	}
	if b := r.rhead; b != noBuf {
		r.rhead = s.next[b]
		if r.rhead != noBuf {
			s.tail[r.rhead] = s.tail[b]
		}
		return s.br.Buf(b)[:s.res[b]], int(s.res[b]), int32(b), true
	}
	if r.rfl&rEnd != 0 {
		r.rfl &^= rEnd
		u.endTaken(fd, r)
		return nil, -int(r.rerr), -1, true
	}
	return nil, 0, -1, false
}

// endTaken follows the pop of r's end of stream or error. A read(2) on
// readiness after the end answers it again (end of stream, after a reset
// too), and the socket stays readable: so a receive is armed again (at
// the next Wait, while Read is still wanted, or once it is wanted again),
// and the kernel answers it the same way.
func (u *ioUring) endTaken(fd int, r *urec) {
	if u.recvQueued(fd, r) {
		return // the next end is queued already
	}
	r.rfl &^= rEnded
	u.queueRecv(fd, r)
}

// Unpop implements pollx.Receiver: rest goes in front of the stash, which
// is popped before the queued buffers. Rare (a reader with its own buffers
// that stopped part-way through a result), so it may allocate.
func (rv *receiver) Unpop(fd int, rest []byte) {
	u := (*ioUring)(rv)
	if len(rest) == 0 || fd < 0 || fd >= len(u.recs) || u.recs[fd].rfl&rMode == 0 {
		return
	}
	st := u.stashOf(fd)
	st.data = append(append(make([]byte, 0, len(rest)+len(st.data)), rest...), st.data...)
	if r := &u.recs[fd]; r.rfl&rWant != 0 {
		u.listRecv(fd, r) // reported at the next Wait if still reading then
	}
}

// Release implements pollx.Receiver.
func (rv *receiver) Release(id int32) {
	if id >= 0 {
		(*ioUring)(rv).recycle(uint16(id))
	}
}

// Enable implements pollx.Receiver.
func (rv *receiver) Enable() bool { return (*ioUring)(rv).bufRing() }

// Stats implements pollx.Receiver.
func (rv *receiver) Stats() (completions, arms uint64) {
	return rv.recv.completions, rv.recv.arms
}
