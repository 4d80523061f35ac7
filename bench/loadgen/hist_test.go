package loadgen

import (
	"math"
	"testing"
)

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 123456, 1 << 40, math.MaxUint64} {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d out of range", v, i)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d not in its bucket %d [%d,%d]", v, i, lo, hi)
		}
		if v >= 64 && float64(hi-lo+1)/float64(lo) > 1.0/32+1e-9 {
			t.Fatalf("bucket %d [%d,%d] wider than 1/32", i, lo, hi)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var h Histogram
	if h.Percentile(0.5) != 0 {
		t.Fatal("empty histogram should report 0")
	}
	for v := uint64(1); v <= 100000; v++ {
		h.Record(v)
	}
	check := func(q float64, want float64) {
		got := float64(h.Percentile(q))
		if math.Abs(got-want)/want > 0.035 {
			t.Errorf("p%v = %v, want %v ±3.5%%", q*100, got, want)
		}
	}
	check(0.5, 50000)
	check(0.99, 99000)
	check(0.999, 99900)
	if h.Percentile(1) != 100000 || h.Max() != 100000 || h.Count() != 100000 {
		t.Errorf("p100=%d max=%d count=%d", h.Percentile(1), h.Max(), h.Count())
	}
	var one Histogram
	one.Record(7)
	if one.Percentile(0.5) != 7 || one.Percentile(0.999) != 7 {
		t.Errorf("single value: %d %d", one.Percentile(0.5), one.Percentile(0.999))
	}
	var m Histogram
	m.Merge(&h)
	if m.Count() != h.Count() || m.Percentile(0.5) != h.Percentile(0.5) {
		t.Error("merge")
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(12345) }); n != 0 {
		t.Fatalf("Record allocates %v", n)
	}
}

func TestPattern(t *testing.T) {
	a := patAt(0, 5, 1000)
	b := patAt(1000, 5, 1000)
	// the stream is periodic with period patPeriod
	if a[0] != patAt(patPeriod, 5, 1)[0] || b[0] != patAt(1000+patPeriod, 5, 1)[0] {
		t.Fatal("pattern not periodic")
	}
	if string(patAt(3, 0, 10)) == string(patAt(3, 1, 10)) {
		t.Fatal("different seeds should give different bytes")
	}
	if len(patAt(7, 250, ioChunk)) != ioChunk {
		t.Fatal("pattern too short for a full chunk")
	}
}
