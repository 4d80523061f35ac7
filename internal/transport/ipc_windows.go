package transport

import (
	"encoding/binary"
	"math"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/sys"
)

// Handle passing over a Windows named pipe (an IPC pipe, libuv's
// uv_pipe_init with ipc=1). A named pipe is a plain byte stream, so, as
// libuv does, every write on an IPC pipe is a frame:
//
//	header   16 bytes, little-endian uint32s: flags, reserved (ignored),
//	         data length, reserved (must be 0)
//	xfer     632 bytes when flags has ipcHasXfer: a WSAPROTOCOL_INFOW
//	         (628 bytes) from WSADuplicateSocketW for the peer's process,
//	         then a uint32 error (libuv's delayed_error; 0 here)
//	data     data-length bytes when flags has ipcHasData
//
// This is libuv's layout (src/win/pipe.c, uv__ipc_frame_header_t and
// uv__ipc_socket_xfer_info_t), so a Node or libuv process at the other end
// reads it. The receiver imports the socket with WSASocketW
// (FROM_PROTOCOL_INFO) as it parses the frame; it then waits in pending,
// and the frame's data is delivered as ordinary bytes after it.

// Frame flags (libuv's UV__IPC_FRAME_*).
const (
	ipcHasData  = 0x01 // data follows
	ipcHasXfer  = 0x02 // a socket follows
	ipcXferConn = 0x04 // the socket is a connection (else a listener)
	ipcXferMask = ipcHasXfer | ipcXferConn
	ipcValid    = 0x07
)

const (
	ipcHeaderLen = 16
	ipcInfoLen   = int(unsafe.Sizeof(windows.WSAProtocolInfo{})) // 628
	ipcXferLen   = ipcInfoLen + 4
)

// ipcFramed: every write on an IPC pipe is a frame (Write calls
// writeFrame).
const ipcFramed = true

// soAcceptConn is Winsock's SO_ACCEPTCONN (a listening socket).
const soAcceptConn = 0x0002

// fromProtocolInfo is Winsock's FROM_PROTOCOL_INFO: take the socket's
// family, type and protocol from the WSAPROTOCOL_INFOW.
const fromProtocolInfo = -1

// ipcState is an IPC pipe's: the sockets received but not taken yet, in
// arrival order, and the frame the reader is in.
type ipcState struct {
	pending []int
	pid     uint32 // the peer's process, found at the first handle sent

	meta     [ipcHeaderLen + ipcXferLen]byte // header and xfer being collected
	metaN    int                             // bytes of meta collected
	flags    uint32                          // the current frame's header flags (after its header)
	dataLeft int                             // data bytes of the current frame not delivered yet
}

// SetIPC makes a pipe stream an IPC one: its writes are framed, and
// sockets can travel with them (Write2; PendingCount, TakePending on the
// receiving end). It must be called before the pipe connects or is
// accepted, and the other end must be an IPC pipe too.
func (s *Stream) SetIPC() error {
	if s.w.Aux&fPipe == 0 {
		return errx.FromErrno("open", syscall.EINVAL)
	}
	x := s.ext()
	if x.ipc == nil {
		x.ipc = &ipcState{}
	}
	return nil
}

// PendingKind says what the oldest pending socket is: always TCP on
// Windows (only TCP sockets travel), false when none is pending.
func (s *Stream) PendingKind() (Kind, bool) {
	if s.PendingCount() == 0 {
		return 0, false
	}
	return TCP, true
}

// AcceptPending gives the oldest pending socket to client, a TCP stream
// without a socket (libuv's uv_accept on an IPC pipe). It returns EAGAIN
// when none is pending and EINVAL for a client that is not TCP (the socket
// stays pending).
func (s *Stream) AcceptPending(client *Stream) error {
	if s.PendingCount() == 0 {
		return errx.FromErrno("accept", syscall.EAGAIN)
	}
	if client.Transport() != TCP {
		return errx.FromErrno("accept", syscall.EINVAL)
	}
	fd := s.TakePending()
	if err := client.Open(fd); err != nil {
		sys.Close(fd)
		return err
	}
	return nil
}

// Write2 is Write with a socket, libuv's uv_write2: fd, a TCP socket
// (connected or listening), is exported for the process at the other end
// of the pipe (WSADuplicateSocketW) and travels in the frame that carries
// bufs. The stream must be an IPC one and bufs must hold at least one
// byte. Write2 takes fd over, success or not: it is closed when the
// write's callback is due (the frame written, failed or cancelled), as
// Node closes a sent handle once its write completes. A named pipe cannot
// be sent (ENOTSUP, as libuv), and a peer whose process cannot be found
// gives ESRCH.
func (s *Stream) Write2(bufs [][]byte, fd int, cb Callback) error {
	total, err := s.checkWrite2(bufs, fd)
	if err != nil {
		return err
	}
	return s.writeFrame(bufs, total, fd, cb)
}

// writeFrame queues one IPC frame: a header, the exported socket when fd
// is not -1 (fd then belongs to the request), and bufs. An empty write
// without a socket sends nothing, as on a plain pipe.
func (s *Stream) writeFrame(bufs [][]byte, total, fd int, cb Callback) error {
	if fd < 0 && total == 0 {
		return s.write(bufs, 0, -1, cb)
	}
	if total > math.MaxUint32 {
		if fd >= 0 {
			sys.Close(fd)
		}
		return errx.FromErrno("write", syscall.ENOBUFS)
	}
	var flags uint32
	var info windows.WSAProtocolInfo
	if fd >= 0 {
		listening, err := sys.GetsockoptInt(fd, sys.SOL_SOCKET, soAcceptConn)
		if err != nil {
			sys.Close(fd)
			return errx.FromErrno("write", syscall.ENOTSUP) // not a socket
		}
		pid, err := s.ipcPeerPID()
		if err != nil {
			sys.Close(fd)
			return err
		}
		if err := windows.WSADuplicateSocket(windows.Handle(fd), pid, &info); err != nil {
			sys.Close(fd)
			return errx.Wrap("write", err)
		}
		flags |= ipcHasXfer
		if listening == 0 {
			flags |= ipcXferConn
		}
	}
	if total > 0 {
		flags |= ipcHasData
	}
	size := ipcHeaderLen + total
	if fd >= 0 {
		size += ipcXferLen
	}
	r := s.newReq(cb)
	r.setSendFd(fd)
	r.buf = s.Loop().Buffers().Get(size)
	b := r.buf
	binary.LittleEndian.PutUint32(b[0:], flags)
	binary.LittleEndian.PutUint32(b[4:], 0)
	binary.LittleEndian.PutUint32(b[8:], uint32(total))
	binary.LittleEndian.PutUint32(b[12:], 0)
	off := ipcHeaderLen
	if fd >= 0 {
		off += copy(b[off:], unsafe.Slice((*byte)(unsafe.Pointer(&info)), ipcInfoLen))
		binary.LittleEndian.PutUint32(b[off:], 0) // no delayed error
		off += 4
	}
	gather(b[off:], bufs, 0)
	s.appendUnsent(r)
	s.updateActive()
	s.npUpdate()
	return nil
}

// ipcPeerPID finds the process at the other end of the pipe, as libuv
// does: the client's, unless that is this process (the client end asks),
// then the server's.
func (s *Stream) ipcPeerPID() (uint32, error) {
	ipc := s.x.ipc
	if ipc.pid != 0 {
		return ipc.pid, nil
	}
	var h windows.Handle
	if s.x.np != nil {
		h = s.x.np.h
	}
	if h == 0 || s.w.Aux&fConnecting != 0 {
		return 0, errx.FromErrno("write", syscall.ENOTCONN)
	}
	var pid uint32
	err := windows.GetNamedPipeClientProcessId(h, &pid)
	if err != nil || pid == windows.GetCurrentProcessId() {
		if serr := windows.GetNamedPipeServerProcessId(h, &pid); serr != nil && err != nil {
			pid = 0
		}
	}
	if pid == 0 {
		return 0, errx.FromErrno("write", syscall.ESRCH)
	}
	ipc.pid = pid
	return pid, nil
}

// ipcNext parses the frame bytes at the start of raw (what a read brought,
// not consumed yet): it consumes headers and socket records (importing
// the sockets into pending) and returns how many bytes it consumed (meta)
// and how many data bytes follow them (data, to be delivered, then
// reported with ipcConsumed). An invalid frame gives ECONNABORTED, as
// libuv; a socket that cannot be imported gives the Winsock error.
func (s *Stream) ipcNext(raw []byte) (meta, data int, err error) {
	ipc := s.x.ipc
	for meta < len(raw) {
		if ipc.dataLeft > 0 {
			return meta, min(ipc.dataLeft, len(raw)-meta), nil
		}
		want := ipcHeaderLen
		if ipc.metaN >= ipcHeaderLen && ipc.flags&ipcHasXfer != 0 {
			want += ipcXferLen
		}
		n := copy(ipc.meta[ipc.metaN:want], raw[meta:])
		ipc.metaN += n
		meta += n
		if ipc.metaN < want {
			break // the rest comes with the next read
		}
		if want == ipcHeaderLen {
			h := ipc.meta[:ipcHeaderLen]
			flags := binary.LittleEndian.Uint32(h[0:])
			dlen := binary.LittleEndian.Uint32(h[8:])
			if flags&^ipcValid != 0 || binary.LittleEndian.Uint32(h[12:]) != 0 ||
				flags&ipcXferMask == ipcXferConn || flags&ipcHasData == 0 && dlen != 0 {
				return meta, 0, errx.FromErrno("read", syscall.ECONNABORTED)
			}
			ipc.flags = flags
			if flags&ipcHasXfer != 0 {
				continue // the socket record comes next
			}
		} else {
			var info windows.WSAProtocolInfo
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&info)), ipcInfoLen), ipc.meta[ipcHeaderLen:])
			h, werr := windows.WSASocket(fromProtocolInfo, fromProtocolInfo, fromProtocolInfo, &info, 0,
				windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
			if werr != nil {
				return meta, 0, errx.Wrap("read", werr)
			}
			ipc.pending = append(ipc.pending, int(h))
		}
		// Frame header (and socket) complete: its data follows.
		ipc.metaN = 0
		if ipc.flags&ipcHasData != 0 {
			ipc.dataLeft = int(binary.LittleEndian.Uint32(ipc.meta[8:]))
		}
	}
	return meta, 0, nil
}

// ipcConsumed records that n data bytes of the current frame were
// delivered.
func (s *Stream) ipcConsumed(n int) { s.x.ipc.dataLeft -= n }

// Dup returns a duplicate of a TCP stream's socket in this process
// (WSADuplicateSocketW for this process, then WSASocketW), for Write2. A
// named pipe cannot be sent: ENOTSUP.
func (s *Stream) Dup() (int, error) {
	if s.Fd() < 0 {
		return -1, errClosed("dup")
	}
	if s.isNamedPipe() {
		return -1, errx.FromErrno("dup", syscall.ENOTSUP)
	}
	var info windows.WSAProtocolInfo
	if err := windows.WSADuplicateSocket(windows.Handle(s.Fd()), windows.GetCurrentProcessId(), &info); err != nil {
		return -1, errx.Wrap("dup", err)
	}
	h, err := windows.WSASocket(fromProtocolInfo, fromProtocolInfo, fromProtocolInfo, &info, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return -1, errx.Wrap("dup", err)
	}
	return int(h), nil
}

// MarkShared does nothing on Windows, where every close deletes its
// registration anyway.
func (s *Stream) MarkShared() {}
