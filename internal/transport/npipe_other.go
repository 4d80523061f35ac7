//go:build !windows

package transport

import "github.com/netloop/netloop/poller"

// The Windows named-pipe hooks (npipe_windows.go) the shared stream code
// calls: nothing to do where pipes are Unix-domain sockets.

type namedPipe struct{}

func (s *Stream) isNamedPipe() bool    { return false }
func (s *Stream) npAttach(int)         {}
func (s *Stream) npIO(poller.Interest) {}
func (s *Stream) npUpdate()            {}
func (s *Stream) npReadStart()         {}
func (s *Stream) npShutdown()          {}
func (s *Stream) npListen() error      { return nil }
func (s *Stream) npAccepted()          {}
func (s *Stream) npClose()             {}
