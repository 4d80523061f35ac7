//go:build windows

package sys

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

var procGetProcessHandleCount = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetProcessHandleCount")

// HandleCount measures the process's open handles, for leak tests: the
// GetProcessHandleCount figure, or, where that reports 0 (Wine 8.0 does),
// the table slot of a fresh handle (its value divided by 4), which grows
// with the handles left open because Wine hands out the lowest free slot.
// how names the measure used.
func HandleCount() (n int, how string, err error) {
	var count uint32
	if r, _, e := procGetProcessHandleCount.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&count))); r == 0 {
		return 0, "", e
	}
	if count != 0 {
		return int(count), "GetProcessHandleCount", nil
	}
	ev, err := windows.CreateEvent(nil, 0, 0, nil)
	if err != nil {
		return 0, "", err
	}
	windows.CloseHandle(ev)
	return int(ev) / 4, "lowest free handle slot (GetProcessHandleCount gives 0)", nil
}
