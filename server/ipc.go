package server

import (
	"github.com/netloop/netloop/internal/accept"
	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/transport"
)

// Socket.SendHandle finds a server's listening stream through accept.
func init() {
	accept.ServerStream = func(srv any) (*core.Loop, *transport.Stream, bool) {
		s, ok := srv.(*Server)
		if !ok || s == nil {
			return nil, nil, false
		}
		return s.core(), s.st, true
	}
}
