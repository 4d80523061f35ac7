package socket

import "testing"

// TestByteCountersCarry: BytesRead and BytesWritten keep their low 32
// bits in the Socket and the rest in its extra part, created by the first
// carry, past 4 GiB.
func TestByteCountersCarry(t *testing.T) {
	s := &Socket{sockExtra: &noExtra}
	s.countRead(100)
	s.countWritten(100)
	if s.sockExtra != &noExtra {
		t.Fatal("extra part created below 4 GiB")
	}
	s.bytesRead, s.bytesWritten = 1<<32-10, 1<<32-1
	s.countRead(30)
	s.countWritten(1)
	s.countWritten(1 << 20)
	if got, want := s.readTotal(), int64(1)<<32+20; got != want {
		t.Fatalf("bytes read %d, want %d", got, want)
	}
	if got, want := s.writtenTotal(), int64(1)<<32+1<<20; got != want {
		t.Fatalf("bytes written %d, want %d", got, want)
	}
	if noExtra.readHi != 0 || noExtra.writtenHi != 0 {
		t.Fatal("the shared zero extra was written")
	}
}
