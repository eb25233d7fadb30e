package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/pagelab/pagelab/mm"
)

// provenance is a run's revision and seed as the header gives them.
func provenance(m *Manifest) string {
	if m.Absent {
		return "no manifest.json: revision, seed and completeness unknown"
	}
	return fmt.Sprintf("revision %s, seed %d", m.GitRevision, m.Seed)
}

// PartialWarning says which of two runs an interrupt cut short, or "".
func PartialWarning(ma, mb *Manifest) string {
	return whichSide(!ma.Complete, !mb.Complete, "is", "are", "partial (interrupted).")
}

// whichSide says of the sides of a comparison for which a condition holds
// (old, new) that they verb what: "the old run is partial", "both runs
// are partial"; "" when it holds for neither.
func whichSide(old, new bool, verb, verbs, what string) string {
	switch {
	case old && new:
		return "both runs " + verbs + " " + what
	case old:
		return "the old run " + verb + " " + what
	case new:
		return "the new run " + verb + " " + what
	}
	return ""
}

// Compare renders the comparison of two results directories, cell by cell
// (a cell is a workload, fix, CPU count and parameters): failure counts
// with Fisher's exact test, per-run throughput and latencies with
// Mann-Whitney U (benchmath), every p-value Holm-adjusted over all the
// comparisons made. It fails when the runs have no cell in common or were
// made differently (strategy, seed depth, or PCT depth of a common cell).
func Compare(nameA string, ma *Manifest, a []*Record, nameB string, mb *Manifest, b []*Record) (string, error) {
	c, err := NewComparison(nameA, a, nameB, b)
	if err != nil {
		return "", err
	}
	rows := c.Rows
	var s strings.Builder
	fmt.Fprintf(&s, "old: %s (%s)\nnew: %s (%s)\n", nameA, provenance(ma), nameB, provenance(mb))
	fmt.Fprintf(&s, "%d cells in common; %d comparisons, p-values Holm-adjusted; ~ when not\nsignificant at alpha %.2f. Failure counts: Fisher's exact test; latencies:\nmedians of the runs, Mann-Whitney U (benchmath).\n", len(c.Pairs), len(rows), Alpha)
	if c.Approx > 0 {
		fmt.Fprintf(&s, "%d Fisher test(s) used the normal approximation (hypergeometric sd above %d).\n", c.Approx, FisherExactSD)
	}
	if w := PartialWarning(ma, mb); w != "" {
		s.WriteString("warning: " + w + "\n")
	}
	if w := whichSide(ma.Absent, mb.Absent, "has", "have", "no manifest.json: read as complete, unconfirmed."); w != "" {
		s.WriteString("warning: " + w + "\n")
	}
	cur := ""
	for _, r := range rows {
		if cell := r.Cell(); cell != cur {
			// The cell an interrupt cut short counts fewer runs.
			note := ""
			switch {
			case r.A.Partial && r.B.Partial:
				note = " (PARTIAL in both: interrupted)"
			case r.A.Partial:
				note = " (old PARTIAL: interrupted)"
			case r.B.Partial:
				note = " (new PARTIAL: interrupted)"
			}
			fmt.Fprintf(&s, "\n%s%s\n  %-28s %13s %13s   %s\n", cell, note, "", "old", "new", "change")
			cur = cell
		}
		fmt.Fprintf(&s, "  %-28s %13s %13s   %s\n", r.What, r.Old, r.New, r.Change())
	}
	writeVerdictChanges(&s, c.Pairs)
	if len(c.OnlyA) > 0 || len(c.OnlyB) > 0 {
		s.WriteString("\nnot compared (in one run only):\n")
		for _, k := range c.OnlyA {
			fmt.Fprintf(&s, "  old only: %s\n", k)
		}
		for _, k := range c.OnlyB {
			fmt.Fprintf(&s, "  new only: %s\n", k)
		}
	}
	if len(c.NoLatency) > 0 {
		s.WriteString("\nnot compared (latency):\n")
		for _, k := range c.NoLatency {
			fmt.Fprintf(&s, "  %s\n", k)
		}
	}
	return s.String(), nil
}

// NewComparison pairs the cells of two runs and makes Compare's
// comparisons, Holm-adjusted over all of them. It fails when the runs have
// no cell in common or a common cell was run differently.
func NewComparison(nameA string, a []*Record, nameB string, b []*Record) (*Comparison, error) {
	byKey := map[string]*Record{}
	for _, r := range b {
		byKey[r.Key()] = r
	}
	c := &Comparison{NameA: nameA, NameB: nameB}
	seenB := map[string]bool{}
	for _, r := range a {
		if o := byKey[r.Key()]; o != nil {
			if o.Strategy != r.Strategy || o.Depth != r.Depth || o.Focus != r.Focus {
				return nil, fmt.Errorf("cell %s was run with strategy %s in %s and %s in %s: not comparable", r.Key(), strategyLine(r), nameA, strategyLine(o), nameB)
			}
			c.Pairs = append(c.Pairs, [2]*Record{r, o})
			seenB[r.Key()] = true
		} else {
			c.OnlyA = append(c.OnlyA, r.Key())
		}
	}
	for _, r := range b {
		if !seenB[r.Key()] {
			c.OnlyB = append(c.OnlyB, r.Key())
		}
	}
	if len(c.Pairs) == 0 {
		return nil, fmt.Errorf("%s and %s have no cell in common (workloads %s vs %s, or different parameters): nothing to compare",
			nameA, nameB, strings.Join(workloadOrder(a), ","), strings.Join(workloadOrder(b), ","))
	}
	for _, pr := range c.Pairs {
		ra, rb := pr[0], pr[1]
		if ra.Latency == nil {
			ids := map[string]bool{}
			for id, k := range ra.Failures {
				ids[id] = ids[id] || k > 0
			}
			for id, k := range rb.Failures {
				ids[id] = ids[id] || k > 0
			}
			for _, id := range slices.Sorted(maps.Keys(ids)) {
				ka, kb := ra.Failures[id], rb.Failures[id]
				r := &CompareRow{A: ra, B: rb, What: id, Old: fmt.Sprintf("%d:%d", ka, ra.Runs), New: fmt.Sprintf("%d:%d", kb, rb.Runs)}
				var ap bool
				if r.P, ap = FisherTest(ka, ra.Runs, kb, rb.Runs); ap {
					c.Approx++
				}
				pa, pb := float64(ka)/float64(ra.Runs), float64(kb)/float64(rb.Runs)
				if pa > 0 {
					r.Delta, r.HasDelta = (pb-pa)/pa, true
				}
				c.Rows = append(c.Rows, r)
			}
			continue
		}
		op := PrimaryOp(ra.Workload, opsOf(ra))
		la, lb := ra.Latency[op], rb.Latency[op]
		if la == nil || lb == nil {
			c.NoLatency = append(c.NoLatency, fmt.Sprintf("%s: %s timed in one run only", ra.Key(), op))
			continue
		}
		for _, m := range []metric{
			{"ops/s", func(l *OpRecord) []float64 { return l.RunOpsPerSec }, siRate},
			{"p50", func(l *OpRecord) []float64 { return l.RunP50 }, nsDur},
			{"p99", func(l *OpRecord) []float64 { return l.RunP99 }, nsDur},
		} {
			sa := benchmath.NewSample(slices.Sorted(slices.Values(m.values(la))), &benchmath.DefaultThresholds)
			sb := benchmath.NewSample(slices.Sorted(slices.Values(m.values(lb))), &benchmath.DefaultThresholds)
			ca := benchmath.AssumeNothing.Summary(sa, 0.95)
			cb := benchmath.AssumeNothing.Summary(sb, 0.95)
			cmp := benchmath.AssumeNothing.Compare(sa, sb)
			r := &CompareRow{A: ra, B: rb, What: op + " " + m.title, Old: m.format(ca.Center), New: m.format(cb.Center), P: cmp.P,
				N: fmt.Sprintf(" n=%d+%d", cmp.N1, cmp.N2)}
			if ca.Center != 0 {
				r.Delta, r.HasDelta = (cb.Center-ca.Center)/ca.Center, true
			}
			c.Rows = append(c.Rows, r)
		}
	}
	var ps []float64
	for _, r := range c.Rows {
		ps = append(ps, r.P)
	}
	for i, adj := range Holm(ps) {
		c.Rows[i].Adj = adj
	}
	return c, nil
}

func opsOf(r *Record) map[string]bool {
	m := map[string]bool{}
	for op := range r.Latency {
		m[op] = true
	}
	return m
}

// writeVerdictChanges lists the exhaustive search's verdicts that differ
// between the two records of each pair (old, new), per cell and failure
// id; "-" stands for a cell that was not verified. The largest group of
// ids that changed the same way, when it has more than 3, is one line:
// "every id", "every other id" (those not listed above it), with "but x"
// for the ids whose verdict stayed.
func writeVerdictChanges(s *strings.Builder, pairs [][2]*Record) {
	type change struct{ id, old, new string }
	var lines []string
	both := 0
	for _, pr := range pairs {
		a, b := pr[0], pr[1]
		if a.Latency != nil || (!a.Verified() && !b.Verified()) {
			continue
		}
		if a.Verified() && b.Verified() {
			both++
		}
		var cs []change
		var same []string
		groups := map[[2]string][]string{}
		for f := mm.Failure(0); f < mm.NumFailures; f++ {
			id := f.String()
			va, vb := a.VerdictText(id), b.VerdictText(id)
			if va == vb {
				same = append(same, id)
				continue
			}
			cs = append(cs, change{id, va, vb})
			groups[[2]string{va, vb}] = append(groups[[2]string{va, vb}], id)
		}
		if len(cs) == 0 {
			continue
		}
		var big [2]string
		for _, c := range cs {
			if t := [2]string{c.old, c.new}; len(groups[t]) > len(groups[big]) {
				big = t
			}
		}
		var out []change
		if len(groups[big]) > 3 && len(same) <= 3 {
			for _, c := range cs {
				if [2]string{c.old, c.new} != big {
					out = append(out, c)
				}
			}
			label := "every id"
			if len(out) > 0 {
				label = "every other id"
			}
			if len(same) > 0 {
				label += " but " + strings.Join(same, ", ")
			}
			out = append(out, change{label, big[0], big[1]})
		} else {
			out = cs
		}
		cell := fmt.Sprintf("  %s %s", a.Workload, a.Fix)
		if len(a.Params) > 0 {
			cell += " " + strings.TrimPrefix(a.Key(), fmt.Sprintf("%s/%s/cpus=%d/", a.Workload, a.Fix, a.CPUs))
		}
		lines = append(lines, cell)
		for _, c := range out {
			lines = append(lines, fmt.Sprintf("    %-18s %s -> %s", c.id, c.old, c.new))
		}
	}
	switch {
	case len(lines) > 0:
		s.WriteString("\nverdicts changed (exhaustive search, pagelab verify; -: not searched):\n")
		s.WriteString(strings.Join(lines, "\n") + "\n")
	case both > 0:
		fmt.Fprintf(s, "\nverdicts: none changed (%d cells searched exhaustively in both runs).\n", both)
	}
}
