//go:build !windows

package socket_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// Happy Eyeballs (autoSelectFamily, checklist CNX-11): the attempts over
// several resolved addresses, their events and their failures.

// staticLookup answers every lookup with answers.
func staticLookup(answers ...socket.LookupAddress) socket.LookupFunc {
	return func(context.Context, string, int) ([]socket.LookupAddress, error) {
		return answers, nil
	}
}

var (
	v4 = socket.LookupAddress{Address: "127.0.0.1", Family: 4}
	v6 = socket.LookupAddress{Address: "::1", Family: 6}
)

// trackAttempts adds the attempt events to ev (and 'lookup').
func trackAttempts(s *socket.Socket, ev *testutil.Events) {
	s.OnLookup(func(err error, address string, family int, host string) {
		ev.Addf("lookup:%s/%d", address, family)
	})
	s.OnConnectionAttempt(func(ip string, port, family int) {
		ev.Addf("attempt:%s/%d", ip, family)
	})
	s.OnConnectionAttemptFailed(func(ip string, port, family int, err error) {
		ev.Addf("failed:%s/%d:%s", ip, family, code(err))
	})
	s.OnConnectionAttemptTimeout(func(ip string, port, family int) {
		ev.Addf("attemptTimeout:%s/%d", ip, family)
	})
}

// needIPv6 skips the test when ::1 is not usable.
func needIPv6(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	ln.Close()
}

// blackhole returns a port on 127.0.0.1 whose SYNs go unanswered: a socket
// listening with backlog 0 that never accepts, its queue filled by one
// connection. It skips the test where the kernel answers anyway.
func blackhole(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	port := sa.(*syscall.SockaddrInet4).Port
	address := "127.0.0.1:" + strconv.Itoa(port)
	filler, err := net.DialTimeout("tcp", address, time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { filler.Close() })
	probe, err := net.DialTimeout("tcp", address, 100*time.Millisecond)
	if err == nil {
		probe.Close()
		t.Skip("a full listen queue does not drop SYNs here")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Skip("a full listen queue refuses instead of dropping SYNs here:", err)
	}
	return port
}

// CNX-11: the first address (::1) is refused, the second (127.0.0.1)
// connects; addresses are de-duplicated; every event comes in order.
func TestHappyEyeballsFallsBackToNextFamily(t *testing.T) {
	needIPv6(t)
	e := newEnv(t)
	var c *socket.Socket
	var ev *testutil.Events
	var port int
	e.listenN(1, nil, func(p int) {
		port = p
		c = e.newSocket(socket.Options{})
		ev = track(c, false)
		trackAttempts(c, ev)
		require.NoError(t, c.Connect(socket.ConnectOptions{Port: port, Host: "dual.test",
			Lookup: staticLookup(v6, v6, v4)}, func() {
			assert.Equal(t, "127.0.0.1", c.RemoteAddress())
			c.End(nil)
		}))
		c.OnData(func([]byte) {})
	})
	e.run()
	assert.Equal(t, []string{
		"lookup:::1/6", "lookup:::1/6", "lookup:127.0.0.1/4",
		"attempt:::1/6", "failed:::1/6:ECONNREFUSED",
		"attempt:127.0.0.1/4", "connect", "ready", "finish", "end", "close:false",
	}, ev.Get())
	p := strconv.Itoa(port)
	assert.Equal(t, []string{"::1:" + p, "127.0.0.1:" + p}, c.AutoSelectFamilyAttemptedAddresses())
	for _, name := range []string{"connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout"} {
		assert.Equal(t, 1, c.ListenerCount(name), name)
	}
}

// CNX-11: every attempt fails: one 'error' carrying an AggregateError with
// each attempt's error (code of the first), then 'close'(true). The order
// alternates families from the first answer's; blocked addresses count as
// failed attempts but are not attempted.
func TestHappyEyeballsAllAttemptsFail(t *testing.T) {
	e := newEnv(t)
	bl := addr.NewBlockList()
	require.NoError(t, bl.AddAddress("::2", "ipv6"))
	require.NoError(t, bl.AddAddress("::3", "ipv6"))
	port := freePort(t)
	c := e.newSocket(socket.Options{BlockList: bl})
	ev := track(c, false)
	trackAttempts(c, ev)
	var gotErr error
	c.OnError(func(err error) { gotErr = err })
	require.NoError(t, c.Connect(socket.ConnectOptions{Port: port, Host: "multi.test",
		Lookup: staticLookup(v4, v4,
			socket.LookupAddress{Address: "::2", Family: 6},
			socket.LookupAddress{Address: "not-an-ip", Family: 4},
			socket.LookupAddress{Address: "::3", Family: 6})}))
	e.run()
	assert.Equal(t, []string{
		"lookup:127.0.0.1/4", "lookup:127.0.0.1/4", "lookup:::2/6", "lookup:not-an-ip/4", "lookup:::3/6",
		"attempt:127.0.0.1/4", "failed:127.0.0.1/4:ECONNREFUSED",
		"failed:::2/6:ERR_IP_BLOCKED", "failed:::3/6:ERR_IP_BLOCKED",
		"error:ECONNREFUSED", "close:true",
	}, ev.Get())
	var agg *socket.AggregateError
	require.ErrorAs(t, gotErr, &agg)
	assert.Equal(t, "ECONNREFUSED", agg.Code)
	require.Len(t, agg.Errors, 3)
	assert.Equal(t, "connect ECONNREFUSED 127.0.0.1:"+strconv.Itoa(port), agg.Errors[0].Error())
	assert.Equal(t, errs.CodeIPBlocked, code(agg.Errors[1]))
	assert.Equal(t, "IP(::3) is blocked by net.BlockList", agg.Errors[2].Error())
	assert.True(t, errors.Is(gotErr, syscall.ECONNREFUSED))
	assert.Equal(t, "AggregateError [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:"+strconv.Itoa(port)+
		"; IP(::2) is blocked by net.BlockList; IP(::3) is blocked by net.BlockList", gotErr.Error())
	assert.Equal(t, []string{"127.0.0.1:" + strconv.Itoa(port)}, c.AutoSelectFamilyAttemptedAddresses())
}

// CNX-11: both families refused: the aggregate holds both connect errors.
func TestHappyEyeballsAllRefused(t *testing.T) {
	needIPv6(t)
	e := newEnv(t)
	port := freePort(t)
	c := e.newSocket(socket.Options{})
	ev := track(c, false)
	var gotErr error
	c.OnError(func(err error) { gotErr = err })
	require.NoError(t, c.Connect(socket.ConnectOptions{Port: port, Host: "multi.test", Lookup: staticLookup(v6, v4)}))
	e.run()
	assert.Equal(t, []string{"error:ECONNREFUSED", "close:true"}, ev.Get())
	var agg *socket.AggregateError
	require.ErrorAs(t, gotErr, &agg)
	require.Len(t, agg.Errors, 2)
	p := strconv.Itoa(port)
	assert.Equal(t, "connect ECONNREFUSED ::1:"+p, agg.Errors[0].Error())
	assert.Equal(t, "connect ECONNREFUSED 127.0.0.1:"+p, agg.Errors[1].Error())
	assert.Equal(t, []string{"::1:" + p, "127.0.0.1:" + p}, c.AutoSelectFamilyAttemptedAddresses())
}

// CNX-11: the first address never answers: after the attempt timeout it
// is abandoned ('connectionAttemptTimeout', no 'connectionAttemptFailed')
// and the next one connects.
func TestHappyEyeballsAttemptTimeoutMovesOn(t *testing.T) {
	needIPv6(t)
	port := blackhole(t)
	e := newEnv(t)
	var srv *server.Server
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		srv.Close(nil)
		s.OnData(func([]byte) {})
	})
	var c *socket.Socket
	var ev *testutil.Events
	var attemptAt, timeoutAt time.Time
	require.NoError(t, srv.ListenHost(port, "::1", 0, func() {
		c = e.newSocket(socket.Options{})
		ev = track(c, false)
		trackAttempts(c, ev)
		c.OnceConnectionAttempt(func(string, int, int) { attemptAt = time.Now() })
		c.OnConnectionAttemptTimeout(func(string, int, int) { timeoutAt = time.Now() })
		require.NoError(t, c.Connect(socket.ConnectOptions{Port: port, Host: "slow.test",
			Lookup: staticLookup(v4, v6), AutoSelectFamilyAttemptTimeout: time.Nanosecond}, func() {
			assert.Equal(t, "::1", c.RemoteAddress())
			c.End(nil)
		}))
		c.OnData(func([]byte) {})
	}))
	e.run()
	assert.Equal(t, []string{
		"lookup:127.0.0.1/4", "lookup:::1/6",
		"attempt:127.0.0.1/4", "attemptTimeout:127.0.0.1/4",
		"attempt:::1/6", "connect", "ready", "finish", "end", "close:false",
	}, ev.Get())
	p := strconv.Itoa(port)
	assert.Equal(t, []string{"127.0.0.1:" + p, "::1:" + p}, c.AutoSelectFamilyAttemptedAddresses())
	// 1 ns is raised to the 10 ms minimum.
	assert.GreaterOrEqual(t, timeoutAt.Sub(attemptAt), 9*time.Millisecond)
}

// CNX-11: Destroy, an idle timeout that destroys, and a Context abort
// while an attempt is pending cancel everything: no further attempt or
// event, and every handle is closed.
func TestHappyEyeballsCancelWhilePending(t *testing.T) {
	port := blackhole(t)
	e := newEnv(t)
	opts := socket.ConnectOptions{Port: port, Host: "slow.test", Lookup: staticLookup(v4, v6),
		AutoSelectFamilyAttemptTimeout: 5 * time.Second}
	var logs []*testutil.Events

	d := e.newSocket(socket.Options{})
	logs = append(logs, track(d, false))
	trackAttempts(d, logs[0])
	d.OnceConnectionAttempt(func(string, int, int) { e.after(30*time.Millisecond, func() { d.Destroy(nil) }) })
	require.NoError(t, d.Connect(opts))

	to := e.newSocket(socket.Options{})
	logs = append(logs, track(to, false))
	trackAttempts(to, logs[1])
	to.OnTimeout(func() { to.Destroy(nil) })
	o2 := opts
	o2.Timeout = 30 * time.Millisecond
	require.NoError(t, to.Connect(o2))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ab := e.newSocket(socket.Options{Context: ctx})
	logs = append(logs, track(ab, false))
	trackAttempts(ab, logs[2])
	ab.OnceConnectionAttempt(func(string, int, int) { e.after(30*time.Millisecond, cancel) })
	require.NoError(t, ab.Connect(opts))

	// ResetAndDestroy waits for the connection; Destroy after it cancels.
	rd := e.newSocket(socket.Options{})
	logs = append(logs, track(rd, false))
	trackAttempts(rd, logs[3])
	rd.OnceConnectionAttempt(func(string, int, int) {
		e.after(30*time.Millisecond, func() {
			_, err := rd.ResetAndDestroy()
			assert.NoError(t, err)
			rd.Destroy(nil)
		})
	})
	require.NoError(t, rd.Connect(opts))

	start := time.Now()
	e.run()
	assert.Less(t, time.Since(start), 2*time.Second, "nothing waited for the attempt timeout")
	pre := []string{"lookup:127.0.0.1/4", "lookup:::1/6", "attempt:127.0.0.1/4"}
	assert.Equal(t, append(pre, "close:false"), logs[0].Get())
	assert.Equal(t, append(pre, "timeout", "close:false"), logs[1].Get())
	assert.Equal(t, append(pre, "error:ABORT_ERR", "close:true"), logs[2].Get())
	assert.Equal(t, append(pre, "close:false"), logs[3].Get())
}

// CNX-11: NoAutoSelectFamily (and LocalAddress, and Family) connect to the
// first resolved address only.
func TestHappyEyeballsOffTriesFirstAddressOnly(t *testing.T) {
	needIPv6(t)
	e := newEnv(t)
	var off, local *socket.Socket
	var offLog, localLog *testutil.Events
	var offErr error
	e.listenN(1, nil, func(port int) {
		off = e.newSocket(socket.Options{})
		offLog = track(off, false)
		trackAttempts(off, offLog)
		off.OnError(func(err error) { offErr = err })
		require.NoError(t, off.Connect(socket.ConnectOptions{Port: port, Host: "dual.test",
			Lookup: staticLookup(v6, v4), NoAutoSelectFamily: true}))

		local = e.newSocket(socket.Options{})
		localLog = track(local, false)
		trackAttempts(local, localLog)
		require.NoError(t, local.Connect(socket.ConnectOptions{Port: port, Host: "dual.test",
			Lookup: staticLookup(v4, v6), LocalAddress: "127.0.0.1"}, func() { local.End(nil) }))
		local.OnData(func([]byte) {})
	})
	e.run()
	assert.Equal(t, []string{"lookup:::1/6", "attempt:::1/6", "failed:::1/6:ECONNREFUSED",
		"error:ECONNREFUSED", "close:true"}, offLog.Get())
	ee := testutil.AsError(t, offErr)
	assert.Equal(t, "::1", ee.Address)
	assert.Nil(t, off.AutoSelectFamilyAttemptedAddresses())
	assert.Equal(t, []string{"lookup:127.0.0.1/4", "attempt:127.0.0.1/4", "connect", "ready", "finish", "end", "close:false"}, localLog.Get())
	assert.Nil(t, local.AutoSelectFamilyAttemptedAddresses())
}

// CNX-11: a negative attempt timeout fails at the call with
// ERR_OUT_OF_RANGE.
func TestHappyEyeballsAttemptTimeoutOutOfRange(t *testing.T) {
	e := newEnv(t)
	c := e.newSocket(socket.Options{})
	err := c.Connect(socket.ConnectOptions{Port: 80, Host: "x.test", AutoSelectFamilyAttemptTimeout: -time.Millisecond})
	assert.Equal(t, errs.CodeOutOfRange, code(err))
	assert.Equal(t, `The value of "options.autoSelectFamilyAttemptTimeout" is out of range. It must be >= 1 && <= 2147483647. Received -1`, err.Error())
	assert.False(t, c.Connecting())
	c.Destroy(nil)
	e.run()
}
