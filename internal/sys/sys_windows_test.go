package sys_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/netloop/netloop/internal/sys"
)

// The stream hot paths on Windows allocate nothing: a send, a receive, a
// vectored send and a receive that would block.
func TestReadWriteAllocateNothing(t *testing.T) {
	lst, err := sys.Socket(sys.AF_INET, sys.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(lst)
	if err := sys.Bind(lst, netip.MustParseAddrPort("127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	if err := sys.Listen(lst, 1); err != nil {
		t.Fatal(err)
	}
	ap, err := sys.SockName(lst)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sys.Socket(sys.AF_INET, sys.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(c)
	if err := sys.Connect(c, ap); err != nil && err != sys.EINPROGRESS {
		t.Fatal(err)
	}
	var s int
	for i := 0; ; i++ {
		if s, err = sys.Accept(lst); err == nil {
			break
		}
		if err != sys.EAGAIN || i > 5000 {
			t.Fatalf("accept: %v", err)
		}
		runtime.Gosched()
	}
	defer sys.Close(s)
	out, in := []byte("ping"), make([]byte, 64)
	iov := []sys.Iov{sys.Iovec(out), sys.Iovec(out)}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := sys.Write(c, out); err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Writev(c, iov); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < 12; {
			n, err := sys.Read(s, in)
			if err == sys.EAGAIN {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
		if _, err := sys.Read(s, in); err != sys.EAGAIN {
			t.Fatalf("read with nothing there: %v, want EAGAIN", err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round", allocs)
	}
}
