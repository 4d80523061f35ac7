package transport

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/core"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/poller"
)

// Windows named pipes (\\.\pipe\name), completion-based: every pipe handle
// is associated with the loop's I/O completion port, each request (a
// ConnectNamedPipe of a listening instance, a ReadFile, a WriteFile) uses
// a poller.Completion the stream owns, and its completion comes back from
// the poll phase as an event for the stream's watcher (Read for reads and
// accepted connections, Write for writes). See docs/windows.md.
//
// A pipe stream's watcher is a completion watcher (core.IOWatcher's
// UseCompletions): the Start and Stop calls the shared stream code makes
// do nothing for it, and npUpdate issues whatever request the stream's
// state calls for instead.

// npInstances is how many instances a listening pipe keeps waiting for
// clients, as libuv's default pending-instance count.
const npInstances = 4

// npBufSize is the read buffer of a pipe stream, and the in and out
// buffer sizes asked of CreateNamedPipe (libuv's 64 KiB).
const npBufSize = 64 << 10

// npEOFDelay is libuv's eof_timeout: after Shutdown, a pipe that reads
// nothing for this long is taken to have ended (see npShutdown).
const npEOFDelay = 50 * time.Millisecond

// npConnectWait bounds the wait for a free instance when every instance
// of a pipe is busy (libuv's WaitNamedPipe timeout).
const npConnectWait = 30 * time.Second

// npWaitSlice is how long one WaitNamedPipe of that wait blocks.
const npWaitSlice = 100 * time.Millisecond

// namedPipe is a pipe stream's Windows state.
type namedPipe struct {
	s    *Stream
	h    windows.Handle // the pipe (client or accepted end); 0 for a listener or before connecting
	ph   windows.Handle // a placeholder event standing for the stream in the loop's watcher table while h is 0
	name string         // as given to BindPath or ConnectPath
	wide *uint16        // name in UTF-16 (listeners)

	rd, wr   npOp
	wbuf     []byte // staging buffer of a write that carries several queued ones
	wrDirect bool   // the write in flight uses the head request's own buffer
	rbuf     []byte // the read buffer the kernel fills
	rOff     int    // rbuf[rOff:rEnd] was read and not delivered yet
	rEnd     int
	rErr     error // EOF or a read error not delivered yet

	insts [npInstances]npInst // listeners: the instances waiting for clients

	taskQueued bool
	abandoned  atomic.Bool // closed: a goroutine waiting for a busy pipe gives up
	eofTimer   core.TimerEntry
	eofFn      func()
	eofForced  bool // the EOF timer fired: what the read brings is dropped
}

// npOp is a request on the pipe: busy from issue until its completion was
// handled; buf keeps the memory the kernel uses reachable with it.
type npOp struct {
	c    poller.Completion
	buf  []byte
	busy bool
}

// npInst is a listening instance: created, then connecting (a
// ConnectNamedPipe outstanding), then connected until accepted.
type npInst struct {
	op        npOp
	h         windows.Handle
	connected bool
}

// npTask runs a pipe stream's deferred work (reads buffered while not
// reading, connections that arrived synchronously) in the pending phase.
type npTask namedPipe

func (t *npTask) RunTask() {
	np := (*namedPipe)(t)
	np.taskQueued = false
	s := np.s
	if s.IsClosing() {
		return
	}
	if s.w.Aux&fListening != 0 {
		s.npAcceptReady()
		return
	}
	np.deliver()
	s.npUpdate()
}

func (np *namedPipe) queueTask() {
	if !np.taskQueued {
		np.taskQueued = true
		np.s.Loop().QueuePendingTask((*npTask)(np))
	}
}

// isNamedPipe reports whether s is a named pipe (every Pipe stream on
// Windows).
func (s *Stream) isNamedPipe() bool { return s.w.Aux&fPipe != 0 }

func (s *Stream) np() *namedPipe {
	x := s.ext()
	if x.np == nil {
		x.np = &namedPipe{s: s}
	}
	return x.np
}

// npAttach makes a pipe stream's new watcher a completion watcher; fd is
// the pipe handle (Adopt) or a placeholder (set by the caller).
func (s *Stream) npAttach(fd int) {
	if !s.isNamedPipe() {
		return
	}
	s.w.UseCompletions()
	np := s.np()
	if np.ph == 0 {
		np.h = windows.Handle(fd)
	}
}

// pipeNameOK reports whether name is a pipe name Windows serves:
// \\.\pipe\name or \\?\pipe\name (any case), with a non-empty name.
func pipeNameOK(name string) bool {
	if len(name) <= 9 || (name[:4] != `\\.\` && name[:4] != `\\?\`) {
		return false
	}
	return strings.EqualFold(name[4:9], `pipe\`)
}

// placeholder gives s a watcher on a fresh event handle, standing for the
// stream until (or, for a listener, instead of) a pipe handle.
func (s *Stream) placeholder(op string) error {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return errx.Wrap(op, err)
	}
	np := s.np()
	np.ph = ev
	if err := s.setFd(int(ev)); err != nil {
		windows.CloseHandle(ev)
		np.ph = 0
		return err
	}
	return nil
}

// newInstance creates an instance of the listening pipe and associates it
// with the loop.
func (np *namedPipe) newInstance(first bool) (windows.Handle, error) {
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	h, err := windows.CreateNamedPipe(np.wide, flags,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT,
		windows.PIPE_UNLIMITED_INSTANCES, npBufSize, npBufSize, 0, nil)
	if err != nil {
		return 0, err
	}
	if err := np.s.Loop().AssociateHandle(h); err != nil {
		windows.CloseHandle(h)
		return 0, err
	}
	return h, nil
}

// BindPath creates the first instance of the named pipe name (\\.\pipe\x
// or \\?\pipe\x): EADDRINUSE when a pipe of that name exists, EACCES for
// a name that is not a pipe name (what libuv gives). noTruncate does not
// apply on Windows.
func (p *Stream) BindPath(name string, noTruncate bool) error {
	if p.w.Aux&fPipe == 0 || p.Fd() >= 0 || p.IsClosing() {
		return errx.WithHostPort("bind", syscall.EINVAL, name, -1)
	}
	if !pipeNameOK(name) {
		return errx.WithHostPort("bind", syscall.EACCES, name, -1)
	}
	wide, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return errx.WithHostPort("bind", syscall.EINVAL, name, -1)
	}
	np := p.np()
	np.name, np.wide = name, wide
	h, err := np.newInstance(true)
	if err != nil {
		np.name, np.wide = "", nil
		errno := syscall.EACCES
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
			errno = syscall.EADDRINUSE
		}
		return errx.WithHostPort("bind", errno, name, -1)
	}
	np.insts[0].h = h
	if err := p.placeholder("bind"); err != nil {
		windows.CloseHandle(h)
		np.insts[0].h = 0
		return err
	}
	p.ext().name = name
	return nil
}

// ConnectPath opens the named pipe name; cb receives the outcome (ENOENT
// when no such pipe exists) in a later callback, never inside
// ConnectPath. When every instance is busy it waits for one (up to 30 s,
// as libuv) on a goroutine of its own.
func (p *Stream) ConnectPath(name string, noTruncate bool, cb Callback) error {
	if p.w.Aux&fPipe == 0 || p.Fd() >= 0 {
		return errx.FromErrno("connect", syscall.EINVAL)
	}
	if p.IsClosing() {
		return errClosed("connect")
	}
	np := p.np()
	np.name = name
	var h windows.Handle
	var err error
	if !pipeNameOK(name) {
		err = windows.ERROR_FILE_NOT_FOUND
	} else {
		h, err = openPipe(name)
	}
	if err == nil {
		if err = p.Loop().AssociateHandle(h); err != nil {
			windows.CloseHandle(h)
		} else if err = p.setFd(int(h)); err != nil {
			windows.CloseHandle(h)
			return err
		} else {
			return p.trackConnect(nil, cb)
		}
	}
	if perr := p.placeholder("connect"); perr != nil {
		return perr
	}
	if errors.Is(err, windows.ERROR_PIPE_BUSY) {
		if terr := p.trackConnect(nil, cb); terr != nil {
			return terr
		}
		p.w.Aux &^= fConnectDone // not done: the goroutine finishes it
		p.waitPipe(name)
		return nil
	}
	return p.trackConnect(npErr("connect", err, name), cb)
}

// openPipe opens the client end of a named pipe for overlapped I/O.
func openPipe(name string) (windows.Handle, error) {
	wide, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, windows.ERROR_FILE_NOT_FOUND
	}
	return windows.CreateFile(wide, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED, 0)
}

var procWaitNamedPipe = windows.NewLazySystemDLL("kernel32.dll").NewProc("WaitNamedPipeW")

// waitPipe waits on a goroutine for an instance of name to be free, opens
// it and hands the handle (or the error) to the loop. It waits in slices
// of npWaitSlice so that a stream closed meanwhile ends it soon.
func (p *Stream) waitPipe(name string) {
	l := p.Loop()
	abandoned := &p.np().abandoned
	go func() {
		wide, _ := windows.UTF16PtrFromString(name)
		deadline := time.Now().Add(npConnectWait)
		var h windows.Handle
		var err error
		for {
			if abandoned.Load() {
				return // closed while waiting
			}
			ms := time.Until(deadline).Milliseconds()
			if ms <= 0 {
				err = windows.ERROR_SEM_TIMEOUT
				break
			}
			r, _, e := procWaitNamedPipe.Call(uintptr(unsafe.Pointer(wide)), uintptr(min(ms, npWaitSlice.Milliseconds())))
			if r == 0 {
				err = e
				if errors.Is(e, windows.ERROR_FILE_NOT_FOUND) {
					break
				}
				if !errors.Is(e, windows.ERROR_SEM_TIMEOUT) {
					time.Sleep(time.Millisecond)
				}
				continue
			}
			if abandoned.Load() {
				return
			}
			h, err = openPipe(name)
			if err == nil || !errors.Is(err, windows.ERROR_PIPE_BUSY) {
				break
			}
		}
		if perr := l.Post(func() { p.connected(h, err) }); perr != nil && err == nil {
			windows.CloseHandle(h)
		}
	}()
}

// connected finishes a connect that waited for a busy pipe.
func (p *Stream) connected(h windows.Handle, err error) {
	if p.IsClosing() || p.w.Aux&fConnecting == 0 {
		if err == nil {
			windows.CloseHandle(h)
		}
		return
	}
	if err == nil {
		if err = p.Loop().AssociateHandle(h); err != nil {
			windows.CloseHandle(h)
		} else {
			// The pipe replaces the placeholder in the watcher table.
			np := p.np()
			p.w.Close(false)
			windows.CloseHandle(np.ph)
			np.ph = 0
			if err = p.setFd(int(h)); err != nil {
				windows.CloseHandle(h)
			}
		}
	}
	if err != nil {
		p.x.connectErr = npErr("connect", err, p.np().name)
	}
	p.completeConnect()
}

// npErr names a pipe system call error after Node's errno.
func npErr(op string, err error, name string) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return errx.Wrap(op, err)
	}
	switch errno {
	case windows.ERROR_FILE_NOT_FOUND, windows.ERROR_PATH_NOT_FOUND, windows.ERROR_INVALID_NAME, windows.ERROR_BAD_PATHNAME:
		errno = syscall.ENOENT
	case windows.ERROR_BROKEN_PIPE, windows.ERROR_NO_DATA, windows.ERROR_PIPE_NOT_CONNECTED:
		errno = syscall.EPIPE
	case windows.ERROR_OPERATION_ABORTED:
		errno = syscall.ECANCELED
	case windows.ERROR_SEM_TIMEOUT:
		errno = syscall.ETIMEDOUT
	}
	if name != "" {
		return errx.WithHostPort(op, errno, name, -1)
	}
	return errx.FromErrno(op, errno)
}

// npListen starts the listening instances (Listen's part on Windows).
func (s *Stream) npListen() error {
	np := s.np()
	if np.wide == nil {
		return errx.FromErrno("listen", syscall.EINVAL)
	}
	return nil
}

// npUpdate issues the requests the stream's state calls for: the next
// read while reading, the next write while writes are queued, the
// listening instances' connects while listening.
func (s *Stream) npUpdate() {
	if !s.isNamedPipe() || s.x == nil || s.x.np == nil || s.IsClosing() || s.Fd() < 0 {
		return
	}
	np := s.x.np
	if s.w.Aux&fListening != 0 {
		np.fillInstances()
		return
	}
	if np.h == 0 || s.w.Aux&fConnecting != 0 {
		return
	}
	if s.w.Aux&fReading != 0 && !np.rd.busy && np.rOff == np.rEnd && np.rErr == nil && !np.eofForced {
		np.issueRead()
	}
	// After a failed write the rest stay queued until Close cancels
	// them, as on Unix.
	if !np.wr.busy && s.unsent() != nil && s.w.Aux&fWriteFailed == 0 {
		np.issueWrite()
	}
}

// fillInstances creates missing instances and issues their connects. If
// none is left waiting for a client (CreateNamedPipe failing: out of
// memory or handles), the error goes to onConnection and the listener
// tries again after emfileBackoff, instead of going deaf silently.
func (np *namedPipe) fillInstances() {
	s := np.s
	var failed error
	waiting := 0
	for i := range np.insts {
		in := &np.insts[i]
		if in.connected || in.op.busy {
			waiting++
			continue
		}
		if in.h == 0 {
			h, err := np.newInstance(false)
			if err != nil {
				failed = err
				continue // tried again at the next accept
			}
			in.h = h
		}
		s.w.Begin(&in.op.c, poller.Read)
		err := windows.ConnectNamedPipe(in.h, in.op.c.Overlapped())
		switch {
		case err == nil || err == windows.ERROR_IO_PENDING:
			in.op.busy = true
			waiting++
		case err == windows.ERROR_PIPE_CONNECTED:
			// A client came between CreateNamedPipe and now: no
			// completion is queued.
			s.Loop().Abandon(&in.op.c)
			in.connected = true
			waiting++
			np.queueTask()
		default:
			// The client left already (ERROR_NO_DATA) or the instance
			// is unusable: drop it, a new one comes next time.
			s.Loop().Abandon(&in.op.c)
			windows.CloseHandle(in.h)
			in.h = 0
		}
	}
	if waiting == 0 && failed != nil && s.x.acceptedFd < 0 {
		s.x.acceptErr = npErr("accept", failed, "")
		s.w.Aux |= fAcceptErr
		s.queuePending()
		if s.x.resume == nil {
			s.x.resume = s.npUpdate
		}
		s.Loop().StartTimer(&s.x.backoff, emfileBackoff, s.x.resume)
	}
}

// npAcceptReady hands connected instances to onConnection, one at a time
// (the next after Accept took the last), then refills the instances.
func (s *Stream) npAcceptReady() {
	np := s.x.np
	for i := range np.insts {
		in := &np.insts[i]
		if !in.op.busy || in.op.c.Pending() {
			continue
		}
		in.op.busy = false
		if _, err := in.op.c.Result(); err != nil && err != windows.ERROR_PIPE_CONNECTED {
			windows.CloseHandle(in.h)
			in.h = 0
			if s.w.Aux&fListening != 0 && !s.IsClosing() && err != windows.ERROR_NO_DATA {
				s.x.onConnection(npErr("accept", err, ""))
			}
			continue
		}
		in.connected = true
	}
	for i := range np.insts {
		if s.IsClosing() || s.w.Aux&fListening == 0 || s.x.acceptedFd >= 0 {
			break
		}
		in := &np.insts[i]
		if !in.connected {
			continue
		}
		s.x.acceptedFd = int(in.h)
		in.h, in.connected = 0, false
		s.x.onConnection(nil)
	}
	s.npUpdate()
}

func (np *namedPipe) issueRead() {
	s := np.s
	if np.rbuf == nil {
		np.rbuf = make([]byte, npBufSize)
	}
	np.rd.buf = np.rbuf
	s.w.Begin(&np.rd.c, poller.Read)
	err := windows.ReadFile(np.h, np.rbuf, nil, np.rd.c.Overlapped())
	if err == nil || err == windows.ERROR_IO_PENDING {
		np.rd.busy = true
		if s.w.Aux&fShut != 0 {
			np.startEOFTimer()
		}
		return
	}
	s.Loop().Abandon(&np.rd.c)
	np.rd.buf = nil
	np.readDone(0, err)
	np.queueTask()
}

// readDone records a read's outcome for deliver.
func (np *namedPipe) readDone(n uint32, err error) {
	switch {
	case err == nil:
		np.rOff, np.rEnd = 0, int(n)
	case err == windows.ERROR_BROKEN_PIPE || err == windows.ERROR_PIPE_NOT_CONNECTED || err == windows.ERROR_NO_DATA:
		np.rErr = io.EOF
	case err == windows.ERROR_OPERATION_ABORTED:
		// Cancelled (the EOF timer, or Close): nothing read.
	default:
		np.rErr = npErr("read", err, "")
	}
}

// deliver hands what was read (then EOF or the read error) to the reader
// while it reads.
func (np *namedPipe) deliver() {
	s := np.s
	ipc := s.x.ipc
	for s.w.Aux&fReading != 0 && np.rOff < np.rEnd {
		// The stream's buffer is handed out as the loop's shared one is
		// on Unix: valid during the callback only.
		buf := np.rbuf[np.rOff:np.rEnd]
		if ipc != nil {
			// An IPC pipe's bytes are frames: deliver their data, and
			// the sockets they carry wait in pending (ipc_windows.go).
			had := len(ipc.pending)
			meta, data, err := s.ipcNext(buf)
			np.rOff += meta
			if err != nil {
				np.rOff = np.rEnd
				np.rErr = err
				break
			}
			if data == 0 {
				if len(ipc.pending) > had && ipc.dataLeft == 0 {
					// A socket in a frame without data (libuv
					// allows it): a read of nothing lets the
					// reader see it now.
					s.deliverRead(0, nil, nil)
					if s.IsClosing() {
						return
					}
				}
				continue
			}
			buf = buf[meta : meta+data]
		}
		n := len(buf)
		if alloc := s.allocFunc(); alloc != nil {
			chunk := buf
			buf = alloc(core.ReadBufferSize)
			if len(buf) == 0 {
				s.ReadStop()
				s.deliverRead(0, buf, errx.FromErrno("read", syscall.ENOBUFS))
				return
			}
			n = copy(buf, chunk)
		}
		np.rOff += n
		if ipc != nil {
			s.ipcConsumed(n)
		}
		s.Loop().AddBytesRead(n)
		s.deliverRead(n, buf, nil)
		if s.IsClosing() {
			return
		}
	}
	if s.w.Aux&fReading != 0 && np.rOff == np.rEnd && np.rErr != nil {
		err := np.rErr
		np.rErr = nil
		if err == io.EOF {
			s.w.Aux |= fEOF
		}
		s.ReadStop()
		s.deliverRead(0, nil, err)
	}
}

// popEmpty completes the empty writes at the head of the queue, in
// order.
func (np *namedPipe) popEmpty() {
	s := np.s
	for s.unsent() != nil && s.q.wqHead.off >= len(s.q.wqHead.buf) {
		r := s.q.wqHead
		s.popHead()
		s.finishQueued(r)
	}
}

func (np *namedPipe) issueWrite() {
	s := np.s
	np.popEmpty()
	if s.unsent() == nil {
		// Only empty writes were queued: nothing was held back, so no
		// 'drain' (as on Unix, where they never queue).
		if s.w.Aux&fShutting != 0 {
			s.doShutdown()
		}
		s.updateActive()
		return
	}
	r := s.q.wqHead
	buf := r.buf[r.off:]
	np.wrDirect = true
	if r.next != nil && len(buf) < npBufSize {
		// Several writes queued: one request carries as many as the
		// stream's staging buffer holds, instead of a round trip
		// through the completion port each.
		if np.wbuf == nil {
			np.wbuf = make([]byte, npBufSize)
		}
		n := 0
		for q := r; q != nil && n < len(np.wbuf); q = q.next {
			n += copy(np.wbuf[n:], q.buf[q.off:])
		}
		buf = np.wbuf[:n]
		np.wrDirect = false
	}
	np.wr.buf = buf
	s.w.Begin(&np.wr.c, poller.Write)
	err := windows.WriteFile(np.h, buf, nil, np.wr.c.Overlapped())
	if err == nil || err == windows.ERROR_IO_PENDING {
		np.wr.busy = true
		return
	}
	s.Loop().Abandon(&np.wr.c)
	np.wr.buf = nil
	s.failHead(npErr("write", err, ""))
}

// drained runs when the write queue has emptied: a pending shutdown goes
// ahead and the owner hears 'drain'.
func (np *namedPipe) drained() {
	s := np.s
	if s.w.Aux&fShutting != 0 {
		s.doShutdown()
	}
	if s.owner != nil {
		s.handler().OnStreamDrain()
	}
	s.updateActive()
}

// npIO handles the completions reported for a pipe stream.
func (s *Stream) npIO(ev poller.Interest) {
	np := s.x.np
	if s.w.Aux&fListening != 0 {
		s.npAcceptReady()
		return
	}
	if ev&poller.Read != 0 && np.rd.busy && !np.rd.c.Pending() {
		np.rd.busy = false
		np.rd.buf = nil
		np.stopEOFTimer()
		n, err := np.rd.c.Result()
		if np.eofForced {
			n, err = 0, nil // the stream has ended already
		}
		np.readDone(n, err)
		np.deliver()
		if s.IsClosing() {
			return
		}
	}
	if ev&poller.Write != 0 && np.wr.busy && !np.wr.c.Pending() {
		np.wr.busy = false
		np.wr.buf = nil
		n, err := np.wr.c.Result()
		s.Loop().AddBytesWritten(int(n))
		if s.unsent() != nil {
			if err != nil {
				s.failHead(npErr("write", err, ""))
			} else {
				// Complete every request the write carried, and the
				// empty ones behind them.
				s.q.size -= int(n)
				left := int(n)
				for s.unsent() != nil {
					r := s.q.wqHead
					if rest := len(r.buf) - r.off; left < rest {
						r.off += left
						break
					} else {
						left -= rest
					}
					s.popHead()
					s.finishQueued(r)
				}
				if s.unsent() == nil {
					np.drained()
				}
			}
		}
	}
	s.npUpdate()
	s.updateActive()
}

// npShutdown is Shutdown's end on a pipe. A named pipe cannot be closed
// for writing alone, so, as libuv does, nothing is sent: the peer sees
// EOF when this end closes. This end, if it reads, takes the stream to
// have ended once a read has waited npEOFDelay with nothing arriving
// (libuv's EOF timer), which lets a Node socket that ended close itself.
func (s *Stream) npShutdown() {
	np := s.np()
	if np.rd.busy {
		np.startEOFTimer()
	}
}

func (np *namedPipe) startEOFTimer() {
	if np.eofFn == nil {
		np.eofFn = np.eofTimeout
	}
	np.s.Loop().StartTimer(&np.eofTimer, npEOFDelay, np.eofFn)
}

func (np *namedPipe) stopEOFTimer() {
	if np.eofFn != nil {
		np.s.Loop().StopTimer(&np.eofTimer)
	}
}

// eofTimeout ends the reading side of a shut down pipe whose read found
// nothing for npEOFDelay.
func (np *namedPipe) eofTimeout() {
	s := np.s
	if s.IsClosing() || !np.rd.busy || np.rd.c.Finished() {
		return // the read completed: its completion is on its way
	}
	np.eofForced = true
	s.Loop().CancelIO(np.h, &np.rd.c)
	if np.rErr == nil {
		np.rErr = io.EOF
	}
	np.deliver()
}

// npClose releases a pipe stream's handles: pending requests are
// cancelled, and the poller keeps their memory until their completions
// are dequeued.
func (s *Stream) npClose() {
	s.w.Close(false)
	if s.x == nil || s.x.np == nil {
		return
	}
	np := s.x.np
	np.abandoned.Store(true)
	np.stopEOFTimer()
	for i := range np.insts {
		in := &np.insts[i]
		if in.h != 0 {
			windows.CloseHandle(in.h)
			in.h, in.connected = 0, false
		}
	}
	if s.x.acceptedFd >= 0 {
		windows.CloseHandle(windows.Handle(s.x.acceptedFd))
		s.x.acceptedFd = -1
	}
	if np.h != 0 {
		if np.wr.busy && np.wrDirect && s.unsent() != nil {
			// The kernel may still read the buffer of the write in
			// flight: it stays with the request's op, off the pool.
			r := s.q.wqHead
			s.q.size -= len(r.buf) - r.off
			r.buf, r.off = nil, 0
		}
		windows.CancelIoEx(np.h, nil)
		windows.CloseHandle(np.h)
		np.h = 0
	}
	if np.ph != 0 {
		windows.CloseHandle(np.ph)
		np.ph = 0
	}
}

// PathName returns the pipe name given to BindPath or ConnectPath.
func (p *Stream) PathName() (string, error) {
	if p.Fd() < 0 {
		return "", errClosed("getsockname")
	}
	if p.x != nil && p.x.np != nil && p.x.np.wide != nil {
		return p.x.np.name, nil
	}
	return "", nil
}

// PeerPathName returns the pipe name a client connected to ("" on the
// server side).
func (p *Stream) PeerPathName() (string, error) {
	if p.Fd() < 0 {
		return "", errClosed("getpeername")
	}
	if p.x != nil && p.x.np != nil && p.x.np.wide == nil {
		return p.x.np.name, nil
	}
	return "", nil
}

// Chmod is not supported for named pipes (libuv's uv_pipe_chmod sets the
// pipe's DACL; not ported): ENOTSUP.
func (p *Stream) Chmod(mode Mode) error { return errx.FromErrno("chmod", syscall.ENOTSUP) }

// npReadStart delivers what a read brought while the stream was not
// reading (from the pending phase), or issues the first read.
func (s *Stream) npReadStart() {
	if !s.isNamedPipe() || s.x == nil || s.x.np == nil {
		return
	}
	np := s.x.np
	if np.rOff < np.rEnd || np.rErr != nil {
		np.queueTask()
		return
	}
	s.npUpdate()
}

// npAccepted: Accept took the last connection; the next connected
// instance, if any, is offered from the pending phase.
func (s *Stream) npAccepted() {
	if !s.isNamedPipe() || s.x.np == nil {
		return
	}
	for i := range s.x.np.insts {
		if s.x.np.insts[i].connected {
			s.x.np.queueTask()
			return
		}
	}
}
