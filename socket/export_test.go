//go:build !windows

package socket

// FdOf exposes the socket's descriptor to the external tests (-1 without
// a handle).
func FdOf(s *Socket) int {
	switch {
	case s.tcp != nil:
		return s.tcp.Fd()
	case s.pipe != nil:
		return s.pipe.Fd()
	}
	return -1
}
