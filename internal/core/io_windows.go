package core

import (
	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/poller"
)

// closeRemovesRegistration: closesocket does not end an AFD registration
// in the poller's table (it ends with a completion, later), and a new
// socket may get the same handle value at once, so watchers always Delete.
const closeRemovesRegistration = false

// UseCompletions turns w, fresh from Init, into a completion
// watcher (Windows named pipes): it is not registered with the poller's
// readiness polls, Start and Stop do nothing, and its handler receives
// the events of the requests begun with Begin, whatever their bits.
func (w *IOWatcher) UseCompletions() {
	w.bits |= bitComplete
	w.interest = poller.Read | poller.Write
}

// AssociateHandle associates h, opened for overlapped I/O, with the
// loop's completion port (see poller.Poller.AddHandle).
func (l *Loop) AssociateHandle(h windows.Handle) error { return l.poller.AddHandle(h) }

// Begin prepares c for a request the caller issues next; its completion
// reaches w's handler as ev (see poller.Poller.Begin). w must be a
// completion watcher.
func (w *IOWatcher) Begin(c *poller.Completion, ev poller.Interest) {
	w.loop().poller.Begin(c, w.tok, ev)
}

// Abandon ends c's request that failed without queueing a completion.
func (l *Loop) Abandon(c *poller.Completion) { l.poller.Abandon(c) }

// CancelIO asks the kernel to end c's request on h (CancelIoEx); its
// completion still comes.
func (l *Loop) CancelIO(h windows.Handle, c *poller.Completion) error { return l.poller.Cancel(h, c) }
