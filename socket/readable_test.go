//go:build !windows

package socket_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netloop/netloop/server"
	"github.com/netloop/netloop/socket"
)

// TestReadableAndRead: paused mode as Node's (node v20 prints "readable
// data:hello read:hello data: worl read: worl readable data:d read:d end"
// for this exchange): a 'readable' listener stops the flow, Read(5) takes
// whole 5-byte pieces and emits them as 'data' too, what is left short of
// 5 bytes waits until the end of the stream, when a last 'readable' lets
// Read take the remainder, then 'end'. Resume does nothing in paused mode.
func TestReadableAndRead(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(d []byte) { log = append(log, "data:"+string(d)) })
		s.OnReadable(func() {
			log = append(log, "readable")
			for c := s.Read(5); c != nil; c = s.Read(5) {
				log = append(log, "read:"+string(c))
			}
		})
		s.OnEnd(func() { log = append(log, "end") })
		s.Resume() // no effect with a 'readable' listener
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("hello world"))
			e.after(50*time.Millisecond, func() { c.End(nil) })
		})
	})
	e.run()
	assert.Equal(t, "readable data:hello read:hello data: worl read: worl readable data:d read:d end", strings.Join(log, " "))
}

// TestReadAll: Read(0) takes everything buffered; ReadableLength reports
// what paused mode holds.
func TestReadAll(t *testing.T) {
	e := newEnv(t)
	var got []byte
	var lengths []int
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() {
			lengths = append(lengths, s.ReadableLength())
			got = append(got, s.Read(0)...)
			assert.Zero(t, s.ReadableLength())
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End([]byte("0123456789")) })
	})
	e.run()
	assert.Equal(t, "0123456789", string(got))
	assert.NotEmpty(t, lengths)
	assert.Equal(t, 10, lengths[0])
}

// readableLog records 'readable' (with ReadableLength), 'data' and 'end'
// of s into log, as the Node scripts quoted below print them.
func readableLog(s *socket.Socket, log *[]string) socket.Listener {
	s.OnData(func(d []byte) { *log = append(*log, "data:"+string(d)) })
	s.OnEnd(func() { *log = append(*log, "end") })
	return s.OnReadable(func() { *log = append(*log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
}

// TestReadableRemovedResumesFlow: removing the last 'readable' listener
// while 'data' listeners exist leaves paused mode on the next tick and
// resumes the flow, buffered data first (node v20: "readable len=3
// removed paused=true tick paused=false data:one data:two end").
func TestReadableRemovedResumesFlow(t *testing.T) {
	for _, how := range []string{"Remove", "RemoveAllListeners"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			var log []string
			e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
				rl := readableLog(s, &log)
				e.after(60*time.Millisecond, func() {
					if how == "Remove" {
						rl.Remove()
					} else {
						s.RemoveAllListeners("readable")
					}
					log = append(log, fmt.Sprintf("removed paused=%v", s.IsPaused()))
					s.Loop().NextTick(func() { log = append(log, fmt.Sprintf("tick paused=%v", s.IsPaused())) })
				})
			}, func(c *socket.Socket) {
				c.OnData(func([]byte) {})
				c.OnConnect(func() {
					c.Write([]byte("one"))
					e.after(150*time.Millisecond, func() { c.End([]byte("two")) })
				})
			})
			e.run()
			assert.Equal(t, "readable len=3 removed paused=true tick paused=false data:one data:two end", strings.Join(log, " "))
		})
	}
}

// TestOnceReadableResumesFlow: a once 'readable' listener that ran was
// the last one, so the socket flows again (node v20: "readable len=3
// data:one data:two end").
func TestOnceReadableResumesFlow(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func(d []byte) { log = append(log, "data:"+string(d)) })
		s.OnEnd(func() { log = append(log, "end") })
		s.OnceReadable(func() { log = append(log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("one"))
			e.after(100*time.Millisecond, func() { c.End([]byte("two")) })
		})
	})
	e.run()
	assert.Equal(t, "readable len=3 data:one data:two end", strings.Join(log, " "))
}

// TestReadableRemovedWithoutData: without 'data' listeners, removing the
// last 'readable' listener leaves the socket neither paused nor flowing:
// the data waits, and the next OnData starts the flow (node v20:
// "readable len=3 tick paused=false add data data:one data:two end").
func TestReadableRemovedWithoutData(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnEnd(func() { log = append(log, "end") })
		rl := s.OnReadable(func() { log = append(log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
		e.after(60*time.Millisecond, func() {
			rl.Remove()
			s.Loop().NextTick(func() { log = append(log, fmt.Sprintf("tick paused=%v", s.IsPaused())) })
			e.after(50*time.Millisecond, func() {
				log = append(log, "add data")
				s.OnData(func(d []byte) { log = append(log, "data:"+string(d)) })
			})
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("one"))
			e.after(150*time.Millisecond, func() { c.End([]byte("two")) })
		})
	})
	e.run()
	assert.Equal(t, "readable len=3 tick paused=false add data data:one data:two end", strings.Join(log, " "))
}

// TestReadablePauseResume: in paused mode IsPaused is true, Resume
// changes nothing and Pause does not stop the reading: 'readable' still
// comes for new data and at the end, once before 'end' for the end of the
// stream even if one was scheduled (node v20: "after pause isPaused=true
// after resume isPaused=true readable len=3 readable len=6 readable len=6
// read=onetwo end").
func TestReadablePauseResume(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() { log = append(log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
		s.Pause()
		log = append(log, fmt.Sprintf("after pause isPaused=%v", s.IsPaused()))
		s.Resume()
		log = append(log, fmt.Sprintf("after resume isPaused=%v", s.IsPaused()))
		s.Pause()
		s.OnEnd(func() { log = append(log, "end") })
		e.after(100*time.Millisecond, func() { log = append(log, "read="+string(s.Read(0))) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("one"))
			e.after(50*time.Millisecond, func() { c.End([]byte("two")) })
		})
	})
	e.run()
	assert.Equal(t, "after pause isPaused=true after resume isPaused=true readable len=3 readable len=6 readable len=6 read=onetwo end",
		strings.Join(log, " "))
}

// TestReadableOnPausedConnection: a 'readable' listener reads a
// connection accepted with PauseOnConnect (node v20: "paused=true
// readable read:hi readable end").
func TestReadableOnPausedConnection(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{PauseOnConnect: true}, socket.Options{}, func(s *socket.Socket) {
		log = append(log, fmt.Sprintf("paused=%v", s.IsPaused()))
		s.OnReadable(func() {
			log = append(log, "readable")
			for c := s.Read(0); c != nil; c = s.Read(0) {
				log = append(log, "read:"+string(c))
			}
		})
		s.OnEnd(func() { log = append(log, "end") })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End([]byte("hi")) })
	})
	e.run()
	assert.Equal(t, "paused=true readable read:hi readable end", strings.Join(log, " "))
}

// TestReadExactRemainderAtEnd: at the end of the stream, 'end' waits
// while data is buffered and nobody reads; a Read(n) that takes exactly
// what is left does not end the stream yet, the next Read (nil) does
// (node v20: "readable len=3 readable len=3 read3=abc later read3=null
// end").
func TestReadExactRemainderAtEnd(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() { log = append(log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
		s.OnEnd(func() { log = append(log, "end") })
		e.after(100*time.Millisecond, func() {
			log = append(log, fmt.Sprintf("read3=%s", s.Read(3)))
			e.after(30*time.Millisecond, func() {
				r := s.Read(3)
				log = append(log, fmt.Sprintf("later read3=%v", r == nil))
				e.after(20*time.Millisecond, func() { s.Destroy(nil) })
			})
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End([]byte("abc")) })
	})
	e.run()
	assert.Equal(t, "readable len=3 readable len=3 read3=abc later read3=true end", strings.Join(log, " "))
}

// TestReadableNeedReadable: Node's needReadable rule. After a 'readable'
// that left more than the high-water mark buffered, data arriving after a
// Read that neither returned nil nor emptied the buffer emits no
// 'readable'; the end of the stream does. Read(6) above the mark of 4
// raises it to 8, so the socket reads on (node v20 with
// createServer({highWaterMark: 4}): "readable len=8 read:abcdef len=4
// readable len=4 read:ghij end").
func TestReadableNeedReadable(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		socket.SetReadHighWaterMark(s, 4)
		s.OnReadable(func() { log = append(log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
		s.OnEnd(func() { log = append(log, "end") })
		e.after(60*time.Millisecond, func() { log = append(log, "read:"+string(s.Read(6))) })
		e.after(150*time.Millisecond, func() { log = append(log, fmt.Sprintf("len=%d", s.ReadableLength())) })
		e.after(250*time.Millisecond, func() { log = append(log, "read:"+string(s.Read(0))) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("abcdefgh"))
			e.after(100*time.Millisecond, func() { c.Write([]byte("ij")) })
			e.after(200*time.Millisecond, func() { c.End(nil) })
		})
	})
	e.run()
	assert.Equal(t, "readable len=8 read:abcdef len=4 readable len=4 read:ghij end", strings.Join(log, " "))
}

// TestReadableEveryArrival: a 'readable' listener that reads nothing gets
// one 'readable' per arrival while the buffer stays under the high-water
// mark (node v20: "readable len=1 readable len=2 readable len=3").
func TestReadableEveryArrival(t *testing.T) {
	e := newEnv(t)
	var log []string
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() { log = append(log, fmt.Sprintf("readable len=%d", s.ReadableLength())) })
		e.after(300*time.Millisecond, func() { s.Destroy(nil) })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write([]byte("a"))
			e.after(50*time.Millisecond, func() { c.Write([]byte("b")) })
			e.after(100*time.Millisecond, func() { c.Write([]byte("c")) })
		})
	})
	e.run()
	assert.Equal(t, "readable len=1 readable len=2 readable len=3", strings.Join(log, " "))
}

// TestReadableBackpressure: paused mode stops reading from the kernel
// once 64 KiB wait (node v20 holds 65536 bytes of a 1 MiB write), and
// reads on once Read took them.
func TestReadableBackpressure(t *testing.T) {
	e := newEnv(t)
	var first, second int
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() {})
		e.after(200*time.Millisecond, func() {
			first = s.ReadableLength()
			s.Read(0)
			e.after(200*time.Millisecond, func() {
				second = s.ReadableLength()
				s.Destroy(nil)
			})
		})
	}, func(c *socket.Socket) {
		c.OnError(func(error) {})
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.Write(make([]byte, 1<<20)) })
	})
	e.run()
	assert.GreaterOrEqual(t, first, 64<<10)
	assert.Less(t, first, 128<<10, "reading stopped at the high-water mark")
	assert.GreaterOrEqual(t, second, 64<<10, "Read restarted the reading")
	assert.Less(t, second, 128<<10)
}

// TestReadAboveHighWaterMark: Read(n) above the high-water mark raises it
// (Node's computeNewHighWaterMark), so a 150000-byte Read is served
// instead of waiting forever for a buffer that stops at 64 KiB.
func TestReadAboveHighWaterMark(t *testing.T) {
	e := newEnv(t)
	var sizes []int
	ended := false
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnReadable(func() {
			for c := s.Read(150000); c != nil; c = s.Read(150000) {
				sizes = append(sizes, len(c))
			}
		})
		s.OnEnd(func() { ended = true })
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() {
			c.Write(make([]byte, 200000))
			e.after(100*time.Millisecond, func() { c.End(nil) })
		})
	})
	e.run()
	assert.Equal(t, []int{150000, 50000}, sizes)
	assert.True(t, ended)
}

// TestReadWithEncoding: Read returns raw bytes even with an encoding set,
// and what it returns reaches the text listeners decoded, as Node's
// read() emits 'data' with its string (node v20 with setEncoding('hex')
// and read(3): "data:686 read:686 ..." — Node counts n in characters).
func TestReadWithEncoding(t *testing.T) {
	e := newEnv(t)
	var texts []string
	var got []byte
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		require.NoError(t, s.SetEncoding("hex"))
		s.OnText(func(text string) { texts = append(texts, text) })
		s.OnReadable(func() {
			for c := s.Read(3); c != nil; c = s.Read(3) {
				got = append(got, c...)
			}
		})
	}, func(c *socket.Socket) {
		c.OnData(func([]byte) {})
		c.OnConnect(func() { c.End([]byte("hello")) })
	})
	e.run()
	assert.Equal(t, "hello", string(got))
	assert.Equal(t, "68656c6c6f", strings.Join(texts, ""))
}

// TestReadableBeforeConnect: a client put in paused mode while it
// connects reads once connected.
func TestReadableBeforeConnect(t *testing.T) {
	e := newEnv(t)
	var got []byte
	ended := false
	e.pair(server.Options{}, socket.Options{}, func(s *socket.Socket) {
		s.OnData(func([]byte) {})
		s.End([]byte("hello"))
	}, func(c *socket.Socket) {
		require.True(t, c.Connecting())
		c.OnReadable(func() {
			for b := c.Read(0); b != nil; b = c.Read(0) {
				got = append(got, b...)
			}
		})
		c.OnEnd(func() { ended = true })
	})
	e.run()
	assert.Equal(t, "hello", string(got))
	assert.True(t, ended)
}
