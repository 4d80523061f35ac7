// Package poller is netloop's thin layer over the operating system's
// readiness API: epoll on Linux, kqueue on the BSDs and macOS. (Windows has a
// stub that reports it is not supported yet.)
//
// A Poller is owned by one loop goroutine. Add, Modify, Delete and Wait must
// be called from that goroutine; Wake is the only method that is safe from
// any goroutine. Registration is level-triggered: an fd that stays readable
// is reported by every Wait until it is drained or its interest removed.
package poller

import "errors"

// Interest is the set of readiness kinds a file descriptor is watched for.
type Interest uint8

// Interest and event bits. Read and Write are both interest and event bits;
// Hup, Err and RdHup are only ever reported.
const (
	Read  Interest = 1 << iota // readable (or a pending connection on a listener)
	Write                      // writable (or a finished non-blocking connect)
	Hup                        // the fd hung up (both directions closed)
	Err                        // an error is pending on the fd (read SO_ERROR)
	RdHup                      // the peer shut down its writing side
)

// Event reports readiness for one file descriptor.
type Event struct {
	Fd     int32    // the descriptor; -1 when the event was invalidated
	Events Interest // what happened: Read, Write, Hup, Err, RdHup
}

// ErrClosed is returned by methods called after Close.
var ErrClosed = errors.New("poller: closed")

// ErrNotSupported is returned by New on platforms without a poller yet.
var ErrNotSupported = errors.New("poller: not supported on this platform yet")

// MaxEvents is the size of the batch the loop hands to Wait.
const MaxEvents = 1024

// msTimeout converts a wait timeout in milliseconds, where a negative value
// means "block until an event or a wake-up".
func msTimeout(ms int) int {
	if ms < 0 {
		return -1
	}
	return ms
}
