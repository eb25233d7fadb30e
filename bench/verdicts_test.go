package bench

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/workloads"
)

// verdicts is a verdict for every failure id: fails for those listed,
// unknown for those in unknown ("*": every other id), verified otherwise.
func verdicts(fails []string, unknown ...string) map[string]string {
	m := map[string]string{}
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		id := f.String()
		switch {
		case slices.Contains(fails, id):
			m[id] = "fails"
		case slices.Contains(unknown, id) || slices.Contains(unknown, "*"):
			m[id] = "unknown"
		default:
			m[id] = "verified"
		}
	}
	return m
}

// verdictRecords is a fixed, synthetic results set with every kind of
// verdict (none of it from a run of the model): verified, fails, unknown
// (a search cut short), not verified, an interleaving only the search
// found, a livelock's lasso, and a workload in which nothing fired.
func verdictRecords() []*Record {
	const sched = "v1/writeback-restart/%s/seed=1/io1@dma..wake_up_page,cpu2@writeback..,cpu3@fsync..,io1@wake_up_page..,cpu3@io_schedule.."
	rec := func(w, fix string, failures map[string]int) *Record {
		r := &Record{Workload: w, Fix: fix, Strategy: "random", Seed: 1, Runs: 100000,
			Failures: failures, FirstFailure: map[string]string{}, Steps: 3000000, MostSteps: 40}
		for id, k := range failures {
			r.Failing = max(r.Failing, k)
			if k > 0 {
				r.FirstFailure[id] = strings.Replace(sched, "%s", fix, 1)
			}
		}
		return r
	}
	done := func(states int) *VerifyRecord {
		return &VerifyRecord{Mode: "source-sets", Complete: true, States: states, Transitions: states * 2,
			Executions: states / 2, MaxDepth: 61, MaxStates: 2000000}
	}
	var recs []*Record

	r := rec("writeback-restart", "baseline", map[string]int{"bug-writeback": 32, "data-loss": 10})
	r.Verdicts, r.Verify = verdicts([]string{"bug-writeback", "data-loss"}), done(4242)
	r.Verify.FirstFailure = map[string]string{"bug-writeback": strings.Replace(sched, "%s", "baseline", 1), "data-loss": strings.Replace(sched, "%s", "baseline", 1)}
	recs = append(recs, r)

	r = rec("writeback-restart", "loop-wait", map[string]int{})
	r.Verdicts, r.Verify = verdicts(nil), done(5120)
	recs = append(recs, r)

	// The search finds data-loss that 100,000 random runs missed.
	r = rec("writeback-restart", "hold-ref", map[string]int{"bug-writeback": 38})
	r.Verdicts, r.Verify = verdicts([]string{"bug-writeback", "data-loss"}), done(9000)
	r.Verify.FirstFailure = map[string]string{"bug-writeback": strings.Replace(sched, "%s", "hold-ref", 1),
		"data-loss": "v1/writeback-restart/hold-ref/seed=1/io1@dma..,cpu2@writeback..copy_from_user,io2@dma..wake_up_page,cpu3@fsync..,io2@wake_up_page.."}
	recs = append(recs, r)

	// Cut short by the budget: unknown where it found nothing.
	r = rec("writeback-restart", "wait-to-set", map[string]int{"data-loss": 12})
	r.Verdicts = verdicts([]string{"data-loss"}, "*")
	r.Verify = &VerifyRecord{Mode: "source-sets", States: 2000000, Transitions: 5000000, Executions: 1000000, MaxDepth: 80,
		MaxStates: 2000000, BudgetHit: true, FirstFailure: map[string]string{"data-loss": strings.Replace(sched, "%s", "wait-to-set", 1)}}
	recs = append(recs, r)

	// A livelock only the search sees: a fair cycle, no schedule.
	r = rec("writeback-restart", "hold-ref+loop-wait", map[string]int{})
	r.Verdicts, r.Verify = verdicts([]string{"livelock"}), done(7000)
	r.Verify.LassoStem = []string{"cpu2", "cpu2", "io1"}
	r.Verify.LassoCycle = []string{"cpu3", "io1", "cpu3", "io1"}
	recs = append(recs, r)

	// Not verified (-verify-states 0, or an older run).
	recs = append(recs, rec("writeback-restart", "folio", map[string]int{}))

	r = rec("isize-compress", "baseline", map[string]int{})
	r.Verdicts, r.Verify = verdicts(nil), done(300)
	recs = append(recs, r)
	r = rec("isize-compress", "read-once", map[string]int{})
	r.Verdicts = verdicts(nil, "livelock")
	r.Verify = done(280)
	recs = append(recs, r)
	return recs
}

func verdictManifest() *Manifest {
	m := testManifest()
	m.Runs, m.Count, m.CPUs, m.Cells, m.CellsTotal = 100000, 0, nil, 8, 8
	m.VerifyStates, m.VerifyCells, m.VerifyCellsTotal = 2000000, 7, 7
	return m
}

// TestSearchOnlyNamesStrategy: the failures only the search found are
// said to be missed by the runs of the strategy that ran (a sampler
// aimed at another failure, here), not by "random runs".
func TestSearchOnlyNamesStrategy(t *testing.T) {
	recs := verdictRecords()
	for _, r := range recs {
		if r.Workload == "writeback-restart" {
			r.Strategy, r.Depth = "pct-task", 6
		}
	}
	s := Summary(verdictManifest(), recs)
	for _, want := range []string{"that the sampled runs missed", "  hold-ref data-loss: in 0 of 100000 pct-task runs"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

// TestVerdictsSummary: the summary's verdict column, its legend, the
// failures only the search found with their schedules, the searches cut
// short, and the per-fix verdicts of a workload in which nothing fired.
func TestVerdictsSummary(t *testing.T) {
	recs := verdictRecords()
	for _, r := range recs {
		if err := r.validate(); err != nil {
			t.Fatalf("%s %s: %v", r.Workload, r.Fix, err)
		}
	}
	m := verdictManifest()
	m.Files = []string{DiagramFile("writeback-restart", "hold-ref", "data-loss") + ".txt"}
	s := Summary(m, recs)
	golden(t, "summary-verdicts.golden", s)
	for i, line := range strings.Split(s, "\n") {
		if len([]rune(line)) > 80 && !strings.HasPrefix(line, "v1/") {
			t.Errorf("summary line %d is %d columns: %s", i+1, len([]rune(line)), line)
		}
	}
	for _, want := range []string{
		"  baseline             32:100000  [2.3e-04, 4.5e-04]  fails",
		"  loop-wait             0:100000  <= 3.0e-05 (3/n)    verified  -100% p=4.6e-09",
		"  folio                 0:100000  <= 3.0e-05 (3/n)    -         -100% p=4.6e-09",
		"  hold-ref data-loss: in 0 of 100000 random runs",
		"  hold-ref data-loss, found by the search:\n    diagram: diagrams/writeback-restart_hold-ref_data-loss.txt\nv1/writeback-restart/hold-ref/",
		"verdict: exhaustive search of every interleaving (pagelab verify): verified\n= no interleaving fires it",
		"  wait-to-set: the state budget ran out (2000000 states)",
		"    cycle: cpu3 io1 cpu3 io1",
		"  baseline      verified: no interleaving fires any failure",
		"  read-once     unknown: livelock",
		"Livelock unknown after a complete search (retry loops can spin, and the\nreduction skips edges a cycle may need; pagelab verify -reduction full):\n  read-once\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// A search that failed (an error, not a verdict) is in the header.
	m.VerifyErrors = []string{"exhaustive search of writeback-restart under folio: replay diverged"}
	if s := Summary(m, recs); !strings.Contains(s, "\nexhaustive searches that FAILED (no verdicts; manifest.json): 1\n") {
		t.Errorf("summary does not say a search failed:\n%.400s", s)
	}
}

// TestVerdictContradiction: a failure id random runs fired that the search
// verified is an error of the results writer and reader, with nothing
// written.
func TestVerdictContradiction(t *testing.T) {
	recs := verdictRecords()
	bad := *recs[0]
	bad.Verdicts = maps.Clone(bad.Verdicts)
	bad.Verdicts["data-loss"] = "verified"
	bad.Verify = &VerifyRecord{Complete: true, States: 1, FirstFailure: map[string]string{"bug-writeback": "v1/x"}}
	err := bad.CheckVerdicts()
	if err == nil || !strings.Contains(err.Error(), "10 of 100000 random runs fired data-loss, but the exhaustive search verified") {
		t.Fatalf("CheckVerdicts = %v, want the contradiction", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("multi-line error %q", err)
	}
	dir := filepath.Join(t.TempDir(), "r")
	if err := WriteResults(dir, verdictManifest(), []*Record{recs[1], &bad}); err == nil || !strings.Contains(err.Error(), "verified") {
		t.Errorf("WriteResults = %v, want the contradiction", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("WriteResults of a contradiction created %s", dir)
	}
	var b bytes.Buffer
	bad.WriteJSON(&b)
	if _, err := ReadRecords(&b, "r.jsonl"); err == nil || !strings.Contains(err.Error(), "r.jsonl:1: writeback-restart under baseline: 10 of 100000 random runs fired data-loss") {
		t.Errorf("ReadRecords = %v, want the contradiction at line 1", err)
	}
}

// TestVerdictRecords: records with verdicts survive a round trip; a record
// without them (a run made before verdicts existed) still reads, as not
// verified; malformed verdicts are errors.
func TestVerdictRecords(t *testing.T) {
	recs := verdictRecords()
	var b bytes.Buffer
	for _, r := range recs {
		if err := r.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadRecords(bytes.NewReader(b.Bytes()), "r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Error("records with verdicts read back differ from those written")
	}
	first := strings.SplitAfter(b.String(), "\n")[0]
	for _, want := range []string{`"verdicts":{"bad-page":"verified",`, `"verify":{"mode":"source-sets","complete":true,"states":4242,"transitions":8484,"executions":2121,"max_depth":61,`} {
		if !strings.Contains(first, want) {
			t.Errorf("record lacks %s: %s", want, first)
		}
	}

	// A record as pagelab wrote it before the search (results/reference).
	old := `{"workload":"writeback-restart","fix":"baseline","strategy":"random","seed":1,"runs":100000,"failing":42,"failures":{"bug-writeback":32,"data-loss":10},"first_failure":{"bug-writeback":"v1/writeback-restart/baseline/seed=1/io1@dma..","data-loss":"v1/writeback-restart/baseline/seed=1/io1@dma.."},"steps":4046462,"most_steps":67}` + "\n"
	o, err := ReadRecords(strings.NewReader(old), "old.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if o[0].Verified() || o[0].Verify != nil || o[0].VerdictText("bug-writeback") != "-" {
		t.Errorf("a record without verdicts reads as verified: %+v", o[0])
	}
	if s := Summary(verdictManifest(), o); !strings.Contains(s, "  baseline       32:100000  [2.3e-04, 4.5e-04]  -\n") {
		t.Errorf("summary of an old record:\n%s", s)
	}

	for _, tc := range []struct{ from, to, want string }{
		{`"bad-page":"verified"`, `"bad-page":"maybe"`, `verdicts: bad-page: "maybe" is not a verdict`},
		{`"bad-page":"verified"`, `"bad-nosuch":"verified"`, `verdicts: unknown failure id "bad-nosuch"`},
		{`"states":4242`, `"states":-1`, `verify: negative count`},
		{`,"verify":{`, `,"verify_":{`, `unknown field "verify_"`},
		{`"first_failure":{"bug-writeback"`, `"first_failure":{"bad-page"`, `verify: a schedule for bad-page, whose verdict is not fails`},
	} {
		in := strings.Replace(first, tc.from, tc.to, 1)
		if tc.from == `"first_failure":{"bug-writeback"` {
			// The search's first_failure, not the random runs'.
			i := strings.Index(first, `"verify":`)
			in = first[:i] + strings.Replace(first[i:], tc.from, tc.to, 1)
		}
		if in == first {
			t.Fatalf("%s not in %s", tc.from, first)
		}
		if _, err := ReadRecords(strings.NewReader(in), "r.jsonl"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadRecords with %s: %v, want %q", tc.to, err, tc.want)
		}
	}
	// Verdicts without the search, and the search without verdicts.
	noVerify := *recs[1]
	noVerify.Verify = nil
	noVerdicts := *recs[1]
	noVerdicts.Verdicts = nil
	for _, r := range []*Record{&noVerify, &noVerdicts} {
		var b bytes.Buffer
		r.WriteJSON(&b)
		if _, err := ReadRecords(&b, "r.jsonl"); err == nil {
			t.Errorf("ReadRecords accepted %s", b.String())
		}
	}
}

// TestCompareVerdicts: compare lists the verdicts that changed, per cell
// and failure id, including cells verified in one run only.
func TestCompareVerdicts(t *testing.T) {
	a := verdictRecords()
	// The same cells, none verified (a run made before the search).
	var none []*Record
	for _, r := range a {
		c := *r
		c.Verdicts, c.Verify = nil, nil
		none = append(none, &c)
	}
	// A model change: hold-ref's data-loss is gone, folio and wait-to-set
	// are verified now, loop-wait's search is cut short.
	var b []*Record
	for _, r := range a {
		c := *r
		switch c.Fix {
		case "hold-ref":
			c.Verdicts = verdicts([]string{"bug-writeback"})
			c.Verify = &VerifyRecord{Complete: true, States: 9100}
		case "folio":
			c.Verdicts, c.Verify = verdicts(nil), &VerifyRecord{Complete: true, States: 100}
		case "wait-to-set":
			c.Verdicts = verdicts([]string{"data-loss"})
			c.Verify = &VerifyRecord{Complete: true, States: 100}
		case "loop-wait":
			c.Verdicts = verdicts(nil, "*")
			c.Verify = &VerifyRecord{States: 2000000, BudgetHit: true}
		}
		b = append(b, &c)
	}
	m := verdictManifest()
	var out strings.Builder
	for _, pair := range [][2][]*Record{{a, b}, {none, a}, {a, a}} {
		s, err := Compare("old", m, pair[0], "new", m, pair[1])
		if err != nil {
			t.Fatal(err)
		}
		out.WriteString(s + "\n----\n")
	}
	golden(t, "compare-verdicts.golden", out.String())
	for _, want := range []string{
		"  writeback-restart hold-ref\n    data-loss          fails -> verified\n",
		"  writeback-restart folio\n    every id           - -> verified\n",
		"  writeback-restart baseline\n    bug-writeback      - -> fails\n    data-loss          - -> fails\n    every other id     - -> verified\n",
		"  writeback-restart wait-to-set\n    every id but data-loss unknown -> verified\n",
		"verdicts: none changed (7 cells searched exhaustively in both runs).",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("compare lacks %q", want)
		}
	}
}

// TestSetVerification: a search's outcome as a record keeps a verdict for
// every failure id, the search's size and the failing schedules, reads
// back unchanged, and does not depend on how many searches ran at once.
func TestSetVerification(t *testing.T) {
	t.Parallel()
	w, _ := workloads.Lookup("writeback-restart")
	var cfgs []*VerifyConfig
	for _, fix := range []string{"baseline", "loop-wait", "hold-ref"} {
		v, _ := fixes.Parse(fix)
		cfgs = append(cfgs, &VerifyConfig{Workload: w, Params: w.Defaults(), Variant: v, MaxStates: 3000})
	}
	var lines [2]string
	for j, jobs := range []int{1, 3} {
		finished := 0
		res := VerifyAll(cfgs, jobs, nil, func(int, *VerifyResult) { finished++ })
		if finished != len(cfgs) {
			t.Errorf("-j %d: done called %d times, want %d", jobs, finished, len(cfgs))
		}
		var b bytes.Buffer
		for i, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			rec := &Record{Workload: w.ID, Fix: cfgs[i].Variant.ID, Strategy: "random", Seed: 1, Runs: 1,
				Failures: map[string]int{}, FirstFailure: map[string]string{}}
			rec.SetVerification(r.V, 3000)
			if len(rec.Verdicts) != int(mm.NumFailures) {
				t.Errorf("%d verdicts, want one per failure id (%d)", len(rec.Verdicts), mm.NumFailures)
			}
			if rec.Verify.States != r.V.Stats.States || rec.Verify.Complete != r.V.Complete || rec.Verify.MaxStates != 3000 {
				t.Errorf("verify %+v from %+v", rec.Verify, r.V.Stats)
			}
			for _, f := range r.V.Failing() {
				if r.V.First[f] != "" && rec.Verify.FirstFailure[f.String()] != r.V.First[f] {
					t.Errorf("%s: schedule %q, want %q", f, rec.Verify.FirstFailure[f.String()], r.V.First[f])
				}
			}
			if err := rec.WriteJSON(&b); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ReadRecords(bytes.NewReader(b.Bytes()), "r.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		for _, r := range got {
			r.WriteJSON(&again)
		}
		if again.String() != b.String() {
			t.Error("records with verdicts changed on a round trip")
		}
		lines[j] = b.String()
	}
	if lines[0] != lines[1] {
		t.Errorf("searches with -j 1 and -j 3 differ:\n%s\n%s", lines[0], lines[1])
	}
}

// TestPCTK: the sentence of each PCT strategy's bound says what its k
// counts: all steps for pct, racy steps for pct-racy, task names times a
// task's racy steps for pct-task, the names with a candidate point times
// a name's candidate points for pct-point, as sim's Bound methods compute
// it, and pct-point's that it covers only bugs whose preemptions are
// first arrivals.
func TestPCTK(t *testing.T) {
	for _, c := range []struct{ strategy, has, hasNot string }{
		{"pct", "steps, the workload's estimate", "racy"},
		{"pct-racy", "racy steps, the most in one profiled run", "task names"},
		{"pct-task", "task names times the most racy steps", "estimate"},
		{"pct-point", "task names that took a racy point (with a focus, one touching it) times the most such points", "estimate"},
		{"pct-point", "the bound covers bugs whose preemptions fall at first arrivals", "racy steps"},
	} {
		got := PCTK(c.strategy)
		if !strings.Contains(got, c.has) || strings.Contains(got, c.hasNot) {
			t.Errorf("PCTK(%q) = %q: want %q in it and not %q", c.strategy, got, c.has, c.hasNot)
		}
	}
}

// TestBoundNote: a PCT strategy with a bound states it; each sampler that
// aims at racy steps without one says so and why; the walk, the searches
// and the timed runs print nothing.
func TestBoundNote(t *testing.T) {
	for _, c := range []struct {
		strategy string
		bound    float64
		has      string
	}{
		{"pct", 1e-6, "pct depth 3: each run finds a given depth-3 bug with probability at least 1/(n*k^(d-1)) = 1e-06, for n=4 tasks, k=100 steps"},
		{"pct-task", 2e-9, "at least 1/(n*k^(d-1)) = 2e-09, for n=4 tasks, k=100 = task names times"},
		{"pos", 0, "pos: no probability bound."},
		{"surw", 0, "surw: no probability bound. The walk is uniform over the interleavings of its interesting events"},
		{"racefuzz", 0, "racefuzz: no probability bound"},
		{"greybox", 0, "greybox: no probability bound. A campaign mutates"},
		{"greybox-irq", 0, "greybox-irq: no probability bound. A campaign mutates"},
		{"random", 0, ""},
		{"dfs", 0, ""},
		{"dpor", 0, ""},
		{"timed", 0, ""},
	} {
		got := BoundNote(c.strategy, 3, c.bound, 4, 100)
		if c.has == "" && got != "" || !strings.Contains(got, c.has) {
			t.Errorf("BoundNote(%q, bound %g) = %q: want %q", c.strategy, c.bound, got, c.has)
		}
	}
}
