package bench

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/perf/benchmath"

	"github.com/pagelab/pagelab/internal/textwrap"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/workloads"
)

// Alpha is the significance level of every comparison.
const Alpha = 0.05

// Summary renders a results directory as plain text in 80 columns, ready to
// paste into a mail: per explored workload the failing runs per fix and
// failure id with confidence intervals and the comparison against the
// baseline; per timed workload benchstat-style tables of throughput and
// latency per CPU count; last, the "Schedules" section: the schedule of
// each first failure, one word to copy and paste (the only lines that may
// be longer than 80 columns).
func Summary(m *Manifest, recs []*Record) string {
	var b strings.Builder
	state := m.State()
	if n := len(recs); !m.Complete && n > 0 && recs[n-1].Partial {
		state += fmt.Sprintf(",\nand %d runs of the next", recs[n-1].Runs)
	}
	fmt.Fprintf(&b, "pagelab results, %s\n", state)
	// Where and when the run was made is in manifest.json, not here: the
	// summary of a run split over machines (pagelab merge) is the one of
	// the run made in one piece.
	fmt.Fprintf(&b, "revision %s, %s, %s/%s, seed %d\n", m.GitRevision, m.GoVersion, m.Host.GOOS, m.Host.GOARCH, m.Seed)
	if m.Shard != nil {
		wrapWords(&b, "", strings.Fields(fmt.Sprintf("SHARD %s: executions ⌊runs·%d/%d⌋ up to ⌊runs·%d/%d⌋ of every cell; pagelab merge combines the shards",
			m.Shard, m.Shard.Index, m.Shard.Count, m.Shard.Index+1, m.Shard.Count)))
	}
	if m.VerifyStates > 0 {
		fmt.Fprintf(&b, "exhaustive search of every race cell: at most %d states each\n", m.VerifyStates)
	}
	if n := len(m.VerifyErrors); n > 0 {
		fmt.Fprintf(&b, "exhaustive searches that FAILED (no verdicts; manifest.json): %d\n", n)
	}
	var schedules strings.Builder
	for _, w := range workloadOrder(recs) {
		var ws []*Record
		for _, r := range recs {
			if r.Workload == w {
				ws = append(ws, r)
			}
		}
		if ws[0].Latency == nil {
			writeFailureTables(&b, w, ws)
			writeSchedules(&schedules, w, ws, summaryColumns(ws), m.Files)
		} else {
			writeLatencyTables(&b, w, ws)
		}
	}
	if schedules.Len() > 0 {
		b.WriteString("\n== Schedules ==\n")
		b.WriteString("The first failing run of each (fix, failure id), one word each:\n")
		b.WriteString("pagelab replay -schedule S replays it.\n")
		b.WriteString(schedules.String())
	}
	return trimLines(b.String())
}

// trimLines drops trailing spaces (an empty last column) from every line.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func workloadOrder(recs []*Record) []string {
	var out []string
	for _, r := range recs {
		if !slices.Contains(out, r.Workload) {
			out = append(out, r.Workload)
		}
	}
	return out
}

// baselineOf returns the record the others are compared with: the
// "baseline" fix if there is one, else the first.
func baselineOf(rs []*Record) *Record {
	for _, r := range rs {
		if r.Fix == "baseline" {
			return r
		}
	}
	return rs[0]
}

type failureRow struct {
	r    *Record
	id   string
	p    float64 // Fisher against the baseline, raw
	adj  float64
	base bool
	// cmp: the id fired in a random run of the workload, so the row is
	// compared with the baseline (ids only the search fired are not).
	cmp bool
}

// plannedRuns is the runs each cell of a workload was to make: those of
// a cell that finished (the one an interrupt cut short made fewer).
func plannedRuns(rs []*Record) int {
	for _, r := range rs {
		if !r.Partial {
			return r.Runs
		}
	}
	return rs[0].Runs
}

// writePartial names the cell an interrupt cut short, whose rows count
// only the runs it finished.
func writePartial(b *strings.Builder, rs []*Record) {
	for _, r := range rs {
		if r.Partial {
			cpus := ""
			if r.CPUs > 0 {
				cpus = fmt.Sprintf(" at %d CPUs", r.CPUs)
			}
			wrapWords(b, "", strings.Fields(fmt.Sprintf("PARTIAL: %s%s was interrupted after %d runs; its rows count those only.", r.Fix, cpus, r.Runs)))
		}
	}
}

func writeFailureTables(b *strings.Builder, w string, rs []*Record) {
	base := baselineOf(rs)
	fired := failureColumns(rs)[w]
	ids := summaryColumns(rs)
	fmt.Fprintf(b, "\n== %s: failing runs ==\n%s, %d runs per fix\n", w, strategyLine(base), plannedRuns(rs))
	writePartial(b, rs)
	if note := SamplerNote(w, base.Strategy, base.Focus); note != "" {
		wrapWords(b, "", strings.Fields(note))
	}
	if len(ids) == 0 {
		fmt.Fprintf(b, "No failure fired under any variant. With %d runs, the rule of three\nbounds each failure's per-run probability by %.2g (95%%).\n", base.Runs, RuleOfThree(base.Runs))
		writeSearchCells(b, rs)
		return
	}
	var rows []*failureRow
	var ps []float64
	approx := 0
	for _, id := range ids {
		for _, r := range rs {
			row := &failureRow{r: r, id: id, base: r == base, cmp: slices.Contains(fired, id)}
			if !row.base && row.cmp {
				var ap bool
				if row.p, ap = FisherTest(r.Failures[id], r.Runs, base.Failures[id], base.Runs); ap {
					approx++
				}
				ps = append(ps, row.p)
			}
			rows = append(rows, row)
		}
	}
	adj := Holm(ps)
	i := 0
	for _, row := range rows {
		if !row.base && row.cmp {
			row.adj = adj[i]
			i++
		}
	}
	b.WriteString("fail:runs per fix with the 95% Wilson interval of the rate (for 0 fails\n")
	b.WriteString("the rule-of-three bound), the verdict of the exhaustive search, and the\n")
	b.WriteString("change against " + base.Fix + " with Fisher's exact p-value, Holm-adjusted over the\n")
	fmt.Fprintf(b, "%d comparisons of this workload (alpha %.2f).\n", len(ps), Alpha)
	if approx > 0 {
		fmt.Fprintf(b, "%d of them by the normal approximation (hypergeometric sd above %d).\n", approx, FisherExactSD)
	}
	fixW := 12
	for _, r := range rs {
		fixW = max(fixW, len(r.Fix))
	}
	// A long composition gets a line of its own above its numbers.
	fixW = min(fixW, 18)
	// fail:runs is 11 wide, wider for 5-digit failure counts.
	kW := 11
	for _, row := range rows {
		kW = max(kW, len(fmt.Sprintf("%d:%d", row.r.Failures[row.id], row.r.Runs)))
	}
	for _, id := range ids {
		fmt.Fprintf(b, "\n%s\n", id)
		fmt.Fprintf(b, "  %-*s %*s  %-18s  %-8s  %s\n", fixW, "fix", kW, "fail:runs", "95% CI", "verdict", "vs "+base.Fix)
		for _, row := range rows {
			if row.id != id {
				continue
			}
			k, n := row.r.Failures[id], row.r.Runs
			lo, hi := Wilson(k, n)
			ci := fmt.Sprintf("[%s, %s]", rate(lo), rate(hi))
			if k == 0 {
				ci = fmt.Sprintf("<= %s (3/n)", rate(RuleOfThree(n)))
			}
			name := fixName(b, row.r.Fix, fixW)
			fmt.Fprintf(b, "  %-*s %*s  %-18s  %-8s  %s\n", fixW, name, kW, fmt.Sprintf("%d:%d", k, n), ci, row.r.VerdictText(id), failureDelta(row, base))
		}
	}
	b.WriteString("\nverdict: exhaustive search of every interleaving (pagelab verify): verified\n")
	b.WriteString("= no interleaving fires it, fails = one does, unknown = the search was cut\n")
	b.WriteString("short (state budget, depth bound), - = not verified.\n")
	var only [][]string
	for _, r := range rs {
		for _, id := range r.SearchOnly() {
			only = append(only, strings.Fields(fmt.Sprintf("%s %s: in 0 of %d %s runs", r.Fix, id, r.Runs, r.Strategy)))
		}
	}
	if len(only) > 0 {
		b.WriteString("\nThe search found interleavings that the sampled runs missed (their\nschedules under Schedules, at the end):\n")
		for _, words := range only {
			wrapWords(b, "  "+words[0]+" ", words[1:])
		}
	}
	writeCutShort(b, rs)
	if note := BoundNote(base.Strategy, base.Depth, base.PCTBound, base.PCTTasks, base.PCTSteps); note != "" {
		b.WriteString("\n")
		wrapWords(b, "", strings.Fields(note))
	}
}

// summaryColumns lists the failure ids of an explored workload's tables:
// those a random run fired and those the search found, in id order.
func summaryColumns(rs []*Record) []string {
	var out []string
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		id := f.String()
		for _, r := range rs {
			if v, _ := r.Verdict(id); r.Failures[id] > 0 || v == Fails {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// writeSearchCells gives, when no failure fired anywhere, what the search
// says of each fix.
func writeSearchCells(b *strings.Builder, rs []*Record) {
	fixW := 12
	for _, r := range rs {
		fixW = max(fixW, len(r.Fix))
	}
	fixW = min(fixW, maxFixW)
	b.WriteString("The exhaustive search of every interleaving (pagelab verify), per fix:\n")
	for _, r := range rs {
		wrapWords(b, fmt.Sprintf("  %-*s  ", fixW, fixName(b, r.Fix, fixW)), strings.Fields(searchText(r)))
	}
	writeCutShort(b, rs)
}

// searchText is a cell's verdicts in a few words: verified (every failure
// id), unknown (with the ids when some were verified), or not verified.
func searchText(r *Record) string {
	if !r.Verified() {
		return "not verified"
	}
	var unknown, fails []string
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		switch v, ok := r.Verdict(f.String()); {
		case ok && v == Fails:
			fails = append(fails, f.String())
		case !ok || v == Unknown:
			unknown = append(unknown, f.String())
		}
	}
	var parts []string
	if len(fails) > 0 {
		parts = append(parts, "fails: "+strings.Join(fails, ", "))
	}
	switch {
	case len(unknown) == int(mm.NumFailures):
		return "unknown"
	case len(unknown) > 0:
		parts = append(parts, "unknown: "+strings.Join(unknown, ", "))
	case len(fails) == 0:
		return "verified: no interleaving fires any failure"
	}
	return strings.Join(parts, "; ")
}

// writeCutShort says why each incomplete search stopped, and names the
// complete searches that left livelock alone unknown.
func writeCutShort(b *strings.Builder, rs []*Record) {
	var lines, spin []string
	for _, r := range rs {
		vr := r.Verify
		if vr == nil {
			continue
		}
		if vr.Complete {
			if v, ok := r.Verdict(mm.Livelock.String()); ok && v == Unknown {
				spin = append(spin, r.Fix)
			}
			continue
		}
		why := fmt.Sprintf("stopped after %d states", vr.States)
		switch {
		case vr.BudgetHit:
			why = fmt.Sprintf("the state budget ran out (%d states)", vr.States)
		case vr.Truncated > 0:
			why = fmt.Sprintf("%d executions reached the depth bound (%d states)", vr.Truncated, vr.States)
		}
		lines = append(lines, r.Fix+": "+why)
	}
	if len(lines) > 0 {
		b.WriteString("\nSearches cut short (unknown where they found nothing):\n")
		for _, l := range lines {
			wrapWords(b, "  ", strings.Fields(l))
		}
	}
	if len(spin) > 0 {
		b.WriteString("\nLivelock unknown after a complete search (retry loops can spin, and the\nreduction skips edges a cycle may need; pagelab verify -reduction full):\n")
		for i := range spin[:len(spin)-1] {
			spin[i] += ","
		}
		wrapWords(b, "  ", spin)
	}
}

func strategyLine(r *Record) string {
	switch {
	case DepthOf(r.Strategy, r.Depth) > 0 && r.Focus != "":
		return fmt.Sprintf("%s depth %d focus %s, seed %d", r.Strategy, r.Depth, r.Focus, r.Seed)
	case DepthOf(r.Strategy, r.Depth) > 0:
		return fmt.Sprintf("%s depth %d, seed %d", r.Strategy, r.Depth, r.Seed)
	case r.Focus != "":
		return fmt.Sprintf("%s focus %s, seed %d", r.Strategy, r.Focus, r.Seed)
	}
	return fmt.Sprintf("%s, seed %d", r.Strategy, r.Seed)
}

func failureDelta(row *failureRow, base *Record) string {
	if row.base || !row.cmp {
		return ""
	}
	return deltaVs(row.r.Failures[row.id], row.r.Runs, base.Failures[row.id], base.Runs, row.adj)
}

// deltaVs is a failure rate k/n against the baseline's k0/n0 with the
// Holm-adjusted p-value adj: "~ (p=…)" when not significant, else the
// relative change ("new" when the baseline never failed).
func deltaVs(k, n, k0, n0 int, adj float64) string {
	p := fmt.Sprintf("p=%.2g", adj)
	if adj >= Alpha {
		return "~ (" + p + ")"
	}
	r, r0 := float64(k)/float64(n), float64(k0)/float64(n0)
	if r0 == 0 {
		return "new, " + p
	}
	return fmt.Sprintf("%+.0f%% %s", (r-r0)/r0*100, p)
}

// rate formats a probability compactly.
func rate(p float64) string {
	switch {
	case p == 0:
		return "0"
	case p >= 0.01:
		return fmt.Sprintf("%.3f", p)
	}
	return fmt.Sprintf("%.1e", p)
}

// writeSchedules writes workload w's first failing schedules for the
// summary's last section: under the workload's name, per fix and failure
// id, its diagram's file, then the schedule on a line of its own.
func writeSchedules(b *strings.Builder, w string, rs []*Record, ids []string, files []string) {
	first := true
	header := func() {
		if first {
			fmt.Fprintf(b, "\n%s\n", w)
			first = false
		}
	}
	diagram := func(r *Record, id string) {
		if name := DiagramFile(r.Workload, r.Fix, id) + ".txt"; slices.Contains(files, name) {
			fmt.Fprintf(b, "    diagram: %s\n", name)
		}
	}
	for _, r := range rs {
		for _, id := range ids {
			s := r.FirstFailure[id]
			if s == "" {
				continue
			}
			header()
			fmt.Fprintf(b, "  %s %s:\n", r.Fix, id)
			diagram(r, id)
			fmt.Fprintf(b, "%s\n", s)
		}
	}
	// The interleavings only the search found.
	for _, r := range rs {
		for _, id := range r.SearchOnly() {
			header()
			fmt.Fprintf(b, "  %s %s, found by the search:\n", r.Fix, id)
			if s := r.Verify.FirstFailure[id]; s != "" {
				diagram(r, id)
				fmt.Fprintf(b, "%s\n", s)
				continue
			}
			if vr := r.Verify; id == mm.Livelock.String() && len(vr.LassoCycle) > 0 {
				fmt.Fprintf(b, "    a fair cycle that runs forever; its tasks, in order:\n")
				wrapWords(b, "    stem: ", vr.LassoStem)
				wrapWords(b, "    cycle: ", vr.LassoCycle)
			}
		}
	}
}

// maxFixW is the widest fix column of the latency and search tables: a
// longer name (a composition of fixes) gets a line of its own above its
// row, so that the tables read in 80 columns.
const maxFixW = 24

// fixName writes a fix name longer than the column's width w on a line of
// its own and returns what the row's fix column holds: the name, or
// nothing after such a line (the summary's rows are indented by two).
func fixName(b *strings.Builder, name string, w int) string {
	return FixColumn(b, "  ", name, w)
}

// FixColumn is what a table row's fix column of width w holds: the name,
// or, for a longer one (a composition of fixes), nothing, the name having
// been written to b on a line of its own, indented as the rows are, so
// that the table keeps to 80 columns.
func FixColumn(b *strings.Builder, indent, name string, w int) string {
	if len(name) > w {
		fmt.Fprintf(b, "%s%s\n", indent, name)
		return ""
	}
	return name
}

// wrapWords writes prefix and words, wrapped within 80 columns, the
// lines after the first indented as far as the prefix.
func wrapWords(b *strings.Builder, prefix string, words []string) {
	n := utf8.RuneCountInString(prefix)
	b.WriteString(prefix + textwrap.Wrap(strings.Join(words, " "), textwrap.Width-n, n) + "\n")
}

// metric is one per-run metric of a timed record.
type metric struct {
	title  string
	values func(*OpRecord) []float64
	format func(float64) string
}

func writeLatencyTables(b *strings.Builder, w string, rs []*Record) {
	var cpus []int
	for _, r := range rs {
		if !slices.Contains(cpus, r.CPUs) {
			cpus = append(cpus, r.CPUs)
		}
	}
	slices.Sort(cpus)
	ops := map[string]bool{}
	for _, r := range rs {
		for op := range r.Latency {
			ops[op] = true
		}
	}
	op := PrimaryOp(w, ops)
	clock := "Virtual time: exact for a seed; each of the n runs has its own seed."
	if rs[0].Strategy == "native" {
		clock = "Wall-clock time on the host."
	}
	metrics := []metric{
		{"throughput, ops/s", func(l *OpRecord) []float64 { return l.RunOpsPerSec }, siRate},
		{"p50 latency", func(l *OpRecord) []float64 { return l.RunP50 }, nsDur},
		{"p99 latency", func(l *OpRecord) []float64 { return l.RunP99 }, nsDur},
	}
	// All comparisons of the workload, for Holm's adjustment.
	type cmpRow struct {
		r, base  *Record
		m        int
		sum      benchmath.Summary
		cmp      benchmath.Comparison
		baseline bool
	}
	var rows []*cmpRow
	var ps []float64
	for _, n := range cpus {
		var cell []*Record
		for _, r := range rs {
			if r.CPUs == n {
				cell = append(cell, r)
			}
		}
		base := baselineOf(cell)
		for mi, m := range metrics {
			for _, r := range cell {
				l, l0 := r.Latency[op], base.Latency[op]
				if l == nil || l0 == nil {
					continue
				}
				s := benchmath.NewSample(slices.Sorted(slices.Values(m.values(l))), &benchmath.DefaultThresholds)
				s0 := benchmath.NewSample(slices.Sorted(slices.Values(m.values(l0))), &benchmath.DefaultThresholds)
				row := &cmpRow{r: r, base: base, m: mi, sum: benchmath.AssumeNothing.Summary(s, 0.95), baseline: r == base}
				if !row.baseline {
					row.cmp = benchmath.AssumeNothing.Compare(s0, s)
					ps = append(ps, row.cmp.P)
				}
				rows = append(rows, row)
			}
		}
	}
	adj := Holm(ps)
	adjOf := map[*cmpRow]float64{}
	i := 0
	for _, row := range rows {
		if !row.baseline {
			adjOf[row] = adj[i]
			i++
		}
	}
	fmt.Fprintf(b, "\n== %s: %s, %s ==\n", w, op, rs[0].Strategy)
	fmt.Fprintf(b, "Medians over n runs with 95%% confidence intervals and Mann-Whitney U\nagainst %s (benchmath), p Holm-adjusted over the %d comparisons of\nthis workload; ~ when not significant at alpha %.2f.\n%s\n", baselineOf(rs).Fix, len(ps), Alpha, clock)
	writePartial(b, rs)
	fixW := 12
	for _, r := range rs {
		fixW = max(fixW, len(r.Fix))
	}
	fixW = min(fixW, maxFixW)
	for _, n := range cpus {
		for mi, m := range metrics {
			fmt.Fprintf(b, "\n%s, %d CPUs\n", m.title, n)
			fmt.Fprintf(b, "  %-*s %9s %7s   %s\n", fixW, "fix", "median", "CI", "vs baseline")
			for _, row := range rows {
				if row.r.CPUs != n || row.m != mi {
					continue
				}
				delta := ""
				if !row.baseline {
					p := adjOf[row]
					c0 := m.values(row.base.Latency[op])
					center0 := median(c0)
					if p >= Alpha || center0 == 0 {
						delta = fmt.Sprintf("~ (p=%.3f n=%d)", p, row.cmp.N2)
					} else {
						delta = fmt.Sprintf("%+.1f%% (p=%.3f n=%d)", (row.sum.Center-center0)/center0*100, p, row.cmp.N2)
					}
				}
				fmt.Fprintf(b, "  %-*s %9s %7s   %s\n", fixW, fixName(b, row.r.Fix, fixW), m.format(row.sum.Center), "± "+row.sum.PctRangeString(), delta)
			}
		}
	}
	writeDistTable(b, w, rs)
	var failing []string
	for _, r := range rs {
		for _, id := range slices.Sorted(maps.Keys(r.Failures)) {
			failing = append(failing, fmt.Sprintf("  %s at %d CPUs: %s in %d of %d runs", r.Fix, r.CPUs, id, r.Failures[id], r.Runs))
		}
	}
	if len(failing) > 0 {
		b.WriteString("\nFailures in these runs (correctness checks stay on):\n" + strings.Join(failing, "\n") + "\n")
	}
	writeCountTable(b, rs, fixW)
}

// writeDistTable is the pooled distribution of the primary operation per
// CPU count and fix (DistTable), in 80 columns: a fix name wider than 17
// gets a line of its own.
func writeDistTable(b *strings.Builder, w string, rs []*Record) {
	op, rows := DistTable(w, rs)
	if len(rows) == 0 {
		return
	}
	fixW := 12
	for _, r := range rows {
		fixW = max(fixW, len(r.R.Fix))
	}
	fixW = min(fixW, 17)
	b.WriteString("\n")
	wrapWords(b, "", strings.Fields(op+", pooled over the runs: latency, wake-ups and spurious wake-ups per op"))
	fmt.Fprintf(b, "  %-*s %4s %7s %7s %7s %7s %7s %7s %7s\n", fixW, "fix", "cpus", "p50", "p90", "p99", "p99.9", "max", "wake/op", "spur/op")
	for _, r := range rows {
		fmt.Fprintf(b, "  %-*s %4d %7s %7s %7s %7s %7s %7s %7s\n", fixW, fixName(b, r.R.Fix, fixW), r.R.CPUs,
			r.P50, r.P90, r.P99, r.P999, r.Max, r.Wakeups, r.Spurious)
	}
}

// writeCountTable is the count metrics of a latency workload's cells
// (counts.go): per metric, CPU count and fix, the pooled p50, p99 and
// maximum, and the median over runs of each run's maximum.
func writeCountTable(b *strings.Builder, rs []*Record, fixW int) {
	names := map[string]bool{}
	for _, r := range rs {
		for name := range r.Counts {
			names[name] = true
		}
	}
	if len(names) == 0 {
		return
	}
	b.WriteString("\nCounts (pooled over the runs; run max: median of each run's largest)\n")
	for _, name := range slices.Sorted(maps.Keys(names)) {
		fmt.Fprintf(b, "\n%s, %s\n", name, CountUnit(name))
		fmt.Fprintf(b, "  %-*s %5s %9s %9s %9s %9s\n", fixW, "fix", "cpus", "p50", "p99", "max", "run max")
		for _, r := range rs {
			c := r.Counts[name]
			if c == nil {
				continue
			}
			f := countFormat(c.Unit)
			fmt.Fprintf(b, "  %-*s %5d %9s %9s %9s %9s\n", fixW, fixName(b, r.Fix, fixW), r.CPUs, f(c.P50), f(c.P99), f(c.Max), f(median(c.RunMax)))
		}
	}
}

// countFormat formats a count metric's values: durations with their unit,
// counts as integers.
func countFormat(unit string) func(float64) string {
	if unit == "ns" {
		return nsDur
	}
	return func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
}

// PrimaryOp is the operation a latency workload is about (its registered
// PrimaryOp), or, for a workload this pagelab does not know, the first
// operation recorded.
func PrimaryOp(workload string, ops map[string]bool) string {
	if w, err := workloads.Lookup(workload); err == nil && ops[mm.OpNames[w.PrimaryOp]] {
		return mm.OpNames[w.PrimaryOp]
	}
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		return op
	}
	return ""
}

// nsDur formats nanoseconds with an SI unit, three significant digits,
// the unit moving up where rounding would print "1e+03": "850ns", "42µs",
// "3.1ms", "2.5s"; +Inf as ∞ (a first failure never found).
func nsDur(ns float64) string {
	if math.IsInf(ns, 1) {
		return "∞"
	}
	if ns < 999.5 {
		return fmt.Sprintf("%.0fns", ns)
	}
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e3, "µs"}, {1e6, "ms"}} {
		if v := ns / u.div; v < 999.5 {
			return fmt.Sprintf("%.3g%s", v, u.unit)
		}
	}
	return fmt.Sprintf("%.3gs", ns/1e9)
}

// siRate formats a rate (or a count) with an SI prefix, three
// significant digits: "512", "34.7k", "1.23M", "3.1G".
func siRate(r float64) string {
	if math.IsInf(r, 1) {
		return "∞"
	}
	for _, u := range []struct {
		div    float64
		prefix string
	}{{1, ""}, {1e3, "k"}, {1e6, "M"}} {
		// Below 999.5, %.3g does not round up to "1e+03".
		if v := r / u.div; v < 999.5 {
			return fmt.Sprintf("%.3g%s", v, u.prefix)
		}
	}
	return fmt.Sprintf("%.3gG", r/1e9)
}

// NsDur and SIRate are the formats of the lab's tables.
func NsDur(ns float64) string { return nsDur(ns) }
func SIRate(r float64) string { return siRate(r) }

// Thousands writes n with thousands separators (100,000; -1,234).
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
