// Package report turns benchmark runs into summaries, Markdown tables and
// SVG charts. It has no dependencies beyond the standard library.
package report

import (
	"math"
	"sort"
)

// Summary is the median, minimum and maximum of a set of values.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// Valid reports whether the summary has at least one value.
func (s Summary) Valid() bool { return s.N > 0 }

// Summarize computes median (mean of the two middle values for an even
// count), min and max, ignoring NaN and Inf values.
func Summarize(vals []float64) Summary {
	v := make([]float64, 0, len(vals))
	for _, x := range vals {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Summary{}
	}
	sort.Float64s(v)
	n := len(v)
	med := v[n/2]
	if n%2 == 0 {
		med = (v[n/2-1] + v[n/2]) / 2
	}
	return Summary{Median: med, Min: v[0], Max: v[n-1], N: n}
}

// Sample is one measurement of one peer in one round.
type Sample struct {
	Round     int
	Value     float64
	Disturbed bool
}

// RoundRatios pairs each of a's samples with ref's sample from the same
// round and returns a/ref. Rounds missing on either side, or with a
// non-positive reference, are skipped. If at least minClean rounds have
// neither sample disturbed, only those rounds are used; dropped says whether
// that left any round out.
func RoundRatios(a, ref []Sample, minClean int) (ratios []float64, dropped bool) {
	byRound := map[int]Sample{}
	for _, s := range ref {
		byRound[s.Round] = s
	}
	var all, clean []float64
	for _, s := range a {
		r, ok := byRound[s.Round]
		if !ok || r.Value <= 0 || math.IsNaN(s.Value) || math.IsNaN(r.Value) {
			continue
		}
		q := s.Value / r.Value
		all = append(all, q)
		if !s.Disturbed && !r.Disturbed {
			clean = append(clean, q)
		}
	}
	if len(clean) >= minClean && len(clean) > 0 && len(clean) < len(all) {
		return clean, true
	}
	return all, false
}

// Values returns the sample values, dropping disturbed ones if at least
// minClean undisturbed samples remain.
func Values(s []Sample, minClean int) []float64 {
	var all, clean []float64
	for _, x := range s {
		all = append(all, x.Value)
		if !x.Disturbed {
			clean = append(clean, x.Value)
		}
	}
	if len(clean) >= minClean && len(clean) > 0 {
		return clean
	}
	return all
}
