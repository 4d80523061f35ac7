//go:build windows

package poller

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/netloop/netloop/internal/sys"
)

var procWineVerion = modntdll.NewProc("wine_get_version")

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New()
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// tcpSocket returns a non-blocking TCP socket closed at the end of the test.
func tcpSocket(t *testing.T) windows.Handle {
	t.Helper()
	fd, err := sys.Socket(sys.AF_INET, sys.SOCK_STREAM, 0)
	require.NoError(t, err)
	s := windows.Handle(fd)
	t.Cleanup(func() { windows.Closesocket(s) })
	return s
}

// listener returns a listening socket on 127.0.0.1 and its address.
func listener(t *testing.T) (windows.Handle, *windows.SockaddrInet4) {
	t.Helper()
	l := tcpSocket(t)
	require.NoError(t, windows.Bind(l, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, windows.Listen(l, 128))
	sa, err := windows.Getsockname(l)
	require.NoError(t, err)
	return l, sa.(*windows.SockaddrInet4)
}

// dial starts a non-blocking connect to sa.
func dial(t *testing.T, sa *windows.SockaddrInet4) windows.Handle {
	t.Helper()
	c := tcpSocket(t)
	err := windows.Connect(c, sa)
	if err != nil && !errors.Is(err, windows.WSAEWOULDBLOCK) {
		require.NoError(t, err)
	}
	return c
}

// accept takes a pending connection off l, retrying for a while.
func accept(t *testing.T, l windows.Handle) windows.Handle {
	t.Helper()
	for i := 0; i < 500; i++ {
		fd, err := sys.Accept(int(l))
		if err == nil {
			s := windows.Handle(fd)
			t.Cleanup(func() { windows.Closesocket(s) })
			return s
		}
		require.ErrorIs(t, err, windows.WSAEWOULDBLOCK)
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("accept: no connection")
	return 0
}

// pair returns a connected pair of sockets: the dialled end and the
// accepted end.
func pair(t *testing.T) (c, s windows.Handle) {
	t.Helper()
	l, sa := listener(t)
	c = dial(t, sa)
	return c, accept(t, l)
}

func send(t *testing.T, s windows.Handle, b []byte) {
	t.Helper()
	n, err := sys.Write(int(s), b)
	require.NoError(t, err, "send")
	require.Equal(t, len(b), n, "send")
}

// recv reads what is there; -1 means it would block.
func recv(s windows.Handle, b []byte) int {
	n, err := sys.Read(int(s), b)
	if err != nil {
		return -1
	}
	return n
}

func wait(t *testing.T, p *Poller, timeoutMs int) []Event {
	t.Helper()
	events := make([]Event, MaxEvents)
	n, err := p.Wait(events, timeoutMs)
	require.NoError(t, err)
	return events[:n]
}

// waitFor waits (up to 5 s in all) until a Wait reports something.
func waitFor(t *testing.T, p *Poller) []Event {
	t.Helper()
	for i := 0; i < 10; i++ {
		if evs := wait(t, p, 500); len(evs) > 0 {
			return evs
		}
	}
	t.Fatal("no event within 5 s")
	return nil
}

func fd(s windows.Handle) int { return int(s) }

const (
	tokA Token = 0x8765_4321_0fed_cba9
	tokB Token = 0x0000_0001_ffff_fffe
)

// underWine reports whether the tests run under Wine (its ntdll exports
// wine_get_version), which differs from Windows in details noted where
// they matter.
func underWine() bool { return procWineVerion.Find() == nil }

func TestListenerReadableOnPendingConnection(t *testing.T) {
	p := newPoller(t)
	l, sa := listener(t)
	require.NoError(t, p.Add(fd(l), tokA, Read))
	assert.Empty(t, wait(t, p, 50), "no connection yet")
	dial(t, sa)
	evs := waitFor(t, p)
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, evs)
}

func TestWritableAfterConnect(t *testing.T) {
	p := newPoller(t)
	_, sa := listener(t)
	c := dial(t, sa)
	require.NoError(t, p.Add(fd(c), tokB, Write))
	evs := waitFor(t, p)
	assert.Equal(t, []Event{{Token: tokB, Events: Write}}, evs)
}

func TestReadLevelTriggered(t *testing.T) {
	p := newPoller(t)
	c, s := pair(t)
	require.NoError(t, p.Add(fd(s), tokA, Read))
	assert.Empty(t, wait(t, p, 50), "nothing sent yet")
	send(t, c, []byte("hello"))
	for i := 0; i < 3; i++ { // reported until drained
		evs := waitFor(t, p)
		assert.Equal(t, []Event{{Token: tokA, Events: Read}}, evs, "wait %d", i)
	}
	var buf [16]byte
	assert.Equal(t, 5, recv(s, buf[:]))
	assert.Empty(t, wait(t, p, 50), "drained")
	send(t, c, []byte("again"))
	assert.Equal(t, []Event{{Token: tokA, Events: Read}}, waitFor(t, p))
}

func TestConnectRefusedIsErr(t *testing.T) {
	p := newPoller(t)
	l, sa := listener(t)
	windows.Closesocket(l) // the port is now closed
	c := dial(t, sa)
	require.NoError(t, p.Add(fd(c), tokA, Write))
	evs := waitFor(t, p)
	require.Len(t, evs, 1)
	assert.Equal(t, tokA, evs[0].Token)
	assert.NotZero(t, evs[0].Events&Err, "got %b", evs[0].Events)
	soErr, err := windows.GetsockoptInt(c, windows.SOL_SOCKET, 0x1007) // SO_ERROR
	require.NoError(t, err)
	assert.Equal(t, int(windows.WSAECONNREFUSED), soErr)
}

func TestPeerShutdownIsRdHup(t *testing.T) {
	p := newPoller(t)
	c, s := pair(t)
	require.NoError(t, p.Add(fd(s), 1, Read))
	require.NoError(t, windows.Shutdown(c, windows.SHUT_WR))
	evs := waitFor(t, p)
	require.Len(t, evs, 1)
	assert.Equal(t, Read|RdHup, evs[0].Events&(Read|RdHup))
	assert.Zero(t, evs[0].Events&Hup, "only one direction is shut")
}

func TestModifySwitchesInterest(t *testing.T) {
	p := newPoller(t)
	c, s := pair(t)
	assert.ErrorIs(t, p.Modify(fd(s), 1, Write), windows.ERROR_NOT_FOUND, "Modify needs a registration")
	require.NoError(t, p.Add(fd(s), 1, Read))
	assert.Empty(t, wait(t, p, 50), "nothing to read")
	// The Read poll is outstanding now: Modify cancels it.
	require.NoError(t, p.Modify(fd(s), 2, Write))
	assert.Equal(t, []Event{{Token: 2, Events: Write}}, waitFor(t, p))
	require.NoError(t, p.Modify(fd(s), 3, Read))
	assert.Empty(t, wait(t, p, 50), "write readiness no longer asked for")
	send(t, c, []byte("x"))
	assert.Equal(t, []Event{{Token: 3, Events: Read}}, waitFor(t, p))
	require.NoError(t, p.Modify(fd(s), 4, Read|Write))
	assert.Equal(t, []Event{{Token: 4, Events: Read | Write}}, waitFor(t, p), "one event with both bits")
}

func TestAddTwiceFails(t *testing.T) {
	p := newPoller(t)
	s := tcpSocket(t)
	require.NoError(t, p.Add(fd(s), 1, Read))
	assert.ErrorIs(t, p.Add(fd(s), 2, Read), windows.ERROR_ALREADY_EXISTS)
}

func TestAddNotASocket(t *testing.T) {
	p := newPoller(t)
	if underWine() {
		// Wine 8.0's WSAIoctl(SIO_BASE_HANDLE) succeeds on any handle.
		t.Skip("Wine does not refuse non-sockets in SIO_BASE_HANDLE")
	}
	assert.Error(t, p.Add(fd(p.port), 1, Read), "a completion port is not a socket")
	assert.ErrorIs(t, p.Delete(fd(p.port)), windows.ERROR_NOT_FOUND, "a refused Add registers nothing")
}

func TestReservedTokenRefused(t *testing.T) {
	p := newPoller(t)
	_, s := pair(t)
	assert.ErrorIs(t, p.Add(fd(s), ReservedToken, Write), ErrReservedToken)
	assert.ErrorIs(t, p.Delete(fd(s)), windows.ERROR_NOT_FOUND)
	require.NoError(t, p.Add(fd(s), 1, Write))
	assert.ErrorIs(t, p.Modify(fd(s), ReservedToken, Write), ErrReservedToken)
	assert.Equal(t, []Event{{Token: 1, Events: Write}}, waitFor(t, p), "a refused Modify changes nothing")
}

func TestDeleteStopsEvents(t *testing.T) {
	p := newPoller(t)
	c, s := pair(t)
	require.NoError(t, p.Add(fd(s), tokA, Read))
	require.NoError(t, p.Add(fd(c), tokB, Write))
	send(t, c, []byte("x"))
	got := map[Token]Interest{}
	for i := 0; i < 10 && len(got) < 2; i++ {
		for _, ev := range wait(t, p, 500) {
			got[ev.Token] = ev.Events
		}
	}
	assert.Equal(t, map[Token]Interest{tokA: Read, tokB: Write}, got)

	// Both polls are outstanding (re-issued by the Waits): Delete cancels.
	require.NoError(t, p.Delete(fd(s)))
	for i := 0; i < 3; i++ {
		assert.Equal(t, []Event{{Token: tokB, Events: Write}}, waitFor(t, p))
	}
	require.NoError(t, p.Delete(fd(c)))
	assert.Empty(t, wait(t, p, 100))
	assert.ErrorIs(t, p.Delete(fd(c)), windows.ERROR_NOT_FOUND)
	assert.Empty(t, p.ids, "cancelled records are freed once their completions arrive")
	assert.Zero(t, p.pending)

	// Re-adding under a new token reports the new token only.
	require.NoError(t, p.Add(fd(s), tokB+1, Read))
	assert.Equal(t, []Event{{Token: tokB + 1, Events: Read}}, waitFor(t, p))
}

func TestLocalCloseDropsRegistration(t *testing.T) {
	p := newPoller(t)
	s, err := windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0, windows.WSA_FLAG_OVERLAPPED)
	require.NoError(t, err)
	require.NoError(t, p.Add(fd(s), 1, Read))
	assert.Empty(t, wait(t, p, 50))
	require.NoError(t, windows.Closesocket(s))
	assert.Empty(t, wait(t, p, 200), "a closed socket reports nothing")
	assert.Empty(t, p.socks, "LOCAL_CLOSE ends the registration")
}

func TestHupWithoutInterest(t *testing.T) {
	p := newPoller(t)
	c, s := pair(t)
	require.NoError(t, p.Add(fd(s), 5, 0))
	assert.Empty(t, wait(t, p, 50))
	// An abortive close (linger 0) resets the connection: ABORT.
	lin := windows.Linger{Onoff: 1, Linger: 0}
	require.NoError(t, windows.SetsockoptLinger(c, windows.SOL_SOCKET, windows.SO_LINGER, &lin))
	require.NoError(t, windows.Closesocket(c))
	assert.Equal(t, []Event{{Token: 5, Events: Hup}}, waitFor(t, p))
}

func TestWaitTimeout(t *testing.T) {
	p := newPoller(t)
	start := time.Now()
	assert.Empty(t, wait(t, p, 30))
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestWaitZeroTimeoutReturnsAtOnce(t *testing.T) {
	p := newPoller(t)
	s := tcpSocket(t)
	require.NoError(t, p.Add(fd(s), 1, Read))
	start := time.Now()
	for i := 0; i < 10; i++ {
		assert.Empty(t, wait(t, p, 0))
	}
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestWaitNeedsRoom(t *testing.T) {
	p := newPoller(t)
	_, err := p.Wait(nil, 0)
	assert.Error(t, err)
}

func TestWakeFromAnotherGoroutine(t *testing.T) {
	p := newPoller(t)
	go func() {
		time.Sleep(20 * time.Millisecond)
		assert.NoError(t, p.Wake())
	}()
	start := time.Now()
	assert.Empty(t, wait(t, p, -1))
	assert.Less(t, time.Since(start), 10*time.Second, "Wake must end a blocked Wait")
}

func TestWakeCoalesces(t *testing.T) {
	p := newPoller(t)
	for i := 0; i < 100; i++ {
		require.NoError(t, p.Wake())
	}
	assert.Empty(t, wait(t, p, 20000)) // returns at once: a wake-up is pending
	start := time.Now()
	assert.Empty(t, wait(t, p, 30)) // the 100 wake-ups were one
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	require.NoError(t, p.Wake())
	start = time.Now()
	assert.Empty(t, wait(t, p, 20000))
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestWakeRacesClose(t *testing.T) {
	for i := 0; i < 20; i++ {
		p, err := New()
		require.NoError(t, err)
		var wg sync.WaitGroup
		var bad atomic.Value
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 100; j++ {
					if err := p.Wake(); err == ErrClosed {
						return
					} else if err != nil {
						bad.Store(err)
						return
					}
					if j%16 == 0 {
						p.gate.consumed()
					}
				}
			}()
		}
		require.NoError(t, p.Close())
		wg.Wait()
		assert.Nil(t, bad.Load())
		assert.ErrorIs(t, p.Wake(), ErrClosed)
	}
}

func TestClosedPoller(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	_, s := pair(t)
	require.NoError(t, p.Add(fd(s), 1, Read))
	assert.Empty(t, wait(t, p, 50)) // a poll is outstanding: Close cancels it
	require.NoError(t, p.Close())
	assert.Zero(t, p.pending, "Close waits for the cancelled poll")
	assert.ErrorIs(t, p.Close(), ErrClosed)
	_, err = p.Wait(make([]Event, 1), 0)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = p.Wait(make([]Event, 1), -1)
	assert.ErrorIs(t, err, ErrClosed, "Wait on a closed poller must not block")
	assert.ErrorIs(t, p.Add(fd(s), 1, Read), ErrClosed)
	assert.ErrorIs(t, p.Modify(fd(s), 1, Read), ErrClosed)
	assert.ErrorIs(t, p.Delete(fd(s)), ErrClosed)
	assert.ErrorIs(t, p.Wake(), ErrClosed)
}

func TestManySocketsInOneWait(t *testing.T) {
	const n = 64
	p := newPoller(t)
	l, sa := listener(t)
	want := map[Token]Interest{}
	for i := 0; i < n; i++ {
		c := dial(t, sa)
		accept(t, l)
		require.NoError(t, p.Add(fd(c), Token(i), Write))
		want[Token(i)] = Write
	}
	got := map[Token]Interest{}
	waits := 0
	for ; waits < 20 && len(got) < n; waits++ {
		for _, ev := range wait(t, p, 500) {
			got[ev.Token] |= ev.Events
		}
	}
	assert.Equal(t, want, got)
	t.Logf("%d sockets reported in %d waits", n, waits)
	// All 64 polls re-issued and ready: one Wait with room reports them all.
	evs := wait(t, p, 500)
	for i := 0; i < 10 && len(evs) < n; i++ {
		evs = append(evs, wait(t, p, 100)...)
	}
	assert.Len(t, evs, n)
}

// TestTenThousandRegistrationsLeakNothing: 10,000 registrations (500
// sockets registered, polled, and deleted with their polls still
// outstanding, 20 times over) leave no handle behind and the poller's
// tables empty.
func TestTenThousandRegistrationsLeakNothing(t *testing.T) {
	const rounds, perRound = 20, 500
	p := newPoller(t)
	socks := make([]windows.Handle, perRound)
	for i := range socks {
		socks[i] = tcpSocket(t)
	}
	round := func() {
		for i, s := range socks {
			require.NoError(t, p.Add(int(s), Token(i), Read))
		}
		wait(t, p, 0) // issues the polls: unconnected sockets stay quiet
		require.Equal(t, perRound, p.pending)
		for _, s := range socks {
			require.NoError(t, p.Delete(int(s)))
		}
		for i := 0; i < 500 && p.pending > 0; i++ {
			wait(t, p, 10) // collects the cancelled polls' completions
		}
		require.Zero(t, p.pending, "cancelled polls not completed")
	}
	round() // warm up: tables grow, lazy DLLs load
	before, how, err := sys.HandleCount()
	require.NoError(t, err)
	for r := 1; r < rounds; r++ {
		round()
	}
	after, _, err := sys.HandleCount()
	require.NoError(t, err)
	t.Logf("%d registrations; %s: before %d, after %d", rounds*perRound, how, before, after)
	assert.LessOrEqual(t, after, before+4, "handles left open")
	assert.Empty(t, p.socks)
	assert.Empty(t, p.ids)
}

func TestBatchLimitedByEvents(t *testing.T) {
	p := newPoller(t)
	l, sa := listener(t)
	for i := 0; i < 3; i++ {
		c := dial(t, sa)
		accept(t, l)
		require.NoError(t, p.Add(fd(c), Token(i), Write))
	}
	time.Sleep(50 * time.Millisecond)
	events := make([]Event, 2)
	n, err := p.Wait(events, 5000)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, 2)
	assert.Positive(t, n)
}

// TestWaitAllocsNothing: re-issuing polls and reporting events allocates
// nothing once the poller's tables have grown.
func TestWaitAllocsNothing(t *testing.T) {
	p := newPoller(t)
	c, s := pair(t)
	require.NoError(t, p.Add(fd(s), 1, Read))
	require.NoError(t, p.Add(fd(c), 2, Write))
	send(t, c, []byte("x"))
	events := make([]Event, 8)
	got := 0
	allocs := testing.AllocsPerRun(50, func() {
		n, _ := p.Wait(events, 500)
		got += n
	})
	assert.Zero(t, allocs)
	assert.Positive(t, got)
}

// TestClosedBeforeFirstPollIsErr: a socket closed before any Wait issued
// its poll cannot be polled; Wait reports Err (every Wait, level-triggered)
// until the registration is deleted.
func TestClosedBeforeFirstPollIsErr(t *testing.T) {
	p := newPoller(t)
	s, err := windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0, windows.WSA_FLAG_OVERLAPPED)
	require.NoError(t, err)
	require.NoError(t, p.Add(fd(s), 9, Read))
	require.NoError(t, windows.Closesocket(s))
	for i := 0; i < 2; i++ {
		evs := waitFor(t, p)
		require.Len(t, evs, 1)
		assert.Equal(t, Token(9), evs[0].Token)
		assert.NotZero(t, evs[0].Events&(Err|Hup), "got %b", evs[0].Events)
	}
	require.NoError(t, p.Delete(fd(s)))
	assert.Empty(t, wait(t, p, 100))
}
