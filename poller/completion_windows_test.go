//go:build windows

package poller

import (
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

var pipeSeq atomic.Int32

// pipePair returns the server and client ends of a fresh named pipe,
// opened for overlapped I/O and closed at the end of the test (unless
// closed earlier with closePipeEnd).
func pipePair(t *testing.T) (srv, cli windows.Handle) {
	t.Helper()
	name, err := windows.UTF16PtrFromString(fmt.Sprintf(`\\.\pipe\netloop-poller-%d-%d`, os.Getpid(), pipeSeq.Add(1)))
	require.NoError(t, err)
	srv, err = windows.CreateNamedPipe(name, windows.PIPE_ACCESS_DUPLEX|windows.FILE_FLAG_OVERLAPPED,
		windows.PIPE_TYPE_BYTE, 1, 4096, 4096, 0, nil)
	require.NoError(t, err)
	cli, err = windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED, 0)
	require.NoError(t, err)
	open := map[windows.Handle]bool{srv: true, cli: true}
	openEnds[t] = open
	t.Cleanup(func() {
		for h, ok := range open {
			if ok {
				windows.CloseHandle(h)
			}
		}
		delete(openEnds, t)
	})
	return srv, cli
}

// openEnds tracks, per test, which ends pipePair made are still open.
var openEnds = map[*testing.T]map[windows.Handle]bool{}

// closePipeEnd closes one end early; the cleanup leaves it alone (its
// handle value may be another object's by then).
func closePipeEnd(t *testing.T, h windows.Handle) {
	openEnds[t][h] = false
	windows.CloseHandle(h)
}

// An overlapped read and write on handles given to AddHandle come back
// from Wait as events for the tokens and bits given to Begin, with their
// byte counts in Result.
func TestCompletionReportsReadAndWrite(t *testing.T) {
	p := newPoller(t)
	srv, cli := pipePair(t)
	require.NoError(t, p.AddHandle(srv))
	require.NoError(t, p.AddHandle(cli))

	var rd, wr Completion
	buf := make([]byte, 16)
	p.Begin(&rd, 7, Read)
	err := windows.ReadFile(srv, buf, nil, rd.Overlapped())
	require.ErrorIs(t, err, windows.ERROR_IO_PENDING)
	assert.True(t, rd.Pending())
	assert.False(t, rd.Finished())
	assert.Empty(t, wait(t, p, 0), "a read with nothing to read completed")

	p.Begin(&wr, 8, Write)
	err = windows.WriteFile(cli, []byte("hello"), nil, wr.Overlapped())
	if err != nil {
		require.ErrorIs(t, err, windows.ERROR_IO_PENDING)
	}
	var got []Event
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		got = append(got, wait(t, p, 100)...)
	}
	assert.ElementsMatch(t, []Event{{Token: 7, Events: Read}, {Token: 8, Events: Write}}, got)
	assert.False(t, rd.Pending())
	assert.False(t, wr.Pending())
	n, err := rd.Result()
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf[:n]))
	n, err = wr.Result()
	require.NoError(t, err)
	assert.EqualValues(t, 5, n)
	assert.Empty(t, p.ops, "completed requests left in the table")
}

// A cancelled request still completes, with ERROR_OPERATION_ABORTED;
// Cancel of a request that is not pending gives ERROR_NOT_FOUND.
func TestCompletionCancel(t *testing.T) {
	p := newPoller(t)
	srv, _ := pipePair(t)
	require.NoError(t, p.AddHandle(srv))
	var rd Completion
	buf := make([]byte, 16)
	p.Begin(&rd, 3, Read)
	require.ErrorIs(t, windows.ReadFile(srv, buf, nil, rd.Overlapped()), windows.ERROR_IO_PENDING)
	require.NoError(t, p.Cancel(srv, &rd))
	assert.Equal(t, []Event{{Token: 3, Events: Read}}, waitFor(t, p))
	_, err := rd.Result()
	assert.ErrorIs(t, err, windows.ERROR_OPERATION_ABORTED)
	assert.ErrorIs(t, p.Cancel(srv, &rd), windows.ERROR_NOT_FOUND)
}

// A handle belongs to one port: a second AddHandle fails.
func TestAddHandleTwiceFails(t *testing.T) {
	p := newPoller(t)
	srv, _ := pipePair(t)
	require.NoError(t, p.AddHandle(srv))
	assert.Error(t, newPoller(t).AddHandle(srv))
}

// Begin on a Completion still pending panics (the kernel owns its memory);
// Abandon releases one whose request failed at once.
func TestCompletionBeginWhilePendingPanics(t *testing.T) {
	p := newPoller(t)
	var c Completion
	p.Begin(&c, 1, Read)
	assert.Panics(t, func() { p.Begin(&c, 1, Read) })
	p.Abandon(&c)
	assert.False(t, c.Pending())
	assert.Empty(t, p.ops)
	assert.NotPanics(t, func() { p.Begin(&c, 1, Read) })
	p.Abandon(&c)
}

// Close waits for the completions of requests whose handles were closed
// (their memory is the kernel's until then: closing the handle cancels
// them) and returns promptly.
func TestCloseDrainsClosedHandlesRequests(t *testing.T) {
	p, err := New()
	require.NoError(t, err)
	srv, _ := pipePair(t)
	require.NoError(t, p.AddHandle(srv))
	var rd Completion
	buf := make([]byte, 16)
	p.Begin(&rd, 3, Read)
	require.ErrorIs(t, windows.ReadFile(srv, buf, nil, rd.Overlapped()), windows.ERROR_IO_PENDING)
	closePipeEnd(t, srv)
	start := time.Now()
	require.NoError(t, p.Close())
	assert.Less(t, time.Since(start), closeDrainTimeout, "Close waited out its limit")
	assert.False(t, rd.Pending())
	leakedMu.Lock()
	defer leakedMu.Unlock()
	assert.NotContains(t, leakedIO, &rd)
}
