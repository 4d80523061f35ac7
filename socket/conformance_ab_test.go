//go:build !windows

package socket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/server"
)

// AB-02: ListenOptions.Context (Node's listen({signal})): cancelling it
// closes the server, so 'close' is emitted; an already-cancelled context
// closes the server on the next tick.
func TestAB02_ListenContext(t *testing.T) {
	e := newEnv(t)
	var log []string
	ctx, cancel := context.WithCancel(context.Background())
	live := e.server(server.Options{}, nil)
	live.OnClose(func() { log = append(log, "live:close") })
	require.NoError(t, live.ListenOptions(server.ListenOptions{Host: "127.0.0.1", Context: ctx}, func() {
		log = append(log, "live:listening")
		cancel()
	}))

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	dead := e.server(server.Options{}, nil)
	dead.OnClose(func() { log = append(log, "dead:close") })
	require.NoError(t, dead.ListenOptions(server.ListenOptions{Host: "127.0.0.1", Context: done}))
	e.run()
	assert.Contains(t, log, "dead:close")
	assert.Contains(t, log, "live:close")
	assert.Less(t, indexOf(log, "live:listening"), indexOf(log, "live:close"))
	assert.False(t, live.Listening())
	assert.False(t, dead.Listening())
	assert.Equal(t, 1, count(log, "live:close"))
	assert.Equal(t, 1, count(log, "dead:close"))
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}
