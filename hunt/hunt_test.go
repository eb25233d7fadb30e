package hunt

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/workloads"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden")

// TestTargets: one target per seed interleaving, each the first failure
// id its seed file expects, with the seed's parameters.
func TestTargets(t *testing.T) {
	ts, err := Targets()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"race-a":                "bug-writeback",
		"race-b-page":           "bug-writeback",
		"race-b-thp":            "vm-bug-tail",
		"race-b-truncate-debug": "bad-page",
		"race-b-truncate":       "data-corruption",
		"race-c1":               "bug-no-buffers",
		"race-c2":               "unstable-write",
		"race-d-index":          "vm-bug-index",
		"race-e":                "bug-not-locked",
	}
	got := map[string]*Target{}
	for _, tg := range ts {
		got[tg.Seed] = tg
	}
	for seed, f := range want {
		tg := got[seed]
		if tg == nil {
			t.Errorf("no target for seed %s", seed)
			continue
		}
		if tg.Failure.String() != f {
			t.Errorf("%s: failure %s, want %s", seed, tg.Failure, f)
		}
	}
	if tg := got["race-b-truncate"]; tg != nil && (tg.Params["write3"] != 2 || tg.Params["drain"] != 3 || tg.Params["debug_vm"] != 0) {
		t.Errorf("race-b-truncate: parameters %v, want the seed's write3=2 drain=3 debug_vm=0", tg.Params)
	}
	if _, err := SelectTargets(ts, "race-a,nope"); err == nil || !strings.Contains(err.Error(), "race-b-page") {
		t.Errorf("unknown target: error %v, want one naming the valid targets", err)
	}
	if _, err := SelectTargets(ts, "race-a,race-a"); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a target given twice: error %v, want one saying so", err)
	}
	if sel, err := SelectTargets(ts, "race-e,race-a"); err != nil || len(sel) != 2 || sel[0].Seed != "race-e" {
		t.Errorf("SelectTargets(race-e,race-a) = %v, %v", sel, err)
	}
}

// fakeClock advances 1µs at every reading: the table's times become a
// function of how often hunt reads the clock, so the output is golden.
func fakeClock() func() time.Duration {
	var now time.Duration
	return func() time.Duration { now += time.Microsecond; return now }
}

// fakeHandoff times the hand-off at 100 ns, 200 ns, 100 ns, ...: the
// hand-offs column is golden too. (In TestTableGolden every row is
// timed against one sample: its seeds take microseconds of fakeClock.)
func fakeHandoff() func() (float64, error) {
	n := 0
	return func() (float64, error) { n++; return float64(100 * (1 + (n+1)%2)), nil }
}

// selectTargets is SelectTargets over every target, failing the test on
// an error.
func selectTargets(t *testing.T, names string) []*Target {
	t.Helper()
	ts, err := Targets()
	if err != nil {
		t.Fatal(err)
	}
	sel, err := SelectTargets(ts, names)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// TestTableGolden runs a small hunt of race E and compares the table with
// testdata/table.golden (go test -rewrite regenerates it).
func TestTableGolden(t *testing.T) {
	sel := selectTargets(t, "race-e")
	cfg := &Config{Targets: sel, Strategies: Strategies, Depth: 3, Seed: 1, Runs: 3000, ReferenceRuns: 9000, Seeds: 5,
		MaxTTFRuns: 10000, Jobs: 2, Now: fakeClock(), Handoff: fakeHandoff()}
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(Strategies) {
		t.Fatalf("%d rows, want %d", len(rows), len(Strategies))
	}
	for _, r := range rows {
		want := cfg.Runs
		if r.Strategy == "random" {
			want = cfg.ReferenceRuns
		}
		if r.Runs != want && r.Campaigns == 0 {
			t.Errorf("%s: rate over %d executions, want %d", r.Strategy, r.Runs, want)
		}
		if r.Lo > r.Rate() || r.Rate() > r.Hi {
			t.Errorf("%s: rate %g outside its interval [%g, %g]", r.Strategy, r.Rate(), r.Lo, r.Hi)
		}
		if r.Campaigns > 0 {
			// Each campaign that fired it counts one firing at least:
			// 0 <= CampaignsFired <= min(Campaigns, Fired), and none
			// fired it exactly when Fired is 0.
			if r.CampaignsFired < 0 || r.CampaignsFired > r.Campaigns || r.CampaignsFired > r.Fired ||
				(r.Fired > 0) != (r.CampaignsFired > 0) {
				t.Errorf("%s: %d of %d campaigns fired it, %d firings", r.Strategy, r.CampaignsFired, r.Campaigns, r.Fired)
			}
			// A campaign's budget is MaxTTFRuns/Seeds: some seeds may
			// not find it. greybox-irq finds none: race E needs btrfs
			// held, and it holds only completions.
			if (r.TTFFound < 1 && r.Strategy != "greybox-irq") || r.TTFFound > r.TTFSeeds {
				t.Errorf("%s: first failure found by %d of %d campaigns", r.Strategy, r.TTFFound, r.TTFSeeds)
			}
			continue
		}
		if !r.TTFEstimated && (r.TTFFound != r.TTFSeeds || r.TTFRuns < 1) {
			t.Errorf("%s: first failure found by %d of %d seeds, median %g executions", r.Strategy, r.TTFFound, r.TTFSeeds, r.TTFRuns)
		}
	}
	// Every row that fired it keeps a failing schedule, one that replays
	// to the target's failure; a row that never did keeps none.
	for _, r := range rows {
		if fired := r.Fired > 0 || r.TTFFound > 0; fired != (r.First != "") {
			t.Errorf("%s: fired %d, found by %d seeds, first failing schedule %q", r.Strategy, r.Fired, r.TTFFound, r.First)
			continue
		}
		if r.First == "" {
			continue
		}
		if r.FirstReport.Failure != r.Target.Failure {
			t.Errorf("%s: first report %v, want %s", r.Strategy, r.FirstReport, r.Target.Failure)
		}
		if sh, err := bench.ShrinkFirst(r.First, r.Target.Failure); err != nil {
			t.Errorf("%s: %s does not replay to %s: %v", r.Strategy, r.First, r.Target.Failure, err)
		} else if sh.Report.Failure != r.Target.Failure {
			t.Errorf("%s: %s replays to %v", r.Strategy, r.First, sh.Report)
		}
	}
	var b bytes.Buffer
	if err := Write(&b, cfg, rows, false); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n")
	if err := Write(&b, cfg, rows, true); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "testdata/table.golden", b.Bytes())
	checkBench(t, cfg, rows)
}

// checkGolden compares got with the golden file at path (go test -rewrite
// writes it instead).
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *rewrite {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (go test -rewrite to accept):\n%s", path, got)
	}
}

// TestPCTIRQLeftOutWithoutCompletions: a hunt measures no pct-irq row of a
// target none of whose I/O completions takes a racy step (race D has no
// I/O at all), says so under the table, and measures the others; a target
// with completions gets its row. The progress bar counts the row left
// out (Progress(nil)), so that it ends at the count Planned gave it.
func TestPCTIRQLeftOutWithoutCompletions(t *testing.T) {
	sel := selectTargets(t, "race-d-index,race-a")
	cfg := &Config{Targets: sel, Strategies: []string{"random", "pct-irq:6"}, Depth: 3, Seed: 1, Runs: 200, Seeds: 1,
		MaxTTFRuns: 1, Jobs: 1, Now: fakeClock()}
	planned, finished, left := 0, 0, 0
	cfg.Planned = func(n int) { planned = n }
	cfg.Progress = func(r *Row) {
		if r == nil {
			left++
		} else {
			finished++
		}
	}
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if planned != 4 || finished != 3 || left != 1 {
		t.Errorf("planned %d rows, %d finished and %d left out; want 4, 3 and 1", planned, finished, left)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Target.Seed+" "+r.Label())
	}
	if want := []string{"race-d-index random", "race-a random", "race-a pct-irq d=6"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	var b bytes.Buffer
	if err := Write(&b, cfg, rows, false); err != nil {
		t.Fatal(err)
	}
	if want := "pct-irq: not run on race-d-index vm-bug-index: no I/O completion of theirs takes\na racy step"; !strings.Contains(b.String(), want) {
		t.Errorf("no footnote %q in:\n%s", want, b.String())
	}
}

// TestJobsDoNotChangeRates: the rate columns are the same for any -j,
// greybox's campaigns included.
func TestJobsDoNotChangeRates(t *testing.T) {
	sel := selectTargets(t, "race-d-index")
	var fired [2][]int
	var first [2][]string
	for i, jobs := range []int{1, 3} {
		cfg := &Config{Targets: sel, Strategies: []string{"random", "surw", "greybox"}, Depth: 3, Seed: 4, Runs: 2000, Seeds: 1,
			MaxTTFRuns: 1, Jobs: jobs, Now: fakeClock()}
		rows, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			fired[i] = append(fired[i], r.Fired)
			first[i] = append(first[i], r.First)
		}
	}
	if !slices.Equal(fired[0], fired[1]) {
		t.Errorf("fired with -j 1: %v, with -j 3: %v", fired[0], fired[1])
	}
	// The first failing execution is the lowest-numbered, whichever
	// goroutine ran it: Write prints it.
	if !slices.Equal(first[0], first[1]) {
		t.Errorf("first failing schedules with -j 1:\n%q\nwith -j 3:\n%q", first[0], first[1])
	}
}

// TestInterrupted: a hunt stopped while timing a row's first failure
// keeps that row's rate, marks its first failure interrupted (never
// best, no median printed), and measures no further row; one stopped
// during a rate keeps no row at all. The stop is keyed to the clock:
// measure reads it twice around the rate, then once per seed.
func TestInterrupted(t *testing.T) {
	sel := selectTargets(t, "race-e,race-a")
	for _, c := range []struct {
		name      string
		strategy  string
		stopAfter int // clock readings before Stop says yes
		rows      int
	}{{"during the first failure", "random", 2, 1}, {"during the rate", "random", 0, 0}, {"during the campaigns", "greybox", 0, 0}} {
		t.Run(c.name, func(t *testing.T) {
			reads := 0
			clock := fakeClock()
			cfg := &Config{Targets: sel, Strategies: []string{c.strategy}, Seed: 1, Runs: 500, Seeds: 5,
				MaxTTFRuns: 1e6, Jobs: 1, Now: func() time.Duration { reads++; return clock() },
				Stop: func() bool { return reads > c.stopAfter }, Handoff: fakeHandoff()}
			rows, err := Run(cfg)
			if err != ErrInterrupted {
				t.Fatalf("Run: %v, want ErrInterrupted", err)
			}
			if len(rows) != c.rows {
				t.Fatalf("%d rows kept, want %d", len(rows), c.rows)
			}
			if c.rows == 0 {
				return
			}
			r := rows[0]
			if !r.TTFInterrupted || r.Runs != 500 || r.Fired == 0 {
				t.Errorf("row: interrupted %v, %d/%d fired; want its whole rate and its first failure interrupted", r.TTFInterrupted, r.Fired, r.Runs)
			}
			var b bytes.Buffer
			if err := Write(&b, cfg, rows, false); err != nil {
				t.Fatal(err)
			}
			// The row of the first-failure table: strategy, median,
			// hand-offs, executions, × sooner, seeds found.
			_, ttf, _ := strings.Cut(b.String(), "first failure: median")
			lines := strings.Split(ttf, "\n")
			if f := strings.Fields(lines[min(1, len(lines)-1)]); len(f) != 6 || f[0] != "random" || f[1] != "interrupted" || f[2] != "—" || f[3] != "—" || f[4] != "—" || f[5] != "—" ||
				strings.Contains(b.String(), "random *") || strings.Contains(b.String(), "\n× sooner: ") || strings.Contains(b.String(), "\nhand-offs: ") {
				t.Errorf("want the first failure shown as interrupted, with no median, no hand-offs, no ratio, no seeds found, no best mark and no footnote for them:\n%s", b.String())
			}
			if r.TTFHandoffs != 0 || r.HandoffNs != 0 {
				t.Errorf("interrupted row: %g hand-offs at %g ns, want none", r.TTFHandoffs, r.HandoffNs)
			}
		})
	}
}

// TestFootnotes: the table explains ≈ and greybox's campaigns only when
// a row shows them.
func TestFootnotes(t *testing.T) {
	wl, err := workloads.Lookup("writeback-restart")
	if err != nil {
		t.Fatal(err)
	}
	tg := &Target{Seed: "race-x", Workload: wl, Params: wl.Defaults()}
	measured := &Row{Target: tg, Strategy: "random", Fired: 3, Runs: 10, TTFNs: 1e3, TTFRuns: 4, TTFFound: 1, TTFSeeds: 1}
	estimated := &Row{Target: tg, Strategy: "pos", Fired: 1, Runs: 10, TTFNs: 1e4, TTFRuns: 7, TTFEstimated: true}
	never := &Row{Target: tg, Strategy: "pct", Runs: 10, TTFEstimated: true}
	campaign := &Row{Target: tg, Strategy: "greybox", Fired: 2, Runs: 10, Campaigns: Campaigns, TTFNs: 1e3, TTFRuns: 3, TTFFound: 1, TTFSeeds: 1}
	units := &Row{Target: tg, Strategy: "random", Fired: 3, Runs: 10, TTFNs: 1e3, TTFRuns: 4, TTFFound: 1, TTFSeeds: 1, TTFHandoffs: 10, HandoffNs: 100}
	cfg := &Config{Runs: 10, Seeds: 1, MaxTTFRuns: 100}
	for _, c := range []struct {
		rows                                     []*Row
		approx, greybx, sooner, handoff, unfired bool
	}{
		{[]*Row{measured, never}, false, false, true, false, false},
		{[]*Row{measured, estimated}, true, false, true, false, false},
		{[]*Row{measured, campaign}, false, true, true, false, false},
		{[]*Row{estimated, campaign}, true, true, false, false, false},
		{[]*Row{never}, false, false, false, false, true},
		{[]*Row{units, never}, false, false, true, true, false},
	} {
		for _, markdown := range []bool{false, true} {
			var b bytes.Buffer
			if err := Write(&b, cfg, c.rows, markdown); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if got := strings.Contains(out, "\n≈: estimated"); got != c.approx {
				t.Errorf("markdown %v: ≈ footnote %v, want %v:\n%s", markdown, got, c.approx, out)
			}
			if got := strings.Contains(out, "\n× sooner: "); got != c.sooner {
				t.Errorf("markdown %v: × sooner footnote %v, want %v:\n%s", markdown, got, c.sooner, out)
			}
			if got := strings.Contains(out, "\nhand-offs: ") && strings.Contains(out, "took 100ns"); got != c.handoff {
				t.Errorf("markdown %v: hand-offs footnote with the sample %v, want %v:\n%s", markdown, got, c.handoff, out)
			}
			if got := strings.Contains(out, "\ngreybox: each execution"); got != c.greybx {
				t.Errorf("markdown %v: greybox footnote %v, want %v:\n%s", markdown, got, c.greybx, out)
			}
			// The command as it is pasted: in Markdown, in a code block.
			cmd := "\n  pagelab verify -workload writeback-restart -fix baseline\n    (bug-writeback)\n"
			if markdown {
				cmd = "\n```" + cmd + "```\n"
			}
			if got := strings.Contains(out, "\nnever fired: ") && strings.Contains(out, cmd); got != c.unfired {
				t.Errorf("markdown %v: never-fired footnote with its command %v, want %v:\n%s", markdown, got, c.unfired, out)
			}
			if !strings.Contains(out, "\n\n≈") && !strings.Contains(out, "\n\ngreybox") && (c.approx || c.greybx) {
				t.Errorf("markdown %v: no blank line before the footnotes:\n%s", markdown, out)
			}
			// Markdown's prose is paragraphs of one line each, and only
			// what is to be pasted is indented, in code blocks.
			if markdown {
				fence := false
				for _, l := range strings.Split(out, "\n") {
					if l == "```" {
						fence = !fence
					} else if !fence && strings.HasPrefix(l, " ") {
						t.Errorf("markdown: an indented line outside a code block: %q\n%s", l, out)
					}
				}
				if fence {
					t.Errorf("markdown: a code block left open:\n%s", out)
				}
			}
		}
	}
}

// TestSooner: the walk's median executions to the first failure over
// the row's, a lower bound when the walk never fired it, approximate when
// either median is estimated, and nothing when there is no walk or the
// row never found it.
func TestSooner(t *testing.T) {
	tg, other := &Target{Seed: "race-x"}, &Target{Seed: "race-y"}
	walk := &Row{Target: tg, Strategy: "random", Fired: 30, Runs: 10000, TTFRuns: 300, TTFFound: 5, TTFSeeds: 5}
	walkEst := &Row{Target: tg, Strategy: "random", Fired: 3, Runs: 10000, TTFRuns: 2310, TTFEstimated: true}
	walkNever := &Row{Target: tg, Strategy: "random", Runs: 10000, Hi: 3.8e-4, TTFEstimated: true}
	walkLost := &Row{Target: tg, Strategy: "random", Fired: 1, Runs: 10000, TTFRuns: math.Inf(1), TTFSeeds: 5}
	measured := &Row{Target: tg, Strategy: "pct", Fired: 90, Runs: 10000, TTFRuns: 30, TTFFound: 5, TTFSeeds: 5}
	estimated := &Row{Target: tg, Strategy: "pos", Fired: 2, Runs: 10000, TTFRuns: 3465, TTFEstimated: true}
	never := &Row{Target: tg, Strategy: "surw", Runs: 10000, TTFEstimated: true}
	budget := &Row{Target: tg, Strategy: "greybox", Fired: 5, Runs: 10000, Campaigns: Campaigns, TTFRuns: math.Inf(1), TTFFound: 2, TTFSeeds: 5}
	stopped := &Row{Target: tg, Strategy: "pct-task", Fired: 5, Runs: 10000, TTFInterrupted: true}
	elsewhere := &Row{Target: other, Strategy: "pct", Fired: 9, Runs: 10000, TTFRuns: 30, TTFFound: 5, TTFSeeds: 5}
	for _, c := range []struct {
		name              string
		walk, row         *Row
		want              float64
		lower, approx, ok bool
	}{
		{"measured over measured", walk, measured, 10, false, false, true},
		{"the walk itself", walk, walk, 1, false, false, true},
		{"estimated row", walk, estimated, 300.0 / 3465, false, true, true},
		{"estimated walk", walkEst, measured, 2310.0 / 30, false, true, true},
		{"walk never fired", walkNever, measured, math.Ln2 / 3.8e-4 / 30, true, false, true},
		{"walk never fired, row estimated", walkNever, estimated, math.Ln2 / 3.8e-4 / 3465, true, true, true},
		{"walk lost half its seeds", walkLost, measured, 0, false, false, false},
		{"row never fired", walk, never, 0, false, false, false},
		{"row past its budget", walk, budget, 0, false, false, false},
		{"row interrupted", walk, stopped, 0, false, false, false},
		{"no walk for the target", walk, elsewhere, 0, false, false, false},
	} {
		got, lower, approx, ok := Sooner([]*Row{c.walk, c.row}, c.row)
		if ok != c.ok || lower != c.lower || approx != c.approx || math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("%s: Sooner = %g, lower %v, approx %v, ok %v; want %g, %v, %v, %v",
				c.name, got, lower, approx, ok, c.want, c.lower, c.approx, c.ok)
		}
	}
}

// TestRatioInterval: a sampler's ratio to the walk carries its 95%
// interval, open above when the walk never fired it; the walk's own row,
// greybox's campaigns and a target without a walk carry none; and the
// text shows it beside the ratio, with its footnote.
func TestRatioInterval(t *testing.T) {
	tg, other := &Target{Seed: "race-x"}, &Target{Seed: "race-y"}
	walk := &Row{Target: tg, Strategy: "random", Fired: 1, Runs: 100_000_000}
	walkNever := &Row{Target: tg, Strategy: "random", Runs: 1_000_000, Hi: 3.8e-6}
	row := &Row{Target: tg, Strategy: "pct-task", Depth: 14, Fired: 10, Runs: 20_000_000}
	once := &Row{Target: tg, Strategy: "pct-task", Depth: 6, Fired: 1, Runs: 100_000}
	campaign := &Row{Target: tg, Strategy: "greybox", Fired: 50, Runs: 100_000, Campaigns: Campaigns}
	elsewhere := &Row{Target: other, Strategy: "pos", Fired: 5, Runs: 100_000}
	for _, c := range []struct {
		name     string
		rows     []*Row
		row      *Row
		text     string // the ratio's cell
		ok       bool
		lo, hi   float64
		infinite bool
		footnote bool // some row of rows has an interval
	}{
		{"both fired", []*Row{walk, row}, row, "50 [7.1, 2.2e+03]", true, 7.112992, 2169.885, false, true},
		{"the walk never fired", []*Row{walkNever, once}, once, "≥ 2.63 [0.26, ∞]", true, 0.2564, 0, true, true},
		{"the walk itself", []*Row{walk, row}, walk, "1", false, 0, 0, false, true},
		{"greybox", []*Row{walk, campaign}, campaign, "5e+04", false, 0, 0, false, false},
		{"no walk", []*Row{walk, elsewhere}, elsewhere, "—", false, 0, 0, false, false},
	} {
		lo, hi, ok := RatioInterval(c.rows, c.row)
		if ok != c.ok || ok && (!near(lo, c.lo, 1e-3) || c.infinite != math.IsInf(hi, 1) || !c.infinite && !near(hi, c.hi, 1e-5)) {
			t.Errorf("%s: RatioInterval = [%g, %g] ok %v; want [%g, %g] (open %v) ok %v", c.name, lo, hi, ok, c.lo, c.hi, c.infinite, c.ok)
		}
		var b bytes.Buffer
		if err := Write(&b, &Config{Runs: c.row.Runs, Seeds: 1, MaxTTFRuns: 100}, c.rows, true); err != nil {
			t.Fatal(err)
		}
		if want := " | " + c.text + " | "; !strings.Contains(b.String(), want) {
			t.Errorf("%s: no cell %q in\n%s", c.name, want, b.String())
		}
		b.Reset()
		if err := Write(&b, &Config{Runs: c.row.Runs, Seeds: 1, MaxTTFRuns: 100}, c.rows, false); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "\n× random: "); got != c.footnote {
			t.Errorf("%s: × random footnote %v, want %v:\n%s", c.name, got, c.footnote, b.String())
		}
	}
}

// TestHandoffResample: a row's seeds are counted in the hand-off sample
// taken last before each, a new one once HandoffResample has passed, and
// the row's hand-offs are the median of the seeds' times over their
// samples.
func TestHandoffResample(t *testing.T) {
	sel := selectTargets(t, "race-e")
	// Each reading of the clock is 300 ms after the last: a seed takes
	// 300 ms, and the seeds 0, 2 and 4 find the last sample a second
	// old or more.
	var now time.Duration
	samples := 0
	cfg := &Config{Targets: sel, Strategies: []string{"random"}, Seed: 1, Runs: 500, Seeds: 5, MaxTTFRuns: 1e6, Jobs: 1,
		Now:     func() time.Duration { now += 300 * time.Millisecond; return now },
		Handoff: func() (float64, error) { samples++; return float64(100 * samples), nil }}
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	// Seeds 0 and 1 against 100 ns, 2 and 3 against 200, 4 against 300:
	// 3e6, 3e6, 1.5e6, 1.5e6, 1e6 hand-offs.
	if samples != 3 || r.HandoffNs != 200 || r.TTFHandoffs != 1.5e6 || r.TTFNs != 3e8 {
		t.Errorf("%d samples; row: %g hand-offs at %g ns, %g ns; want 3 samples, 1.5e6 hand-offs at 200 ns, 3e8 ns", samples, r.TTFHandoffs, r.HandoffNs, r.TTFNs)
	}
	// A failing Handoff fails the hunt.
	cfg.Handoff = func() (float64, error) { return 0, errors.New("no hand-off") }
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "no hand-off") {
		t.Errorf("Run with a failing hand-off: %v", err)
	}
}

// TestBestInHandoffs: with every row counted in hand-offs, the best is
// the fewest hand-offs, not the shortest time (the machine slowed down
// between the rows); with one row not, the times decide.
func TestBestInHandoffs(t *testing.T) {
	wl, err := workloads.Lookup("writeback-restart")
	if err != nil {
		t.Fatal(err)
	}
	tg := &Target{Seed: "race-x", Workload: wl, Params: wl.Defaults()}
	fast := &Row{Target: tg, Strategy: "random", Fired: 3, Runs: 10, TTFNs: 1e6, TTFFound: 1, TTFSeeds: 1, TTFHandoffs: 1e4, HandoffNs: 100}
	slow := &Row{Target: tg, Strategy: "pos", Fired: 3, Runs: 10, TTFNs: 1.5e6, TTFFound: 1, TTFSeeds: 1, TTFHandoffs: 5e3, HandoffNs: 300}
	if b := Best([]*Row{fast, slow})[tg]; b != slow {
		t.Errorf("best %s, want pos (fewer hand-offs)", b.Strategy)
	}
	bare := *slow
	bare.TTFHandoffs, bare.HandoffNs = 0, 0
	if b := Best([]*Row{fast, &bare})[tg]; b != fast {
		t.Errorf("best %s without pos's hand-offs, want random (shorter time)", b.Strategy)
	}
}

// TestBestEstimates: a median estimated from a rate counts at its
// interval's slow end, so two firings do not beat a measured median that
// their point estimate only just undercuts (the README's race-b-thp at
// 1810f14: pct-point d=6's 2 in 100,000, ≈ 5.34M hand-offs, against
// greybox's measured 5.82M), while a sharp estimate, or one with nothing
// measured beside it, still can be best (4,000 in 10,000,000: ≈ 5M,
// at most 5.2M).
func TestBestEstimates(t *testing.T) {
	wl, err := workloads.Lookup("writeback-reuse")
	if err != nil {
		t.Fatal(err)
	}
	tg := &Target{Seed: "race-x", Workload: wl, Params: wl.Defaults()}
	estimate := func(strategy string, fired, runs int, handoffs float64) *Row {
		r := &Row{Target: tg, Strategy: strategy, Fired: fired, Runs: runs, TTFEstimated: true, TTFSeeds: 100,
			TTFNs: handoffs * 90, TTFRuns: math.Ln2 * float64(runs) / float64(fired), TTFHandoffs: handoffs, HandoffNs: 90}
		r.Lo, r.Hi = bench.Wilson(fired, runs)
		return r
	}
	measured := &Row{Target: tg, Strategy: "greybox", Fired: 18, Runs: 100000, Campaigns: 10, CampaignsFired: 1,
		TTFNs: 517e6, TTFRuns: 20937, TTFFound: 81, TTFSeeds: 100, TTFHandoffs: 5.82e6, HandoffNs: 89}
	twice := estimate("pct-point", 2, 100000, 5.34e6)
	sharp := estimate("pct-task", 4000, 10000000, 5e6)
	never := &Row{Target: tg, Strategy: "random", Runs: 100000, TTFEstimated: true, TTFSeeds: 100}
	for _, c := range []struct {
		rows []*Row
		want *Row
	}{
		{[]*Row{never, twice, measured}, measured},
		{[]*Row{never, measured, sharp}, sharp},
		{[]*Row{never, twice}, twice},
		{[]*Row{twice, sharp}, sharp},
	} {
		if got := Best(c.rows)[tg]; got != c.want {
			t.Errorf("Best of %d rows = %v, want %s", len(c.rows), got, c.want.Strategy)
		}
	}
}

// TestParsePCTPoint: pct-point takes a depth, a focus, or both, depth first.
func TestParsePCTPoint(t *testing.T) {
	for _, c := range []struct {
		spec  string
		depth int
		focus string
		bad   bool
	}{
		{spec: "pct-point"},
		{spec: "pct-point:30", depth: 30},
		{spec: "pct-point:xa-slot", focus: "xa-slot"},
		{spec: "pct-point:30:xa-slot+page-index", depth: 30, focus: "xa-slot+page-index"},
		{spec: "pct-point:30:", bad: true},
		{spec: "pct-point:0:lock", bad: true},
		{spec: "pct-point:65", bad: true},
		{spec: "pct-point:bogus", bad: true},
		{spec: "pct-point:lock:30", bad: true},
		{spec: "pct-task:lock", bad: true},
		{spec: "pct-point:all", focus: FocusAll},
		{spec: "pct-point:30:all", depth: 30, focus: FocusAll},
		{spec: "pct-point:all:30", bad: true},
	} {
		s, err := ParseStrategy(c.spec)
		switch {
		case c.bad && err == nil:
			t.Errorf("ParseStrategy(%q) = %+v, want an error", c.spec, s)
		case !c.bad && err != nil:
			t.Errorf("ParseStrategy(%q): %v", c.spec, err)
		case !c.bad && (s.Name != "pct-point" || s.Depth != c.depth || s.Focus != c.focus):
			t.Errorf("ParseStrategy(%q) = %+v, want depth %d focus %q", c.spec, s, c.depth, c.focus)
		}
	}
}

// TestSamplerKey: two specs are one sampler when they agree once the
// hunt's depth fills in a depth the spec left out, and only then.
func TestSamplerKey(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		depth int
		same  bool
	}{
		{"pct", "pct:3", 3, true},
		{"pct", "pct:3", 6, false},
		{"pct-point:xa-slot", "pct-point:14:xa-slot", 14, true},
		{"pct-point:14:xa-slot", "pct-point:14:lock", 14, false},
		{"pct-task:6", "pct-racy:6", 6, false},
		{"greybox", "greybox:3", 3, false}, // -depth is not greybox's bound
		{"surw", "surw:i_size", 3, false},
		{"random", "random", 14, true},
		{"surw:all", "surw:all", 3, true},
	} {
		a, err := ParseStrategy(c.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseStrategy(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if same := a.Key(c.depth) == b.Key(c.depth); same != c.same {
			t.Errorf("%q and %q at depth %d: same sampler %v, want %v", c.a, c.b, c.depth, same, c.same)
		}
	}
}

// FuzzParseStrategy: a strategy spec either parses to a known sampler (with
// a depth in range only for the PCT variants and greybox, a focus that parses only
// for surw and pct-point) or is refused with an error that names the spec.
func FuzzParseStrategy(f *testing.F) {
	for _, s := range []string{"random", "pct:3", "pct-task:6", "pos:2", "surw", "surw:i_size", "surw:PG_writeback+page-ref", "surw:", "surw:x", "x", "pct:", "pct:65", "pct-task:64", ":3", "pct-racy:-1", "greybox:2", "greybox:0", "pct-point", "pct-point:30", "pct-point:xa-slot", "pct-point:30:xa-slot", "pct-point:30:", "pct-point:x:y", "pct-point:0:lock", "pct-point::lock", "pct-irq", "pct-irq:6", "pct-irq:i_size", "surw:all", "pct-point:14:all", "greybox:all"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseStrategy(spec)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(spec)) {
				t.Errorf("error %q does not name %q", err, spec)
			}
			return
		}
		known := slices.Contains(Samplers, s.Name)
		_, focusErr := mm.ParseFocus(s.Focus)
		if s.Focus == FocusAll {
			focusErr = nil // a sweep: Expand finds its foci
		}
		switch {
		case !known, s.Depth < 0 || s.Depth > bench.MaxDepth,
			s.Depth > 0 && bench.DepthOf(s.Name, s.Depth) == 0,
			s.Focus != "" && (!bench.TakesFocus(s.Name) || focusErr != nil):
			t.Errorf("ParseStrategy(%q) = %+v", spec, s)
		}
	})
}

// checkMerged: a sweep's rows of one sampler cover every focus of want,
// in want's order, each in a row of its own or standing in an earlier
// one (Row.Same) with the same focus key (bench.FocusKey); no two rows
// have the same key, and some row stands for another focus (else the
// test checks too little).
func checkMerged(t *testing.T, name string, rows []*Row, want []string, key func(string) string) {
	t.Helper()
	var covered []string
	seen := map[string]string{}
	merged := 0
	for _, r := range rows {
		k := key(r.Focus)
		if prev, ok := seen[k]; ok {
			t.Errorf("%s rows %s and %s have the same key %s", name, prev, r.Focus, k)
		}
		seen[k] = r.Focus
		covered = append(covered, r.Focus)
		for _, f := range r.Same {
			if key(f) != k {
				t.Errorf("%s focus=%s stands for %s, whose key differs", name, r.Focus, f)
			}
			covered = append(covered, f)
			merged++
		}
	}
	order := func(f string) int { return slices.Index(want, f) }
	slices.SortFunc(covered, func(a, b string) int { return order(a) - order(b) })
	if !slices.Equal(covered, want) {
		t.Errorf("%s rows and the foci they stand for %v, want %v", name, covered, want)
	}
	if merged == 0 {
		t.Errorf("no %s row stands for another focus: the test checks too little", name)
	}
	for i := 1; i < len(rows); i++ {
		if order(rows[i-1].Focus) > order(rows[i].Focus) {
			t.Errorf("%s rows out of order: %s before %s", name, rows[i-1].Focus, rows[i].Focus)
		}
	}
}

// TestSweep: surw:all is a row per focus surw accepts on the target (every
// object kind, then every page flag, a profiled step touched), a focus the
// hunt lists itself keeping its own row; pct-point:d:all a row per focus a
// racy step touches, each at depth d, but one row for the foci that keep
// the same racy points (they would run the same executions), named by
// the first and standing for the rest; the footnotes name an unused seed
// and the foci a row stands for. On the tail flavour of
// thp-truncate-opens the sweep finds nrpages, the count the second
// truncation must read before the first one's deletion lowers it, at
// many times the walk's rate.
func TestSweep(t *testing.T) {
	tg := selectTargets(t, "thp-truncate-opens-tail")
	cfg := &Config{Targets: tg, Strategies: []string{"random", "surw:all", "surw:xa-slot", "pct-point:14:all"}, Depth: 3, Seed: 1,
		Runs: 2000, Seeds: 3, MaxTTFRuns: 20000, Jobs: 2, Now: fakeClock()}
	planned, finished := -1, 0
	cfg.Planned = func(n int) {
		if planned >= 0 || finished > 0 {
			t.Errorf("Planned(%d) after Planned(%d) and %d rows", n, planned, finished)
		}
		planned = n
	}
	cfg.Progress = func(*Row) { finished++ }
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The progress bar's total: the rows the sweep expands to.
	if planned != len(rows) || finished != len(rows) {
		t.Errorf("Planned %d rows and finished %d, Run returned %d", planned, finished, len(rows))
	}
	v := tg[0].variant()
	prof, err := bench.CellProfile(cellConfig(cfg, tg[0], Sampler{Name: "surw"}, v, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	// The object kinds, then the page flags.
	var kinds, flags []string
	for _, f := range mm.FocusNamesOf(prof.Objects()) {
		if strings.HasPrefix(f, "PG_") {
			flags = append(flags, f)
		} else {
			kinds = append(kinds, f)
		}
	}
	touched := append(kinds, flags...)
	var surw, pp []*Row
	var walk, nrpages *Row
	for _, r := range rows {
		switch r.Strategy {
		case "random":
			walk = r
		case "surw":
			surw = append(surw, r)
			if r.Focus == "nrpages" || slices.Contains(r.Same, "nrpages") {
				nrpages = r
			}
		case "pct-point":
			pp = append(pp, r)
			if r.Depth != 14 {
				t.Errorf("pct-point focus=%s at depth %d, want the sweep's 14", r.Focus, r.Depth)
			}
		}
	}
	// The explicit surw:xa-slot keeps its own row, after the sweep's.
	if last := surw[len(surw)-1]; last.Focus != "xa-slot" || len(last.Same) > 0 {
		t.Errorf("last surw row focus=%s standing for %v, want surw:xa-slot's own", last.Focus, last.Same)
	}
	key := func(name string, depth int) func(string) string {
		return func(f string) string {
			k, err := bench.FocusKey(cellConfig(cfg, tg[0], Sampler{Name: name, Depth: depth, Focus: f}, v, 1, 1))
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(k, ",")
		}
	}
	checkMerged(t, "surw", surw[:len(surw)-1], slices.DeleteFunc(slices.Clone(touched), func(f string) bool { return f == "xa-slot" }), key("surw", 0))
	racy := mm.FocusNamesOf(prof.RacyObjects())
	checkMerged(t, "pct-point", pp, slices.DeleteFunc(slices.Clone(touched), func(f string) bool { return !slices.Contains(racy, f) }), key("pct-point", 14))
	if walk == nil || nrpages == nil || nrpages.Rate() < 5*walk.Rate() {
		t.Fatalf("surw focused on nrpages: %+v, want over 5x the walk's %+v", nrpages, walk)
	}
	var b bytes.Buffer
	if err := Write(&b, cfg, rows, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "\nsurw:all, pct-point:14:all: a sweep") || !strings.Contains(out, "-seed 14,") {
		t.Errorf("no sweep footnote naming seed 14 (1 + 3 seeds + 10 campaigns):\n%s", out)
	}
	if !strings.Contains(out, "\none row for several foci: ") {
		t.Errorf("no footnote for the rows that stand for several foci:\n%s", out)
	}
	// Race C2 touches PG_reclaim and PG_private only in steps that race
	// with none: pct-point's sweep leaves them out.
	tg = selectTargets(t, "race-c2")
	cfg = &Config{Targets: tg, Strategies: []string{"pct-point:6:all"}, Depth: 3, Seed: 1, Runs: 200, Seeds: 1, MaxTTFRuns: 1000, Jobs: 1, Now: fakeClock()}
	if rows, err = Run(cfg); err != nil {
		t.Fatal(err)
	}
	var covered []string
	for _, r := range rows {
		covered = append(covered, r.Focus)
		covered = append(covered, r.Same...)
	}
	for _, f := range []string{"PG_reclaim", "PG_private", "PG_dirty", "page-flag"} {
		if got, want := slices.Contains(covered, f), !strings.HasPrefix(f, "PG_r") && f != "PG_private"; got != want {
			t.Errorf("race C2's pct-point sweep: %s covered %v, want %v (rows and foci %v)", f, got, want, covered)
		}
	}
}

// near compares with a relative tolerance.
func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Abs(b) }

// TestCustom: a custom target runs under its own fix and parameters and
// is named by them; targets of one cell share its profile, timed once.
func TestCustom(t *testing.T) {
	wl, err := workloads.Lookup("writeback-restart")
	if err != nil {
		t.Fatal(err)
	}
	v58, err := wl.ParseFix("v5.8")
	if err != nil {
		t.Fatal(err)
	}
	def, err := wl.ParseParams(nil)
	if err != nil {
		t.Fatal(err)
	}
	bw, _ := mm.ParseFailure("bug-writeback")
	early, _ := mm.ParseFailure("fsync-early")
	base := Custom(wl, nil, def, bw)
	fixed := Custom(wl, v58, def, bw)
	fixedEarly := Custom(wl, v58, def, early)
	raceA := selectTargets(t, "race-a")
	if got, want := raceA[0].Under(v58).Name(), "race-a/v5.8 bug-writeback"; got != want {
		t.Errorf("a seed under v5.8: Name() = %q, want %q", got, want)
	}
	if got, want := raceA[0].Under(baseline).Name(), "race-a bug-writeback"; got != want || raceA[0].Name() != want {
		t.Errorf("a seed under its own fix: Name() = %q (and %q), want %q", got, raceA[0].Name(), want)
	}
	if got, want := fixed.Name(), "writeback-restart/v5.8 bug-writeback"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if got, want := base.Name(), "writeback-restart/baseline bug-writeback"; got != want {
		t.Errorf("Name() of a target without a fix = %q, want %q", got, want)
	}
	var pairs []string
	for _, p := range wl.Params[:1] {
		pairs = append(pairs, fmt.Sprintf("%s=%d", p.Name, p.Default+1))
	}
	other, err := wl.ParseParams(pairs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Custom(wl, v58, other, bw).Name(), "writeback-restart/v5.8 "+pairs[0]+" bug-writeback"; got != want {
		t.Errorf("Name() with a parameter = %q, want %q", got, want)
	}

	// The clock's steps grow, 1µs, 2µs, 3µs, ...: no two timings of the
	// profile could agree by chance.
	var now, step time.Duration
	clock := func() time.Duration { step += time.Microsecond; now += step; return now }
	cfg := &Config{Targets: []*Target{base, fixed, fixedEarly}, Strategies: []string{"random", "pct-task:6"}, Seed: 1,
		Runs: 5000, ReferenceRuns: 5000, Seeds: 2, MaxTTFRuns: 1, Jobs: 2, Now: clock}
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rows))
	}
	// pct-task at depth 6 fires race A's BUG_ON under the baseline
	// (0.0022 per execution); v5.8 waits for writeback in a loop, and the
	// exhaustive search finds no interleaving that fires it or an early
	// fsync: neither may fire here.
	if rows[1].Fired == 0 {
		t.Errorf("baseline pct-task: fired 0 of %d, want race A's BUG_ON", rows[1].Runs)
	}
	for _, r := range rows[2:] {
		if r.Fired != 0 {
			t.Errorf("%s %s: fired %d under v5.8", r.Target.Name(), r.Label(), r.Fired)
		}
	}
	if rows[1].ProfileNs <= 0 || rows[3].ProfileNs <= 0 || rows[5].ProfileNs != rows[3].ProfileNs {
		t.Errorf("profiles: baseline %v, v5.8 %v and %v: want the two v5.8 targets to share one cell's time",
			rows[1].ProfileNs, rows[3].ProfileNs, rows[5].ProfileNs)
	}
	// The targets nothing fired are named with the command that would
	// search every interleaving of their cell, once per cell.
	if got := Unfired(rows); !slices.Equal(got, []*Target{fixed, fixedEarly}) {
		t.Errorf("Unfired = %v, want the two v5.8 targets", got)
	}
	var b bytes.Buffer
	if err := Write(&b, cfg, rows, false); err != nil {
		t.Fatal(err)
	}
	if want := "\n  pagelab verify -workload writeback-restart -fix v5.8\n    (bug-writeback, fsync-early)\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("table does not end with %q:\n%s", want, b.String())
	}
}

// TestWriteInterrupted: a hunt that Stop ended says so above its
// footnotes, in the text and the Markdown, with the rows it finished of
// those it planned and whether the last is only a rate; one that ran to
// its end does not.
func TestWriteInterrupted(t *testing.T) {
	sel := selectTargets(t, "race-a,race-d-index")
	cfg := &Config{Targets: sel, Strategies: []string{"random", "pct-task:6"}, Depth: 3, Seed: 1, Runs: 200, Seeds: 2,
		MaxTTFRuns: 1, Jobs: 1, Now: fakeClock()}
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, markdown := range []bool{false, true} {
		var b bytes.Buffer
		if err := Write(&b, cfg, rows, markdown); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "interrupted") {
			t.Errorf("a finished hunt says it was interrupted:\n%s", b.String())
		}
	}
	// Stopped once the first row is finished: the second row's rate is
	// cut short and dropped.
	done := 0
	cfg.Progress = func(r *Row) { done++ }
	cfg.Stop = func() bool { return done > 0 }
	rows, err = Run(cfg)
	if !errors.Is(err, ErrInterrupted) || len(rows) != 1 {
		t.Fatalf("Run: %d rows, %v; want 1, interrupted", len(rows), err)
	}
	check := func(rows []*Row, want string, cut bool) {
		t.Helper()
		for _, markdown := range []bool{false, true} {
			var b bytes.Buffer
			if err := Write(&b, cfg, rows, markdown); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !markdown {
				out = strings.Join(strings.Fields(out), " ") // unwrapped
			}
			if !strings.Contains(out, want) || strings.Contains(out, "the row it stopped in") != cut {
				t.Errorf("markdown %v: want %q, the row stopped in %v, in:\n%s", markdown, want, cut, out)
			}
		}
	}
	check(rows, "interrupted: the hunt was stopped; the table holds the 1 of 4 planned rows it finished", false)
	// Stopped while timing the second row's first failure: its rate is
	// kept, and said to be all there is of it.
	second := *rows[0]
	second.Strategy, second.TTFInterrupted = "pct-task:6", true
	check(append(rows, &second), "the table holds the 1 of 4 planned rows it finished, and the rate of the row it stopped in (its first failure not measured)", true)
}
