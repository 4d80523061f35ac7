package transport

import (
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// setReusePort fails: Windows has no SO_REUSEPORT (its SO_REUSEADDR lets a
// socket take over a port in use, which is not the same thing).
func setReusePort(fd int) error { return windows.WSAEOPNOTSUPP }

// tcpKeepaliveVals is struct tcp_keepalive, for SIO_KEEPALIVE_VALS.
type tcpKeepaliveVals struct {
	onoff, time, interval uint32
}

const sioKeepaliveVals = 0x98000004

// setKeepAlive turns keep-alive on or off; when on, probes start after
// delay (whole seconds, at least 1) and repeat every second, as netloop's
// Unix side does. (libuv on Windows sets only the delay, with
// TCP_KEEPALIVE; SIO_KEEPALIVE_VALS sets both, and the probe count stays
// the system's.)
func setKeepAlive(fd int, enable bool, delay time.Duration) error {
	v := 0
	if enable {
		v = 1
	}
	h := windows.Handle(fd)
	if err := windows.SetsockoptInt(h, windows.SOL_SOCKET, windows.SO_KEEPALIVE, v); err != nil || !enable {
		return err
	}
	ka := tcpKeepaliveVals{onoff: 1, time: uint32(keepSeconds(delay) * 1000), interval: 1000}
	var n uint32
	return windows.WSAIoctl(h, sioKeepaliveVals, (*byte)(unsafe.Pointer(&ka)), uint32(unsafe.Sizeof(ka)), nil, 0, &n, nil, 0)
}
