//go:build !windows

package transport

import (
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/sys"
)

// reserveKey keys the loop-local reserve descriptor.
type reserveKey struct{}

type reserve struct{ fd int }

// Close releases the spare descriptor; Loop.Close calls it.
func (r *reserve) Close() error {
	if r.fd >= 0 {
		sys.Close(r.fd)
		r.fd = -1
	}
	return nil
}

// reserveFd makes sure l holds a spare descriptor (an open /dev/null) to
// give back when accept runs out of descriptors.
func reserveFd(l *core.Loop) *reserve {
	r, _ := l.Local(reserveKey{}).(*reserve)
	if r == nil {
		r = &reserve{fd: -1}
		l.SetLocal(reserveKey{}, r)
	}
	if r.fd < 0 {
		r.fd = openReserve()
	}
	return r
}

func openReserve() int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fd, err = unix.Open("/", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1
		}
	}
	return fd
}

// shedConnections is libuv's EMFILE trick: free the spare descriptor, then
// accept and close every pending connection so clients see their
// connection closed instead of hanging, then take the spare back.
func shedConnections(l *core.Loop, lfd int) {
	r := reserveFd(l)
	if r.fd < 0 {
		return
	}
	sys.Close(r.fd)
	r.fd = -1
	for i := 0; i < 1024; i++ {
		fd, err := sys.Accept(lfd)
		if err != nil {
			break
		}
		sys.Close(fd)
	}
	r.fd = openReserve()
}
