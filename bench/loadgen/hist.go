package loadgen

import "math/bits"

// Histogram is an HDR-like latency histogram with fixed memory: values below
// 64 have their own bucket, larger values keep their top 6 significant bits
// (log buckets with 32 linear sub-buckets each, about 3% relative precision).
// Record never allocates.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    uint64
}

const (
	histSub     = 32 // sub-buckets per power of two above 64
	histBuckets = 64 + 58*histSub
)

func bucketOf(v uint64) int {
	if v < 64 {
		return int(v)
	}
	shift := bits.Len64(v) - 6 // >= 1
	return 64 + (shift-1)*histSub + int(v>>uint(shift)) - histSub
}

// bucketRange returns the smallest and largest value that map to bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 64 {
		return uint64(i), uint64(i)
	}
	j := i - 64
	shift := uint(j/histSub + 1)
	top := uint64(j%histSub + histSub)
	lo = top << shift
	hi = lo + (uint64(1) << shift) - 1
	return lo, hi
}

// Record adds one value (e.g. nanoseconds).
func (h *Histogram) Record(v uint64) {
	h.counts[bucketOf(v)]++
	h.total++
	if v > h.max {
		h.max = v
	}
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest recorded value.
func (h *Histogram) Max() uint64 { return h.max }

// Reset forgets every value.
func (h *Histogram) Reset() { *h = Histogram{} }

// Merge adds o's values to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	if o.max > h.max {
		h.max = o.max
	}
}

// Percentile returns the value at quantile q (0 < q <= 1): the upper bound
// of the bucket holding the ceil(q*count)-th smallest value, clamped to the
// maximum seen. It returns 0 for an empty histogram.
func (h *Histogram) Percentile(q float64) uint64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > h.total {
		rank = h.total
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			if hi > h.max {
				hi = h.max
			}
			return hi
		}
	}
	return h.max
}
