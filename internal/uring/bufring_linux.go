//go:build linux

package uring

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Opcodes and flags for receiving into provided buffers.
const (
	OpAsyncCancel = 14
	OpRecv        = 27

	// SQEBufferSelect (IOSQE_BUFFER_SELECT, in SQE.Flags) makes the
	// kernel pick the buffer from the group named in SQE.BufIndex.
	SQEBufferSelect = 1 << 5

	// RecvMultishot (IORING_RECV_MULTISHOT, in SQE.Ioprio) keeps a recv
	// armed after each completion (Linux 6.0).
	RecvMultishot = 1 << 1

	// CQEFBuffer (IORING_CQE_F_BUFFER): the completion used a provided
	// buffer, whose id is Flags>>CQEBufferShift.
	CQEFBuffer     = 1 << 0
	CQEBufferShift = 16
)

const (
	registerPbufRing   = 22 // IORING_REGISTER_PBUF_RING (Linux 5.19)
	unregisterPbufRing = 23
)

// bufRingEntry is struct io_uring_buf. The ring's tail is the last 16
// bits of entry 0 (struct io_uring_buf_ring overlays it on resv).
type bufRingEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

var (
	_ [16 - unsafe.Sizeof(bufRingEntry{})]struct{}
	_ [unsafe.Sizeof(bufRingEntry{}) - 16]struct{}
)

// bufReg is struct io_uring_buf_reg.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

var _ [unsafe.Sizeof(bufReg{}) - 40]struct{}

// MaxBufRingEntries is the kernel's limit on a buffer ring's size.
const MaxBufRingEntries = 1 << 15

// ErrBufRingSize is returned by RegisterBufRing for an entry count that is
// not a power of two in [1, MaxBufRingEntries], or a buffer size that is
// not positive or does not fit a CQE's result.
var ErrBufRingSize = errors.New("uring: buffer ring: entries must be a power of two up to 32768, buffer size in (0, 2 GiB)")

// BufRing is a provided buffer ring (IORING_REGISTER_PBUF_RING): a group
// of equal buffers the kernel picks from for requests with
// SQEBufferSelect, reporting the one it filled in the completion's flags.
// Both the ring of entries and the buffers are anonymous mappings outside
// the Go heap, so the garbage collector never moves what the kernel writes.
//
// Every buffer starts in the ring. A completion that carries CQEFBuffer
// hands its buffer to the caller, which reads it (Buf) and gives it back
// with Recycle. The kernel consumes entries at its own head; this side
// publishes entries by moving the tail with an atomic store. The kernel
// reports ENOBUFS to a request that finds the ring empty.
//
// A BufRing is not safe for concurrent use; it belongs to its Ring's
// goroutine.
type BufRing struct {
	ring    *Ring
	group   uint16
	mask    uint16
	size    int // of each buffer
	tail    uint16
	entries []bufRingEntry
	ringMem []byte
	bufMem  []byte
	out     int // buffers handed out by completions, not recycled yet
}

// tailShift is where the 16-bit tail sits in the 32-bit word at offset 12
// of entry 0 (bid in the other half): Recycle publishes the tail with a
// 32-bit atomic store, since sync/atomic has no 16-bit one.
var tailShift = func() uint {
	x := uint32(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return 16 // little-endian: bid is the low half
	}
	return 0
}()

// RegisterBufRing maps entries buffers of size bytes each, and a ring
// listing them, registers the ring as buffer group group, and fills it.
// Errors from the kernel come back as unix.Errno (EINVAL before Linux
// 5.19, EEXIST for a group already registered).
func (r *Ring) RegisterBufRing(group uint16, entries uint32, size int) (*BufRing, error) {
	if entries == 0 || entries > MaxBufRingEntries || entries&(entries-1) != 0 || size <= 0 || size > 1<<31-1 {
		return nil, ErrBufRingSize
	}
	b := &BufRing{ring: r, group: group, mask: uint16(entries - 1), size: size}
	ringBytes := int(entries) * int(unsafe.Sizeof(bufRingEntry{}))
	var err error
	b.ringMem, err = unix.Mmap(-1, 0, ringBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, err
	}
	b.bufMem, err = unix.Mmap(-1, 0, int(entries)*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		unix.Munmap(b.ringMem)
		return nil, err
	}
	b.entries = unsafe.Slice((*bufRingEntry)(unsafe.Pointer(&b.ringMem[0])), entries)
	reg := bufReg{ringAddr: uint64(uintptr(unsafe.Pointer(&b.ringMem[0]))), ringEntries: entries, bgid: group}
	if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), registerPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); errno != 0 {
		b.unmap()
		return nil, errno
	}
	for i := uint32(0); i < entries; i++ {
		b.put(uint16(i))
	}
	b.publish()
	return b, nil
}

// Group returns the buffer group id, for SQE.BufIndex.
func (b *BufRing) Group() uint16 { return b.group }

// Entries returns how many buffers the ring has.
func (b *BufRing) Entries() int { return int(b.mask) + 1 }

// BufSize returns the size of each buffer.
func (b *BufRing) BufSize() int { return b.size }

// Out returns how many buffers completions have handed out (Take) and
// Recycle has not given back yet.
func (b *BufRing) Out() int { return b.out }

// Forget takes n buffers off the count of those handed out, as if they
// were back in the ring: what completions the kernel dropped make the
// owner believe. For tests that play it; a negative n undoes it.
func (b *BufRing) Forget(n int) { b.out -= n }

// Take accounts for a completion that carries a buffer and returns its
// id and the buffer's first n bytes. ok is false when the completion
// carries none (no CQEFBuffer).
func (b *BufRing) Take(flags uint32, n int) (id uint16, buf []byte, ok bool) {
	if flags&CQEFBuffer == 0 {
		return 0, nil, false
	}
	id = uint16(flags >> CQEBufferShift)
	b.out++
	n = max(min(n, b.size), 0)
	return id, b.Buf(id)[:n:n], true
}

// Buf returns buffer id's memory, all of it.
func (b *BufRing) Buf(id uint16) []byte {
	off := int(id&b.mask) * b.size
	return b.bufMem[off : off+b.size : off+b.size]
}

// put writes buffer id into the next free entry without publishing it.
func (b *BufRing) put(id uint16) {
	e := &b.entries[b.tail&b.mask]
	e.addr = uint64(uintptr(unsafe.Pointer(&b.bufMem[int(id&b.mask)*b.size])))
	e.len = uint32(b.size)
	e.bid = id
	b.tail++
}

// publish hands every entry put so far to the kernel: an atomic (release)
// store of the tail, after the entries' plain stores.
func (b *BufRing) publish() {
	w := (*uint32)(unsafe.Pointer(&b.ringMem[12]))
	keep := atomic.LoadUint32(w) &^ (0xffff << tailShift) // entry 0's bid, this side's own
	atomic.StoreUint32(w, keep|uint32(b.tail)<<tailShift)
}

// Recycle gives buffer id back to the kernel. The caller must not touch
// the buffer afterwards.
func (b *BufRing) Recycle(id uint16) {
	b.out--
	b.put(id)
	b.publish()
}

// Close unregisters the ring and unmaps its memory. Requests still in
// flight that select from the group fail with ENOBUFS; cancel them first
// when their completions matter.
func (b *BufRing) Close() error {
	if b.ringMem == nil {
		return nil
	}
	var err error
	if b.ring.fd >= 0 {
		reg := bufReg{bgid: b.group}
		if _, _, errno := unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(b.ring.fd), unregisterPbufRing, uintptr(unsafe.Pointer(&reg)), 1, 0, 0); errno != 0 {
			err = errno
		}
	}
	b.unmap()
	return err
}

func (b *BufRing) unmap() {
	b.entries = nil
	unix.Munmap(b.ringMem)
	unix.Munmap(b.bufMem)
	b.ringMem, b.bufMem = nil, nil
}

// PrepRecvMultishot fills sqe with a multishot recv on fd into buffers of
// group, completions tagged with userData.
func PrepRecvMultishot(sqe *SQE, fd int, group uint16, userData uint64) {
	sqe.Opcode = OpRecv
	sqe.Fd = int32(fd)
	sqe.Flags = SQEBufferSelect
	sqe.Ioprio = RecvMultishot
	sqe.BufIndex = group
	sqe.UserData = userData
}

// PrepCancel fills sqe with a cancellation of the request tagged target;
// its own completion is tagged userData.
func PrepCancel(sqe *SQE, target, userData uint64) {
	sqe.Opcode = OpAsyncCancel
	sqe.Fd = -1
	sqe.Addr = target
	sqe.UserData = userData
}

// Multishot accept (Linux 5.19).
const (
	OpAccept = 13

	// AcceptMultishot (IORING_ACCEPT_MULTISHOT, in SQE.Ioprio) keeps an
	// accept armed after each connection it accepts.
	AcceptMultishot = 1 << 0
)

// PrepAcceptMultishot fills sqe with a multishot accept on listener fd,
// whose accepted descriptors get flags (SOCK_NONBLOCK, SOCK_CLOEXEC) and
// whose completions are tagged with userData.
func PrepAcceptMultishot(sqe *SQE, fd int, flags uint32, userData uint64) {
	sqe.Opcode = OpAccept
	sqe.Fd = int32(fd)
	sqe.Ioprio = AcceptMultishot
	sqe.OpFlags = flags
	sqe.UserData = userData
}
