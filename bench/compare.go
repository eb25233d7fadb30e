package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/pagelab/pagelab/mm"
)

// Compare renders the comparison of two results directories, cell by cell
// (a cell is a workload, fix, CPU count and parameters): failure counts
// with Fisher's exact test, per-run throughput and latencies with
// Mann-Whitney U (benchmath), every p-value Holm-adjusted over all the
// comparisons made. It fails when the runs have no cell in common or were
// made differently (strategy, seed depth, or PCT depth of a common cell).
func Compare(nameA string, ma *Manifest, a []*Record, nameB string, mb *Manifest, b []*Record) (string, error) {
	byKey := map[string]*Record{}
	for _, r := range b {
		byKey[r.Key()] = r
	}
	type pair struct{ a, b *Record }
	var pairs []pair
	var onlyA []string
	seenB := map[string]bool{}
	for _, r := range a {
		if o := byKey[r.Key()]; o != nil {
			if o.Strategy != r.Strategy || o.Depth != r.Depth {
				return "", fmt.Errorf("cell %s was run with strategy %s in %s and %s in %s: not comparable", r.Key(), r.Strategy, nameA, o.Strategy, nameB)
			}
			pairs = append(pairs, pair{r, o})
			seenB[r.Key()] = true
		} else {
			onlyA = append(onlyA, r.Key())
		}
	}
	var onlyB []string
	for _, r := range b {
		if !seenB[r.Key()] {
			onlyB = append(onlyB, r.Key())
		}
	}
	if len(pairs) == 0 {
		return "", fmt.Errorf("%s and %s have no cell in common (workloads %s vs %s, or different parameters): nothing to compare",
			nameA, nameB, strings.Join(workloadOrder(a), ","), strings.Join(workloadOrder(b), ","))
	}

	type row struct {
		p        pair
		what     string
		old, new string
		delta    float64 // relative change
		hasDelta bool
		pval     float64
		n        string
	}
	var rows []*row
	approx := 0 // Fisher tests that used the normal approximation
	var noLatency []string
	for _, pr := range pairs {
		if pr.a.Latency == nil {
			ids := map[string]bool{}
			for id, k := range pr.a.Failures {
				ids[id] = ids[id] || k > 0
			}
			for id, k := range pr.b.Failures {
				ids[id] = ids[id] || k > 0
			}
			for _, id := range slices.Sorted(maps.Keys(ids)) {
				ka, kb := pr.a.Failures[id], pr.b.Failures[id]
				r := &row{p: pr, what: id, old: fmt.Sprintf("%d:%d", ka, pr.a.Runs), new: fmt.Sprintf("%d:%d", kb, pr.b.Runs)}
				var ap bool
				if r.pval, ap = FisherTest(ka, pr.a.Runs, kb, pr.b.Runs); ap {
					approx++
				}
				ra, rb := float64(ka)/float64(pr.a.Runs), float64(kb)/float64(pr.b.Runs)
				if ra > 0 {
					r.delta, r.hasDelta = (rb-ra)/ra, true
				}
				rows = append(rows, r)
			}
			continue
		}
		op := PrimaryOp(pr.a.Workload, opsOf(pr.a))
		la, lb := pr.a.Latency[op], pr.b.Latency[op]
		if la == nil || lb == nil {
			noLatency = append(noLatency, fmt.Sprintf("%s: %s timed in one run only", pr.a.Key(), op))
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
			c := benchmath.AssumeNothing.Compare(sa, sb)
			r := &row{p: pr, what: op + " " + m.title, old: m.format(ca.Center), new: m.format(cb.Center), pval: c.P,
				n: fmt.Sprintf(" n=%d+%d", c.N1, c.N2)}
			if ca.Center != 0 {
				r.delta, r.hasDelta = (cb.Center-ca.Center)/ca.Center, true
			}
			rows = append(rows, r)
		}
	}
	var ps []float64
	for _, r := range rows {
		ps = append(ps, r.pval)
	}
	adj := Holm(ps)

	var s strings.Builder
	fmt.Fprintf(&s, "old: %s (revision %s, seed %d)\nnew: %s (revision %s, seed %d)\n", nameA, ma.GitRevision, ma.Seed, nameB, mb.GitRevision, mb.Seed)
	fmt.Fprintf(&s, "%d cells in common; %d comparisons, p-values Holm-adjusted; ~ when not\nsignificant at alpha %.2f. Failure counts: Fisher's exact test; latencies:\nmedians of the runs, Mann-Whitney U (benchmath).\n", len(pairs), len(rows), Alpha)
	if approx > 0 {
		fmt.Fprintf(&s, "%d Fisher test(s) used the normal approximation (hypergeometric sd above %d).\n", approx, FisherExactSD)
	}
	if !ma.Complete || !mb.Complete {
		s.WriteString("warning: at least one of the runs is partial (interrupted).\n")
	}
	cur := ""
	for i, r := range rows {
		cell := fmt.Sprintf("%s %s", r.p.a.Workload, r.p.a.Fix)
		if r.p.a.CPUs > 0 {
			cell += fmt.Sprintf(" %d CPUs", r.p.a.CPUs)
		}
		if cell != cur {
			fmt.Fprintf(&s, "\n%s\n  %-28s %13s %13s   %s\n", cell, "", "old", "new", "change")
			cur = cell
		}
		delta := fmt.Sprintf("~ (p=%.3g%s)", adj[i], r.n)
		if adj[i] < Alpha {
			if r.hasDelta {
				delta = fmt.Sprintf("%+.1f%% (p=%.3g%s)", r.delta*100, adj[i], r.n)
			} else {
				delta = fmt.Sprintf("new (p=%.3g%s)", adj[i], r.n)
			}
		}
		fmt.Fprintf(&s, "  %-28s %13s %13s   %s\n", r.what, r.old, r.new, delta)
	}
	var ab [][2]*Record
	for _, pr := range pairs {
		ab = append(ab, [2]*Record{pr.a, pr.b})
	}
	writeVerdictChanges(&s, ab)
	if len(onlyA) > 0 || len(onlyB) > 0 {
		s.WriteString("\nnot compared (in one run only):\n")
		for _, k := range onlyA {
			fmt.Fprintf(&s, "  old only: %s\n", k)
		}
		for _, k := range onlyB {
			fmt.Fprintf(&s, "  new only: %s\n", k)
		}
	}
	if len(noLatency) > 0 {
		s.WriteString("\nnot compared (latency):\n")
		for _, k := range noLatency {
			fmt.Fprintf(&s, "  %s\n", k)
		}
	}
	return s.String(), nil
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
		s.WriteString("\nverdicts changed (exhaustive search, pagelab verify; -: not verified):\n")
		s.WriteString(strings.Join(lines, "\n") + "\n")
	case both > 0:
		fmt.Fprintf(s, "\nverdicts: none changed (%d cells verified in both runs).\n", both)
	}
}
