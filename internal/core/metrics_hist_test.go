package core

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every duration falls in the bucket whose bounds hold it, buckets are in
// order, and a bucket is at most 12.5% (or 64 ns) wide.
func TestDelayBuckets(t *testing.T) {
	check := func(d time.Duration) {
		i := delayBucket(d)
		require.True(t, i >= 0 && i < DelayBuckets, "bucket %d for %v", i, d)
		if i == DelayBuckets-1 {
			assert.GreaterOrEqual(t, d, delayBucketHigh(i-1), "%v", d)
			return
		}
		assert.Less(t, d, delayBucketHigh(i), "%v in bucket %d", d, i)
		if i > 0 {
			assert.GreaterOrEqual(t, d, delayBucketHigh(i-1), "%v in bucket %d", d, i)
		}
	}
	for d := time.Duration(0); d < 100*time.Microsecond; d += 7 {
		check(d)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		check(time.Duration(r.Int64N(int64(20 * time.Minute))))
	}
	check(1<<63 - 1)
	for i := 1; i < DelayBuckets; i++ {
		lo, hi := delayBucketHigh(i-1), delayBucketHigh(i)
		require.Greater(t, hi, lo)
		if lo >= 512 {
			assert.LessOrEqual(t, float64(hi-lo)/float64(lo), 0.125, "bucket %d: %v..%v", i, lo, hi)
		} else {
			assert.Equal(t, time.Duration(64), hi-lo)
		}
	}
	assert.Greater(t, delayBucketHigh(DelayBuckets-2), 8*time.Minute)
}

func TestDelayHistogramPercentile(t *testing.T) {
	var h DelayHistogram
	assert.Zero(t, h.Percentile(50, time.Second))
	assert.Zero(t, h.High())
	// 1..1000 µs, once each.
	for i := 1; i <= 1000; i++ {
		h[delayBucket(time.Duration(i)*time.Microsecond)]++
	}
	maxD := 1000 * time.Microsecond
	assert.Equal(t, uint64(1000), h.Count())
	for _, p := range []float64{1, 50, 90, 99, 99.9} {
		want := time.Duration(p * 10 * float64(time.Microsecond))
		got := h.Percentile(p, maxD)
		assert.GreaterOrEqual(t, got, want, "p%v", p)
		assert.LessOrEqual(t, float64(got), float64(want)*1.125+64, "p%v", p)
	}
	assert.Equal(t, maxD, h.Percentile(100, maxD))
	assert.LessOrEqual(t, h.Percentile(50, maxD), h.Percentile(99, maxD))

	// Sub keeps what was added after prev.
	prev := h
	for range 10 {
		h[delayBucket(5*time.Millisecond)]++
	}
	d := h.Sub(&prev)
	assert.Equal(t, uint64(10), d.Count())
	assert.GreaterOrEqual(t, d.Percentile(50, time.Second), 5*time.Millisecond)
	assert.LessOrEqual(t, d.High(), 5*time.Millisecond*9/8+64)
}

func TestEncodeClock(t *testing.T) {
	for _, v := range []time.Duration{0, 1, 12345, -987654321, time.Hour * 24 * 365} {
		assert.Equal(t, v, decodeClock(encodeClock(v, false), time.Minute))
		assert.Equal(t, v+time.Minute, decodeClock(encodeClock(v, true), time.Minute))
	}
}
