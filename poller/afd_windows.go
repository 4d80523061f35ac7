//go:build windows

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The AFD ("ancillary function driver", the kernel side of Winsock) poll
// interface, which Windows does not document. The names and values follow
// the Windows DDK headers as wepoll, libuv and mio use them.

// ioctlAFDPoll is IOCTL_AFD_POLL: FSCTL_AFD_BASE (0x12) << 12 | 9 << 2 |
// METHOD_BUFFERED.
const ioctlAFDPoll = 0x00012024

// AFD_POLL_* event bits.
const (
	afdPollReceive          = 0x0001
	afdPollReceiveExpedited = 0x0002
	afdPollSend             = 0x0004
	afdPollDisconnect       = 0x0008
	afdPollAbort            = 0x0010
	afdPollLocalClose       = 0x0020
	afdPollAccept           = 0x0080
	afdPollConnectFail      = 0x0100
)

// sioBaseHandle is SIO_BASE_HANDLE: the base service provider's socket
// under any layered providers. AFD only knows base sockets.
const sioBaseHandle = 0x48000022

// afdPollHandleInfo is AFD_POLL_HANDLE_INFO.
type afdPollHandleInfo struct {
	Handle windows.Handle
	Events uint32
	Status windows.NTStatus
}

// afdPollInfo is AFD_POLL_INFO with room for one handle, the only way
// this package uses it.
type afdPollInfo struct {
	Timeout         int64 // absolute time; the largest value is "never"
	NumberOfHandles uint32
	Exclusive       uint32
	Handles         [1]afdPollHandleInfo
}

// AFD_POLL_INFO with one handle is 16 bytes of header and a handle info
// of a handle plus 8 bytes: 32 bytes on 64-bit Windows, 28 on 32-bit. Each
// array has a non-negative length only if the Go layout agrees.
const afdPollInfoSize = 16 + unsafe.Sizeof(uintptr(0)) + 8

var (
	_ [unsafe.Sizeof(afdPollInfo{}) - afdPollInfoSize]struct{}
	_ [afdPollInfoSize - unsafe.Sizeof(afdPollInfo{})]struct{}
)

var (
	modntdll    = windows.NewLazySystemDLL("ntdll.dll")
	modkernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procNtDeviceIoControlFile       = modntdll.NewProc("NtDeviceIoControlFile")
	procNtCancelIoFileEx            = modntdll.NewProc("NtCancelIoFileEx")
	procGetQueuedCompletionStatusEx = modkernel32.NewProc("GetQueuedCompletionStatusEx")
)

// The calls below go through syscall.SyscallN rather than LazyProc.Call,
// whose uintptr arguments escape: every pointer passed would then be a
// heap allocation per call.

// findProcs resolves the system calls the poller makes outside
// x/sys/windows, so New fails cleanly where one is missing.
func findProcs() error {
	for _, p := range []*windows.LazyProc{procNtDeviceIoControlFile, procNtCancelIoFileEx, procGetQueuedCompletionStatusEx} {
		if err := p.Find(); err != nil {
			return err
		}
	}
	return nil
}

// overlappedEntry is OVERLAPPED_ENTRY. Overlapped carries the ApcContext
// of an AFD poll, which is a record id here, never a pointer, so the
// field is an integer.
type overlappedEntry struct {
	CompletionKey uintptr
	Overlapped    uintptr
	Internal      uintptr
	Transferred   uint32
}

// ntDeviceIoControlFile issues ioctl code on h with in as input and out
// as output buffer; apcContext comes back as the completion's Overlapped
// field. It returns the NTSTATUS (STATUS_PENDING while the kernel keeps
// iosb, in and out).
func ntDeviceIoControlFile(h windows.Handle, apcContext uintptr, iosb *windows.IO_STATUS_BLOCK, code uint32, in unsafe.Pointer, inLen uint32, out unsafe.Pointer, outLen uint32) windows.NTStatus {
	r, _, _ := syscall.SyscallN(procNtDeviceIoControlFile.Addr(), uintptr(h), 0, 0, apcContext,
		uintptr(unsafe.Pointer(iosb)), uintptr(code),
		uintptr(in), uintptr(inLen), uintptr(out), uintptr(outLen))
	return windows.NTStatus(uint32(r))
}

// ntCancelIoFileEx cancels the request on h that uses iosb.
func ntCancelIoFileEx(h windows.Handle, iosb *windows.IO_STATUS_BLOCK) windows.NTStatus {
	var res windows.IO_STATUS_BLOCK
	r, _, _ := syscall.SyscallN(procNtCancelIoFileEx.Addr(), uintptr(h), uintptr(unsafe.Pointer(iosb)), uintptr(unsafe.Pointer(&res)))
	return windows.NTStatus(uint32(r))
}

// getQueuedCompletionStatusEx dequeues up to len(entries) completions,
// waiting up to ms milliseconds (windows.INFINITE: no limit).
func getQueuedCompletionStatusEx(port windows.Handle, entries []overlappedEntry, ms uint32) (int, error) {
	var n uint32
	r, _, e := syscall.SyscallN(procGetQueuedCompletionStatusEx.Addr(), uintptr(port),
		uintptr(unsafe.Pointer(&entries[0])), uintptr(len(entries)),
		uintptr(unsafe.Pointer(&n)), uintptr(ms), 0)
	if r == 0 {
		if e == syscall.Errno(windows.WAIT_TIMEOUT) {
			return 0, nil
		}
		return 0, e
	}
	return int(n), nil
}

// baseSocket returns the base provider's handle for s.
func baseSocket(s windows.Handle) (windows.Handle, error) {
	var base windows.Handle
	var n uint32
	err := windows.WSAIoctl(s, sioBaseHandle, nil, 0,
		(*byte)(unsafe.Pointer(&base)), uint32(unsafe.Sizeof(base)), &n, nil, 0)
	if err != nil {
		return 0, err
	}
	return base, nil
}

// openAFD opens a handle on the AFD device, through which the poller
// issues its polls.
func openAFD() (windows.Handle, error) {
	name, err := windows.NewNTUnicodeString(`\Device\Afd\netloop`)
	if err != nil {
		return 0, err
	}
	oa := windows.OBJECT_ATTRIBUTES{
		Length:     uint32(unsafe.Sizeof(windows.OBJECT_ATTRIBUTES{})),
		ObjectName: name,
	}
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, windows.SYNCHRONIZE, &oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, windows.FILE_OPEN, 0, 0, 0)
	if err != nil {
		return 0, err
	}
	return h, nil
}
