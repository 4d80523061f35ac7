package socket

import (
	"errors"

	"github.com/netloop/netloop/internal/layer"
	"github.com/netloop/netloop/internal/transport"
)

func init() {
	layer.Attach = func(v any, l layer.Layer) (layer.Hooks, error) {
		s := v.(*Socket)
		if s.layer != nil {
			return layer.Hooks{}, errors.New("socket: a layer is already attached")
		}
		if s.onread != nil {
			return layer.Hooks{}, errors.New("socket: a layer cannot be attached to a socket using OnRead")
		}
		s.ext().layer = l
		return layer.Hooks{
			Deliver: s.onHandleRead,
			Stream:  func() *transport.Stream { return s.st },
			Drained: s.onHandleDrain,
		}, nil
	}
}

// streamWrite hands bufs to the socket's layer, if any, or to its stream.
func (s *Socket) streamWrite(bufs [][]byte, cb func(error)) error {
	if s.layer != nil {
		return s.layer.Write(s.st, bufs, cb)
	}
	return s.st.Write(bufs, cb)
}

// streamWriteOne is streamWrite for one buffer. Each branch builds its own
// one-element slice: the layer's (an interface call) escapes to the heap,
// the stream's does not, so a socket without a layer writes without
// allocating.
func (s *Socket) streamWriteOne(data []byte, cb func(error)) error {
	if s.layer != nil {
		return s.layer.Write(s.st, [][]byte{data}, cb)
	}
	return s.st.Write([][]byte{data}, cb)
}

// streamShutdown ends the writable side through the layer, if any (TLS
// sends close_notify first), or on the stream.
func (s *Socket) streamShutdown(cb func(error)) error {
	if s.layer != nil {
		return s.layer.Shutdown(s.st, cb)
	}
	return s.st.Shutdown(cb)
}
