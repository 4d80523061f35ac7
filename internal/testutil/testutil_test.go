//go:build !windows

package testutil_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/handle"
	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/pipe"
)

func TestEventsFoldsOnlyWhenAsked(t *testing.T) {
	var ev testutil.Events
	ev.Add("connect")
	ev.AddFolded("data")
	ev.AddFolded("data")
	ev.Add("lookup")
	ev.Add("lookup")
	ev.Addf("close:%v", false)
	assert.Equal(t, []string{"connect", "data", "lookup", "lookup", "close:false"}, ev.Get())
	assert.Equal(t, "connect,data,lookup,lookup,close:false", ev.String())
	assert.Equal(t, []string{"connect", "close:false"}, testutil.Without(testutil.Without(ev.Get(), "data"), "lookup"))
}

func TestSockPathIsShortAndRemoved(t *testing.T) {
	var dir string
	t.Run("inner", func(t *testing.T) {
		p := testutil.SockPath(t)
		assert.Less(t, len(p), 104, "fits in sun_path everywhere")
		dir = p[:len(p)-len("/s.sock")]
		_, err := os.Stat(dir)
		require.NoError(t, err)
	})
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "removed after the test")
}

func TestCloseAllSkipsNilAndClosing(t *testing.T) {
	l := testutil.NewLoop(t)
	a, b := pipe.New(l), pipe.New(l)
	b.Close(nil)
	var none *pipe.Pipe
	testutil.CloseAll(t, l, a, b, none)
	assert.True(t, a.IsClosing())
	assert.False(t, l.Alive())
}

func TestRunAllReportsTimeout(t *testing.T) {
	l := testutil.TempLoop(t)
	assert.True(t, testutil.RunAll(t, l, time.Second), "nothing to run")
	fired := false
	testutil.After(t, l, time.Millisecond, func() { fired = true })
	assert.True(t, testutil.RunAll(t, l, 10*time.Second))
	assert.True(t, fired)
	stuck := handle.NewTimer(l)
	require.NoError(t, stuck.Start(time.Hour, 0, func() {}))
	start := time.Now()
	assert.False(t, testutil.RunAll(t, l, 20*time.Millisecond), "the safety timer closed the stuck timer")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.True(t, stuck.IsClosing())
}
