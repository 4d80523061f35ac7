package report

import (
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/netloop/netloop/bench/loadgen"
)

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, 1, 3})
	if s.Median != 3 || s.Min != 1 || s.Max != 5 || s.N != 3 {
		t.Fatalf("%+v", s)
	}
	s = Summarize([]float64{4, 1, 3, 2})
	if s.Median != 2.5 || s.Min != 1 || s.Max != 4 {
		t.Fatalf("%+v", s)
	}
	if Summarize(nil).Valid() || Summarize([]float64{math.NaN(), math.Inf(1)}).Valid() {
		t.Fatal("empty summary should be invalid")
	}
}

func TestRoundRatios(t *testing.T) {
	a := []Sample{{1, 20, false}, {2, 30, false}, {3, 40, true}, {4, 50, false}}
	ref := []Sample{{1, 10, false}, {2, 10, false}, {3, 10, false}} // round 4 missing
	q, dropped := RoundRatios(a, ref, 3)
	if dropped || len(q) != 3 || q[0] != 2 || q[1] != 3 || q[2] != 4 {
		t.Fatalf("q=%v dropped=%v (only 2 clean rounds: keep all)", q, dropped)
	}
	q, dropped = RoundRatios(a, ref, 2)
	if !dropped || len(q) != 2 {
		t.Fatalf("q=%v dropped=%v (2 clean rounds suffice)", q, dropped)
	}
	if q, _ := RoundRatios(a, []Sample{{1, 0, false}}, 1); len(q) != 0 {
		t.Fatal("zero reference must be skipped")
	}
	if v := Values([]Sample{{1, 1, true}, {2, 2, false}}, 3); len(v) != 2 {
		t.Fatal("too few clean samples: keep all")
	}
}

func sampleResults() *Results {
	res := &Results{Mode: "full", Command: "make bench", Date: "2026-01-01 00:00 UTC", Rounds: 2, WarmupS: 1, DurationS: 3,
		Peers: []PeerStatus{
			{Name: "netloop", Built: false, Note: "peers/netloop/main.go does not exist yet"},
			{Name: "gnet", Built: true}, {Name: "c", Built: true},
		},
		Cases: []Case{
			{ID: "pp", Title: "64 B ping-pong <&>", Kind: "echo", Conns: 100, Size: 64, Depth: 1},
			{ID: "idle", Title: "Idle", Kind: "idle", Conns: 9000, Size: 64},
		},
	}
	for r := 1; r <= 2; r++ {
		res.Runs = append(res.Runs,
			Run{Case: "pp", Round: r, Peer: "gnet", OK: true, CPUPerUnit: 1200 * float64(r), Loadgen: loadgen.Result{MsgsPerS: 1e5, P50Ns: 1000, P99Ns: 2000, P999Ns: 3000, Busy: 0.9}},
			Run{Case: "pp", Round: r, Peer: "c", OK: true, CPUPerUnit: 1000 * float64(r), Loadgen: loadgen.Result{MsgsPerS: 1.1e5}},
			Run{Case: "idle", Round: r, Peer: "gnet", OK: true, BytesPerConn: 600},
			Run{Case: "idle", Round: r, Peer: "c", OK: true, BytesPerConn: 0},
		)
	}
	res.Runs = append(res.Runs, Run{Case: "pp", Round: 3, Peer: "gnet", OK: false, Err: "boom"})
	return res
}

func TestSummarizeCase(t *testing.T) {
	res := sampleResults()
	sum := res.Summarize(res.Cases[0])
	if len(sum) != 3 || sum[0].Built || !sum[1].Built {
		t.Fatalf("%+v", sum)
	}
	g := sum[1]
	if math.Abs(g.VsC.Median-1.2) > 1e-9 || g.VsC.N != 2 || g.Failed != 1 {
		t.Fatalf("gnet vs C %+v failed %d", g.VsC, g.Failed)
	}
	if math.Abs(sum[2].VsGnet.Median-1/1.2) > 1e-9 {
		t.Fatalf("c vs gnet %+v", sum[2].VsGnet)
	}
	idle := res.Summarize(res.Cases[1])
	if idle[1].VsC.Valid() || idle[1].Headline.Median != 600 {
		t.Fatalf("idle ratio to a zero yardstick must be absent: %+v", idle[1])
	}
}

func wellFormed(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
}

func TestChartsAreValidSVG(t *testing.T) {
	res := sampleResults()
	for _, c := range res.Cases {
		svg := res.CaseChart(c, res.Summarize(c))
		wellFormed(t, svg)
		if !strings.Contains(svg, "not built") {
			t.Errorf("%s: the unbuilt peer should be labelled", c.ID)
		}
	}
	svg := Chart("t", "s", "a", []Bar{{Label: "x", Ratio: Summary{Median: 2, Min: 1.5, Max: 3, N: 3}}, {Label: "c", Ratio: Summary{Median: 1, Min: 1, Max: 1, N: 3}, Ref: true}})
	wellFormed(t, svg)
	for _, want := range []string{"2.00×", "1.00×", "1.0 = C yardstick"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	res := sampleResults()
	md := res.Markdown()
	for _, want := range []string{"make bench", "make bench-quick", "## Machine", "| netloop | not built |", "pp.svg", "1.20×", "Failed runs: round 3 gnet: boom", "600 B"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
