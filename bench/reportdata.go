package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchmath"
)

// The tables of summary.txt and of pagelab compare as data, for the
// report package (report.html): the same statistics, computed by the same
// functions, cell by cell instead of as text.

// FailureData is an explored workload's fail:runs tables.
type FailureData struct {
	Workload string
	Base     *Record // the record the others are compared with
	Strategy string  // "pct-task depth 6, seed 1"
	// IDs are the failure ids of the tables: those a random run fired and
	// those the search found, in id order; empty when none fired.
	IDs []string
	// Cells, per id in the order of IDs, one per record.
	Cells [][]*FailureCell
	// Comparisons is the number of Fisher tests Holm's adjustment runs
	// over; Approx those of them by the normal approximation.
	Comparisons, Approx int
}

// FailureCell is one fix's count of one failure id.
type FailureCell struct {
	R       *Record
	ID      string
	K, N    int
	Lo, Hi  float64 // the 95% Wilson interval (Hi the rule of three when K is 0)
	Rate    string  // K/N, compact
	CI      string  // as summary.txt prints it
	Verdict string  // verified, fails, unknown, or - (not searched)
	Base    bool
	// Compared: the id fired in a random run of the workload, so the cell
	// is compared with the baseline (Fisher, P raw and Adj Holm-adjusted)
	// unless it is the baseline.
	Compared bool
	P, Adj   float64
	// VsBase is the change against the baseline as summary.txt prints it
	// ("" for the baseline and ids only the search fired).
	VsBase string
}

// FailureTable computes the fail:runs tables of workload w's records rs (as
// summary.txt does).
func FailureTable(w string, rs []*Record) *FailureData {
	base := baselineOf(rs)
	d := &FailureData{Workload: w, Base: base, Strategy: strategyLine(base), IDs: summaryColumns(rs)}
	fired := failureColumns(rs)[w]
	var ps []float64
	var cmp []*FailureCell
	for _, id := range d.IDs {
		var row []*FailureCell
		for _, r := range rs {
			k, n := r.Failures[id], r.Runs
			c := &FailureCell{R: r, ID: id, K: k, N: n, Verdict: r.VerdictText(id), Base: r == base,
				Compared: slices.Contains(fired, id), Rate: rate(float64(k) / float64(max(n, 1)))}
			c.Lo, c.Hi = Wilson(k, n)
			c.CI = fmt.Sprintf("[%s, %s]", rate(c.Lo), rate(c.Hi))
			if k == 0 {
				c.Lo, c.Hi = 0, RuleOfThree(n)
				c.CI = fmt.Sprintf("<= %s (3/n)", rate(c.Hi))
			}
			if !c.Base && c.Compared {
				var approx bool
				c.P, approx = FisherTest(k, n, base.Failures[id], base.Runs)
				if approx {
					d.Approx++
				}
				ps = append(ps, c.P)
				cmp = append(cmp, c)
			}
			row = append(row, c)
		}
		d.Cells = append(d.Cells, row)
	}
	d.Comparisons = len(ps)
	for i, adj := range Holm(ps) {
		c := cmp[i]
		c.Adj = adj
		c.VsBase = deltaText(c, base)
	}
	return d
}

// deltaText is the change of c against the baseline, Holm-adjusted.
func deltaText(c *FailureCell, base *Record) string {
	return deltaVs(c.K, c.N, base.Failures[c.ID], base.Runs, c.Adj)
}

// Rate formats a probability compactly, as the summary does.
func Rate(p float64) string { return rate(p) }

// SearchText is a cell's verdicts in a few words (the summary's words when
// no failure fired).
func (r *Record) SearchText() string { return searchText(r) }

// CutShort says why the search of r stopped before it explored every
// state ("" when it did not, or r was not searched).
func (r *Record) CutShort() string {
	vr := r.Verify
	if vr == nil || vr.Complete {
		return ""
	}
	switch {
	case vr.BudgetHit:
		return fmt.Sprintf("the state budget ran out (%d states)", vr.States)
	case vr.Truncated > 0:
		return fmt.Sprintf("%d executions reached the depth bound (%d states)", vr.Truncated, vr.States)
	}
	return fmt.Sprintf("stopped after %d states", vr.States)
}

// LatencyData is a latency workload's tables: medians over the runs with
// their 95% confidence intervals and Mann-Whitney U against the baseline
// of each CPU count, Holm-adjusted over the workload, as summary.txt has
// them.
type LatencyData struct {
	Workload, Op, Strategy string
	Base                   string // the baseline's fix
	Comparisons            int
	Tables                 []*LatencyTableData
}

// LatencyTableData is one metric at one CPU count.
type LatencyTableData struct {
	Metric string // "throughput, ops/s", "p50 latency", "p99 latency"
	CPUs   int
	Rows   []*LatencyRow
}

// LatencyRow is one fix's median.
type LatencyRow struct {
	R         *Record
	Median    string
	CI        string // "± 2%"
	Base      bool
	P         float64 // Holm-adjusted
	N         int
	VsBase    string
	Different bool // significant at Alpha
}

// LatencyTable computes the latency tables of workload w's timed or native
// records rs.
func LatencyTable(w string, rs []*Record) *LatencyData {
	var cpus []int
	ops := map[string]bool{}
	for _, r := range rs {
		if !slices.Contains(cpus, r.CPUs) {
			cpus = append(cpus, r.CPUs)
		}
		for op := range r.Latency {
			ops[op] = true
		}
	}
	slices.Sort(cpus)
	op := PrimaryOp(w, ops)
	d := &LatencyData{Workload: w, Op: op, Strategy: rs[0].Strategy, Base: baselineOf(rs).Fix}
	type metricDef struct {
		title  string
		values func(*OpRecord) []float64
		format func(float64) string
	}
	metrics := []metricDef{
		{"throughput, ops/s", func(l *OpRecord) []float64 { return l.RunOpsPerSec }, siRate},
		{"p50 latency", func(l *OpRecord) []float64 { return l.RunP50 }, nsDur},
		{"p99 latency", func(l *OpRecord) []float64 { return l.RunP99 }, nsDur},
	}
	type pending struct {
		row    *LatencyRow
		center float64
		base   float64
	}
	var ps []float64
	var cmp []*pending
	for _, n := range cpus {
		var cell []*Record
		for _, r := range rs {
			if r.CPUs == n {
				cell = append(cell, r)
			}
		}
		base := baselineOf(cell)
		for _, m := range metrics {
			t := &LatencyTableData{Metric: m.title, CPUs: n}
			for _, r := range cell {
				l, l0 := r.Latency[op], base.Latency[op]
				if l == nil || l0 == nil {
					continue
				}
				s := benchmath.NewSample(slices.Sorted(slices.Values(m.values(l))), &benchmath.DefaultThresholds)
				s0 := benchmath.NewSample(slices.Sorted(slices.Values(m.values(l0))), &benchmath.DefaultThresholds)
				sum := benchmath.AssumeNothing.Summary(s, 0.95)
				row := &LatencyRow{R: r, Median: m.format(sum.Center), CI: "± " + sum.PctRangeString(), Base: r == base}
				if !row.Base {
					c := benchmath.AssumeNothing.Compare(s0, s)
					row.N = c.N2
					ps = append(ps, c.P)
					cmp = append(cmp, &pending{row, sum.Center, median(m.values(l0))})
				}
				t.Rows = append(t.Rows, row)
			}
			d.Tables = append(d.Tables, t)
		}
	}
	d.Comparisons = len(ps)
	for i, adj := range Holm(ps) {
		c := cmp[i]
		c.row.P = adj
		if adj >= Alpha || c.base == 0 {
			c.row.VsBase = fmt.Sprintf("~ (p=%.3f n=%d)", adj, c.row.N)
			continue
		}
		c.row.Different = true
		c.row.VsBase = fmt.Sprintf("%+.1f%% (p=%.3f n=%d)", (c.center-c.base)/c.base*100, adj, c.row.N)
	}
	return d
}

// CountRow is one count metric (counts.go) of one cell, formatted: the
// pooled p50, p99 and maximum, and the median over the runs of each run's
// maximum.
type CountRow struct {
	Metric, Unit          string
	R                     *Record
	P50, P99, Max, RunMax string
}

// CountTable lists the count metrics of a latency workload's records, by
// metric name, then in the records' order.
func CountTable(rs []*Record) []*CountRow {
	names := map[string]bool{}
	for _, r := range rs {
		for name := range r.Counts {
			names[name] = true
		}
	}
	var out []*CountRow
	for _, name := range slices.Sorted(maps.Keys(names)) {
		for _, r := range rs {
			c := r.Counts[name]
			if c == nil {
				continue
			}
			f := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
			if c.Unit == "ns" {
				f = nsDur
			}
			out = append(out, &CountRow{Metric: name, Unit: CountUnit(name), R: r,
				P50: f(c.P50), P99: f(c.P99), Max: f(c.Max), RunMax: f(median(c.RunMax))})
		}
	}
	return out
}

// Comparison is pagelab compare's data: the cells of two runs paired, and
// one row per comparison made, Holm-adjusted over all of them.
type Comparison struct {
	NameA, NameB string
	Pairs        [][2]*Record // (old, new), in the order of the old run
	Rows         []*CompareRow
	// Approx counts the Fisher tests that used the normal approximation.
	Approx int
	// OnlyA and OnlyB are the cells (Record.Key) in one run only;
	// NoLatency the timed cells whose operation was timed in one only.
	OnlyA, OnlyB, NoLatency []string
}

// CompareRow is one comparison: a failure id's counts or a latency metric's
// medians, old and new.
type CompareRow struct {
	A, B     *Record
	What     string // a failure id, or "op metric"
	Old, New string
	Delta    float64 // relative change, if HasDelta
	HasDelta bool
	P, Adj   float64 // raw and Holm-adjusted
	N        string  // " n=6+6" for latency rows
}

// Cell names the row's cell: workload, fix and CPU count.
func (r *CompareRow) Cell() string {
	cell := fmt.Sprintf("%s %s", r.A.Workload, r.A.Fix)
	if r.A.CPUs > 0 {
		cell += fmt.Sprintf(" %d CPUs", r.A.CPUs)
	}
	return cell
}

// Change is the row's change as compare prints it: "~ (p=…)" when not
// significant at Alpha.
func (r *CompareRow) Change() string {
	if r.Adj < Alpha {
		if r.HasDelta {
			return fmt.Sprintf("%+.1f%% (p=%.3g%s)", r.Delta*100, r.Adj, r.N)
		}
		return fmt.Sprintf("new (p=%.3g%s)", r.Adj, r.N)
	}
	return fmt.Sprintf("~ (p=%.3g%s)", r.Adj, r.N)
}

// Significant says whether the row's change is significant at Alpha.
func (r *CompareRow) Significant() bool { return r.Adj < Alpha }

// VerdictChanges is compare's "verdicts changed" text for the pairs
// (old, new): "" when no pair was verified.
func VerdictChanges(pairs [][2]*Record) string {
	var s strings.Builder
	writeVerdictChanges(&s, pairs)
	return s.String()
}

// WorkloadOrder lists the records' workloads in order of first appearance,
// as the summary orders its sections.
func WorkloadOrder(recs []*Record) []string { return workloadOrder(recs) }

// DistRow is one cell's pooled distribution of its workload's primary
// operation, formatted: percentiles over every operation of every run
// (SPEC §4's p50, p90, p99, p99.9 and maximum), and wake-ups and spurious
// wake-ups per operation, the fairness figures.
type DistRow struct {
	R                        *Record
	P50, P90, P99, P999, Max string
	Wakeups, Spurious        string
}

// DistTable is the pooled distributions of a latency workload's records:
// its primary operation, and one row per cell in which it ran, by CPU
// count, then in the records' order.
func DistTable(w string, rs []*Record) (op string, rows []*DistRow) {
	ops := map[string]bool{}
	for _, r := range rs {
		for o := range r.Latency {
			ops[o] = true
		}
	}
	op = PrimaryOp(w, ops)
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b *Record) int { return a.CPUs - b.CPUs })
	for _, r := range sorted {
		l := r.Latency[op]
		if l == nil {
			continue
		}
		rows = append(rows, &DistRow{R: r, P50: nsDur(l.P50), P90: nsDur(l.P90), P99: nsDur(l.P99), P999: nsDur(l.P999),
			Max: nsDur(l.Max), Wakeups: strconv.FormatFloat(l.WakeupsOp, 'f', 2, 64), Spurious: strconv.FormatFloat(l.SpuriousOp, 'f', 2, 64)})
	}
	return op, rows
}
