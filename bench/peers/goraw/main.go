// Command goraw is the C yardstick (peers/c/echo.c) written in Go: one
// goroutine, level-triggered epoll, accept4 until EAGAIN, TCP_NODELAY set
// on each accepted socket, a 64 KiB read buffer, the same system calls in
// the same order. With -inherit-nodelay it sets TCP_NODELAY once on the
// listener instead, as netloop's NoDelay server does (one setsockopt
// fewer per connection); `make bench` runs it so, as go-floor.
// Non-blocking calls are raw system calls; the blocking epoll_wait goes
// through the runtime, as any Go program's must. What separates it from C
// is the Go runtime's share; what separates netloop from it is netloop's.
package main

import (
	"flag"
	"fmt"
	"log"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	bufSize   = 64 * 1024
	maxEvents = 256
)

var (
	ep   int
	rbuf [bufSize]byte
	pend [][]byte // unsent remainder per descriptor
)

func raw(trap, a1, a2, a3 uintptr) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(trap, a1, a2, a3)
	return int(r), e
}

func ctl(op, fd int, events uint32) unix.Errno {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	return e
}

func slot(fd int) *[]byte {
	for fd >= len(pend) {
		pend = append(pend, make([][]byte, len(pend)+1024)...)
	}
	return &pend[fd]
}

func drop(fd int) {
	*slot(fd) = nil
	raw(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

func write(fd int, b []byte) (int, unix.Errno) {
	return raw(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
}

// flush writes fd's remainder; done, reading resumes.
func flush(fd int) {
	p := slot(fd)
	n, e := write(fd, *p)
	if e == unix.EAGAIN {
		return
	}
	if e != 0 {
		drop(fd)
		return
	}
	*p = (*p)[n:]
	if len(*p) == 0 {
		*p = nil
		ctl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLIN|unix.EPOLLRDHUP)
	}
}

func onRead(fd int) {
	n, e := raw(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&rbuf[0])), bufSize)
	if e == unix.EAGAIN {
		return
	}
	if e != 0 || n == 0 {
		drop(fd)
		return
	}
	w, e := write(fd, rbuf[:n])
	if e == unix.EAGAIN {
		w, e = 0, 0
	}
	if e != 0 {
		drop(fd)
		return
	}
	if w < n {
		*slot(fd) = append([]byte(nil), rbuf[w:n]...)
		ctl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLOUT)
	}
}

func onAccept(lfd int, inherit bool) {
	one := int32(1)
	for {
		fd, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(lfd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e == unix.EINTR || e == unix.ECONNABORTED {
			continue
		}
		if e != 0 {
			return // EAGAIN, or EMFILE etc.: tried again at the next readiness
		}
		if !inherit {
			unix.RawSyscall6(unix.SYS_SETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, uintptr(unsafe.Pointer(&one)), 4, 0)
		}
		if ctl(unix.EPOLL_CTL_ADD, int(fd), unix.EPOLLIN|unix.EPOLLRDHUP) != 0 {
			raw(unix.SYS_CLOSE, fd, 0, 0)
		}
	}
}

func main() {
	port := flag.Int("port", 9000, "TCP port on 127.0.0.1")
	inherit := flag.Bool("inherit-nodelay", false, "set TCP_NODELAY once on the listener, which Linux copies to accepted sockets, instead of on each (as netloop's NoDelay server does)")
	flag.Parse()
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	unix.SetsockoptInt(lfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if *inherit {
		unix.SetsockoptInt(lfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Port: *port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		log.Fatal(err)
	}
	if err := unix.Listen(lfd, 4096); err != nil {
		log.Fatal(err)
	}
	if ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		log.Fatal(err)
	}
	ctl(unix.EPOLL_CTL_ADD, lfd, unix.EPOLLIN)
	fmt.Println("ready")
	events := make([]unix.EpollEvent, maxEvents)
	for {
		n, err := unix.EpollWait(ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		for i := 0; i < n; i++ {
			fd, e := int(events[i].Fd), events[i].Events
			switch {
			case fd == lfd:
				onAccept(lfd, *inherit)
			case e&unix.EPOLLOUT != 0:
				flush(fd)
			case e&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0:
				onRead(fd)
			}
		}
	}
}
