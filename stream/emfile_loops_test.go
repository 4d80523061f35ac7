//go:build linux

package stream_test

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/tcp"
)

const emfileLoopsChildEnv = "NETLOOP_EMFILE_LOOPS_CHILD"

// TestEMFILETwoLoops: two loops in one process listen on one port
// (SO_REUSEPORT) in a child with a low RLIMIT_NOFILE, and the parent
// floods them with connections they cannot hold. With one spare
// descriptor per loop, one loop's accept could take the slot the other
// had just freed to shed with; that loop then lost its spare for good and
// spun on EMFILE (millions of errors in seconds). Now the process shares
// one spare, shedding is serialized and the spare comes back: both loops
// shed silently, report next to no errors, and serve again once the load
// is gone.
func TestEMFILETwoLoops(t *testing.T) {
	if os.Getenv(emfileLoopsChildEnv) != "" {
		emfileLoopsChild(t)
		return
	}
	if testutil.CountFDs() < 0 {
		t.Skip("needs /proc/self/fd")
	}
	c := startChild(t, "TestEMFILETwoLoops", emfileLoopsChildEnv)
	var clients []int
	closeClients := func() {
		for _, fd := range clients {
			unix.Close(fd)
		}
		clients = nil
	}
	defer closeClients()
	expect := c.expect
	port, err := strconv.Atoi(expect("PORT "))
	require.NoError(t, err)
	dial := func() (int, error) {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		clients = append(clients, fd)
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
		return fd, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	}

	// The flood: far more connections than the child can hold, kept open
	// for a while, in bursts.
	for burst := 0; burst < 5; burst++ {
		for i := 0; i < 60; i++ {
			_, err := dial()
			require.NoError(t, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	closeClients()
	c.send("FREE")
	expect("FREED")

	// Both loops serve again (SO_REUSEPORT spreads the connections).
	served := 0
	for try := 0; try < 200 && served < 20; try++ {
		fd, err := dial()
		if err == nil {
			if _, err = unix.Write(fd, []byte("ping")); err == nil {
				buf := make([]byte, 8)
				if n, err := unix.Read(fd, buf); err == nil && string(buf[:n]) == "ping" {
					served++
				}
			}
		}
		unix.Close(fd)
		clients = clients[:len(clients)-1]
	}
	require.Equal(t, 20, served, "the loops did not serve again after the load")
	c.send("STOP")
	stats := expect("DONE ")
	t.Logf("child: %s", stats)
	var errs1, errs2, by1, by2 int
	_, err = fmt.Sscanf(stats, "errors=%d,%d served=%d,%d", &errs1, &errs2, &by1, &by2)
	require.NoError(t, err)
	require.Less(t, errs1+errs2, 100, "a loop kept failing at EMFILE")
	require.Greater(t, by1, 0, "loop 1 served nothing after the load")
	require.Greater(t, by2, 0, "loop 2 served nothing after the load")
}

func emfileLoopsChild(t *testing.T) {
	type side struct {
		l       *loop.Loop
		lis     *tcp.TCP
		held    []*tcp.TCP
		freed   bool
		errors  int
		served  int
		stopped bool
	}
	sides := [2]*side{}
	for i := range sides {
		l, err := loop.New()
		require.NoError(t, err)
		sides[i] = &side{l: l, lis: tcp.New(l)}
	}
	lo := netip.MustParseAddr("127.0.0.1")
	require.NoError(t, sides[0].lis.Bind(lo, 0, tcp.ReusePort))
	ap, err := sides[0].lis.SockName()
	require.NoError(t, err)
	require.NoError(t, sides[1].lis.Bind(lo, int(ap.Port()), tcp.ReusePort))
	for _, sd := range sides {
		sd := sd
		require.NoError(t, sd.lis.Listen(511, func(err error) {
			if err != nil {
				sd.errors++
				return
			}
			c := tcp.New(sd.l)
			if sd.lis.Accept(c) != nil {
				c.Close(nil)
				return
			}
			if !sd.freed {
				sd.held = append(sd.held, c)
				return
			}
			sd.served++
			c.ReadStart(nil, func(n int, buf []byte, err error) {
				if err != nil {
					c.Close(nil)
					return
				}
				c.Write([][]byte{buf[:n]}, nil)
			})
		}))
	}
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl))
	rl.Cur = uint64(testutil.CountFDs() + 12)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl))
	say("PORT %d", ap.Port())

	var wg sync.WaitGroup
	for _, sd := range sides {
		wg.Add(1)
		go func(sd *side) {
			defer wg.Done()
			sd.l.Run(loop.RunDefault)
		}(sd)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "FREE":
			var fw sync.WaitGroup
			for _, sd := range sides {
				fw.Add(1)
				sd := sd
				sd.l.Post(func() {
					for _, c := range sd.held {
						c.Close(nil)
					}
					sd.held, sd.freed = nil, true
					fw.Done()
				})
			}
			fw.Wait()
			say("FREED")
		case "STOP":
			var sw sync.WaitGroup
			for _, sd := range sides {
				sw.Add(1)
				sd := sd
				sd.l.Post(func() {
					sd.lis.Close(nil)
					for _, c := range sd.held {
						c.Close(nil)
					}
					sw.Done()
				})
			}
			sw.Wait()
			wg.Wait()
			for _, sd := range sides {
				require.NoError(t, sd.l.Close())
			}
			say("DONE errors=%d,%d served=%d,%d", sides[0].errors, sides[1].errors, sides[0].served, sides[1].served)
			io.Copy(io.Discard, os.Stdin)
			return
		}
	}
}
