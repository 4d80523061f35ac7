package report

import (
	"fmt"
	"math"
	"strings"
)

// Bar is one row of a chart: a peer and its ratio to the yardstick.
type Bar struct {
	Label string
	Ratio Summary // median drawn as the bar, min-max as a whisker
	Note  string  // shown instead of a bar when Ratio is not valid
	Ref   bool    // the yardstick itself
}

// Chart renders a horizontal bar chart (peers on the vertical axis, ratio
// to the yardstick on the horizontal axis, a line at 1.0) as standalone SVG.
func Chart(title, subtitle, axis string, bars []Bar) string {
	return ChartWith(title, subtitle, axis, bars, 1, "1.0 = C yardstick",
		func(v float64) string { return fmt.Sprintf("%.2f×", v) }, trimFloat)
}

// ChartWith is Chart with a chosen reference line (none if refAt <= 0) and
// value and tick formats, for charts of absolute values.
func ChartWith(title, subtitle, axis string, bars []Bar, refAt float64, refLabel string, format, tickFormat func(float64) string) string {
	const (
		width   = 760
		left    = 110 // label column
		right   = 90  // room for value labels
		top     = 96
		rowH    = 34
		barH    = 20
		bottomH = 44
	)
	plotW := float64(width - left - right)
	height := top + rowH*len(bars) + bottomH
	maxV := math.Max(refAt, 0)
	for _, b := range bars {
		if b.Ratio.Valid() {
			maxV = math.Max(maxV, math.Max(b.Ratio.Max, b.Ratio.Median))
		}
	}
	if maxV <= 0 {
		maxV = 1
	}
	maxV = niceCeil(maxV * 1.08)
	x := func(v float64) float64 { return float64(left) + v/maxV*plotW }

	var s strings.Builder
	fmt.Fprintf(&s, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n", width, height, width, height)
	fmt.Fprintf(&s, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&s, `<text x="12" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", esc(title))
	// the subtitle is split at "; " into lines of small grey text
	for i, line := range strings.SplitN(subtitle, "; ", 3) {
		if line != "" {
			fmt.Fprintf(&s, `<text x="12" y="%d" fill="#555555" font-size="12">%s</text>`+"\n", 42+16*i, esc(line))
		}
	}
	// grid and ticks
	step := tickStep(maxV)
	axisY := top + rowH*len(bars)
	for v := 0.0; v <= maxV+1e-9; v += step {
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>`+"\n", x(v), top-6, x(v), axisY)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n", x(v), axisY+16, esc(tickFormat(v)))
	}
	fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333333">%s</text>`+"\n", float64(left)+plotW/2, axisY+36, esc(axis))
	for i, b := range bars {
		y := top + i*rowH
		cy := y + rowH/2
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle"%s>%s</text>`+"\n", left-10, cy, boldIf(b.Ref), esc(b.Label))
		if !b.Ratio.Valid() {
			note := b.Note
			if note == "" {
				note = "no data"
			}
			fmt.Fprintf(&s, `<text x="%d" y="%d" dominant-baseline="middle" fill="#b00020" font-style="italic">%s</text>`+"\n", left+6, cy, esc(note))
			continue
		}
		color := "#4c78a8"
		if b.Ref {
			color = "#9e9e9e"
		}
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, cy-barH/2, x(b.Ratio.Median)-float64(left), barH, color)
		if b.Ratio.N > 1 && b.Ratio.Max > b.Ratio.Min {
			fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222222" stroke-width="1.5"/>`+"\n", x(b.Ratio.Min), cy, x(b.Ratio.Max), cy)
			for _, v := range []float64{b.Ratio.Min, b.Ratio.Max} {
				fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#222222" stroke-width="1.5"/>`+"\n", x(v), cy-5, x(v), cy+5)
			}
		}
		lx := math.Max(x(b.Ratio.Median), x(b.Ratio.Max)) + 6
		label := format(b.Ratio.Median)
		if b.Note != "" {
			label += " " + b.Note
		}
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" dominant-baseline="middle" font-weight="bold">%s</text>`+"\n", lx, cy, esc(label))
	}
	// the yardstick line
	if refAt > 0 {
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d62728" stroke-width="2" stroke-dasharray="5,3"/>`+"\n", x(refAt), top-8, x(refAt), axisY)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle" fill="#d62728" font-size="11">%s</text>`+"\n", x(refAt), top-12, esc(refLabel))
	}
	s.WriteString("</svg>\n")
	return s.String()
}

func boldIf(b bool) string {
	if b {
		return ` font-weight="bold"`
	}
	return ""
}

func esc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	return r.Replace(s)
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	step := tickStep(v)
	return math.Ceil(v/step-1e-9) * step
}

// tickStep picks 1, 2 or 5 times a power of ten giving about 4-8 ticks.
func tickStep(v float64) float64 {
	raw := v / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
