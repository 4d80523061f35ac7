//go:build windows

package poller

// Poller is a placeholder on Windows, where an AFD poller (IOCTL_AFD_POLL
// over an I/O completion port) is planned but not written yet. It has the
// method set of the other platforms; New and every method return
// ErrNotSupported.
type Poller struct{}

// New reports that netloop does not support Windows yet.
func New() (*Poller, error) { return nil, ErrNotSupported }

// Add is unsupported on Windows.
func (p *Poller) Add(fd int, tok Token, in Interest) error { return ErrNotSupported }

// Modify is unsupported on Windows.
func (p *Poller) Modify(fd int, tok Token, in Interest) error { return ErrNotSupported }

// Delete is unsupported on Windows.
func (p *Poller) Delete(fd int) error { return ErrNotSupported }

// Wait is unsupported on Windows.
func (p *Poller) Wait(events []Event, timeoutMs int) (int, error) { return 0, ErrNotSupported }

// Wake is unsupported on Windows.
func (p *Poller) Wake() error { return ErrNotSupported }

// Close is unsupported on Windows.
func (p *Poller) Close() error { return ErrNotSupported }
