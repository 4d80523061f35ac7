package server_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// echoClient dials port, writes size random bytes (in pieces, half-closing
// after the last), reads until EOF and reports whether what came back is
// prefix followed by exactly what it sent.
func echoClient(port, size int, prefix string) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(8 * time.Second))
	data := make([]byte, size)
	rand.Read(data)
	werr := make(chan error, 1)
	go func() {
		for off := 0; off < len(data); off += 16 << 10 {
			end := min(off+16<<10, len(data))
			if _, err := c.Write(data[off:end]); err != nil {
				werr <- err
				return
			}
		}
		werr <- c.(*net.TCPConn).CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if err := <-werr; err != nil {
		return err
	}
	want := append([]byte(prefix), data...)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("echo differs: got %d bytes (sha %x), want %d (sha %x)",
			len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
	return nil
}
