package server_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

var balances = []struct {
	name string
	b    server.Balance
}{{"acceptor", server.BalanceAcceptor}, {"reuseport", server.BalanceReusePort}}

// TestGroupServerReusePortListensOnEveryLoop: with BalanceReusePort every
// loop accepts on a listener of its own: 64 connections reach all four
// loops, each is served where it was accepted, Address and 'listening'
// are the first listener's, once, and Close ends every loop.
func TestGroupServerReusePortListensOnEveryLoop(t *testing.T) {
	g, err := loop.NewGroup(4)
	require.NoError(t, err)
	defer func() { assert.NoError(t, g.Close()) }()
	loops := g.Loops()
	var mu sync.Mutex
	perLoop := map[*loop.Loop]int{}
	srv := server.New(server.Options{Group: g, Balance: server.BalanceReusePort}, func(c *socket.Socket) {
		mu.Lock()
		perLoop[c.Loop()]++
		mu.Unlock()
		c.OnError(func(error) {})
		c.Pipe(c)
	})
	var listening, closes atomic.Int32
	srv.OnListening(func() { listening.Add(1) })
	srv.OnClose(func() { closes.Add(1) })
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	port := srv.Address().Port
	require.NoError(t, g.Start())

	const n = 64
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		require.NoError(t, err)
		conns[i] = c
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Write([]byte("x"))
		require.NoError(t, err)
		_, err = io.ReadFull(c, make([]byte, 1))
		require.NoError(t, err)
	}
	var open int
	onLoop(t, loops[0], func() { open = srv.Connections() })
	assert.Equal(t, n, open)
	mu.Lock()
	for _, l := range loops {
		assert.Positive(t, perLoop[l], "a loop accepted nothing: %v", perLoop)
	}
	mu.Unlock()
	assert.Equal(t, n, sum(g.Load()))
	onLoop(t, loops[0], func() { srv.Close(nil) })
	for _, c := range conns {
		c.Close()
	}
	waitGroup(t, g)
	assert.Equal(t, int32(1), listening.Load(), "'listening' once")
	assert.Equal(t, int32(1), closes.Load(), "'close' once")
	assert.Equal(t, 0, sum(g.Load()))
	_, err = net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	assert.Error(t, err, "every listener is closed")
}

func sum(xs []int) (n int) {
	for _, x := range xs {
		n += x
	}
	return n
}

// TestGroupServerUnref: an unref'd group server lets the group's loops
// end while it listens, in both modes; Ref undoes it.
func TestGroupServerUnref(t *testing.T) {
	for _, bc := range balances {
		t.Run(bc.name, func(t *testing.T) {
			g, err := loop.NewGroup(3)
			require.NoError(t, err)
			srv := server.New(server.Options{Group: g, Balance: bc.b}, nil)
			require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
			srv.Unref()
			require.NoError(t, g.Start())
			waitGroup(t, g) // ends though the server listens
			// Close it for good, with the loops run by hand: the others
			// close their listeners, then the first emits 'close'.
			var closed bool
			srv.Close(func(error) { closed = true })
			ls := g.Loops()
			for _, l := range append(ls[1:], ls[0]) {
				require.NoError(t, l.Run(loop.RunDefault))
			}
			assert.True(t, closed)
			require.NoError(t, g.Close())
		})
	}
}

// churnResult is what TestGroupServerChurn's clients saw.
type churnResult struct{ greeted, refused, failed atomic.Int32 }

// TestGroupServerChurn: a 4-loop server (on this 2-core machine) under
// concurrent connect/echo/close churn, in both modes: every connection's
// events run on the thread its 'connection' ran on; each client is either
// served ('connection') or dropped ('drop') at MaxConnections, exactly;
// 'close' comes once after the last connection; the loops end and
// (TestMain) no descriptor or goroutine is left.
func TestGroupServerChurn(t *testing.T) {
	for _, bc := range balances {
		t.Run(bc.name, func(t *testing.T) {
			const (
				maxConns = 6
				clients  = 8
				rounds   = 40
			)
			g, err := loop.NewGroup(4)
			require.NoError(t, err)
			defer func() { assert.NoError(t, g.Close()) }()
			var (
				conns, drops, closes, live, wrongThread atomic.Int32
			)
			srv := server.New(server.Options{Group: g, Balance: bc.b}, func(c *socket.Socket) {
				conns.Add(1)
				live.Add(1)
				tid := unix.Gettid()
				check := func() {
					if unix.Gettid() != tid {
						wrongThread.Add(1)
					}
				}
				c.OnError(func(error) { check() })
				c.OnData(func(b []byte) { check(); c.Write(b) })
				c.OnEnd(func() { check(); c.End(nil, nil) })
				c.OnClose(func(bool) { check(); live.Add(-1) })
				c.Write([]byte("+"))
			})
			srv.OnDrop(func(*server.DropInfo) { drops.Add(1) })
			srv.OnError(func(err error) { t.Errorf("server error: %v", err) })
			srv.OnClose(func() { closes.Add(1) })
			srv.SetMaxConnections(maxConns)
			require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
			addr := fmt.Sprintf("127.0.0.1:%d", srv.Address().Port)
			require.NoError(t, g.Start())

			var res churnResult
			var wg sync.WaitGroup
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range rounds {
						churnOnce(addr, &res)
					}
				}()
			}
			wg.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for conns.Load()+drops.Load() < clients*rounds-res.failed.Load() && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			onLoop(t, g.Loops()[0], func() { srv.Close(nil) })
			waitGroup(t, g)

			assert.Zero(t, res.failed.Load(), "connects that failed")
			assert.Equal(t, res.greeted.Load(), conns.Load(), "each served client had one 'connection'")
			assert.Equal(t, res.refused.Load(), drops.Load(), "each refused client had one 'drop'")
			assert.Equal(t, int32(clients*rounds), conns.Load()+drops.Load())
			assert.Positive(t, drops.Load(), "%d clients at once against %d: some are dropped", clients, maxConns)
			assert.Zero(t, wrongThread.Load(), "events off their connection's loop")
			assert.Zero(t, live.Load())
			assert.Equal(t, int32(1), closes.Load(), "'close' once")
			assert.Equal(t, 0, sum(g.Load()))
		})
	}
}

// churnOnce connects, and if greeted echoes a few bytes and ends; a
// connection closed before the greeting was dropped.
func churnOnce(addr string, res *churnResult) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		res.failed.Add(1)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		res.refused.Add(1)
		return
	}
	res.greeted.Add(1)
	c.Write([]byte("abc"))
	io.ReadFull(c, make([]byte, 3))
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
}

// TestGroupServerCloseDrainsQueue: closing a group server under a stream
// of connects resets none of the connections the kernel had completed:
// while every loop is busy, connections pile up in the listen queues;
// Close serves them (each client gets its greeting), and clients that
// come after Close are refused, never reset. Both modes.
func TestGroupServerCloseDrainsQueue(t *testing.T) {
	for _, bc := range balances {
		t.Run(bc.name, func(t *testing.T) {
			g, err := loop.NewGroup(4)
			require.NoError(t, err)
			defer func() { assert.NoError(t, g.Close()) }()
			var served atomic.Int32
			srv := server.New(server.Options{Group: g, Balance: bc.b}, func(c *socket.Socket) {
				served.Add(1)
				c.OnError(func(error) {})
				c.End([]byte("hi\n"), nil)
			})
			srv.OnError(func(err error) { t.Errorf("server error: %v", err) })
			require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
			addr := fmt.Sprintf("127.0.0.1:%d", srv.Address().Port)
			require.NoError(t, g.Start())

			var greeted, reset, refused, other atomic.Int32
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						c, err := net.DialTimeout("tcp", addr, 5*time.Second)
						if err != nil {
							if errors.Is(err, syscall.ECONNREFUSED) {
								refused.Add(1)
								return // closed: the rest would be refused too
							}
							other.Add(1)
							return
						}
						c.SetDeadline(time.Now().Add(10 * time.Second))
						b, err := io.ReadAll(c)
						c.Close()
						switch {
						case errors.Is(err, syscall.ECONNRESET):
							reset.Add(1)
						case err == nil && string(b) == "hi\n":
							greeted.Add(1)
						default:
							other.Add(1)
						}
					}
				}()
			}
			time.Sleep(100 * time.Millisecond) // connections flow
			// Every loop busy for a while, so the listen queues fill up;
			// the first closes the server at the end of its busy spell,
			// before it looks at its listener again.
			for _, l := range g.Loops()[1:] {
				l.Post(func() { time.Sleep(200 * time.Millisecond) })
			}
			g.Loops()[0].Post(func() {
				time.Sleep(150 * time.Millisecond)
				srv.Close(nil)
			})
			waitGroup(t, g)
			close(stop)
			wg.Wait()
			t.Logf("greeted %d, refused %d, reset %d, other %d, served %d",
				greeted.Load(), refused.Load(), reset.Load(), other.Load(), served.Load())
			assert.Zero(t, reset.Load(), "connections reset at close")
			assert.Zero(t, other.Load(), "unexpected client outcomes")
			assert.Equal(t, served.Load(), greeted.Load(), "every connection served was greeted")
			assert.Positive(t, refused.Load(), "clients after Close are refused")
		})
	}
}

// TestGroupServerMaxConnectionsExact: in rounds, 18 clients connect at
// once to a 4-loop server with MaxConnections 6 and hold on: exactly 6
// are served and 12 dropped each round, however the loops race, in both
// modes; then all leave and the next round starts from 0.
func TestGroupServerMaxConnectionsExact(t *testing.T) {
	for _, bc := range balances {
		t.Run(bc.name, func(t *testing.T) {
			const (
				maxConns = 6
				clients  = 18
				rounds   = 5
			)
			g, err := loop.NewGroup(4)
			require.NoError(t, err)
			defer func() { assert.NoError(t, g.Close()) }()
			var conns, drops, live atomic.Int32
			srv := server.New(server.Options{Group: g, Balance: bc.b}, func(c *socket.Socket) {
				conns.Add(1)
				live.Add(1)
				c.OnError(func(error) {})
				c.OnEnd(func() { c.End(nil, nil) })
				c.OnClose(func(bool) { live.Add(-1) })
				c.Write([]byte("+"))
			})
			srv.OnDrop(func(*server.DropInfo) { drops.Add(1) })
			srv.SetMaxConnections(maxConns)
			require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
			addr := fmt.Sprintf("127.0.0.1:%d", srv.Address().Port)
			require.NoError(t, g.Start())
			waitFor := func(what string, cond func() bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("round: %s: conns %d drops %d live %d", what, conns.Load(), drops.Load(), live.Load())
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			for r := 1; r <= rounds; r++ {
				cs := make([]net.Conn, clients)
				var wg sync.WaitGroup
				for i := range cs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c, err := net.DialTimeout("tcp", addr, 5*time.Second)
						if assert.NoError(t, err) {
							cs[i] = c
						}
					}()
				}
				wg.Wait()
				waitFor("all seen", func() bool { return conns.Load()+drops.Load() == int32(r*clients) })
				assert.Equal(t, int32(r*maxConns), conns.Load(), "round %d: served", r)
				assert.Equal(t, int32(r*(clients-maxConns)), drops.Load(), "round %d: dropped", r)
				for _, c := range cs {
					if c != nil {
						c.Close()
					}
				}
				waitFor("all gone", func() bool { return live.Load() == 0 })
			}
			onLoop(t, g.Loops()[0], func() { srv.Close(nil) })
			waitGroup(t, g)
		})
	}
}

// TestGroupServerCloseRacesLastConnection: Close on the first loop while
// the last connections close on the others: 'close' comes once and the
// group ends with nothing left queued on any loop (a report of the last
// connection must not reach the first loop after it ended), in both
// modes, over many tries.
func TestGroupServerCloseRacesLastConnection(t *testing.T) {
	for _, bc := range balances {
		t.Run(bc.name, func(t *testing.T) {
			for try := range 40 {
				g, err := loop.NewGroup(4)
				require.NoError(t, err)
				srv := server.New(server.Options{Group: g, Balance: bc.b}, func(c *socket.Socket) {
					c.OnError(func(error) {})
					c.Write([]byte("+"))
				})
				var closes atomic.Int32
				srv.OnClose(func() { closes.Add(1) })
				require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
				addr := fmt.Sprintf("127.0.0.1:%d", srv.Address().Port)
				require.NoError(t, g.Start())
				var cs []net.Conn
				for range 8 {
					c, err := net.DialTimeout("tcp", addr, 5*time.Second)
					require.NoError(t, err)
					c.SetDeadline(time.Now().Add(10 * time.Second))
					_, err = io.ReadFull(c, make([]byte, 1))
					require.NoError(t, err)
					cs = append(cs, c)
				}
				for _, c := range cs {
					c.Close()
				}
				g.Loops()[0].Post(func() { srv.Close(nil) })
				waitGroup(t, g)
				require.NoError(t, g.Close(), "try %d", try)
				require.Equal(t, int32(1), closes.Load(), "try %d: 'close' once", try)
			}
		})
	}
}
