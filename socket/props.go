package socket

import (
	"net/netip"
	"time"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/internal/sys"
	"github.com/netloop/netloop/internal/transport"
)

// AddressInfo is Node's { address, family, port } (family "IPv4" or
// "IPv6"); for pipes only Address is set, to the path.
type AddressInfo struct {
	Address string
	Family  string
	Port    int
}

func infoOf(ap netip.AddrPort) AddressInfo {
	if !ap.IsValid() {
		return AddressInfo{}
	}
	return AddressInfo{Address: ap.Addr().String(), Family: addr.FamilyOf(ap.Addr()), Port: int(ap.Port())}
}

// Address returns the local address ({} without a handle).
func (s *Socket) Address() AddressInfo {
	s.affine("Socket.Address")
	switch {
	case s.tcp() != nil && s.tcp().Fd() >= 0:
		ap, err := s.tcp().SockName()
		if err != nil {
			return AddressInfo{}
		}
		return infoOf(ap)
	case s.pipe() != nil && s.pipe().Fd() >= 0:
		name, _ := s.pipe().PathName()
		return AddressInfo{Address: name}
	}
	return AddressInfo{}
}

// cacheRemote remembers the peer address so it stays readable after close.
func (s *Socket) cacheRemote() {
	if s.tcp() != nil && !s.remote.IsValid() && s.state&sConnected != 0 && s.tcp().Fd() >= 0 {
		s.ext().remote, _ = s.tcp().PeerName()
	}
}

func (s *Socket) remoteAP() netip.AddrPort {
	s.cacheRemote()
	return s.remote
}

// RemoteAddress returns the peer's IP ("" while connecting or for pipes).
func (s *Socket) RemoteAddress() string {
	s.affine("Socket.RemoteAddress")
	if ap := s.remoteAP(); ap.IsValid() {
		return ap.Addr().String()
	}
	return ""
}

// RemoteFamily returns "IPv4" or "IPv6" ("" when unknown).
func (s *Socket) RemoteFamily() string {
	s.affine("Socket.RemoteFamily")
	if ap := s.remoteAP(); ap.IsValid() {
		return addr.FamilyOf(ap.Addr())
	}
	return ""
}

// RemotePort returns the peer's port (0 when unknown).
func (s *Socket) RemotePort() int {
	s.affine("Socket.RemotePort")
	if ap := s.remoteAP(); ap.IsValid() {
		return int(ap.Port())
	}
	return 0
}

// RemoteAddrPort returns the peer address as a netip.AddrPort.
func (s *Socket) RemoteAddrPort() netip.AddrPort {
	s.affine("Socket.RemoteAddrPort")
	return s.remoteAP()
}

// LocalAddress returns the local IP ("" when unknown).
func (s *Socket) LocalAddress() string {
	s.affine("Socket.LocalAddress")
	return s.Address().Address
}

// LocalPort returns the local port (0 when unknown).
func (s *Socket) LocalPort() int {
	s.affine("Socket.LocalPort")
	return s.Address().Port
}

// LocalFamily returns "IPv4" or "IPv6" ("" when unknown).
func (s *Socket) LocalFamily() string {
	s.affine("Socket.LocalFamily")
	return s.Address().Family
}

// BytesRead returns the bytes received on the current connection.
func (s *Socket) BytesRead() int64 {
	s.affine("Socket.BytesRead")
	return s.readTotal()
}

// BytesWritten returns the bytes accepted by Write on the current
// connection, including those still queued.
func (s *Socket) BytesWritten() int64 {
	s.affine("Socket.BytesWritten")
	return s.writtenTotal()
}

// WritableLength returns the bytes written but not yet handed to the
// kernel.
func (s *Socket) WritableLength() int {
	s.affine("Socket.WritableLength")
	n := s.pendingSize
	if s.st != nil {
		n += s.st.WriteQueueSize()
	}
	if s.layer != nil {
		n += s.layer.Buffered()
	}
	return n
}

// BufferSize is Node's socket.bufferSize, the same as WritableLength.
func (s *Socket) BufferSize() int {
	s.affine("Socket.BufferSize")
	return s.WritableLength()
}

// WritableHighWaterMark returns the high-water mark Write compares against.
func (s *Socket) WritableHighWaterMark() int {
	s.affine("Socket.WritableHighWaterMark")
	return s.highWaterMark()
}

// Connecting reports whether a connect is in progress.
func (s *Socket) Connecting() bool {
	s.affine("Socket.Connecting")
	return s.state&sConnecting != 0
}

// Pending reports whether the socket is not connected yet: before
// connect, while connecting, and again after close.
func (s *Socket) Pending() bool {
	s.affine("Socket.Pending")
	return s.st == nil || s.state&(sConnecting|sClosed) != 0
}

// Readable reports whether the socket may still emit data.
func (s *Socket) Readable() bool {
	s.affine("Socket.Readable")
	return s.state&(sDestroyed|sEndEmitted|sNotReadable) == 0
}

// Writable reports whether Write is still allowed.
func (s *Socket) Writable() bool {
	s.affine("Socket.Writable")
	return s.state&(sDestroyed|sEnding|sNotWritable) == 0
}

// ReadyState is Node's socket.readyState.
func (s *Socket) ReadyState() string {
	s.affine("Socket.ReadyState")
	switch {
	case s.state&sConnecting != 0:
		return "opening"
	case s.Readable() && s.Writable():
		return "open"
	case s.Readable():
		return "readOnly"
	case s.Writable():
		return "writeOnly"
	}
	return "closed"
}

// SetNoDelay disables (true) or enables Nagle's algorithm. It reaches the
// OS only when the value changes; before connect it is remembered. No-op
// on pipes.
func (s *Socket) SetNoDelay(noDelay bool) *Socket {
	s.affine("Socket.SetNoDelay")
	if noDelay == (s.state&sNoDelay != 0) {
		return s
	}
	if noDelay {
		s.state |= sNoDelay
	} else {
		s.state &^= sNoDelay
	}
	if s.tcp() != nil && s.state&(sConnecting|sDestroyed) == 0 {
		s.tcp().SetNoDelay(noDelay)
	}
	return s
}

// SetKeepAlive enables or disables TCP keep-alive, probing after
// initialDelay (whole seconds). It reaches the OS only when something
// changes; before connect it is remembered. No-op on pipes.
func (s *Socket) SetKeepAlive(enable bool, initialDelay time.Duration) *Socket {
	s.affine("Socket.SetKeepAlive")
	if initialDelay < 0 {
		initialDelay = 0
	}
	initialDelay = initialDelay.Truncate(time.Second)
	was := s.state&sKeepAlive != 0
	if enable == was && (!enable || initialDelay == s.keepDelay) {
		return s
	}
	if enable {
		s.state |= sKeepAlive
	} else {
		s.state &^= sKeepAlive
	}
	s.ext().keepDelay = initialDelay
	if s.tcp() != nil && s.state&(sConnecting|sDestroyed) == 0 {
		s.tcp().SetKeepAlive(enable, initialDelay)
	}
	return s
}

// applyTCPOptions applies options remembered before connect.
func (s *Socket) applyTCPOptions() {
	if s.state&sNoDelay != 0 {
		s.tcp().SetNoDelay(true)
	}
	if s.state&sKeepAlive != 0 {
		s.tcp().SetKeepAlive(true, s.keepDelay)
	}
}

// Ref lets an active socket keep the loop alive (the default).
// Remembered before connect.
func (s *Socket) Ref() *Socket {
	s.affine("Socket.Ref")
	s.state &^= sUnref
	if s.st != nil && !s.st.IsClosing() {
		s.st.Ref()
	}
	return s
}

// Unref lets the loop exit while this socket is open. Remembered before
// connect.
func (s *Socket) Unref() *Socket {
	s.affine("Socket.Unref")
	s.state |= sUnref
	if s.st != nil && !s.st.IsClosing() {
		s.st.Unref()
	}
	return s
}

// openFD adopts an existing connected descriptor (Options.FD).
func (s *Socket) openFD(fd int, readable, writable bool) error {
	if s.state&sIPC != 0 {
		if local, err := sys.IsLocal(fd); err == nil && !local {
			return errIPCNeedsPipe()
		}
	}
	st, err := transport.OpenFD(s.core(), fd)
	if err != nil {
		return err
	}
	if s.state&sIPC != 0 {
		if err := st.SetIPC(); err != nil {
			st.Close(nil)
			return err
		}
	}
	if !readable {
		s.state |= sNotReadable
	}
	if !writable {
		s.state |= sNotWritable
	}
	s.attach(st)
	s.state |= sConnected
	return nil
}

// Writer is what Pipe writes to: a Socket, or anything with the same
// backpressure contract.
type Writer interface {
	Write(data []byte, cb ...func(err error)) bool
	End(data []byte, cb ...func(err error)) *Socket
	OnDrain(fn func()) Listener
}

// Pipe sends everything s receives to dst with backpressure: s pauses when
// dst.Write returns false and resumes on dst's 'drain'; when s ends, dst
// is ended too unless end is false. It returns dst. The seed's c.Pipe(c)
// echoes a connection back to itself.
func (s *Socket) Pipe(dst Writer, end ...bool) Writer {
	s.affine("Socket.Pipe")
	doEnd := len(end) == 0 || end[0]
	resume := func() { s.Resume() }
	dst.OnDrain(resume)
	s.OnData(func(b []byte) {
		if !dst.Write(b) {
			s.Pause()
		}
	})
	if doEnd {
		s.OnEnd(func() { dst.End(nil) })
	}
	return dst
}
