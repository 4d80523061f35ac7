//go:build !windows

package socket

import (
	"fmt"
	"reflect"
)

// FdOf exposes the socket's descriptor to the external tests (-1 without
// a handle).
func FdOf(s *Socket) int {
	if s.st == nil {
		return -1
	}
	return s.st.Fd()
}

// SharedExtraWritten describes the shared zero sockExtra if something
// wrote it ("" while it is still zero).
func SharedExtraWritten() string {
	if reflect.DeepEqual(noExtra, sockExtra{}) {
		return ""
	}
	return fmt.Sprintf("%+v", noExtra)
}

// SetReadHighWaterMark sets the socket's readable high-water mark (Node's
// readableHighWaterMark), so that tests can reach it with a few bytes.
func SetReadHighWaterMark(s *Socket, n int) { s.ext().readHWM = n }
