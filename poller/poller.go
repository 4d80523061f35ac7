// Package poller is a readiness poller over the operating system's event
// API: epoll on Linux, kqueue on macOS and the BSDs, AFD polls on an I/O
// completion port on Windows. netloop's event loop is built on it, and it
// can be used on its own the way mio's Poll is in Rust: register
// descriptors under tokens of your choosing, wait, and dispatch the events
// by token.
//
//	p, err := poller.New()
//	if err != nil { ... }
//	defer p.Close()
//	if err := p.Add(fd, poller.Token(7), poller.Read); err != nil { ... }
//	events := make([]poller.Event, 256)
//	for {
//		n, err := p.Wait(events, -1)
//		if err != nil { ... }
//		for _, ev := range events[:n] {
//			// Look ev.Token up in your own table, check that it is still
//			// current (see "Stale events"), then read until EAGAIN.
//		}
//	}
//
// On Windows the fd argument carries a SOCKET handle, and only sockets can
// be registered (see "Windows").
//
// # Tokens
//
// Add, Modify and Delete name a registration by its descriptor; Wait
// reports it by the Token last given to Add or Modify, and Event carries no
// descriptor. The poller does not interpret tokens and does not check that
// they are unique. It keeps the token in the kernel's registration where
// the token fits (epoll's 64-bit data; kqueue's udata on 64-bit systems)
// and in its own per-descriptor record otherwise. ReservedToken is the one
// value callers may not use: Add and Modify refuse it with ErrReservedToken
// on every platform, so code that runs on one backend runs on all.
//
// # Readiness
//
// Registrations are level-triggered: a descriptor that stays readable is
// reported by every Wait until it is drained or its Read interest is
// removed. Readiness is a hint, not a promise:
//
//   - Spurious events: by the time the caller acts on an event, the
//     operation may block again (another reader drained the descriptor, the
//     kernel dropped a datagram with a bad checksum). Use non-blocking
//     descriptors and treat EAGAIN as "wait for the next event".
//   - Spurious wake-ups: Wait may return zero events before its timeout: on
//     a Wake, or when a signal interrupts the wait (EINTR is reported as
//     0, nil).
//   - Extra bits: Hup, Err and RdHup are reported whenever they apply,
//     whatever the interest. On epoll and Windows, Hup and Err are
//     reported even for a registration whose interest is empty.
//
// How many events one registration yields per Wait differs by backend:
//
//   - epoll: at most one event per registration, with all its bits merged.
//   - kqueue: read and write readiness are separate kernel filters, so a
//     registration with Read|Write interest can yield two events in one
//     Wait, one carrying Read (and RdHup) and one carrying Write (and Hup),
//     under the same token.
//   - Windows (AFD): at most one event per registration, as on epoll.
//
// Callers must not assume one event per token per batch.
//
// # Event bits
//
// Read and Write are interest bits and event bits; Hup, Err and RdHup are
// only reported. What sets each bit:
//
//	bit    epoll                          kqueue
//	Read   EPOLLIN or EPOLLPRI            EVFILT_READ fired
//	Write  EPOLLOUT                       EVFILT_WRITE fired
//	RdHup  EPOLLRDHUP: the peer shut      EV_EOF on EVFILT_READ: the peer
//	       down its writing side; only    shut down its writing side, or a
//	       asked for with Read interest   pipe's writer is gone
//	Hup    EPOLLHUP: closed in both       EV_EOF on EVFILT_WRITE: the peer
//	       directions (also a socket      is gone and writes would fail
//	       never connected), or a pipe's
//	       other end is gone
//	Err    EPOLLERR: an error is pending  EV_ERROR, or EV_EOF with a
//	       (read it with SO_ERROR)        non-zero fflags (the socket error)
//
// The same condition can set different bits on different backends: the
// read end of a pipe whose writer closed gets Hup on epoll and Read|RdHup
// on kqueue. Portable callers treat Read, RdHup, Hup and Err alike as
// "read until EOF or an error", and Write, Hup and Err alike as "write and
// see what happens".
//
// # Stale events
//
// After Delete returns, no later Wait reports the registration. Closing a
// descriptor removes its registration as well, with a difference: kqueue
// drops it when that descriptor is closed, epoll only when every
// descriptor referring to the same open file is closed. A duplicate (dup,
// fork, SCM_RIGHTS) keeps an epoll registration alive and reporting under
// its token, so Delete a descriptor that may have duplicates before
// closing it.
//
// The events Wait returns are a snapshot. A caller that deletes, closes or
// re-registers descriptors while it works through a batch still holds
// events for them, and the descriptor number may already be registered
// again under a new token. Such callers must check each event's token
// against their own table before acting on it. A generation in the token,
// bumped whenever the token's owner is released, makes that check a
// comparison; netloop's loop does this.
//
// On the io_uring backend (see "io_uring"), a registration's poll holds a
// reference to the open file, so closing the descriptor neither ends the
// registration nor closes the file (a socket is not shut down, its peer
// sees no EOF) until the poll is removed: always Delete before closing.
// A registration whose descriptor was closed anyway ends when its next
// poll fails, with an Err event if it had interest.
//
// # io_uring
//
// On Linux, setting NETLOOP_IOURING=1 in the environment makes New use
// io_uring instead of epoll (Backend then reports "io_uring"). When the
// kernel refuses io_uring_setup (EPERM under a seccomp policy such as
// Kubernetes' default, ENOSYS) or lacks what the backend needs
// (EXT_ARG, multishot polls: Linux 5.13), New falls back to epoll silently.
// The backend keeps epoll's contract, level-triggered readiness included,
// with one-shot IORING_OP_POLL_ADD requests armed again at the start of
// the next Wait; Add, Modify and Delete are queued and submitted with the
// next Wait, in the same io_uring_enter. The exceptions: Delete of a
// descriptor whose poll is in flight submits at once, so that a close
// right after it closes the file; Add checks the descriptor with fstat
// (EBADF, and EPERM for regular files and directories, as epoll); Modify
// and Delete do not, and a descriptor closed behind its registration is
// found out at the next Wait (see "Stale events"). The backend uses no
// SQPOLL thread and none of the single-issuer setup flags, since a
// poller may be used from more than one thread over its life.
//
// netloop's own streams go further on this backend (Linux 6.0 or later):
// through a private door (internal/pollx), a stream reading into the
// loop's buffers gets a multishot IORING_OP_RECV into a provided buffer
// ring that the poller maps outside the Go heap, instead of a poll for
// readability and a read(2) per message; and a listener (Linux 5.19 or
// later) gets one multishot IORING_OP_ACCEPT instead of a poll and an
// accept4(2) per connection, whose descriptors Add then registers
// without its fstat. Nothing of it is exported: the public API and its
// contract are the same on every backend.
//
// # Wake-ups
//
// Wake makes a blocked Wait return early, or the next Wait if none is
// blocked. It is not reported as an event. Wake-ups coalesce: while one
// is pending (sent and not yet consumed by a Wait), further Wakes do
// nothing and return nil, so a burst of Wakes costs one system call and
// ends one Wait. The guarantee to rely on: publish the work (behind a
// mutex or an atomic), then call Wake, and have the poller's owner check
// for work after every Wait. That owner then sees the work without
// waiting out a timeout.
//
// # Threading
//
// A Poller belongs to one goroutine at a time. Add, Modify, Delete, Wait
// and Close are not safe for concurrent use; in netloop they are called
// only from the loop's goroutine (they are loop-affine). Wake is the
// exception: it is safe from any goroutine, concurrently with every other
// method, Close included. A Wake that loses the race with Close returns
// ErrClosed and touches no descriptor.
//
// # Errors
//
// Add, Modify and Delete return ErrClosed, ErrReservedToken, or the
// kernel's error as a unix.Errno. The usual errnos are EEXIST (epoll: fd is
// already registered), ENOENT (fd is not registered), EBADF (fd is not
// open) and EPERM (epoll cannot poll regular files). kqueue changes the
// read and write filters one at a time: after a failed Modify, the
// registration keeps the part of the change that succeeded. kqueue cannot
// tell a registration that close(2) removed from a live one, so Add on an
// fd it still has a record for replaces that registration instead of
// failing with EEXIST. On Windows the errors are windows.Errno values:
// ERROR_ALREADY_EXISTS, ERROR_NOT_FOUND, or the Winsock error of
// WSAIoctl(SIO_BASE_HANDLE) (WSAENOTSOCK) when Add is given a handle that
// is not a socket.
//
// # Windows
//
// The Windows backend polls sockets through AFD, the driver under Winsock,
// the way wepoll, libuv and mio do: each registration has one
// IOCTL_AFD_POLL outstanding on the poller's \Device\Afd handle, and Wait
// collects the completions from the poller's I/O completion port
// (GetQueuedCompletionStatusEx). The fd argument of Add, Modify and Delete
// is a SOCKET handle converted to int (int(s) for a windows.Handle s);
// the poller polls its base provider socket (SIO_BASE_HANDLE). Other
// handles (files, named pipes) cannot be registered for readiness; they
// are completion-based instead: AddHandle associates one with the
// poller's port, each overlapped request on it uses a Completion
// prepared by Begin, and Wait reports the request's completion as an
// event for the token given to Begin (Windows only; netloop's named
// pipes work this way).
//
// A completed poll is re-issued at the start of the next Wait, after the
// caller has had its chance to drain the socket, so registrations are
// level-triggered as on epoll: a socket still readable completes its new
// poll at once and is reported again. Add and Modify take effect at the
// next Wait; a Modify that changes the events an outstanding poll waits
// for cancels it, and a cancelled poll reports nothing. Delete cancels
// the outstanding poll; the poller keeps the memory the kernel writes into
// until the cancellation completes, and Close waits for those
// completions.
//
// AFD event bits map onto this package's bits as follows:
//
//	AFD_POLL_*                     bit
//	RECEIVE, RECEIVE_EXPEDITED,    Read
//	ACCEPT
//	SEND                           Write
//	DISCONNECT (peer shut down     Read|RdHup (asked for with Read)
//	its writing side)
//	ABORT (connection reset)       Hup
//	CONNECT_FAIL                   Err (read the error with SO_ERROR)
//	LOCAL_CLOSE (the socket was    nothing: the registration ends, as
//	closed)                        if Delete had been called
//
// Closing a socket ends its registration when a Wait handles the
// LOCAL_CLOSE completion. Windows may hand the same handle value to a new
// socket before that, and Add of the new socket then fails with
// ERROR_ALREADY_EXISTS: Delete a socket before closing it.
//
// ABORT, CONNECT_FAIL and LOCAL_CLOSE are asked for whatever the
// interest, so a registration with empty interest reports Hup and Err
// only. Events with no bit left after filtering by interest are not
// reported.
//
// The suite runs under Wine 8.0 on Linux (make wine-test). Wine differs
// from Windows in two ways worth knowing: SIO_BASE_HANDLE succeeds on
// handles that are not sockets, so Add does not refuse them there; and
// recv after a peer's reset returns 0 (EOF) instead of WSAECONNRESET,
// although the ABORT event (Hup) is reported as on Windows.
package poller

import (
	"errors"
	"runtime"
	"sync/atomic"
)

// Token identifies a registration in the events Wait returns. Its meaning
// is the caller's; see ReservedToken for the one value that is refused.
type Token uint64

// ReservedToken is used by the poller itself (the Linux backend registers
// its wake-up eventfd under it). Add and Modify refuse it with
// ErrReservedToken on every platform.
const ReservedToken Token = 1<<64 - 1

// Interest is a set of readiness kinds: what a registration waits for, and
// what an Event reports.
type Interest uint8

// Interest and event bits. Read and Write are both interest and event bits;
// Hup, Err and RdHup are only ever reported (see "Event bits" in the
// package documentation).
const (
	Read  Interest = 1 << iota // readable (or a pending connection on a listener)
	Write                      // writable (or a finished non-blocking connect)
	Hup                        // hung up: closed both ways, or the peer is gone
	Err                        // an error is pending on the descriptor
	RdHup                      // the peer shut down its writing side
)

// Event reports readiness for one registration.
type Event struct {
	Token  Token    // the token of the registration, as last given to Add or Modify
	Events Interest // what happened: Read, Write, Hup, Err, RdHup
}

// ErrClosed is returned by methods called after Close, and by a second
// Close.
var ErrClosed = errors.New("poller: closed")

// ErrNotSupported is returned by New and every method on platforms without
// a backend. Every platform the package builds for has one now (epoll,
// kqueue, AFD on Windows); the value stays for callers that check it.
var ErrNotSupported = errors.New("poller: not supported on this platform yet")

// ErrReservedToken is returned by Add and Modify when given ReservedToken.
var ErrReservedToken = errors.New("poller: token is reserved")

// MaxEvents is the largest batch one Wait returns; a longer events slice is
// filled up to MaxEvents.
const MaxEvents = 1024

// msTimeout converts a wait timeout in milliseconds, where a negative value
// means "block until an event or a wake-up".
func msTimeout(ms int) int {
	if ms < 0 {
		return -1
	}
	return ms
}

// wakeGate coalesces Wake calls and keeps them off the descriptors Close
// releases. Without it a Wake racing with Close could signal a descriptor
// number that already belongs to another file.
type wakeGate struct {
	pending atomic.Int32 // 1 from a Wake's signal until a Wait consumes it
	inWake  atomic.Int32 // Wakes past their closed check, still signalling
	closed  atomic.Bool
}

// enter reports whether the calling Wake must signal the kernel; if so,
// the caller signals and then calls exit.
func (g *wakeGate) enter() (signal bool, err error) {
	if g.closed.Load() {
		return false, ErrClosed
	}
	if !g.pending.CompareAndSwap(0, 1) {
		return false, nil // a wake-up is already pending: this one joins it
	}
	// Announce before checking closed; Close sets closed before reading
	// inWake. Go's atomics are sequentially consistent, so at least one
	// side sees the other: either this Wake backs off or Close waits.
	g.inWake.Add(1)
	if g.closed.Load() {
		g.inWake.Add(-1)
		return false, ErrClosed
	}
	return true, nil
}

// exit ends a signal that enter allowed. A failed signal clears pending;
// otherwise every later Wake would take the pending wake-up for granted.
func (g *wakeGate) exit(err error) error {
	if err != nil {
		g.pending.Store(0)
	}
	g.inWake.Add(-1)
	return err
}

// consumed is called by Wait after draining the wake-up source.
func (g *wakeGate) consumed() { g.pending.Store(0) }

// close marks the gate closed and waits for signals in flight, after
// which the wake-up descriptors may be released.
func (g *wakeGate) close() error {
	if g.closed.Swap(true) {
		return ErrClosed
	}
	for g.inWake.Load() != 0 {
		runtime.Gosched() // a Wake is inside one write(2) or kevent(2)
	}
	return nil
}
