//go:build !windows

package socket

// FdOf exposes the socket's descriptor to the external tests (-1 without
// a handle).
func FdOf(s *Socket) int {
	if s.st == nil {
		return -1
	}
	return s.st.Fd()
}
