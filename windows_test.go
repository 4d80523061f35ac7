//go:build windows

package netloop_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop"
	"github.com/netloop/netloop/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(testutil.LeakCheckMain(m)) }

// The root API on Windows (under Wine in make test): the seed's echo
// server and a client on the default loop, run to completion by Run; a
// named pipe nobody serves gives Node's ENOENT.
func TestWindowsRootEcho(t *testing.T) {
	srv := netloop.CreateServer(func(c *netloop.Socket) {
		c.Write([]byte("hello\r\n"))
		c.Pipe(c)
	})
	var got []byte
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0, func() {
		c, err := netloop.Connect(srv.Address().Port, "127.0.0.1", func() {})
		require.NoError(t, err)
		c.OnData(func(b []byte) { got = append(got, b...) })
		c.End([]byte("ping"))
		c.OnClose(func(bool) { srv.Close(nil) })
	}))
	require.NoError(t, netloop.Run())
	assert.Equal(t, "hello\r\nping", string(got))

	var code string
	c, err := netloop.ConnectPath(`\\.\pipe\netloop-root-test-missing`)
	if err == nil {
		c.OnError(func(err error) { code = testutil.AsError(t, err).Code })
		require.NoError(t, netloop.Run())
	} else {
		code = testutil.AsError(t, err).Code
	}
	assert.Equal(t, "ENOENT", code)
}
