package socket

// Inbound is the bytes a protocol handler has received and not consumed
// yet: what earlier 'data' chunks left over, followed by the new chunk. A
// handler takes whole frames with Peek/Discard (or Next) and leaves a
// partial frame where it is; the socket keeps it, copying only those
// unconsumed bytes, and puts it in front of the next chunk. An Inbound and
// the slices it returns are valid only during the callback, like 'data'
// slices (which they may be).
type Inbound struct {
	buf  []byte // what the callback sees: data itself, or left with data appended
	off  int    // consumed so far
	left []byte // owned: the unconsumed bytes between callbacks
}

// OnInbound adds a 'data' listener that accumulates: fn gets an Inbound
// holding what earlier calls left unconsumed plus the new chunk (gnet's
// Peek/Discard/InboundBuffered; Node's pattern of keeping
// `data.subarray(pos)` for the next chunk, done right). A chunk that holds
// whole frames costs no copy; bytes left unconsumed when the peer ends are
// dropped with the socket. Each OnInbound listener keeps its own leftover.
func (s *Socket) OnInbound(fn func(in *Inbound)) Listener {
	s.affine("Socket.OnInbound")
	in := &Inbound{}
	return s.OnData(func(data []byte) {
		in.begin(data)
		fn(in)
		in.end()
	})
}

func (in *Inbound) begin(data []byte) {
	in.off = 0
	if len(in.left) == 0 {
		in.buf = data // zero copy: the common case of whole frames
		return
	}
	in.left = append(in.left, data...)
	in.buf = in.left
}

func (in *Inbound) end() {
	rest := in.buf[in.off:]
	switch {
	case len(rest) == 0:
		in.left = in.left[:0]
	case len(in.left) > 0 && &rest[0] == &in.left[in.off]:
		in.left = in.left[:copy(in.left, rest)] // compact in place
	default:
		in.left = append(in.left[:0], rest...)
	}
	in.buf, in.off = nil, 0
}

// Len returns how many bytes are available (InboundBuffered).
func (in *Inbound) Len() int { return len(in.buf) - in.off }

// Peek returns the next n bytes without consuming them, or nil when fewer
// than n are available; a negative n returns everything available.
func (in *Inbound) Peek(n int) []byte {
	avail := in.buf[in.off:]
	if n < 0 {
		return avail
	}
	if n > len(avail) {
		return nil
	}
	return avail[:n:n]
}

// Discard consumes up to n bytes and returns how many it consumed.
func (in *Inbound) Discard(n int) int {
	if n < 0 {
		n = 0
	}
	if avail := in.Len(); n > avail {
		n = avail
	}
	in.off += n
	return n
}

// Next returns the next n bytes and consumes them (Peek then Discard), or
// nil, consuming nothing, when fewer than n are available; a negative n
// takes everything available.
func (in *Inbound) Next(n int) []byte {
	b := in.Peek(n)
	in.off += len(b)
	return b
}
