package tcp_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/loop"
	"github.com/netloop/netloop/tcp"
)

const waitLimit = 20 * time.Second

var (
	v4 = netip.MustParseAddr("127.0.0.1")
	v6 = netip.IPv6Loopback()
)

// listen starts a server on ip that accepts into handles it returns
// through accepted.
func listen(t *testing.T, l *loop.Loop, ip netip.Addr, flags tcp.BindFlags, accepted *[]*tcp.TCP) (*tcp.TCP, int) {
	t.Helper()
	s := tcp.New(l)
	require.NoError(t, s.Bind(ip, 0, flags))
	require.NoError(t, s.Listen(128, func(err error) {
		require.NoError(t, err)
		c := tcp.New(l)
		require.NoError(t, s.Accept(c))
		*accepted = append(*accepted, c)
	}))
	ap, err := s.SockName()
	require.NoError(t, err)
	return s, int(ap.Port())
}

// connect connects a new handle and waits for the outcome.
func connect(t *testing.T, l *loop.Loop, ip netip.Addr, port int) (*tcp.TCP, error) {
	t.Helper()
	c := tcp.New(l)
	var res error
	done := false
	require.NoError(t, c.Connect(ip, port, func(err error) { res, done = err, true }))
	assert.False(t, done, "connect callback ran inside Connect")
	testutil.RunUntil(t, l, waitLimit, func() bool { return done })
	return c, res
}
