package bench

import (
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

func seedConfig(t *testing.T, workload, name, fix string) *ReplayConfig {
	t.Helper()
	seeds, err := workloads.Seeds(workload)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		if s.Name == name {
			return scheduleConfig(t, s.Schedule, fix)
		}
	}
	t.Fatalf("no seed %s", name)
	return nil
}

func scheduleConfig(t *testing.T, schedule, fix string) *ReplayConfig {
	t.Helper()
	cfg, err := ReplayConfigFor(mustParse(t, schedule), fix)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRaceADiagram: the diagram of the seed's interleaving has the seed's
// three CPUs in the seed's order of events, fits in 80 columns and ends in
// the BUG_ON.
func TestRaceADiagram(t *testing.T) {
	d, err := DrawFailure(seedConfig(t, "writeback-restart", "race-a", ""), mm.BugWriteback, false)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "race-a-diagram.golden", d.Text)
	diagram, _, _ := strings.Cut(d.Text, "\nschedule:\n")
	lines := strings.Split(strings.TrimRight(diagram, "\n"), "\n")
	for _, l := range lines {
		if len([]rune(l)) > 80 {
			t.Errorf("line over 80 columns: %q", l)
		}
	}
	if got := strings.Fields(lines[3]); strings.Join(got, " ") != "io1 cpu2 cpu3" {
		t.Errorf("columns %v, want the seed's CPU1 (io1), CPU2 (cpu2), CPU3 (cpu3)", got)
	}
	order := []string{"test_clear_page_writeback()", "... delayed ...", "set_page_writeback()",
		"wait_on_page_writeback()", "wake_up_page()", ".. wakes up cpu3 ..", "BUG_ON(PageWriteback(page))"}
	at := 0
	for _, l := range lines {
		if at < len(order) && strings.TrimSpace(l) == order[at] {
			at++
		}
	}
	if at != len(order) {
		t.Errorf("events out of the seed's order: found %d of %v", at, order)
	}
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "BUG_ON(PageWriteback(page))" {
		t.Errorf("last line %q, want the BUG_ON", last)
	}
	if err := wellFormed(d.SVG); err != nil {
		t.Errorf("SVG: %v", err)
	}
	// cpu2's BUG_ON() check passed: drawn as the check with its result;
	// only cpu3's, which fired, is a BUG_ON. Labels read as the kernel's
	// operations.
	for _, l := range lines {
		switch strings.TrimSpace(l) {
		case "BUG_ON()", "mapping()", "PageWriteback()":
			t.Errorf("line %q: a model label, not the kernel operation or the check's result", strings.TrimSpace(l))
		}
	}
	for _, want := range []string{"PageWriteback() re-check -> false", "page->mapping re-check", "PageWriteback() -> true"} {
		if !strings.Contains(diagram, want) {
			t.Errorf("no %q in the diagram", want)
		}
	}
	if n := strings.Count(diagram, "BUG_ON"); n != 1 {
		t.Errorf("%d BUG_ON lines, want the one that fired", n)
	}
	if strings.Count(d.SVG, `fill="#c00000"`) != 1 {
		t.Errorf("the SVG draws %d lines in red, want the BUG_ON's alone", strings.Count(d.SVG, `fill="#c00000"`))
	}
	if d.Before == d.After && !strings.Contains(d.Text, "already minimal") {
		t.Errorf("a schedule shrinking did not shorten is not said to be already minimal:\n%s", d.Text)
	}
}

// TestSeedDiagrams: the diagram of every seed interleaving names its
// failure, fits in 80 columns, and draws what the race is about in the
// seed's order: for races D and E the kernel data the race is on (the
// xarray slot khugepaged stores and truncation looks up and reloads;
// i_size read twice by btrfs around another task's write), which page
// flags and refcounts alone left out (the diagrams before showed race E
// as an unlock_page() and the BUG_ON).
func TestSeedDiagrams(t *testing.T) {
	t.Parallel()
	order := map[string][]string{
		"race-e": {"btrfs: i_size_read()", "... delayed ...", "cpu2: i_size_write()", "cpu2: unlock_page()",
			"btrfs: i_size_read()", "btrfs: clear_page_dirty_for_io()", "btrfs: BUG_ON(!PageLocked(page))"},
		"race-d-index": {"khugepaged: xas_store() of the huge page", "khugepaged: xas_store() of a small page (rollback)",
			"open1: find_get_entry()", "open1: xas_reload()", "open1: VM_BUG_ON(index mismatch)"},
	}
	for _, w := range workloads.All() {
		seeds, err := workloads.Seeds(w.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sd := range seeds {
			f, ok := mm.ParseFailure(sd.Expect[0])
			if !ok {
				t.Fatalf("%s: unknown failure %q", sd.Name, sd.Expect[0])
			}
			d, err := DrawFailure(scheduleConfig(t, sd.Schedule, ""), f, false)
			if err != nil {
				t.Fatalf("%s: %v", sd.Name, err)
			}
			diagram, _, _ := strings.Cut(d.Text, "\nschedule:\n")
			lines := strings.Split(strings.TrimRight(diagram, "\n"), "\n")
			for _, l := range lines {
				if len([]rune(l)) > 80 {
					t.Errorf("%s: line over 80 columns: %q", sd.Name, l)
				}
			}
			// A line too long for its column ends at the margin, whole;
			// the SVG draws it in its lane.
			if !strings.Contains(diagram, f.Short()) || !strings.Contains(d.SVG, xmlEscape(f.Short())) {
				t.Errorf("%s: the diagram does not name %s (%q):\n%s", sd.Name, f, f.Short(), d.Text)
			}
			// A wake-up is drawn when the task it wakes does something
			// drawn afterwards: the wakee has a column.
			cols := strings.Fields(lines[3])
			for _, l := range lines {
				if w, ok := strings.CutPrefix(strings.TrimSpace(l), ".. wakes up "); ok {
					if w = strings.TrimSuffix(w, " .."); !slices.Contains(cols, w) {
						t.Errorf("%s: a wake-up of %s, which has no column %v", sd.Name, w, cols)
					}
				}
			}
			want := order[sd.Name]
			if want == nil {
				continue
			}
			// Each line as column: text, the column by its start.
			starts := make([]int, len(cols))
			for i, c := range cols {
				starts[i] = strings.Index(lines[3], c)
			}
			at := 0
			for _, l := range lines[6:] {
				text := strings.TrimSpace(l)
				lead := len(l) - len(strings.TrimLeft(l, " "))
				col := 0
				for i, st := range starts {
					if lead >= st {
						col = i
					}
				}
				if at < len(want) && (cols[col]+": "+text == want[at] || text == want[at]) {
					at++
				}
			}
			if at != len(want) {
				t.Errorf("%s: found %d of %v in order:\n%s", sd.Name, at, want, d.Text)
			}
		}
	}
}

// TestStepText: a check that fired, one that passed, and labels worded
// as the kernel's operations.
func TestStepText(t *testing.T) {
	stack := []string{"write_cache_pages"}
	rep := &mm.Report{Failure: mm.BugWriteback}
	tr := &Trace{Steps: []*TraceStep{
		{Task: "a", Label: "write_cache_pages:mapping", Stack: stack},
		{Task: "a", Label: "write_cache_pages:PageWriteback", Stack: stack},
		{Task: "b", Label: "end_page_writeback", Stack: []string{"end_page_writeback"}},
		{Task: "a", Label: "write_cache_pages:BUG_ON", Stack: stack},
		{Task: "a", Label: "write_cache_pages:BUG_ON", Stack: stack, Reports: []*mm.Report{rep}},
		{Task: "a", Label: "pagecache_get_page:mapping", Stack: []string{"pagecache_get_page"}},
		{Task: "a", Label: "some_function:point", Stack: []string{"some_function"}},
	}}
	for i, want := range []string{"page->mapping re-check", "PageWriteback() -> false", "", "PageWriteback() re-check -> false",
		"PageWriteback() re-check", "page->mapping re-check", "point()"} {
		if got := stepText(tr, i, tr.Steps[i].Stack); got != want {
			t.Errorf("step %d (%s): %q, want %q", i, tr.Steps[i].Label, got, want)
		}
	}
}

func wellFormed(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// TestShrink: the first failing schedule of a sampled run shrinks to
// fewer context switches up to the failure, as few as the race needs,
// still fires its failure under a strict replay, and is 1-minimal: taking
// out any one of its segments gives no execution that fires it with fewer.
func TestShrink(t *testing.T) {
	t.Parallel()
	if raceEnabled {
		// Tens of thousands of executions and the shrinker's replays on
		// this goroutine.
		t.Skip("one goroutine's executions and replays: checked by the plain pass; ten times slower under the race detector")
	}
	for _, tc := range []struct {
		workload, fix, strategy, focus string
		runs                           int
		f                              mm.Failure
		// most is the most switches the result may have: what the race
		// needs (the seed's interleaving, or the fewest a bounded dfs
		// finds it with), or -1 for no bound but fewer than before.
		most int
	}{
		// Race A's BUG_ON: a random walk's first is already the seed's 4.
		{"writeback-restart", "baseline", "random", "", 20000, mm.BugWriteback, 4},
		// Race B's stale touch (its reuse crashes need a per-CPU drain
		// first and are too rare for a test's random runs): the
		// completion preempted, the truncation, the touch. The shrinker
		// before the loose replay took this one from 17 to 20 switches
		// in all.
		{"writeback-reuse", "baseline", "random", "", 20000, mm.StalePage, 2},
		// Race D's tail flavour from surw, which switches at almost every
		// step: 32 switches, 4 in dfs's first (2 preemptions).
		{"thp-truncate-opens", "baseline", "surw", "PG_head", 2000, mm.VMBugTail, 4},
		// Race E: 47 switches, 2 in the seed's interleaving.
		{"isize-compress", "baseline", "random", "", 20000, mm.BugNotLocked, 2},
		// Race C2 under bounce-pinned: the failure is raised in the last
		// segment of the first failing run, whose task the continuation
		// runs on (the check of the strict replay once took that for a
		// divergence). Already minimal.
		{"gup-dio-wrprotect", "bounce-pinned", "random", "", 5000, mm.UnstableWrite, 3},
	} {
		f := tc.f
		w, p := cellOf(t, tc.workload, nil)
		v, err := w.ParseFix(tc.fix)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Run(&Config{Workload: w, Params: p, Variant: v, Strategy: tc.strategy, Focus: tc.focus,
			Depth: 3, Preempt: DefaultPreempt, Seed: 1, Runs: tc.runs}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.First[f] == "" {
			t.Fatalf("no %s in %d runs of %s under %s", f, tc.runs, tc.workload, tc.strategy)
		}
		cfg := scheduleConfig(t, c.First[f], "")
		s, before, after, err := Shrink(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		if after > before || after == before && tc.most != before || tc.most >= 0 && after > tc.most {
			t.Errorf("%s %s: %d to %d context switches, want fewer (at most %d)", tc.workload, f, before, after, tc.most)
		}
		if switches(s.Segments) != after {
			t.Errorf("%s %s: the schedule returned has %d switches, Shrink says %d", tc.workload, f, switches(s.Segments), after)
		}
		strict := *cfg
		strict.Schedule, strict.Then = s, "stop"
		r, err := Replay(&strict)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Exec.Fired.Has(f) || r.Diverged != nil {
			t.Errorf("%s %s: the shrunk schedule does not fire it (diverged: %v)", tc.workload, f, r.Diverged)
		}
		for drop := range s.Segments {
			got, ok, _, err := replayToFailure(cfg, f, slices.Delete(slices.Clone(s.Segments), drop, drop+1), true)
			if err != nil {
				t.Fatal(err)
			}
			if ok && switches(got) < after {
				t.Errorf("%s %s: not 1-minimal: without segment %d (%v) it fires with %d switches, fewer than %d",
					tc.workload, f, drop, s.Segments[drop], switches(got), after)
			}
		}
	}
}

// TestShrinkFirst: pagelab run's shrinking of a first failure is Shrink's
// schedule with the report its replay raises; a livelock, whose every
// candidate would replay the whole step budget, and a schedule that does
// not parse are refused.
func TestShrinkFirst(t *testing.T) {
	w, p := cellOf(t, "isize-compress", nil)
	v, err := w.ParseFix("baseline")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(&Config{Workload: w, Params: p, Variant: v, Strategy: "random", Depth: 3, Preempt: DefaultPreempt, Seed: 1, Runs: 2000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := mm.BugNotLocked
	if c.First[f] == "" {
		t.Fatalf("no %s in 2000 random runs of race E", f)
	}
	sh, err := ShrinkFirst(c.First[f], f)
	if err != nil {
		t.Fatal(err)
	}
	s, before, after, err := Shrink(scheduleConfig(t, c.First[f], ""), f)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Schedule.String() != s.String() || sh.Before != before || sh.After != after {
		t.Errorf("ShrinkFirst gives %s (%d to %d), Shrink %s (%d to %d)", sh.Schedule, sh.Before, sh.After, s, before, after)
	}
	if sh.Report.Failure != f || sh.Report.Task != "btrfs" || !strings.Contains(sh.Report.Msg, "BUG_ON(!PageLocked(page))") {
		t.Errorf("report %v, want race E's BUG_ON in btrfs", sh.Report)
	}
	if _, err := ShrinkFirst(c.First[f], mm.Livelock); err == nil {
		t.Error("a livelock is shrunk")
	}
	if _, err := ShrinkFirst("v1/isize-compress", f); err == nil {
		t.Error("a schedule without segments is shrunk")
	}
}

// TestDFS: preemption-bounded exploration of writeback-restart is exhausted
// at bound 1, finds race A under the baseline with one preemption, and
// nothing under loop-wait.
func TestDFS(t *testing.T) {
	w, _ := workloads.Lookup("writeback-restart")
	for fix, want := range map[string]bool{"baseline": true, "loop-wait": false} {
		v, _ := fixes.Parse(fix)
		c, err := Run(&Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "dfs", Depth: 1, Runs: 100000}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Exhausted || c.Runs < 100 {
			t.Errorf("%s: %d schedules, exhausted %v", fix, c.Runs, c.Exhausted)
		}
		if got := c.Failures[mm.BugWriteback] > 0; got != want {
			t.Errorf("%s: bug-writeback found = %v, want %v", fix, got, want)
		}
		if want {
			r, err := Replay(&ReplayConfig{Workload: w, Params: w.Defaults(), Variant: v, Schedule: mustParse(t, c.First[mm.BugWriteback]), Then: "stop"})
			if err != nil || !r.Exec.Fired.Has(mm.BugWriteback) {
				t.Errorf("the dfs schedule does not replay to bug-writeback: %v", err)
			}
		}
	}
}

func mustParse(t *testing.T, s string) *sim.Schedule {
	t.Helper()
	p, err := sim.ParseSchedule(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
