package hunt

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/internal/textwrap"
)

// Ratio is a row's rate over the random walk's for the same target, and
// whether it is a lower bound: when the random walk fired nothing, the
// ratio is over the upper end of its 95% interval. ok is false without a
// random row or when neither fired.
func Ratio(rows []*Row, r *Row) (ratio float64, lower, ok bool) {
	q := walk(rows, r.Target)
	switch {
	case q == nil, q.Fired == 0 && r.Fired == 0:
		return 0, false, false
	case q.Fired == 0:
		return r.Rate() / q.Hi, true, true
	}
	return r.Rate() / q.Rate(), false, true
}

// RatioInterval is the 95% interval of a row's rate ratio to the random
// walk's (bench.RateRatio: exact given the firings of both); hi is +Inf
// when the walk fired nothing. ok is false for the walk's own row, for a
// greybox row (its campaigns' executions are not independent draws),
// without a random row, or when neither fired. Where the walk fired
// nothing, Ratio's "≥" is the rate over the walk's upper bound, and lo says
// how far below that the truth may lie when the row fired only a few times.
func RatioInterval(rows []*Row, r *Row) (lo, hi float64, ok bool) {
	q := walk(rows, r.Target)
	if q == nil || q == r || r.Campaigns > 0 {
		return 0, 0, false
	}
	return bench.RateRatio(r.Fired, r.Runs, q.Fired, q.Runs)
}

// walk is the random walk's row of target t, the reference of every
// ratio; nil if the rows have none.
func walk(rows []*Row, t *Target) *Row {
	for _, q := range rows {
		if q.Target == t && q.Strategy == "random" {
			return q
		}
	}
	return nil
}

// Sooner is how many times sooner a row finds its target's failure than
// the random walk does: the walk's median executions to the first
// failure over the row's. lower: the walk never fired it, and the ratio
// is over the least median its rate's interval allows (ln 2 over its
// upper end). approx: either median is estimated from a rate (ln 2 /
// rate) rather than measured over the seeds. ok is false without a random
// row or when the row never found it. For an independent sampler it says
// what its rate ratio says; for greybox, whose campaign rate counts every
// firing after a campaign's first, it is the comparison that counts what
// a user waits for.
func Sooner(rows []*Row, r *Row) (ratio float64, lower, approx, ok bool) {
	q := walk(rows, r.Target)
	switch {
	case r.TTFInterrupted || r.TTFRuns <= 0 || math.IsInf(r.TTFRuns, 1), q == nil, q.TTFInterrupted:
		return 0, false, false, false
	case q.Fired == 0 && q.TTFRuns == 0:
		if q.Hi <= 0 || math.IsNaN(q.Hi) {
			return 0, false, false, false
		}
		// The walk's median is bounded, not estimated.
		return math.Ln2 / q.Hi / r.TTFRuns, true, r.TTFEstimated, true
	case q.TTFRuns > 0 && !math.IsInf(q.TTFRuns, 1):
		return q.TTFRuns / r.TTFRuns, false, r.TTFEstimated || q.TTFEstimated, true
	}
	return 0, false, false, false
}

// Best is, per target, the row with the shortest median time to the first
// failure, the higher rate between equal times; a row that never fired is
// never best. The time is counted in hand-offs when every candidate row
// has it (a hunt with Config.Handoff), so that the machine's drift between
// two rows does not pick the winner.
//
// A median estimated from a rate (Row.TTFEstimated: ln 2 / rate, the rate
// too low to measure) counts at the slow end of what its rate's 95%
// interval allows, ln 2 / Lo: a row that fired twice has an estimate
// that could be off by an order of magnitude either way (2 in 100,000:
// [5.5e-6, 7.3e-5]), and it is marked best only if it beats the others
// even so. A measured median is over the seeds themselves and counts as
// measured.
func Best(rows []*Row) map[*Target]*Row {
	units := !slices.ContainsFunc(rows, func(r *Row) bool { return bestCandidate(r) && r.HandoffNs <= 0 })
	best := map[*Target]*Row{}
	for _, r := range rows {
		if !bestCandidate(r) {
			continue
		}
		b := best[r.Target]
		if b == nil {
			best[r.Target] = r
			continue
		}
		if k, kb := bestKey(r, units), bestKey(b, units); k < kb || (k == kb && r.Rate() > b.Rate()) {
			best[r.Target] = r
		}
	}
	return best
}

// bestCandidate reports whether Best may pick r: it fired, and its first
// failure was timed or estimated.
func bestCandidate(r *Row) bool {
	return (r.Fired > 0 || r.TTFFound > 0) && !math.IsInf(r.TTFNs, 1) && !r.TTFInterrupted
}

// bestKey is what Best ranks r by: its median first failure in hand-offs
// (units) or ns, an estimate at its rate interval's slow end.
func bestKey(r *Row, units bool) float64 {
	t := r.TTFNs
	if units {
		t = r.TTFHandoffs
	}
	if r.TTFEstimated && r.Campaigns == 0 {
		if r.Lo <= 0 {
			return math.Inf(1)
		}
		t *= r.Rate() / r.Lo
	}
	return t
}

// ratioCell is a row's "× random [95% CI]" cell: Ratio to three
// significant figures ("≥" for a lower bound), then RatioInterval where
// there is one; "—" without a ratio.
func ratioCell(rows []*Row, r *Row) string {
	x, lower, ok := Ratio(rows, r)
	if !ok {
		return "—"
	}
	cell := fmt.Sprintf("%.3g", x)
	if lower {
		cell = "≥ " + cell
	}
	if lo, hi, ok := RatioInterval(rows, r); ok {
		cell += " " + ratioCI(lo, hi)
	}
	return cell
}

// ratioCI formats a ratio's interval, two significant figures an end.
func ratioCI(lo, hi float64) string {
	h := "∞"
	if !math.IsInf(hi, 1) {
		h = fmt.Sprintf("%.2g", hi)
	}
	return fmt.Sprintf("[%.2g, %s]", lo, h)
}

// Write prints the table, the best strategy of each target marked with
// '*', then its footnotes, each target's first failing execution under
// its best strategy, and the verify commands of the failures no row
// fired. The text is per target its rates and its times to the first
// failure, in 80 columns; markdown selects a Markdown document: the same
// intro and footnotes as paragraphs of one line, the table one line per
// row (the README's), and the schedules and commands in code blocks, to
// paste.
func Write(w io.Writer, cfg *Config, rows []*Row, markdown bool) error {
	best := Best(rows)
	head := []string{"target", "strategy", "fired/runs", "rate [95% CI]", "× random [95% CI]", "first failure: median", "hand-offs", "execs", "× sooner", "found", "profile"}
	var lines [][]string
	for _, r := range rows {
		name := r.Label()
		if best[r.Target] == r {
			name += " *"
		}
		ratio := ratioCell(rows, r)
		ttf, execs, units := "never", "—", "—"
		switch {
		case r.TTFInterrupted:
			ttf = "interrupted"
		case r.Campaigns > 0 && math.IsInf(r.TTFNs, 1):
			ttf = "> budget"
		case r.Campaigns > 0:
			ttf, execs = bench.NsDur(r.TTFNs), fmt.Sprintf("%.0f", r.TTFRuns)
		case r.Fired > 0 && r.TTFEstimated:
			ttf, execs = "≈ "+bench.NsDur(r.TTFNs), fmt.Sprintf("≈ %.0f", r.TTFRuns)
		case r.Fired > 0 && math.IsInf(r.TTFNs, 1):
			ttf = "> budget"
		case r.Fired > 0:
			ttf, execs = bench.NsDur(r.TTFNs), fmt.Sprintf("%.0f", r.TTFRuns)
		}
		if r.HandoffNs > 0 && r.TTFHandoffs > 0 && !math.IsInf(r.TTFHandoffs, 1) {
			units = bench.SIRate(r.TTFHandoffs)
			if r.TTFEstimated {
				units = "≈ " + units
			}
		}
		sooner := "—"
		if x, lower, approx, ok := Sooner(rows, r); ok {
			sooner = fmt.Sprintf("%.3g", x)
			if lower {
				sooner = "≥ " + sooner
			}
			if approx {
				sooner = "≈ " + sooner
			}
		}
		found := "—"
		if !r.TTFEstimated && !r.TTFInterrupted {
			found = fmt.Sprintf("%d/%d", r.TTFFound, r.TTFSeeds)
		}
		prof := "—"
		if r.ProfileNs > 0 {
			prof = bench.NsDur(r.ProfileNs)
		}
		fired := fmt.Sprintf("%d/%d", r.Fired, r.Runs)
		if r.Campaigns > 0 {
			fired += fmt.Sprintf(" (%d/%d)", r.CampaignsFired, r.Campaigns)
		}
		lines = append(lines, []string{r.Target.Name(), name, fired,
			rateCI(r), ratio, ttf, units, execs, sooner, found, prof})
	}
	ref := ""
	if cfg.ReferenceRuns > 0 && cfg.ReferenceRuns != cfg.Runs {
		ref = fmt.Sprintf(", %d for the random walk", cfg.ReferenceRuns)
	}
	intro := fmt.Sprintf("hunt: %d executions per rate%s (seed %d); first failure over %d seeds on one goroutine; * best per target",
		cfg.Runs, ref, cfg.Seed, cfg.Seeds)
	var b strings.Builder
	if markdown {
		b.WriteString(intro + "\n\n| " + strings.Join(head, " | ") + " |\n|")
		for range head {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, l := range lines {
			b.WriteString("| " + strings.Join(l, " | ") + " |\n")
		}
	} else {
		b.WriteString(textwrap.Wrap(intro, textwrap.Width, 0) + "\n")
		// In 80 columns: per target, its rates, then its times to the
		// first failure, each a table of its own (both in one line are
		// 130 wide).
		for i := 0; i < len(rows); {
			j := i
			prof := ""
			for j < len(rows) && rows[j].Target == rows[i].Target {
				if rows[j].ProfileNs > 0 && prof == "" {
					prof = " (profile " + bench.NsDur(rows[j].ProfileNs) + ")"
				}
				j++
			}
			fmt.Fprintf(&b, "\n%s\n", textwrap.Wrap(rows[i].Target.Name()+prof, textwrap.Width, 2))
			// lines[k] is target, strategy, then the rate's three
			// columns (fired/runs to × random) and the first failure's
			// five.
			for _, cols := range [][2]int{{2, 5}, {5, 10}} {
				tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "  strategy\t"+strings.Join(head[cols[0]:cols[1]], "\t"))
				for _, l := range lines[i:j] {
					fmt.Fprintln(tw, "  "+l[1]+"\t"+strings.Join(l[cols[0]:cols[1]], "\t"))
				}
				tw.Flush() // into a strings.Builder: no error
			}
			i = j
		}
	}
	// The footnotes, each a paragraph of its own; first, that the table
	// is not all the hunt planned.
	var notes []string
	if cfg.interrupted {
		notes = append(notes, "interrupted: the hunt was stopped; the table holds "+cfg.Kept(rows))
	}
	if slices.ContainsFunc(rows, func(r *Row) bool { _, _, ok := RatioInterval(rows, r); return ok }) {
		notes = append(notes, "× random: the strategy's rate over the random walk's (≥: the walk never fired it, and the ratio is over its rate's upper bound), then the ratio's 95% interval, exact given the firings of both (the strategy's share of them is binomial, as for a ratio of two Poisson rates; none for greybox and greybox-irq, whose executions are not independent draws)")
	}
	if slices.ContainsFunc(rows, func(r *Row) bool { return r.Fired > 0 && r.TTFEstimated }) {
		notes = append(notes, fmt.Sprintf("≈: estimated as ln 2 / rate executions at the measured time per execution (rate too low to measure %d seeds within %d executions); * counts it at ln 2 / the rate interval's lower end",
			cfg.Seeds, cfg.MaxTTFRuns))
	}
	var samples []float64
	for _, r := range rows {
		if r.HandoffNs > 0 {
			samples = append(samples, r.HandoffNs)
		}
	}
	if len(samples) > 0 {
		notes = append(notes, fmt.Sprintf("hand-offs: the first failure's median in bare coroutine hand-offs (one task through the scheduler, every decision a switch), timed on the same goroutine in the same run, after each row's rate and again between its seeds every %v: a machine's slow and fast spells, and two machines of the kind, change both alike (a hand-off took %s, the median over the rows; * compares hand-offs)",
			HandoffResample, bench.NsDur(median(samples))))
	}
	if slices.ContainsFunc(rows, func(r *Row) bool { _, _, _, ok := Sooner(rows, r); return ok }) {
		notes = append(notes, fmt.Sprintf("× sooner: the random walk's median executions to the first failure over the strategy's, each median over %d seeds (≥: the walk never fired it, and its median is taken at its least, ln 2 over its rate's upper bound; ≈: a median estimated from a rate)",
			cfg.Seeds))
	}
	var adaptive []string // the campaigns' strategy names, in row order
	for _, r := range rows {
		if name, _, _ := strings.Cut(r.Strategy, ":"); r.Campaigns > 0 && !slices.Contains(adaptive, name) {
			adaptive = append(adaptive, name)
		}
	}
	if len(adaptive) > 0 {
		notes = append(notes, fmt.Sprintf("%s: each execution follows from those before it, so its fired/runs is over %d independent campaigns of runs/%d executions (in brackets: the campaigns that fired it), the interval Student's t over their rates, and each seed of the first failure is a campaign from scratch of at most %d executions. A campaign that finds a failure keeps firing it, so its rate counts re-firings; its first failure says how soon it finds one",
			strings.Join(adaptive, " and "), Campaigns, Campaigns, cfg.campaignRuns()))
	}
	var sweeps []string // the sweeps given, as given
	for _, spec := range cfg.Strategies {
		if s, err := ParseStrategy(spec); err == nil && s.Focus == FocusAll {
			sweeps = append(sweeps, spec)
		}
	}
	if len(sweeps) > 0 {
		notes = append(notes, fmt.Sprintf("%s: a sweep, one row per focus the sampler accepts on the target: every object kind and page flag a profiled step touched (for pct-point, a racy step). A sweep's best row is the highest of many measured on the same seed, so its rate and ratio read high: measure that row's strategy again with -seed %d, which no execution of this hunt used, before quoting them",
			strings.Join(sweeps, ", "), cfg.Seed+uint64(cfg.Seeds)+Campaigns))
	}
	var same []string
	for _, r := range rows {
		if len(r.Same) > 0 {
			same = append(same, fmt.Sprintf("%s, %s for %s", r.Target.Name(), r.Label(), strings.Join(r.Same, ", ")))
		}
	}
	if len(same) > 0 {
		notes = append(notes, "one row for several foci: pct-point acts on a focus only through the racy points it keeps, surw through the points it marks and the interesting events it counts there, and these foci keep, or mark and count, the same as the row's, so their executions would be its own: "+strings.Join(same, "; "))
	}
	if len(cfg.noCompletions) > 0 {
		var names []string
		for _, t := range cfg.noCompletions {
			names = append(names, t.Name())
		}
		which, its := strings.Join(cfg.onCompletions, " and "), "its"
		if len(cfg.onCompletions) > 1 {
			its = "their"
		}
		notes = append(notes, which+": not run on "+strings.Join(names, ", ")+": no I/O completion of theirs takes a racy step, so "+its+" change points would have nowhere to fall")
	}
	// Markdown keeps each footnote a paragraph of one line, and puts
	// what is to be pasted (schedules, commands) in code blocks.
	para := func(text string) {
		if markdown {
			b.WriteString("\n" + text + "\n")
		} else {
			b.WriteString("\n" + textwrap.Wrap(text, textwrap.Width, 0) + "\n")
		}
	}
	for _, n := range notes {
		para(n)
	}
	// What each target's best row found, to replay and draw: the
	// interleaving the table measured, as pagelab run prints its own.
	var found []*Row
	for _, r := range rows {
		if best[r.Target] == r && r.First != "" {
			found = append(found, r)
		}
	}
	if len(found) > 0 {
		para("found: each target's first failing execution under its * strategy, shrunk to the fewest context switches up to the failure that still fire it: replay with pagelab replay -schedule, draw with pagelab diagram -schedule:")
		for _, r := range found {
			where, body := r.failureText()
			if markdown {
				fmt.Fprintf(&b, "\n%s:\n\n```\n%s```\n", r.Target.Name()+where, body)
			} else {
				fmt.Fprintf(&b, "\n%s\n%s", textwrap.Wrap(r.Target.Name()+where+":", textwrap.Width, 2), body)
			}
		}
	}
	if never := Unfired(rows); len(never) > 0 {
		para("never fired: no strategy fired these failures. A sampled zero bounds a rate (each row's interval); it does not show that no interleaving fires the failure. pagelab verify searches every interleaving of the cell:")
		// One command per cell, its unfired failure ids after it; a
		// command is not wrapped, so that it can be pasted.
		if markdown {
			b.WriteString("\n```\n")
		}
		for i, t := range never {
			if slices.ContainsFunc(never[:i], func(u *Target) bool { return u.cell() == t.cell() }) {
				continue
			}
			var ids []string
			for _, u := range never[i:] {
				if u.cell() == t.cell() {
					ids = append(ids, u.Failure.String())
				}
			}
			fmt.Fprintf(&b, "  %s\n    (%s)\n", t.VerifyCommand(), strings.Join(ids, ", "))
		}
		if markdown {
			b.WriteString("```\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// failureText is FailureText of the row's first failing execution,
// shrunk once (a replay per attempt) for the text and the Markdown.
func (r *Row) failureText() (where, body string) {
	if r.foundBody == "" {
		r.foundWhere, r.foundBody = bench.FailureText(r.First, r.FirstReport, r.Target.Failure, "under "+r.Label()+", ")
	}
	return r.foundWhere, r.foundBody
}

// Unfired lists, in row order, the targets no row fired: no execution of
// a rate, and no seed of a first failure.
func Unfired(rows []*Row) []*Target {
	var out []*Target
	for _, r := range rows {
		if slices.Contains(out, r.Target) {
			continue
		}
		if !slices.ContainsFunc(rows, func(q *Row) bool { return q.Target == r.Target && (q.Fired > 0 || q.TTFFound > 0) }) {
			out = append(out, r.Target)
		}
	}
	return out
}

func rateCI(r *Row) string {
	if math.IsNaN(r.Hi) {
		return fmt.Sprintf("%.2g [—]", r.Rate())
	}
	return fmt.Sprintf("%.2g [%.2g, %.2g]", r.Rate(), r.Lo, r.Hi)
}
