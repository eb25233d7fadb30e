package hunt

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
)

// TestREADMETables: the README's search-power tables say what this package
// would print for their own counts. A hunt's counts are deterministic per
// seed, but its intervals were sometimes worked out by hand for the
// README (the ratio's interval was added after the table was measured),
// and a figure copied or rounded by hand can drift from its counts. For
// every row of the hunt table and of the focused walks' table, the rate's
// Wilson interval and the "× random" cell (the ratio to the same target's
// random walk in the hunt table, with its exact interval) are computed
// again, through rateCI and ratioCell, from the row's fired/runs, and
// must read as the README prints them. A greybox row's interval is
// Student's t over its ten campaigns, whose counts the table does not
// give: only its rate and its ratio are checked.
func TestREADMETables(t *testing.T) {
	tables, byName := readmeHunt(t)
	main := findTable(t, tables, mainHeader)
	focused := findTable(t, tables, focusedHeader)

	rows := make([]*Row, len(main.rows))
	for i, cells := range main.rows {
		rows[i] = readmeRow(t, main, cells, byName)
	}
	if len(rows) < 10 {
		t.Fatalf("the hunt table has %d rows: not the table this test reads", len(rows))
	}
	for i, r := range rows {
		checkREADMERow(t, main, main.rows[i], rows, r)
	}
	checkREADMEBest(t, main, rows)
	if len(focused.rows) == 0 {
		t.Fatal("the focused walks' table has no rows")
	}
	// Every default strategy has a row for every target, but pct-irq and
	// greybox-irq for a target whose I/O completions take no racy step
	// (Run leaves them out).
	want := 0
	for _, tg := range byName {
		for _, spec := range Strategies {
			s, err := ParseStrategy(spec)
			if err != nil {
				t.Fatal(err)
			}
			if bench.OnCompletions(s.Name) {
				c := &bench.Config{Workload: tg.Workload, Params: tg.Params, Variant: tg.variant(), Strategy: s.Name, Seed: 1, Runs: 1}
				if err := bench.CheckCompletions(c); err != nil {
					if ce := (*bench.CompletionsError)(nil); !errors.As(err, &ce) {
						t.Fatal(err)
					}
					continue
				}
			}
			want++
		}
	}
	if len(rows) != want {
		t.Errorf("the hunt table has %d rows, want %d (%d targets, %d strategies, pct-irq and greybox-irq only where a completion races: make hunt)", len(rows), want, len(byName), len(Strategies))
	}
	for _, cells := range focused.rows {
		r := readmeRow(t, focused, cells, byName)
		if r.Focus == "" {
			t.Errorf("focused walks' row %q has no focus", cells[focused.col["strategy"]])
		}
		// Its ratio is to the hunt table's walk of the same target.
		checkREADMERow(t, focused, cells, append(rows[:len(rows):len(rows)], r), r)
	}
}

// The headers of the README's hunt table and its focused walks' table.
const (
	mainHeader    = "| target | strategy | fired/runs | rate [95% CI] | × random [95% CI] | first failure: median |"
	focusedHeader = "| target | strategy | fired/runs | rate [95% CI] | × random [95% CI] | first failure |"
)

// readmeHunt is the README's Markdown tables and the hunt's targets by
// name.
func readmeHunt(t *testing.T) ([]*mdTable, map[string]*Target) {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	targets, err := Targets()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Target{}
	for _, tg := range targets {
		byName[tg.Name()] = tg
	}
	return readmeTables(string(data)), byName
}

// mdTable is one Markdown table of the README: its header line, its
// columns by name and its rows' cells.
type mdTable struct {
	header string
	col    map[string]int
	rows   [][]string
}

// readmeTables are the README's Markdown tables, in order.
func readmeTables(text string) []*mdTable {
	var out []*mdTable
	var cur *mdTable
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "|") {
			cur = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case cur == nil:
			cur = &mdTable{header: line, col: map[string]int{}}
			for i, c := range cells {
				cur.col[c] = i
			}
			out = append(out, cur)
		case strings.HasPrefix(line, "|---"):
		default:
			cur.rows = append(cur.rows, cells)
		}
	}
	return out
}

// findTable is the one table whose header line starts with prefix.
func findTable(t *testing.T, tables []*mdTable, prefix string) *mdTable {
	t.Helper()
	var found *mdTable
	for _, tb := range tables {
		if strings.HasPrefix(tb.header, prefix) {
			if found != nil {
				t.Fatalf("two README tables have the header %q", prefix)
			}
			found = tb
		}
	}
	if found == nil {
		t.Fatalf("no README table has the header %q", prefix)
	}
	return found
}

// readmeRow is the Row a README line stands for: its target, strategy
// (with depth or focus), fired/runs, the Wilson interval of those and,
// for greybox, its campaigns.
func readmeRow(t *testing.T, tb *mdTable, cells []string, byName map[string]*Target) *Row {
	t.Helper()
	if len(cells) != len(tb.col) {
		t.Fatalf("README row %q: %d cells under a header of %d", cells, len(cells), len(tb.col))
	}
	target := cells[tb.col["target"]]
	r := &Row{Target: byName[target]}
	if r.Target == nil {
		t.Fatalf("README row of unknown target %q", target)
	}
	label := strings.TrimSuffix(cells[tb.col["strategy"]], " *")
	fields := strings.Fields(label)
	r.Strategy = fields[0]
	for _, arg := range fields[1:] {
		switch {
		case strings.HasPrefix(arg, "d="):
			d, err := strconv.Atoi(arg[2:])
			if err != nil {
				t.Fatalf("README row %s %q: %v", target, label, err)
			}
			r.Depth = d
		case strings.HasPrefix(arg, "focus="):
			r.Focus = arg[len("focus="):]
		default:
			t.Fatalf("README row %s: strategy %q", target, label)
		}
	}
	if r.Label() != label {
		t.Fatalf("README row %s: strategy %q reads back as %q", target, label, r.Label())
	}
	fired := cells[tb.col["fired/runs"]]
	if n, _ := fmt.Sscanf(fired, "%d/%d (%d/%d)", &r.Fired, &r.Runs, &r.CampaignsFired, &r.Campaigns); n != 2 && n != 4 {
		t.Fatalf("README row %s %s: fired/runs %q", target, label, fired)
	}
	if (r.Campaigns > 0) != bench.Adaptive(r.Strategy) {
		t.Fatalf("README row %s %s: campaigns %q, want them for greybox and greybox-irq alone", target, label, fired)
	}
	r.Lo, r.Hi = bench.Wilson(r.Fired, r.Runs)
	return r
}

// checkREADMERow compares a row's rate and ratio cells with what rateCI
// and ratioCell print for its counts among rows.
func checkREADMERow(t *testing.T, tb *mdTable, cells []string, rows []*Row, r *Row) {
	t.Helper()
	name := r.Target.Name() + " " + r.Label()
	rate, want := cells[tb.col["rate [95% CI]"]], rateCI(r)
	if r.Campaigns > 0 {
		// Student's t over campaigns the table does not list: the rate
		// alone.
		rate, _, _ = strings.Cut(rate, " [")
		want, _, _ = strings.Cut(want, " [")
	}
	if rate != want {
		t.Errorf("%s: README's rate %q, its counts give %q", name, rate, want)
	}
	if got, want := cells[tb.col["× random [95% CI]"]], ratioCell(rows, r); got != want {
		t.Errorf("%s: README's × random %q, its counts give %q", name, got, want)
	}
}

// TestREADMECountsReproduce: the README's counts are what this revision's
// model and samplers produce. A hunt's rate is deterministic per seed
// (whatever -j), so a row rerun at the hunt's seed 1 must fire exactly as
// often as the README says; a change to the model or to a sampler that
// moves it means the tables describe another program, and must be
// regenerated (make hunt) with the change. The rows are the cheap ones
// (about 13 s in all on the 2-core machine), one or more of every
// independent strategy the tables have and of every race, the walk's
// 1,000,000-execution reference included; the whole table takes 32 to
// 106 minutes (make hunt); 57 of its rows, rerun when this test was
// written, matched every count.
func TestREADMECountsReproduce(t *testing.T) {
	tables, byName := readmeHunt(t)
	main := findTable(t, tables, mainHeader)
	focused := findTable(t, tables, focusedHeader)
	for _, c := range []struct {
		tb            *mdTable
		target, label string
	}{
		{main, "race-a bug-writeback", "random"},
		{main, "race-a bug-writeback", "pct-task d=6"},
		{main, "race-b-truncate-debug bad-page", "pct-task d=14"},
		{main, "race-c1 bug-no-buffers", "pct d=3"},
		{main, "race-c1 bug-no-buffers", "pct-racy d=3"},
		{main, "race-c2 unstable-write", "racefuzz"},
		{main, "race-d-tail vm-bug-tail", "pct-task d=30"},
		{main, "thp-truncate-opens vm-bug-index", "pos"},
		{main, "thp-truncate-opens vm-bug-index", "pct-point d=30"},
		{main, "race-e-fallocate bug-not-locked", "surw"},
		{focused, "race-e-fallocate bug-not-locked", "surw focus=i_size"},
		{focused, "thp-truncate-opens vm-bug-index", "pct-point d=30 focus=xa-slot"},
		{focused, "thp-truncate-opens-tail vm-bug-tail", "surw focus=nrpages"},
		{focused, "race-b-thp vm-bug-tail", "pct-point d=30 focus=PG_waiters"},
	} {
		var want *Row
		for _, cells := range c.tb.rows {
			if cells[c.tb.col["target"]] == c.target && strings.TrimSuffix(cells[c.tb.col["strategy"]], " *") == c.label {
				want = readmeRow(t, c.tb, cells, byName)
			}
		}
		if want == nil {
			t.Errorf("no README row %s %s", c.target, c.label)
			continue
		}
		spec := Sampler{Name: want.Strategy, Depth: want.Depth, Focus: want.Focus}.Spec()
		cfg := &Config{Targets: []*Target{want.Target}, Strategies: []string{spec}, Depth: 3, Seed: 1,
			Runs: want.Runs, ReferenceRuns: want.Runs, Seeds: 1, MaxTTFRuns: 1, Jobs: 2, Now: fakeClock()}
		rows, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[0]; got.Fired != want.Fired || got.Runs != want.Runs {
			t.Errorf("%s %s: fired %d/%d at seed 1, the README says %d/%d: regenerate its tables (make hunt)",
				c.target, c.label, got.Fired, got.Runs, want.Fired, want.Runs)
		}
	}
}

// checkREADMEBest: the hunt table's '*' marks are what Best makes of the
// rows' own first failures as the table prints them (in hand-offs, three
// significant figures, "≈" for an estimate): per target, one marked row,
// a candidate of Best's, and no candidate ranked strictly before it. (A
// tie in the printed figures, which Best broke on unprinted digits, is
// let stand.)
func checkREADMEBest(t *testing.T, tb *mdTable, rows []*Row) {
	t.Helper()
	marked := map[*Target]*Row{}
	for i, cells := range tb.rows {
		r := rows[i]
		readmeFirstFailure(t, tb, cells, r)
		if strings.HasSuffix(cells[tb.col["strategy"]], " *") {
			if marked[r.Target] != nil {
				t.Errorf("%s: two rows marked *", r.Target.Name())
			}
			marked[r.Target] = r
		}
	}
	for _, r := range rows {
		m := marked[r.Target]
		switch {
		case m == nil:
			if bestCandidate(r) {
				t.Errorf("%s: no row marked *, but %s found it", r.Target.Name(), r.Label())
				marked[r.Target] = r // one complaint per target
			}
		case r == m && !bestCandidate(r):
			t.Errorf("%s: %s is marked * but is no candidate of Best's", r.Target.Name(), r.Label())
		case bestCandidate(r) && bestKey(r, true) < bestKey(m, true):
			t.Errorf("%s: %s is marked * (%.3g hand-offs as Best counts them), but %s is sooner (%.3g): Best marks it",
				r.Target.Name(), m.Label(), bestKey(m, true), r.Label(), bestKey(r, true))
		}
	}
}

// readmeFirstFailure reads a hunt-table row's first failure into r: the
// median's cell ("never", "> budget", "interrupted", "≈ " for an
// estimate), its hand-offs and its found/seeds.
func readmeFirstFailure(t *testing.T, tb *mdTable, cells []string, r *Row) {
	t.Helper()
	name := r.Target.Name() + " " + r.Label()
	ttf := cells[tb.col["first failure: median"]]
	switch {
	case ttf == "never":
		r.TTFNs = 0
	case ttf == "> budget":
		r.TTFNs = math.Inf(1)
	case ttf == "interrupted":
		r.TTFInterrupted = true
	default:
		r.TTFEstimated = strings.HasPrefix(ttf, "≈ ")
		h := strings.TrimPrefix(cells[tb.col["hand-offs"]], "≈ ")
		mult := 1.0
		for suffix, m := range map[string]float64{"k": 1e3, "M": 1e6, "G": 1e9} {
			if strings.HasSuffix(h, suffix) {
				h, mult = strings.TrimSuffix(h, suffix), m
			}
		}
		v, err := strconv.ParseFloat(h, 64)
		if err != nil {
			t.Fatalf("%s: hand-offs %q: %v", name, cells[tb.col["hand-offs"]], err)
		}
		r.TTFHandoffs, r.HandoffNs, r.TTFNs = v*mult, 1, 1
	}
	if found := cells[tb.col["found"]]; found != "—" {
		if _, err := fmt.Sscanf(found, "%d/%d", &r.TTFFound, &r.TTFSeeds); err != nil {
			t.Fatalf("%s: found %q: %v", name, found, err)
		}
	}
}
