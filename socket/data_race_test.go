//go:build race && !windows

package socket_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/internal/testutil"
	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

const dataRaceChildEnv = "NETLOOP_DATA_RACE_CHILD"

// TestDataSliceHandedToGoroutineIsARace: a 'data' handler that hands the
// slice to another goroutine, which reads it after the loop has read the
// next chunk into the same shared buffer, is reported by the race
// detector (the loop marks each read(2) as a write to the buffer). The
// misuse runs in a child process, whose race report is the expected
// outcome; before the fix the child passed silently, with the wrong bytes.
func TestDataSliceHandedToGoroutineIsARace(t *testing.T) {
	if os.Getenv(dataRaceChildEnv) != "" {
		dataRaceChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDataSliceHandedToGoroutineIsARace$", "-test.count=1")
	cmd.Env = append(os.Environ(), dataRaceChildEnv+"=1", "GORACE=halt_on_error=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the child passed: the race was not reported\n%s", out)
	require.True(t, strings.Contains(string(out), "WARNING: DATA RACE"), "no race report:\n%s", out)
}

// dataRaceChild is the misuse: two chunks arrive; the handler of the
// first passes its slice to a goroutine that reads it 20 ms later.
func dataRaceChild(t *testing.T) {
	l := testutil.NewLoop(t)
	done := make(chan string, 2)
	chunks := 0
	srv := server.New(server.Options{Loop: l}, func(c *socket.Socket) {
		c.OnData(func(data []byte) {
			chunks++
			go func() {
				time.Sleep(20 * time.Millisecond)
				done <- string(data) // reads the loop's buffer off the loop
			}()
		})
	})
	require.NoError(t, srv.ListenHost(0, "127.0.0.1", 0))
	port := srv.Address().Port
	cli, err := socket.New(socket.Options{Loop: l})
	require.NoError(t, err)
	require.NoError(t, cli.ConnectTCP(port, "127.0.0.1"))
	cli.Write([]byte("AAAA"))
	testutil.RunUntil(t, l, 5*time.Second, func() bool { return chunks == 1 })
	cli.Write([]byte("BBBB"))
	testutil.RunUntil(t, l, 5*time.Second, func() bool { return len(done) == 2 })
	cli.Destroy(nil)
	srv.Close(nil)
}
