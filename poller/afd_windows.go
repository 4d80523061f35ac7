//go:build windows

package poller

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Windows backend asks the Ancillary Function Driver (AFD, the kernel
// side of Winsock) for readiness, as wepoll, libuv and mio do: an
// IOCTL_AFD_POLL request on a handle to \Device\Afd completes, through an
// I/O completion port, when one of the socket's events it names occurs.
// These are the structures and calls it takes; the values are the
// driver's, as those projects document them.

const (
	ioctlAFDPoll  = 0x00012024 // IOCTL_AFD_POLL
	sioBaseHandle = 0x48000022 // SIO_BASE_HANDLE: the socket under any layered provider

	afdPollReceive     = 0x0001
	afdPollReceiveExp  = 0x0002 // out-of-band data
	afdPollSend        = 0x0004
	afdPollDisconnect  = 0x0008 // the peer shut down its sending side
	afdPollAbort       = 0x0010 // the connection was reset or aborted
	afdPollLocalClose  = 0x0020 // the socket was closed here
	afdPollAccept      = 0x0080
	afdPollConnectFail = 0x0100
)

// afdPollHandleInfo and afdPollInfo are AFD_POLL_HANDLE_INFO and
// AFD_POLL_INFO with one handle: the request names the socket and the
// events it waits for, the completion carries the events that occurred.
type afdPollHandleInfo struct {
	handle windows.Handle
	events uint32
	status uint32
}

type afdPollInfo struct {
	timeout   int64 // LARGE_INTEGER; the maximum: no timeout
	count     uint32
	exclusive uint32
	handles   [1]afdPollHandleInfo
}

// overlappedEntry is OVERLAPPED_ENTRY, as GetQueuedCompletionStatusEx fills
// it: the completion key and the request's context pointer.
type overlappedEntry struct {
	key        uintptr
	overlapped *sockState // the request's context (nil for Wake's packets)
	internal   uintptr
	transfered uint32
}

var (
	ntdll    = windows.NewLazySystemDLL("ntdll.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procNtDeviceIoControlFile       = ntdll.NewProc("NtDeviceIoControlFile")
	procNtCancelIoFileEx            = ntdll.NewProc("NtCancelIoFileEx")
	procGetQueuedCompletionStatusEx = kernel32.NewProc("GetQueuedCompletionStatusEx")
)

// openAFD opens a handle to the AFD device, associated with port under
// key, whose completions do not also signal the handle.
func openAFD(port windows.Handle, key uintptr) (windows.Handle, error) {
	name, err := windows.NewNTUnicodeString(`\Device\Afd\netloop`)
	if err != nil {
		return 0, err
	}
	oa := windows.OBJECT_ATTRIBUTES{ObjectName: name}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	if err := windows.NtCreateFile(&h, windows.SYNCHRONIZE, &oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, windows.FILE_OPEN, 0, 0, 0); err != nil {
		return 0, err
	}
	if _, err := windows.CreateIoCompletionPort(h, port, key, 0); err != nil {
		windows.CloseHandle(h)
		return 0, err
	}
	if err := windows.SetFileCompletionNotificationModes(h, windows.FILE_SKIP_SET_EVENT_ON_HANDLE); err != nil {
		windows.CloseHandle(h)
		return 0, err
	}
	return h, nil
}

// afdPoll issues IOCTL_AFD_POLL for info on the AFD handle; the completion
// carries ctx as its overlapped pointer. STATUS_PENDING and
// STATUS_SUCCESS both mean a completion will come.
func afdPoll(afd windows.Handle, iosb *windows.IO_STATUS_BLOCK, info *afdPollInfo, ctx unsafe.Pointer) windows.NTStatus {
	iosb.Status = windows.STATUS_PENDING
	r, _, _ := procNtDeviceIoControlFile.Call(uintptr(afd), 0, 0, uintptr(ctx),
		uintptr(unsafe.Pointer(iosb)), ioctlAFDPoll,
		uintptr(unsafe.Pointer(info)), unsafe.Sizeof(*info),
		uintptr(unsafe.Pointer(info)), unsafe.Sizeof(*info))
	return windows.NTStatus(r)
}

// afdCancel cancels the request whose status block is iosb; its
// completion then comes with STATUS_CANCELLED (or with its result, if it
// had completed already).
func afdCancel(afd windows.Handle, iosb *windows.IO_STATUS_BLOCK) windows.NTStatus {
	var cancel windows.IO_STATUS_BLOCK
	r, _, _ := procNtCancelIoFileEx.Call(uintptr(afd), uintptr(unsafe.Pointer(iosb)), uintptr(unsafe.Pointer(&cancel)))
	return windows.NTStatus(r)
}

// getQueuedCompletions waits up to ms milliseconds (windows.INFINITE for
// ever) for completions and fills entries; a timeout returns 0, nil.
func getQueuedCompletions(port windows.Handle, entries []overlappedEntry, ms uint32) (int, error) {
	var n uint32
	r, _, err := procGetQueuedCompletionStatusEx.Call(uintptr(port), uintptr(unsafe.Pointer(&entries[0])),
		uintptr(len(entries)), uintptr(unsafe.Pointer(&n)), uintptr(ms), 0)
	if r == 0 {
		if err == windows.WAIT_TIMEOUT {
			return 0, nil
		}
		return 0, err
	}
	return int(n), nil
}

// baseHandle returns the base service provider's handle of sock, which
// AFD polls (a layered provider may have wrapped sock).
func baseHandle(sock windows.Handle) (windows.Handle, error) {
	var base windows.Handle
	var n uint32
	err := windows.WSAIoctl(sock, sioBaseHandle, nil, 0, (*byte)(unsafe.Pointer(&base)), uint32(unsafe.Sizeof(base)), &n, nil, 0)
	if err != nil {
		return 0, err
	}
	return base, nil
}

// errnoFor maps an NTSTATUS to the Win32 error, as an Errno.
func errnoFor(st windows.NTStatus) error {
	return syscall.Errno(st.Errno())
}
