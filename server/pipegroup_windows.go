package server

import (
	"syscall"

	"github.com/netloop/netloop/internal/errx"
)

// pipeGroupErr refuses a named pipe for a server on a Group of several
// loops: a pipe handle completes on the port of the loop that accepted it
// and cannot be handed to another loop (see docs/windows.md).
func (s *Server) pipeGroupErr(path string) error {
	if s.opts.Group != nil && len(s.group0().Loops()) > 1 {
		return errx.UVWithHostPort("listen", syscall.ENOTSUP, path, -1)
	}
	return nil
}
