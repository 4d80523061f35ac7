// Package pollx is the private door between the poller and the loop's
// internals for what the poller's public API does not show: the io_uring
// backend's multishot receive into a provided buffer ring and its
// multishot accept (Linux, opt-in with NETLOOP_IOURING=1; see Accept for
// the latter).
//
// A registration whose interest carries Recv is in receive mode: while it
// also wants Read, the poller keeps a multishot IORING_OP_RECV armed on
// the descriptor instead of polling it for readability, and its results
// wait in a queue per descriptor. Wait reports such a registration with an
// event carrying Recv; the owner then takes the results with Pop, in
// order, and gives each buffer back with Release after use. When Read is
// removed from the interest the poller cancels the receive and copies the
// results still queued (and those that arrive later) out of the ring, to
// be popped first once Read is wanted again. Write interest keeps using
// readiness.
package pollx

import "syscall"

// Recv is the interest bit of receive mode and the event bit that reports
// queued results (poller.Interest's bit 5, which no public bit uses).
const Recv = 1 << 5

// Receiver is the receive-mode side of a poller, loop-affine as the
// poller is.
type Receiver interface {
	// Pop takes fd's oldest result: n > 0 bytes in buf (valid until
	// Release(id)), n == 0 at end of stream, n < 0 a negated errno.
	// ok is false when nothing is queued. After the end (or an error)
	// is taken, the kernel is asked again while Read is wanted, and
	// answers as a read(2) would (end of stream again).
	Pop(fd int) (buf []byte, n int, id int32, ok bool)
	// Release gives back the buffer Pop lent under id (id < 0: none).
	Release(id int32)
	// Unpop puts rest, the part of the last popped result its reader did
	// not take, back in front of fd's results (a copy: the caller still
	// releases the buffer), to be popped first.
	Unpop(fd int, rest []byte)
	// Enable sets the buffer ring up if it is not yet, and reports
	// whether receive mode works: false when the kernel refused the ring,
	// after which it is off for good (ReceiverOf returns nil, and a
	// registration with Recv is polled for readability). Call it before
	// the first registration with Recv.
	Enable() bool
	// Stats reports how many receive completions carried data and how
	// many receives were armed, since the poller was created.
	Stats() (completions, arms uint64)
}

// ReceiverOf returns p's Receiver, or nil when p (a *poller.Poller) cannot
// receive into a buffer ring: not the io_uring backend, or a kernel
// without multishot receive (Linux 6.0). The poller package sets it.
var ReceiverOf = func(p any) Receiver { return nil }

// MaxResult bounds the bytes of one result Pop returns (the size of a
// loop's shared read buffer, which the stash is popped in pieces of).
const MaxResult = 64 << 10

// Ring geometry of the buffer ring a poller sets up when its first
// registration enters receive mode: BufEntries buffers (a power of two)
// of BufSize bytes. Tests shrink them to exercise an empty ring.
var (
	BufEntries uint32 = 1024
	BufSize           = 4096 // at most MaxResult
)

// RefuseBufRing, when not nil, is the error the poller's buffer ring
// registration fails with instead of asking the kernel: tests play a
// kernel that refuses the ring.
var RefuseBufRing error

// Accept is the interest bit of accept mode (poller.Interest's bit 7,
// which no public bit uses). A listening socket's registration whose
// interest carries Accept has, while it also wants Read, a multishot
// IORING_OP_ACCEPT armed instead of a poll for readability: the kernel
// accepts connections as they come and their descriptors queue per
// listener. Wait reports the registration with Read while some are
// queued (again at the next Wait if the owner leaves some), and the owner
// takes them with Acceptor.Pop. When Read is removed from the interest
// the accept is cancelled, and new connections wait in the kernel's
// backlog as on readiness; those queued stay, to be popped first. Delete
// closes the descriptors still queued.
const Accept = 1 << 7

// Acceptor is the accept-mode side of a poller, loop-affine as the
// poller is.
type Acceptor interface {
	// Pop takes listener fd's oldest result: an accepted descriptor
	// (non-blocking and close-on-exec, as accept4 makes them), or an
	// error (newfd < 0, err set) such as EMFILE, after which the kernel
	// is asked again only once it was popped. ok is false when nothing
	// is queued.
	Pop(fd int) (newfd int, err syscall.Errno, ok bool)
	// Accepting reports whether the kernel accepts fd's connections: when
	// it does not (a registration without Accept; one polled for
	// readability for now, out of descriptors; every one after the
	// kernel refused the multishot accept), the owner calls accept4
	// itself once Pop has nothing left.
	Accepting(fd int) bool
	// Plain ends the kernel's accepting for listener fd for good, keeping
	// what it queued: fd is polled for readability from the next Wait on,
	// Pop hands out what was accepted before (completions still in
	// flight included), and Accepting turns false, after which the owner
	// calls accept4. For a listener whose owner must be able to drain
	// every pending connection at once (see transport's PlainAccept).
	Plain(fd int)
	// Stats reports how many descriptors the kernel accepted into the
	// queues and how many multishot accepts were armed, since the poller
	// was created.
	Stats() (accepted, arms uint64)
}

// AcceptorOf returns p's Acceptor, or nil when p (a *poller.Poller) cannot
// accept in the kernel: not the io_uring backend, or a kernel without
// multishot accept (Linux 5.19). The poller package sets it.
var AcceptorOf = func(p any) Acceptor { return nil }
