//go:build !windows

package socket_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/errs"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestIOWriter: fmt.Fprintf, bufio.Writer and io.Copy write through a
// socket's IOWriter in order; it reports backpressure through NeedDrain
// and fails with the Node error once the socket has ended or is
// destroyed.
func TestIOWriter(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var endErr, destroyedErr error
	needDrain := false
	e.pair(server.Options{}, socket.Options{HighWaterMark: 16}, func(s *socket.Socket) {
		s.OnData(func(b []byte) { got = append(got, b...) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			w := c.IOWriter()
			fmt.Fprintf(w, "hello %d\n", 42)
			bw := bufio.NewWriter(w)
			bw.WriteString("buffered\n")
			require.NoError(t, bw.Flush())
			n, err := io.Copy(w, strings.NewReader(strings.Repeat("x", 100)))
			require.NoError(t, err)
			assert.Equal(t, int64(100), n)
			needDrain = c.NeedDrain() || c.WritableLength() == 0
			c.End(nil)
			_, endErr = w.Write([]byte("late"))
			c.OnClose(func(bool) { _, destroyedErr = w.Write([]byte("later")) })
		})
	})
	e.run()
	assert.Equal(t, "hello 42\nbuffered\n"+strings.Repeat("x", 100), string(got))
	assert.True(t, needDrain)
	assert.Equal(t, errs.CodeStreamWriteAfterEnd, errs.CodeOf(endErr))
	assert.Equal(t, errs.CodeStreamDestroyed, errs.CodeOf(destroyedErr))
}
