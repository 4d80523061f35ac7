//go:build !windows

package pipe

import "github.com/netloop/netloop/loop"

// OpenIPC is Open for an IPC pipe (see NewIPC), typically one end of a
// socketpair shared with a child process.
func OpenIPC(l *loop.Loop, fd int) (*Pipe, error) {
	p := NewIPC(l)
	if err := p.s().Open(fd); err != nil {
		p.Close(nil)
		return nil, err
	}
	return p, nil
}
