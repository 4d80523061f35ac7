//go:build !windows

package socket_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/addr"
	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/internal/errx"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// CNX-01: every connect form returns at once (nil error), cb is a one-shot
// 'connect' listener, and the host defaults to localhost.
func TestConnectFormsAndOneShotCallback(t *testing.T) {
	e := newEnv(t)
	path := testutil.SockPath(t)
	var cbs []string
	var srvTCP, srvPipe *server.Server
	accepted := 0
	onConn := func(s *socket.Socket) {
		accepted++
		s.OnData(func([]byte) {})
		s.OnEnd(func() {})
		if accepted == 4 {
			srvTCP.Close(nil)
			srvPipe.Close(nil)
		}
	}
	srvTCP = e.server(server.Options{}, onConn)
	srvPipe = e.server(server.Options{}, onConn)
	require.NoError(t, srvPipe.ListenPath(path))
	// Listen on every address so "localhost" (127.0.0.1 or ::1) works.
	require.NoError(t, srvTCP.Listen(0, func() {
		port := srvTCP.Address().Port
		done := func(c *socket.Socket, name string) func() {
			return func() {
				cbs = append(cbs, name)
				c.End(nil)
			}
		}
		c1 := e.newSocket(socket.Options{})
		require.NoError(t, c1.ConnectTCP(port, "127.0.0.1", done(c1, "port+host")))
		c2 := e.newSocket(socket.Options{})
		require.NoError(t, c2.ConnectTCP(port, "", done(c2, "port")))
		c3 := e.newSocket(socket.Options{})
		require.NoError(t, c3.Connect(socket.ConnectOptions{Port: port}, done(c3, "options")))
		c4 := e.newSocket(socket.Options{})
		require.NoError(t, c4.ConnectPath(path, done(c4, "path")))
		for _, c := range []*socket.Socket{c1, c2, c3, c4} {
			c.OnData(func([]byte) {})
			assert.Equal(t, 1, c.ListenerCount("connect"))
		}
	}))
	e.run()
	assert.ElementsMatch(t, []string{"port+host", "port", "options", "path"}, cbs)
	for _, c := range e.socks {
		assert.Equal(t, 0, c.ListenerCount("connect"), "the connect callback is a once-listener")
	}
}

// CNX-02: 'connect' then 'ready', in the same tick.
func TestConnectThenReadySameTick(t *testing.T) {
	e := newEnv(t)
	var order []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
	}, func(c *socket.Socket) {
		c.OnConnect(func() {
			order = append(order, "connect")
			e.l.NextTick(func() { order = append(order, "tick") })
		})
		c.OnReady(func() {
			order = append(order, "ready")
			c.End(nil)
		})
		c.OnData(func([]byte) {})
	})
	e.run()
	assert.Equal(t, []string{"connect", "ready", "tick"}, order)
}

// CNX-03: Connecting is true right after connect and false in 'connect' and
// in the 'error' of a failed connect.
func TestConnectingFlag(t *testing.T) {
	e := newEnv(t)
	var seen []bool
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) }, func(c *socket.Socket) {
		seen = append(seen, c.Connecting())
		c.OnConnect(func() {
			seen = append(seen, c.Connecting())
			c.End(nil)
		})
		c.OnData(func([]byte) {})
	})
	bad := e.newSocket(socket.Options{})
	require.NoError(t, bad.ConnectTCP(freePort(t), "127.0.0.1"))
	seen = append(seen, bad.Connecting())
	bad.OnError(func(error) { seen = append(seen, bad.Connecting()) })
	e.run()
	assert.ElementsMatch(t, []bool{true, false, true, false}, seen)
	assert.Len(t, seen, 4)
}

// CNX-04: a refused connect gives 'error' ECONNREFUSED with Node's fields
// and message, never 'connect', then 'close'(true); port 0 fails too.
func TestConnectRefused(t *testing.T) {
	e := newEnv(t)
	port := freePort(t)
	c := e.newSocket(socket.Options{})
	ev := track(c, false)
	var gotErr error
	c.OnError(func(err error) { gotErr = err })
	require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))

	c0 := e.newSocket(socket.Options{})
	ev0 := track(c0, false)
	var err0 error
	c0.OnError(func(err error) { err0 = err })
	require.NoError(t, c0.ConnectTCP(0, "127.0.0.1"))
	e.run()

	assert.Equal(t, []string{"error:ECONNREFUSED", "close:true"}, ev.Get())
	ee := testutil.AsError(t, gotErr)
	assert.Equal(t, "ECONNREFUSED", ee.Code)
	assert.Equal(t, "connect", ee.Syscall)
	assert.Equal(t, "127.0.0.1", ee.Address)
	assert.Equal(t, port, ee.Port)
	assert.Equal(t, "connect ECONNREFUSED 127.0.0.1:"+strconv.Itoa(port), ee.Error())
	assert.True(t, errors.Is(gotErr, syscall.ECONNREFUSED))

	require.Len(t, ev0.Get(), 2)
	assert.Equal(t, "close:true", ev0.Get()[1])
	require.Error(t, err0)
	assert.True(t, strings.HasPrefix(err0.Error(), "connect E"), err0.Error())
}

// CNX-05: connection and DNS errors are never returned by connect nor
// emitted before it returns; only argument errors are returned.
func TestConnectErrorsAreAsync(t *testing.T) {
	e := newEnv(t)
	c := e.newSocket(socket.Options{})
	require.NoError(t, c.ConnectTCP(freePort(t), "127.0.0.1"))
	var got []string
	c.OnError(func(err error) { got = append(got, "refused:"+code(err)) })

	d := e.newSocket(socket.Options{})
	require.NoError(t, d.Connect(socket.ConnectOptions{Port: 80, Host: "no-such-host.invalid",
		Lookup: func(ctx context.Context, host string, family int) ([]socket.LookupAddress, error) {
			return nil, errx.Getaddrinfo("ENOTFOUND", host)
		}}))
	d.OnError(func(err error) { got = append(got, "dns:"+code(err)) })

	p := e.newSocket(socket.Options{})
	require.NoError(t, p.ConnectPath(testutil.SockPath(t)))
	p.OnError(func(err error) { got = append(got, "path:"+code(err)) })

	assert.Empty(t, got)
	e.run()
	assert.ElementsMatch(t, []string{"refused:ECONNREFUSED", "dns:ENOTFOUND", "path:ENOENT"}, got)
}

// CNX-06: missing port/path gives ERR_MISSING_ARGS, a bad port gives
// ERR_SOCKET_BAD_PORT, synchronously; PortGiven makes port 0 a given port.
func TestConnectArgumentErrors(t *testing.T) {
	e := newEnv(t)
	c := e.newSocket(socket.Options{})
	err := c.Connect(socket.ConnectOptions{})
	assert.Equal(t, errs.CodeMissingArgs, code(err))
	// Node: connect({localAddress: 'foobar'}) has no port; with {port: 0}
	// the local address is checked (test-net-localerror).
	err = c.Connect(socket.ConnectOptions{LocalAddress: "foobar"})
	assert.Equal(t, errs.CodeMissingArgs, code(err))
	err = c.Connect(socket.ConnectOptions{PortGiven: true, LocalAddress: "foobar"})
	assert.Equal(t, errs.CodeInvalidIPAddress, code(err))
	for _, p := range []int{-1, 65536, 1 << 20} {
		err = c.Connect(socket.ConnectOptions{Port: p})
		assert.Equal(t, errs.CodeSocketBadPort, code(err), "port %d", p)
		err = c.ConnectTCP(p, "127.0.0.1")
		assert.Equal(t, errs.CodeSocketBadPort, code(err), "port %d", p)
	}
	assert.False(t, c.Connecting())
	c.Destroy(nil)
	e.run()
}

// CNX-07: an IP literal skips the lookup ('lookup' is not emitted); a host
// name emits 'lookup'(nil, address, family, host) before 'connect'.
func TestLookupEvent(t *testing.T) {
	e := newEnv(t)
	var order []string
	e.listenN(2, nil, func(port int) {
		lit := e.newSocket(socket.Options{})
		lit.OnLookup(func(error, string, int, string) { order = append(order, "literal:lookup") })
		lit.OnConnect(func() { order = append(order, "literal:connect"); lit.End(nil) })
		lit.OnData(func([]byte) {})
		require.NoError(t, lit.ConnectTCP(port, "127.0.0.1"))

		named := e.newSocket(socket.Options{})
		named.OnLookup(func(err error, address string, family int, host string) {
			assert.NoError(t, err)
			order = append(order, "named:lookup:"+address+":"+strconv.Itoa(family)+":"+host)
		})
		named.OnConnect(func() { order = append(order, "named:connect"); named.End(nil) })
		named.OnData(func([]byte) {})
		require.NoError(t, named.Connect(socket.ConnectOptions{Port: port, Host: "example.test",
			Lookup: func(ctx context.Context, host string, family int) ([]socket.LookupAddress, error) {
				return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}}, nil
			}}))
	})
	e.run()
	assert.NotContains(t, order, "literal:lookup")
	assert.Contains(t, order, "literal:connect")
	i := slices.Index(order, "named:lookup:127.0.0.1:4:example.test")
	j := slices.Index(order, "named:connect")
	require.True(t, i >= 0 && j >= 0, "%v", order)
	assert.Less(t, i, j)
}

// CNX-08: a DNS failure emits 'lookup'(err) then 'error' ENOTFOUND with
// syscall getaddrinfo and hostname, and no host/port; End right after
// connect does not mask it.
func TestLookupFailure(t *testing.T) {
	e := newEnv(t)
	c := e.newSocket(socket.Options{})
	var order []string
	var lookupErr, gotErr error
	c.OnLookup(func(err error, address string, family int, host string) {
		lookupErr = err
		order = append(order, "lookup")
		assert.Equal(t, "", address)
		assert.Equal(t, 0, family)
		assert.Equal(t, "bad.example", host)
	})
	c.OnError(func(err error) { order = append(order, "error"); gotErr = err })
	c.OnClose(func(h bool) { order = append(order, "close:"+strconv.FormatBool(h)) })
	c.OnFinish(func() { order = append(order, "finish") })
	require.NoError(t, c.Connect(socket.ConnectOptions{Port: 80, Host: "bad.example",
		Lookup: func(ctx context.Context, host string, family int) ([]socket.LookupAddress, error) {
			return nil, errors.New("no such host")
		}}))
	c.End(nil)
	e.run()
	assert.Equal(t, []string{"lookup", "error", "close:true"}, order)
	require.Error(t, lookupErr)
	ee := testutil.AsError(t, gotErr)
	assert.Equal(t, "ENOTFOUND", ee.Code)
	assert.Equal(t, "getaddrinfo", ee.Syscall)
	assert.Equal(t, "bad.example", ee.Hostname)
	assert.Equal(t, "getaddrinfo ENOTFOUND bad.example", ee.Error())
	assert.Equal(t, "", ee.Address)
	assert.Equal(t, 0, ee.Port)
}

// CNX-09: a custom lookup gets the requested family; a non-IP answer is
// ERR_INVALID_IP_ADDRESS and a family other than 4/6 is
// ERR_INVALID_ADDRESS_FAMILY.
func TestCustomLookup(t *testing.T) {
	e := newEnv(t)
	var families []int
	var errsGot []error
	mk := func(family int, answer socket.LookupAddress) {
		c := e.newSocket(socket.Options{})
		c.OnError(func(err error) { errsGot = append(errsGot, err) })
		require.NoError(t, c.Connect(socket.ConnectOptions{Port: 1234, Host: "localhost", Family: family,
			Lookup: func(ctx context.Context, host string, f int) ([]socket.LookupAddress, error) {
				e.l.Post(func() { families = append(families, f) })
				return []socket.LookupAddress{answer}, nil
			}}))
	}
	mk(4, socket.LookupAddress{Address: "not-an-ip", Family: 4})
	mk(6, socket.LookupAddress{Address: "127.0.0.1", Family: 100})
	e.run()
	assert.ElementsMatch(t, []int{4, 6}, families)
	require.Len(t, errsGot, 2)
	codes := []string{code(errsGot[0]), code(errsGot[1])}
	assert.ElementsMatch(t, []string{errs.CodeInvalidIPAddress, errs.CodeInvalidAddressFamily}, codes)
	for _, err := range errsGot {
		if code(err) == errs.CodeInvalidAddressFamily {
			ee := testutil.AsError(t, err)
			assert.Equal(t, "Invalid address family: 100 localhost:1234", ee.Error())
			assert.Equal(t, "localhost", ee.Address)
			assert.Equal(t, 1234, ee.Port)
		}
	}
}

// CNX-10: LocalAddress/LocalPort bind the client (the server sees that
// port); a non-IP LocalAddress fails at once; a local port in use gives
// EADDRINUSE; connect errors then carry the " - Local (...)" suffix.
func TestConnectLocalAddressAndPort(t *testing.T) {
	e := newEnv(t)
	local := freePort(t)
	var srvSeen int
	var cliLocal int
	e.listenN(1, func(s *socket.Socket) {
		srvSeen = s.RemotePort()
	}, func(port int) {
		c := e.newSocket(socket.Options{})
		require.NoError(t, c.Connect(socket.ConnectOptions{Port: port, Host: "127.0.0.1", LocalAddress: "127.0.0.1", LocalPort: local}, func() {
			cliLocal = c.LocalPort()
			c.End(nil)
		}))
		c.OnData(func([]byte) {})
	})
	// Non-IP local address: synchronous error.
	bad := e.newSocket(socket.Options{})
	assert.Equal(t, errs.CodeInvalidIPAddress, code(bad.Connect(socket.ConnectOptions{Port: 80, Host: "127.0.0.1", LocalAddress: "localhost"})))
	bad.Destroy(nil)
	// Local port in use (held by a listening server): EADDRINUSE.
	var inUse, refusedLocal error
	holder := e.server(server.Options{}, nil)
	e.listenTCP(holder, func(hport int) {
		c := e.newSocket(socket.Options{})
		c.OnError(func(err error) { inUse = err; holder.Close(nil) })
		require.NoError(t, c.Connect(socket.ConnectOptions{Port: hport, Host: "127.0.0.1", LocalAddress: "127.0.0.1", LocalPort: hport}))
	})
	// Refused with local options: message suffix.
	lp := freePort(t)
	rp := freePort(t)
	r := e.newSocket(socket.Options{})
	r.OnError(func(err error) { refusedLocal = err })
	require.NoError(t, r.Connect(socket.ConnectOptions{Port: rp, Host: "127.0.0.1", LocalAddress: "127.0.0.1", LocalPort: lp}))
	e.run()

	assert.Equal(t, local, cliLocal)
	assert.Equal(t, local, srvSeen)
	assert.Equal(t, "EADDRINUSE", code(inUse))
	ee := testutil.AsError(t, refusedLocal)
	assert.Equal(t, "ECONNREFUSED", ee.Code)
	assert.Equal(t, "127.0.0.1", ee.LocalAddress)
	assert.Equal(t, lp, ee.LocalPort)
	assert.Equal(t, "connect ECONNREFUSED 127.0.0.1:"+strconv.Itoa(rp)+" - Local (127.0.0.1:"+strconv.Itoa(lp)+")", ee.Error())
}

// CNX-12: a Socket can connect again from its 'close' handler, many
// times, after successes and failures; per-connection state is reset.
func TestReconnectFromClose(t *testing.T) {
	e := newEnv(t)
	const rounds = 5
	var log []string
	var srv *server.Server
	accepted := 0
	srv = e.server(server.Options{}, func(s *socket.Socket) {
		accepted++
		s.Write([]byte("hi"))
		s.OnData(func([]byte) {})
	})
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(socket.Options{})
		round := 0
		failedOnce := false
		c.OnConnect(func() {
			log = append(log, "connect")
			assert.Equal(t, int64(0), c.BytesRead())
			assert.Equal(t, int64(0), c.BytesWritten())
			assert.Equal(t, port, c.RemotePort())
			c.Write([]byte("abc"))
		})
		c.OnData(func(b []byte) {
			log = append(log, "data")
			c.End(nil)
		})
		c.OnEnd(func() { log = append(log, "end") })
		c.OnError(func(err error) { log = append(log, "error:"+code(err)) })
		c.OnClose(func(hadError bool) {
			log = append(log, "close:"+strconv.FormatBool(hadError))
			round++
			if round == 2 && !failedOnce {
				// One failed attempt in the middle.
				failedOnce = true
				require.NoError(t, c.ConnectTCP(freePort(t), "127.0.0.1"))
				return
			}
			if round >= rounds+1 {
				srv.Close(nil)
				return
			}
			if !hadError {
				assert.Equal(t, int64(3), c.BytesWritten(), "still readable after close")
				assert.Equal(t, int64(2), c.BytesRead(), "still readable after close")
			}
			require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		})
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
	})
	e.run()
	one := []string{"connect", "data", "end", "close:false"}
	var want []string
	for i := 0; i < rounds; i++ {
		want = append(want, one...)
		if i == 1 {
			want = append(want, "error:ECONNREFUSED", "close:true")
		}
	}
	assert.Equal(t, want, log)
	assert.Equal(t, rounds, accepted)
}

// A lookup that outlives its connection attempt (a resolver that does not
// watch the cancelled context, or a slow getaddrinfo) is ignored: its
// answer does not land on the connection the Socket makes next, from
// 'close', which goes where its own lookup says.
func TestReconnectIgnoresStaleLookup(t *testing.T) {
	e := newEnv(t)
	var gotA, gotB, connects int
	var errsSeen []error
	var srvA, srvB *server.Server
	var c *socket.Socket
	done := func() {
		c.Destroy(nil)
		srvA.Close(nil)
		srvB.Close(nil)
	}
	srvA = e.server(server.Options{}, func(s *socket.Socket) {
		gotA++
		s.OnData(func([]byte) {})
		done()
	})
	srvB = e.server(server.Options{}, func(s *socket.Socket) { gotB++; s.OnData(func([]byte) {}) })
	release := make(chan struct{})
	releaseStale := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseStale)
	stale := func(ctx context.Context, host string, fam int) ([]socket.LookupAddress, error) {
		<-release // ignores ctx
		return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}}, nil
	}
	second := func(ctx context.Context, host string, fam int) ([]socket.LookupAddress, error) {
		releaseStale()
		time.Sleep(200 * time.Millisecond) // the stale answer arrives meanwhile
		return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}}, nil
	}
	var pA, pB int
	e.listenTCP(srvA, func(port int) {
		pA = port
		e.listenTCP(srvB, func(port int) {
			pB = port
			c = e.newSocket(socket.Options{})
			sawSecondLookup := false
			c.OnLookup(func(err error, address string, family int, host string) {
				sawSecondLookup = sawSecondLookup || host == "b.test"
			})
			c.OnConnect(func() {
				connects++
				if sawSecondLookup {
					// Leave a stray connection time to show up.
					e.after(50*time.Millisecond, done)
				}
			})
			c.OnError(func(err error) { errsSeen = append(errsSeen, err) })
			c.OnceClose(func(bool) {
				require.NoError(t, c.Connect(socket.ConnectOptions{Host: "b.test", Port: pB, Lookup: second}))
			})
			require.NoError(t, c.Connect(socket.ConnectOptions{Host: "a.test", Port: pA, Lookup: stale}))
			e.l.NextTick(func() { c.Destroy(nil) })
		})
	})
	e.run()
	assert.Equal(t, 0, gotA, "server A (the destroyed attempt's) accepted")
	assert.Equal(t, 1, gotB, "server B (the reconnect's) accepted")
	assert.Equal(t, 1, connects)
	assert.Empty(t, errsSeen)
	assert.Equal(t, pB, c.RemotePort())
}

// Destroying a Socket while the default resolver looks its host up, then
// connecting again from 'close' with the same host name (the usual
// "timeout during DNS, destroy, retry" loop): the cancelled lookup never
// disturbs the retry, which connects, 50 times in a row.
func TestReconnectAfterDestroyDuringLookup(t *testing.T) {
	e := newEnv(t)
	const rounds = 50
	var failed [][]string
	srv := e.server(server.Options{}, func(s *socket.Socket) { s.OnData(func([]byte) {}) })
	e.listenTCP(srv, func(port int) {
		var round func(i int)
		round = func(i int) {
			if i == rounds {
				srv.Close(nil)
				return
			}
			c := e.newSocket(socket.Options{})
			var errsSeen []string
			retried, connected := false, false
			c.OnError(func(err error) { errsSeen = append(errsSeen, err.Error()) })
			c.OnClose(func(bool) {
				if !retried {
					retried = true
					require.NoError(t, c.ConnectTCP(port, "localhost", func() {
						connected = true
						c.Destroy(nil)
					}))
					return
				}
				if !connected {
					failed = append(failed, errsSeen)
				}
				round(i + 1)
			})
			require.NoError(t, c.ConnectTCP(port, "localhost"))
			c.Destroy(nil)
		}
		round(0)
	})
	e.run()
	assert.Empty(t, failed, "retries that did not connect (their errors)")
}

// CNX-13: Destroy right after connect cancels it: no 'connect', no
// 'error', just 'close'; also during a lookup and inside 'lookup'.
func TestDestroyCancelsConnect(t *testing.T) {
	e := newEnv(t)
	var srv *server.Server
	srv = e.server(server.Options{}, nil)
	var evs []*testutil.Events
	e.listenTCP(srv, func(port int) {
		c := e.newSocket(socket.Options{})
		evs = append(evs, track(c, false))
		require.NoError(t, c.ConnectTCP(port, "127.0.0.1"))
		c.Destroy(nil)

		r := e.newSocket(socket.Options{})
		evs = append(evs, track(r, false))
		require.NoError(t, r.ConnectTCP(port, "127.0.0.1"))
		r.ResetAndDestroy()
		r.Destroy(nil)
		srv.Close(nil) // in the same tick

		// Destroyed while the lookup runs.
		d := e.newSocket(socket.Options{})
		evs = append(evs, track(d, false))
		require.NoError(t, d.Connect(socket.ConnectOptions{Port: port, Host: "slow.test",
			Lookup: func(ctx context.Context, host string, family int) ([]socket.LookupAddress, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}}))
		e.l.NextTick(func() { d.Destroy(nil) })

		// Destroyed inside 'lookup'.
		k := e.newSocket(socket.Options{})
		evs = append(evs, track(k, false))
		k.OnLookup(func(error, string, int, string) { k.Destroy(nil) })
		require.NoError(t, k.Connect(socket.ConnectOptions{Port: port, Host: "x.test",
			Lookup: func(ctx context.Context, host string, family int) ([]socket.LookupAddress, error) {
				return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}}, nil
			}}))
	})
	e.run()
	require.Len(t, evs, 4)
	for i, ev := range evs {
		assert.Equal(t, []string{"close:false"}, ev.Get(), "socket %d", i)
	}
}

// CNX-14: a client BlockList refuses blocked addresses with ERR_IP_BLOCKED,
// for IP literals and for looked-up names.
func TestClientBlockList(t *testing.T) {
	e := newEnv(t)
	bl := addr.NewBlockList()
	require.NoError(t, bl.AddAddress("127.0.0.1", "ipv4"))
	var got []string
	for _, host := range []string{"127.0.0.1", "blocked.test"} {
		c := e.newSocket(socket.Options{BlockList: bl})
		ev := track(c, false)
		c.OnClose(func(bool) { got = append(got, ev.String()) })
		require.NoError(t, c.Connect(socket.ConnectOptions{Port: 9, Host: host,
			Lookup: func(ctx context.Context, host string, family int) ([]socket.LookupAddress, error) {
				return []socket.LookupAddress{{Address: "127.0.0.1", Family: 4}, {Address: "127.0.0.1", Family: 4}}, nil
			}}))
	}
	e.run()
	assert.Equal(t, []string{"error:ERR_IP_BLOCKED,close:true", "error:ERR_IP_BLOCKED,close:true"}, got)
}
