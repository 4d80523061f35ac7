//go:build linux

package stream_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// child is this test binary re-run as a child process for one test (with
// env set, so that test plays its child part). The child reports with
// lines "CHILD <what>" on stdout and reads commands from stdin.
type child struct {
	t      *testing.T
	ctx    context.Context
	cancel context.CancelFunc
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	lines  chan string
}

// startChild runs test in a child process with env=1, bounded by 60 s; it
// is stopped when the test ends (stderr is logged if the test failed).
func startChild(t *testing.T, test, env string) *child {
	t.Helper()
	c := &child{t: t, lines: make(chan string, 64)}
	c.ctx, c.cancel = context.WithTimeout(context.Background(), 60*time.Second)
	c.cmd = exec.CommandContext(c.ctx, os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.v")
	c.cmd.Env = append(os.Environ(), env+"=1")
	var err error
	c.stdin, err = c.cmd.StdinPipe()
	require.NoError(t, err)
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "CHILD "); ok {
				c.lines <- s
			}
		}
		close(c.lines)
	}()
	t.Cleanup(c.stop)
	return c
}

// expect waits for the child's next line, which must start with prefix,
// and returns the rest.
func (c *child) expect(prefix string) string {
	c.t.Helper()
	select {
	case s, ok := <-c.lines:
		require.True(c.t, ok, "child exited early waiting for %q", prefix)
		rest, found := strings.CutPrefix(s, prefix)
		require.True(c.t, found, "child said %q, want %q", s, prefix)
		return strings.TrimSpace(rest)
	case <-c.ctx.Done():
		c.t.Fatalf("timeout waiting for %q", prefix)
		return ""
	}
}

// send writes one command line to the child's stdin.
func (c *child) send(line string) {
	c.t.Helper()
	_, err := io.WriteString(c.stdin, line+"\n")
	require.NoError(c.t, err)
}

// wait closes stdin and waits for the child to exit, which must succeed.
func (c *child) wait() {
	c.t.Helper()
	c.stdin.Close()
	for range c.lines {
	}
	require.NoError(c.t, c.cmd.Wait())
}

func (c *child) stop() {
	c.stdin.Close()
	c.cancel()
	for range c.lines {
	}
	c.cmd.Wait()
	if c.t.Failed() {
		c.t.Logf("child stderr:\n%s", c.stderr.String())
	}
}

var childOut sync.Mutex

// say is how a child reports to its parent (safe from any goroutine).
func say(format string, args ...any) {
	childOut.Lock()
	defer childOut.Unlock()
	fmt.Printf("CHILD "+format+"\n", args...)
}
