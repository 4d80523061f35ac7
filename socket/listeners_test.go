//go:build !windows

package socket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// allEvents are Node's event names of a net.Socket.
var allEvents = []string{"connect", "ready", "data", "end", "drain", "finish", "error", "close", "timeout",
	"lookup", "readable", "connectionAttempt", "connectionAttemptFailed", "connectionAttemptTimeout"}

// onEvery adds one listener to every event of s (and an OnText one).
func onEvery(s *socket.Socket) {
	s.OnConnect(func() {})
	s.OnReady(func() {})
	s.OnData(func([]byte) {})
	s.OnText(func(string) {})
	s.OnEnd(func() {})
	s.OnDrain(func() {})
	s.OnFinish(func() {})
	s.OnError(func(error) {})
	s.OnClose(func(bool) {})
	s.OnTimeout(func() {})
	s.OnLookup(func(error, string, int, string) {})
	s.OnReadable(func() {})
	s.OnConnectionAttempt(func(string, int, int) {})
	s.OnConnectionAttemptFailed(func(string, int, int, error) {})
	s.OnConnectionAttemptTimeout(func(string, int, int) {})
}

// TestRemoveAllListeners: Node's removeAllListeners(event) drops every
// listener of that event only ("data" includes OnText), ignores unknown
// names and returns the socket; with no name it drops them all (node v20:
// removeAllListeners('end') leaves every other event, removeAllListeners()
// leaves none, removeAllListeners('nosuch') returns the socket).
func TestRemoveAllListeners(t *testing.T) {
	e := newEnv(t)
	s := e.newSocket(socket.Options{})
	for _, name := range allEvents {
		onEvery(s)
		assert.Same(t, s, s.RemoveAllListeners(name, "no-such-event"))
		for _, other := range allEvents {
			if other == name {
				assert.Zero(t, s.ListenerCount(other), "%s after removing %s", other, name)
			} else {
				assert.NotZero(t, s.ListenerCount(other), "%s after removing %s", other, name)
			}
		}
		assert.Equal(t, name == "data", s.ListenerCount("text") == 0, "text listeners after removing %s", name)
		s.RemoveAllListeners()
		for _, other := range append(allEvents, "text") {
			assert.Zero(t, s.ListenerCount(other), "%s after removing everything", other)
		}
	}
	onEvery(s)
	s.RemoveAllListeners("data", "close") // several names: one call per name
	assert.Zero(t, s.ListenerCount("data"))
	assert.Zero(t, s.ListenerCount("close"))
	assert.Equal(t, 1, s.ListenerCount("end"))
	s.RemoveAllListeners()
	s.Destroy(nil)
	e.run()
}

// TestAllowHalfOpen: the getter reports the option, for client sockets
// and for sockets a server accepted (node v20: "client opt false false",
// "client opt true true", "server opt true socket.allowHalfOpen true").
func TestAllowHalfOpen(t *testing.T) {
	for _, aho := range []bool{false, true} {
		e := newEnv(t)
		e.pair(server.Options{AllowHalfOpen: aho}, socket.Options{AllowHalfOpen: aho}, func(s *socket.Socket) {
			assert.Equal(t, aho, s.AllowHalfOpen(), "accepted socket")
			s.Destroy(nil)
		}, func(c *socket.Socket) {
			assert.Equal(t, aho, c.AllowHalfOpen(), "client socket")
			c.OnError(func(error) {})
			c.OnData(func([]byte) {})
			c.OnEnd(func() { c.Destroy(nil) }) // half-open clients stay open otherwise
		})
		e.run()
	}
}
