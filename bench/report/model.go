package report

import (
	"fmt"

	"github.com/netloop/netloop/bench/loadgen"
)

// Yardstick and Reference name the peers ratios are computed against.
const (
	Yardstick = "c"
	// UringYardstick is the C io_uring server, the second floor.
	UringYardstick = "c-uring"
	Reference      = "gnet"
	// DisturbedSteal is the hypervisor steal (percent of all CPU time during
	// the run) above which a run is flagged as disturbed.
	DisturbedSteal = 10.0
	// DisturbedOther is the CPU share (percent of all CPU time) used by
	// anything but the server and the load generator — other processes,
	// interrupts and softirq work not charged to either — above which a run
	// is flagged as disturbed.
	DisturbedOther = 10.0
	// MinClean is how many undisturbed rounds a summary needs before the
	// disturbed ones are left out of it.
	MinClean = 3
)

// Case is one benchmark scenario.
type Case struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"` // "echo", "churn" or "idle"
	Conns int    `json:"conns"`
	Size  int    `json:"size"`
	Depth int    `json:"depth"` // in flight per conn (echo) / conns in flight (churn, idle connect)
}

// Unit is what the headline figure is divided by.
func (c Case) Unit() string {
	switch c.Kind {
	case "churn":
		return "conn"
	case "idle":
		return "conn held"
	}
	return "msg"
}

// PeerStatus says whether a peer could be built.
type PeerStatus struct {
	Name  string `json:"name"`
	Desc  string `json:"desc"`
	Build string `json:"build"`
	Run   string `json:"run"`
	Built bool   `json:"built"`
	Note  string `json:"note,omitempty"`
}

// Run is one (case, round, peer) measurement with a fresh server process.
type Run struct {
	Case  string `json:"case"`
	Round int    `json:"round"`
	Peer  string `json:"peer"`
	OK    bool   `json:"ok"`
	Err   string `json:"error,omitempty"`

	ServerCPUNs int64   `json:"server_cpu_ns"`   // user+sys over the measured window
	Units       uint64  `json:"units"`           // messages (echo) or connections (churn)
	CPUPerUnit  float64 `json:"cpu_ns_per_unit"` // ServerCPUNs / Units
	StealPct    float64 `json:"steal_pct"`       // hypervisor steal, % of all CPU time
	OtherPct    float64 `json:"other_cpu_pct"`   // CPU busy outside server and loadgen (incl. softirq), % of all CPU time
	Retrans     uint64  `json:"tcp_retrans"`     // TCP segments retransmitted machine-wide during the window
	Drops       uint64  `json:"softnet_drops"`   // packets dropped by the per-CPU backlog (loopback) during the window
	ListenOvf   uint64  `json:"listen_overflows"`
	Disturbed   bool    `json:"disturbed"`
	Why         string  `json:"disturbed_why,omitempty"`

	// idle memory
	RSSBeforeKiB int64   `json:"rss_before_kib,omitempty"`
	RSSAfterKiB  int64   `json:"rss_after_kib,omitempty"`
	BytesPerConn float64 `json:"bytes_per_conn,omitempty"`
	ServerFDs    int     `json:"server_fds,omitempty"`
	ClientFDs    int     `json:"client_fds,omitempty"`

	Loadgen loadgen.Result `json:"loadgen"`
}

// Headline returns the run's headline figure: server CPU ns per message (or
// connection), or server bytes per idle connection.
func (r Run) Headline(c Case) float64 {
	if c.Kind == "idle" {
		return r.BytesPerConn
	}
	return r.CPUPerUnit
}

// Machine describes the host.
type Machine struct {
	CPU     string `json:"cpu"`
	Cores   int    `json:"cores"`
	MemGiB  string `json:"mem"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	Node    string `json:"node"`
	CC      string `json:"cc"`
	Gnet    string `json:"gnet"`
	Pinning string `json:"pinning"`
	NoFile  string `json:"nofile"`
}

// Results is everything one harness invocation produced.
type Results struct {
	// Analysis is hand-written Markdown (bench/analysis.md) placed after
	// the headline table: where netloop stands and the profiles behind it.
	Analysis string `json:"-"`

	Mode      string       `json:"mode"`
	Command   string       `json:"command"`
	Date      string       `json:"date"`
	ElapsedS  float64      `json:"elapsed_s"`
	Rounds    int          `json:"rounds"`
	WarmupS   float64      `json:"warmup_s"`
	DurationS float64      `json:"duration_s"`
	Machine   Machine      `json:"machine"`
	Peers     []PeerStatus `json:"peers"`
	Cases     []Case       `json:"cases"`
	Runs      []Run        `json:"runs"`
	Loadgen   []string     `json:"loadgen_commands"`
}

// IdleRatioFloor is the C yardstick's bytes per idle connection below which
// ratios to it are not shown (the C server keeps no per-connection state in
// user space, so a ratio would divide by page-rounding noise).
const IdleRatioFloor = 64

// PeerSummary condenses one peer's runs of one case.
type PeerSummary struct {
	Peer      string
	Built     bool
	Note      string
	Runs      int
	Failed    int
	Disturbed []string // "round (why)"
	Headline  Summary
	VsC       Summary
	VsURing   Summary // ratio to the C io_uring server (UringYardstick), when it ran
	VsGnet    Summary
	CleanOnly bool // some disturbed rounds were left out of the ratios
	MsgsPerS  Summary
	MBPerS    Summary
	P50, P99  Summary
	P999      Summary
	Busy      Summary
	StealMax  float64
	OtherMax  float64
	Retrans   uint64
	RSSBefore Summary
	RSSAfter  Summary
	ServerFDs int
	ClientFDs int
}

// Summarize condenses the runs of case c, one entry per peer in order.
func (res *Results) Summarize(c Case) []PeerSummary {
	samples := map[string][]Sample{}
	byPeer := map[string][]Run{}
	for _, r := range res.Runs {
		if r.Case != c.ID {
			continue
		}
		byPeer[r.Peer] = append(byPeer[r.Peer], r)
		if r.OK {
			samples[r.Peer] = append(samples[r.Peer], Sample{Round: r.Round, Value: r.Headline(c), Disturbed: r.Disturbed})
		}
	}
	var out []PeerSummary
	for _, p := range res.Peers {
		ps := PeerSummary{Peer: p.Name, Built: p.Built, Note: p.Note}
		runs := byPeer[p.Name]
		ps.Runs = len(runs)
		var mps, mbs, p50, p99, p999, busy, rb, ra []float64
		for _, r := range runs {
			if !r.OK {
				ps.Failed++
				continue
			}
			if r.Disturbed {
				ps.Disturbed = append(ps.Disturbed, fmt.Sprintf("%d (%s)", r.Round, r.Why))
			}
			ps.Retrans += r.Retrans
			if r.OtherPct > ps.OtherMax {
				ps.OtherMax = r.OtherPct
			}
			if r.StealPct > ps.StealMax {
				ps.StealMax = r.StealPct
			}
			lg := r.Loadgen
			mps = append(mps, lg.MsgsPerS)
			mbs = append(mbs, lg.MBPerS)
			p50 = append(p50, float64(lg.P50Ns))
			p99 = append(p99, float64(lg.P99Ns))
			p999 = append(p999, float64(lg.P999Ns))
			busy = append(busy, lg.Busy*100)
			rb = append(rb, float64(r.RSSBeforeKiB))
			ra = append(ra, float64(r.RSSAfterKiB))
			if r.ServerFDs > ps.ServerFDs {
				ps.ServerFDs = r.ServerFDs
			}
			if r.ClientFDs > ps.ClientFDs {
				ps.ClientFDs = r.ClientFDs
			}
		}
		ps.Headline = Summarize(Values(samples[p.Name], MinClean))
		q, droppedC := RoundRatios(samples[p.Name], samples[Yardstick], MinClean)
		ps.VsC = Summarize(q)
		if c.Kind == "idle" && Summarize(Values(samples[Yardstick], MinClean)).Median < IdleRatioFloor {
			ps.VsC, droppedC = Summary{}, false
		}
		if c.Kind != "idle" {
			q, _ = RoundRatios(samples[p.Name], samples[UringYardstick], MinClean)
			ps.VsURing = Summarize(q)
		}
		q, droppedG := RoundRatios(samples[p.Name], samples[Reference], MinClean)
		ps.VsGnet = Summarize(q)
		ps.CleanOnly = droppedC || droppedG
		ps.MsgsPerS, ps.MBPerS = Summarize(mps), Summarize(mbs)
		ps.P50, ps.P99, ps.P999 = Summarize(p50), Summarize(p99), Summarize(p999)
		ps.Busy = Summarize(busy)
		ps.RSSBefore, ps.RSSAfter = Summarize(rb), Summarize(ra)
		out = append(out, ps)
	}
	return out
}
