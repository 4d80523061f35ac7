package socket

import "github.com/netloop/netloop/loop"

// newHandle is never reached on Windows, where no socket carries
// descriptors (Options.IPC needs a Unix-domain socket).
func newHandle(l *loop.Loop, fd int) *Handle { return &Handle{fd: fd, typ: HandleSocket, l: l} }
