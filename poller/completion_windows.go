//go:build windows

package poller

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// Completion-based I/O on the same completion port: handles that have no
// readiness to poll (named pipes, files) are associated with the port by
// AddHandle, their overlapped requests use a Completion's OVERLAPPED, and
// Wait turns each dequeued completion into an Event for the token given to
// Begin. The AFD polls and these completions share one port and one Wait.

// ioKey is the completion key of handles associated by AddHandle.
const ioKey = 3

// Completion is one overlapped request on a handle associated with a
// Poller by AddHandle (Windows only). Its memory is what the kernel writes
// the request's outcome into, so it must not be copied once in use; from
// Begin until Wait has dequeued its completion the Poller keeps it
// reachable, so whatever holds a Completion (a buffer the request reads
// into, say) stays alive while the kernel may write into it, even if its
// owner lets go of it. The zero value is ready for Begin.
type Completion struct {
	o       windows.Overlapped // first: what the kernel sees
	tok     Token
	ev      Interest
	pending bool // between Begin and its dequeued completion
}

// Overlapped returns the OVERLAPPED to hand to the request (ReadFile,
// WriteFile, ConnectNamedPipe...) after Begin.
func (c *Completion) Overlapped() *windows.Overlapped { return &c.o }

// Pending reports whether the request started by Begin has not completed
// yet (as far as Wait has seen).
func (c *Completion) Pending() bool { return c.pending }

// Finished reports whether the kernel has completed the request, even
// if Wait has not dequeued its completion yet (HasOverlappedIoCompleted).
func (c *Completion) Finished() bool {
	return !c.pending || windows.NTStatus(uint32(c.o.Internal)) != windows.STATUS_PENDING
}

// Result returns the byte count and the error (nil on success) of the
// request's completion, once Wait has reported it. A cancelled request
// gives ERROR_OPERATION_ABORTED.
func (c *Completion) Result() (uint32, error) {
	st := windows.NTStatus(uint32(c.o.Internal))
	if st == windows.STATUS_SUCCESS {
		return uint32(c.o.InternalHigh), nil
	}
	return uint32(c.o.InternalHigh), st.Errno()
}

// AddHandle associates h, a handle opened for overlapped I/O
// (FILE_FLAG_OVERLAPPED), with the poller's completion port, so that the
// completions of requests made on it with a Completion are reported by
// Wait. A handle stays associated until it is closed and can belong to
// one port only: a second AddHandle (on any poller) fails with
// ERROR_INVALID_PARAMETER.
func (p *Poller) AddHandle(h windows.Handle) error {
	if p.gate.closed.Load() {
		return ErrClosed
	}
	_, err := windows.CreateIoCompletionPort(h, p.port, ioKey, 0)
	return err
}

// Begin prepares c for a request the caller is about to issue on a handle
// associated by AddHandle: when its completion is dequeued, Wait reports
// Event{Token: tok, Events: ev} (whatever the bits, no interest filters
// it) and Pending turns false. If the request fails without queueing a
// completion (any error but ERROR_IO_PENDING from an overlapped call on a
// port-associated handle), call Abandon. Begin on a pending Completion
// panics: its memory still belongs to the kernel.
func (p *Poller) Begin(c *Completion, tok Token, ev Interest) {
	if c.pending {
		panic("poller: Begin on a Completion whose request is still pending")
	}
	c.o = windows.Overlapped{}
	c.tok, c.ev = tok, ev
	c.pending = true
	p.ops[c.key()] = c
}

// Abandon ends c's request that failed without queueing a completion.
func (p *Poller) Abandon(c *Completion) {
	if c.pending {
		c.pending = false
		delete(p.ops, c.key())
	}
}

// Cancel asks the kernel to end c's request on h (CancelIoEx); its
// completion still comes, with ERROR_OPERATION_ABORTED unless the request
// finished first. It returns the CancelIoEx error (ERROR_NOT_FOUND when
// there was nothing left to cancel).
func (p *Poller) Cancel(h windows.Handle, c *Completion) error {
	if !c.pending {
		return windows.ERROR_NOT_FOUND
	}
	return windows.CancelIoEx(h, &c.o)
}

func (c *Completion) key() uintptr { return uintptr(unsafe.Pointer(&c.o)) }

// completeIO handles a dequeued completion of a Completion's request.
func (p *Poller) completeIO(e *overlappedEntry) (Event, bool) {
	c, ok := p.ops[e.Overlapped]
	if !ok {
		return Event{}, false
	}
	delete(p.ops, e.Overlapped)
	c.pending = false
	return Event{Token: c.tok, Events: c.ev}, true
}

// dropIO forgets the Completion whose completion Close dequeued.
func (p *Poller) dropIO(key uintptr) {
	if c, ok := p.ops[key]; ok {
		c.pending = false
		delete(p.ops, key)
	}
}
