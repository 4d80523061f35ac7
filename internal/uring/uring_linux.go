//go:build linux

package uring

import (
	"errors"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Setup flags (IORING_SETUP_*).
const (
	SetupCQSize       = 1 << 3
	SetupClamp        = 1 << 4
	SetupSubmitAll    = 1 << 7
	SetupCoopTaskrun  = 1 << 8
	SetupTaskrunFlag  = 1 << 9
	SetupSingleIssuer = 1 << 12
	SetupDeferTaskrun = 1 << 13
	SetupNoSQArray    = 1 << 16
)

// Features the kernel reports (IORING_FEAT_*).
const (
	FeatSingleMmap = 1 << 0
	FeatNoDrop     = 1 << 1
	FeatFastPoll   = 1 << 5
	FeatExtArg     = 1 << 8
)

// Enter flags (IORING_ENTER_*).
const (
	EnterGetEvents = 1 << 0
	EnterExtArg    = 1 << 3
)

// Opcodes (IORING_OP_*) this package's users issue.
const (
	OpNop        = 0
	OpPollAdd    = 6
	OpPollRemove = 7
)

// Poll flags, in the len field of a POLL_ADD SQE.
const (
	PollAddMulti = 1 << 0
)

// CQE flags.
const (
	CQEFMore = 1 << 1
)

// SQ ring flags (IORING_SQ_*).
const (
	sqCQOverflow = 1 << 1
	sqTaskrun    = 1 << 2
)

const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// SQE is a submission queue entry (struct io_uring_sqe), 64 bytes.
type SQE struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32 // poll32_events, rw_flags, ...
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	SpliceFdIn  int32
	Addr3       uint64
	_           uint64
}

// CQE is a completion queue entry (struct io_uring_cqe), 16 bytes.
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

var (
	_ [64 - unsafe.Sizeof(SQE{})]struct{}
	_ [unsafe.Sizeof(SQE{}) - 64]struct{}
	_ [16 - unsafe.Sizeof(CQE{})]struct{}
	_ [unsafe.Sizeof(CQE{}) - 16]struct{}
)

type sqOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqOffsets
	cqOff                                                                  cqOffsets
}

var _ [unsafe.Sizeof(params{}) - 120]struct{}

// kernelTimespec is struct __kernel_timespec: 64-bit fields on every
// architecture, unlike unix.Timespec on 32-bit ones.
type kernelTimespec struct {
	sec, nsec int64
}

type geteventsArg struct {
	sigmask     uint64
	sigmaskSz   uint32
	minWaitUsec uint32
	ts          uint64
}

// Params chooses how New sets a ring up.
type Params struct {
	// Entries is the submission queue size (rounded up to a power of two
	// by the kernel, clamped to its maximum).
	Entries uint32
	// CQEntries, if non-zero, sizes the completion queue (default: twice
	// Entries).
	CQEntries uint32
	// Flags are the IORING_SETUP_* flags the ring must have.
	Flags uint32
	// Optional flags are tried first and dropped, in groups, when the
	// kernel refuses them with EINVAL (see optionalGroups).
	Optional uint32
}

// optionalGroups lists the optional flags in the order New gives them up:
// DEFER_TASKRUN needs SINGLE_ISSUER, TASKRUN_FLAG needs a taskrun mode.
var optionalGroups = []uint32{
	SetupDeferTaskrun,
	SetupSingleIssuer,
	SetupTaskrunFlag,
	SetupCoopTaskrun,
	SetupNoSQArray,
	SetupSubmitAll,
}

// ErrNoExtArg is returned by New when the kernel lacks IORING_FEAT_EXT_ARG
// (Linux < 5.11), which Wait's timeouts need.
var ErrNoExtArg = errors.New("uring: kernel lacks IORING_FEAT_EXT_ARG")

// ErrNoNoDrop is returned by New when the kernel lacks IORING_FEAT_NODROP
// (Linux < 5.5): completions would be dropped when the completion queue is
// full.
var ErrNoNoDrop = errors.New("uring: kernel lacks IORING_FEAT_NODROP")

// setupErr, when set, is returned by io_uring_setup instead of calling
// the kernel: tests simulate a refusing kernel (seccomp's EPERM, ENOSYS).
var setupErr atomic.Pointer[error]

// InjectSetupError makes every later New fail as if io_uring_setup had
// returned err, until the returned function is called. For tests.
func InjectSetupError(err error) (restore func()) {
	setupErr.Store(&err)
	return func() { setupErr.Store(nil) }
}

// enterErr, when set, is returned by io_uring_enter instead of calling
// the kernel: tests simulate a kernel that cannot take submissions
// (EAGAIN when it is out of memory for requests, EBUSY on older kernels
// while completions overflow).
var enterErr atomic.Pointer[error]

// InjectEnterError makes every later Submit and SubmitAndWait fail with
// err, submitting nothing, until the returned function is called. For
// tests.
func InjectEnterError(err error) (restore func()) {
	enterErr.Store(&err)
	return func() { enterErr.Store(nil) }
}

func setup(entries uint32, p *params) (int, error) {
	if e := setupErr.Load(); e != nil {
		return -1, *e
	}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// Ring is one io_uring instance with its mapped queues.
type Ring struct {
	fd       int
	flags    uint32 // setup flags in effect
	features uint32

	sqMem, cqMem, sqeMem []byte

	sqHead, sqTail, sqFlags *uint32
	sqMask, sqEntries       uint32
	sqes                    []SQE
	sqeTail                 uint32 // SQEs handed out; published to *sqTail by flush

	cqHead, cqTail *uint32
	cqOverflow     *uint32
	cqMask         uint32
	cqes           []CQE

	// The wait timeout and its argument block live here, in the heap that
	// never moves, not on a stack that may be copied before the call.
	ts  kernelTimespec
	arg geteventsArg
}

// New sets up a ring. Errors from io_uring_setup come back as unix.Errno
// (EPERM under a seccomp policy that forbids io_uring, ENOSYS on kernels
// without it).
func New(pr Params) (*Ring, error) {
	optional := pr.Optional
	for {
		var p params
		p.flags = pr.Flags | optional
		if pr.CQEntries != 0 {
			p.flags |= SetupCQSize
			p.cqEntries = pr.CQEntries
		}
		fd, err := setup(pr.Entries, &p)
		if err == unix.EINVAL && optional != 0 {
			for _, g := range optionalGroups {
				if optional&g != 0 {
					optional &^= g
					break
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		r := &Ring{fd: fd, flags: p.flags, features: p.features}
		if err := r.mmap(&p); err != nil {
			r.Close()
			return nil, err
		}
		if p.features&FeatExtArg == 0 {
			r.Close()
			return nil, ErrNoExtArg
		}
		if p.features&FeatNoDrop == 0 {
			// Every kernel with EXT_ARG has NODROP (5.5); checked
			// anyway, since without it a full completion queue drops
			// completions, and a dropped one-shot poll completion
			// silences its registration for good.
			r.Close()
			return nil, ErrNoNoDrop
		}
		return r, nil
	}
}

func (r *Ring) mmap(p *params) error {
	sqSize := uintptr(p.sqOff.array) + uintptr(p.sqEntries)*4
	cqSize := uintptr(p.cqOff.cqes) + uintptr(p.cqEntries)*unsafe.Sizeof(CQE{})
	single := p.features&FeatSingleMmap != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	r.sqMem, err = unix.Mmap(r.fd, offSQRing, int(sqSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return err
	}
	if single {
		r.cqMem = r.sqMem
	} else {
		r.cqMem, err = unix.Mmap(r.fd, offCQRing, int(cqSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return err
		}
	}
	r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(uintptr(p.sqEntries)*unsafe.Sizeof(SQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return err
	}
	sq := unsafe.Pointer(&r.sqMem[0])
	r.sqHead = (*uint32)(unsafe.Add(sq, p.sqOff.head))
	r.sqTail = (*uint32)(unsafe.Add(sq, p.sqOff.tail))
	r.sqFlags = (*uint32)(unsafe.Add(sq, p.sqOff.flags))
	r.sqMask = *(*uint32)(unsafe.Add(sq, p.sqOff.ringMask))
	r.sqEntries = *(*uint32)(unsafe.Add(sq, p.sqOff.ringEntries))
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	if r.flags&SetupNoSQArray == 0 {
		// The indirection array maps ring slots to SQE indexes; keep it
		// the identity so slot i always submits sqes[i].
		arr := unsafe.Slice((*uint32)(unsafe.Add(sq, p.sqOff.array)), p.sqEntries)
		for i := range arr {
			arr[i] = uint32(i)
		}
	}
	r.sqeTail = atomic.LoadUint32(r.sqTail)
	cq := unsafe.Pointer(&r.cqMem[0])
	r.cqHead = (*uint32)(unsafe.Add(cq, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(cq, p.cqOff.tail))
	r.cqOverflow = (*uint32)(unsafe.Add(cq, p.cqOff.overflow))
	r.cqMask = *(*uint32)(unsafe.Add(cq, p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*CQE)(unsafe.Add(cq, p.cqOff.cqes)), p.cqEntries)
	return nil
}

// Fd returns the ring's descriptor.
func (r *Ring) Fd() int { return r.fd }

// Flags returns the IORING_SETUP_* flags the ring was created with (after
// New dropped the optional ones the kernel refused).
func (r *Ring) Flags() uint32 { return r.flags }

// Features returns the IORING_FEAT_* bits the kernel reported.
func (r *Ring) Features() uint32 { return r.features }

// SQEntries returns the submission queue's size.
func (r *Ring) SQEntries() uint32 { return r.sqEntries }

// CQEntries returns the completion queue's size.
func (r *Ring) CQEntries() uint32 { return uint32(len(r.cqes)) }

// GetSQE returns the next free submission entry, zeroed, or nil when the
// queue is full (submit first). The entry is submitted by the next Enter.
func (r *Ring) GetSQE() *SQE {
	head := atomic.LoadUint32(r.sqHead)
	if r.sqeTail-head >= r.sqEntries {
		return nil
	}
	e := &r.sqes[r.sqeTail&r.sqMask]
	*e = SQE{}
	r.sqeTail++
	return e
}

// Pending returns how many entries GetSQE handed out that the kernel has
// not consumed yet.
func (r *Ring) Pending() uint32 {
	return r.sqeTail - atomic.LoadUint32(r.sqHead)
}

// flush publishes the filled entries to the kernel and returns how many
// await submission.
func (r *Ring) flush() uint32 {
	atomic.StoreUint32(r.sqTail, r.sqeTail)
	return r.sqeTail - atomic.LoadUint32(r.sqHead)
}

// Submit hands the filled entries to the kernel without waiting, and
// returns how many it consumed.
func (r *Ring) Submit() (int, error) {
	n := r.flush()
	if n == 0 {
		return 0, nil
	}
	return r.enter(n, 0, 0, nil, true)
}

// SubmitAndWait submits the filled entries and waits until at least
// minComplete completions are queued, or timeoutNs nanoseconds pass
// (negative: no limit; zero: do not wait, but do run the ring's pending
// completion work). A timeout returns ETIME; a signal EINTR.
func (r *Ring) SubmitAndWait(minComplete uint32, timeoutNs int64) error {
	n := r.flush()
	if timeoutNs == 0 {
		_, err := r.enter(n, 0, EnterGetEvents, nil, true)
		return err
	}
	if timeoutNs < 0 {
		_, err := r.enter(n, minComplete, EnterGetEvents, nil, false)
		return err
	}
	r.ts = kernelTimespec{sec: timeoutNs / 1e9, nsec: timeoutNs % 1e9}
	r.arg = geteventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.ts)))}
	_, err := r.enter(n, minComplete, EnterGetEvents|EnterExtArg, &r.arg, false)
	return err
}

func (r *Ring) enter(toSubmit, minComplete, flags uint32, arg *geteventsArg, raw bool) (int, error) {
	if e := enterErr.Load(); e != nil {
		return 0, *e
	}
	var argp, argSz uintptr
	if arg != nil {
		argp, argSz = uintptr(unsafe.Pointer(arg)), unsafe.Sizeof(*arg)
	}
	var n uintptr
	var errno unix.Errno
	if raw {
		// Nothing blocks: skip the scheduler hand-off of a blocking call.
		n, _, errno = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), argp, argSz)
	} else {
		n, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(minComplete), uintptr(flags), argp, argSz)
	}
	// argp is an address taken before the call, not in its argument
	// list, so nothing else tells the compiler that arg (inside r) must
	// stay alive until the kernel has read it.
	runtime.KeepAlive(arg)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// PeekCQE returns the oldest unconsumed completion, or nil if the queue is
// empty. The entry stays valid until Advance.
func (r *Ring) PeekCQE() *CQE {
	head := *r.cqHead // only this side writes the head
	if head == atomic.LoadUint32(r.cqTail) {
		return nil
	}
	return &r.cqes[head&r.cqMask]
}

// Advance consumes n completions, handing their slots back to the kernel.
func (r *Ring) Advance(n uint32) {
	atomic.StoreUint32(r.cqHead, *r.cqHead+n)
}

// CQReady returns how many completions are queued.
func (r *Ring) CQReady() uint32 {
	return atomic.LoadUint32(r.cqTail) - *r.cqHead
}

// Dropped returns how many completions the kernel has dropped so far (the
// CQ ring's overflow counter): completions it could neither queue nor keep
// aside because memory ran out. Kernels since 5.19 also fail the next
// io_uring_enter with EBADR once after a drop.
func (r *Ring) Dropped() uint32 {
	return atomic.LoadUint32(r.cqOverflow)
}

// NeedsEnter reports whether the kernel holds completions the ring does
// not show yet: overflowed CQEs, or (with TASKRUN_FLAG) task work that
// only an io_uring_enter runs.
func (r *Ring) NeedsEnter() bool {
	return atomic.LoadUint32(r.sqFlags)&(sqCQOverflow|sqTaskrun) != 0
}

// Close unmaps the queues and closes the ring, which cancels every
// request still in flight. A Ring method called after Close panics (nil
// dereference) rather than touch addresses that may be mapped again by
// then.
func (r *Ring) Close() error {
	r.sqHead, r.sqTail, r.sqFlags, r.cqHead, r.cqTail, r.cqOverflow = nil, nil, nil, nil, nil, nil
	r.sqes, r.cqes = nil, nil
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
		r.sqeMem = nil
	}
	if r.cqMem != nil && len(r.cqMem) > 0 && (len(r.sqMem) == 0 || &r.cqMem[0] != &r.sqMem[0]) {
		unix.Munmap(r.cqMem)
	}
	r.cqMem = nil
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
		r.sqMem = nil
	}
	if r.fd < 0 {
		return nil
	}
	err := unix.Close(r.fd)
	r.fd = -1
	return err
}
