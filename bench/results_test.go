package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/perf/benchfmt"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden")

// testRecords runs a small matrix: two explored cells and a timed pair.
func testRecords(t *testing.T) []*Record {
	t.Helper()
	var recs []*Record
	for _, fix := range []string{"baseline", "loop-wait"} {
		recs = append(recs, NewRecord(cell(t, "writeback-restart", fix, "random", 3000, 1)))
	}
	w, _ := workloads.Lookup("lock-storm")
	for _, fix := range []string{"v5.8", "baseline"} {
		for _, n := range []int{4, 16} {
			v, _ := fixes.Parse(fix)
			c, err := Run(&Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "timed",
				Seed: 1, Runs: 6, CPUs: n, Costs: sim.DefaultCosts(), MaxSteps: DefaultTimedMaxSteps}, nil)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, NewRecord(c))
		}
	}
	return recs
}

func testManifest() *Manifest {
	return &Manifest{Command: []string{"pagelab", "bench"}, GitRevision: "0123456789ab", GoVersion: "go1.26",
		Host: Host{Hostname: "test", GOOS: "linux", GOARCH: "amd64", CPUs: 2}, Seed: 1, Runs: 3000, Count: 6,
		CPUs: []int{4, 16}, Start: "2026-11-21T00:00:00Z", End: "2026-11-21T00:00:05Z", Complete: true, Cells: 6, CellsTotal: 6}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bench -rewrite to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./bench -rewrite updates it):\n%s", path, got)
	}
}

func TestResultsDirectory(t *testing.T) {
	t.Parallel()
	recs := testRecords(t)
	dir := t.TempDir()
	m := testManifest()
	if err := WriteResults(dir, m, recs); err != nil {
		t.Fatal(err)
	}
	m2, got, err := ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Error("records read back differ from those written")
	}
	if !m2.Complete || m2.Cells != 6 || len(m2.Files) != 4 {
		t.Errorf("manifest read back: %+v", m2)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	// bench.txt is benchmark format that benchfmt (what benchstat uses)
	// reads without a syntax error, with the units and their metadata.
	b, err := os.ReadFile(filepath.Join(dir, BenchFile))
	if err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(bytes.NewReader(b), BenchFile)
	results, units := 0, map[string]bool{}
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Errorf("bench.txt: %v", rec)
		case *benchfmt.Result:
			results++
			for _, v := range rec.Values {
				units[v.Unit] = true
			}
		}
	}
	if results != 2+4*6 {
		t.Errorf("bench.txt: %d results, want 2 explored cells + 4 timed cells x 6 runs", results)
	}
	for _, u := range []string{"bug-writeback-rate", "lock_page-ops/s", "lock_page-p99-sec", "lock_page-wakeups/op", "lock_page-spurious/op"} {
		if !units[u] {
			t.Errorf("bench.txt: no %s values (units: %v)", u, units)
		}
	}
	if md := r.Units()[benchfmt.UnitMetadataKey{Unit: "bug-writeback-rate", Key: "assume"}]; md == nil || md.Value != "exact" {
		t.Errorf("bug-writeback-rate: assume metadata %v, want exact", md)
	}

	summary, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	golden(t, "summary.golden", string(summary))
	checkSummaryColumns(t, "summary.txt", string(summary))
}

// checkSummaryColumns: every line of a summary fits in 80 columns but for
// those of its last section, Schedules, which holds every schedule (a
// schedule is one word, to copy and paste, however long).
func checkSummaryColumns(t *testing.T, name, summary string) {
	t.Helper()
	tables, schedules, found := strings.Cut(summary, "\n== Schedules ==\n")
	if strings.Contains(summary, "v1/") && !found {
		t.Errorf("%s: schedules but no Schedules section", name)
	}
	if strings.Contains(schedules, "\n== ") {
		t.Errorf("%s: a section after Schedules", name)
	}
	for i, line := range strings.Split(tables, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("%s line %d is %d columns: %s", name, i+1, n, line)
		}
		if strings.HasPrefix(line, "v1/") {
			t.Errorf("%s line %d: a schedule before the Schedules section", name, i+1)
		}
	}
}

// TestSummaryGoldensColumns: the golden summaries read in 80 columns
// above their Schedules section.
func TestSummaryGoldensColumns(t *testing.T) {
	for _, name := range []string{"summary.golden", "summary-verdicts.golden"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		checkSummaryColumns(t, name, string(b))
		if !strings.Contains(string(b), "\n== Schedules ==\n") {
			t.Errorf("%s: no Schedules section", name)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	recs := testRecords(t)
	m := testManifest()
	out, err := Compare("a", m, recs, "b", m, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "%") && !strings.Contains(line, "~") {
			t.Errorf("comparing a run with itself reports a change: %s", line)
		}
	}
	if !strings.Contains(out, "6 cells in common") {
		t.Errorf("compare output:\n%s", out)
	}
	golden(t, "compare-same.golden", out)

	if _, err := Compare("a", m, recs[:2], "b", m, recs[2:]); err == nil || !strings.Contains(err.Error(), "no cell in common") {
		t.Errorf("comparing runs of different workloads: %v, want 'no cell in common'", err)
	}
	// The cell an interrupt cut short is named as such, on its side.
	cut := *recs[0]
	cut.Partial, cut.Runs = true, 1200
	for _, c := range []struct {
		a, b *Record
		want string
	}{{recs[0], &cut, "(new PARTIAL: interrupted)"}, {&cut, recs[0], "(old PARTIAL: interrupted)"}, {&cut, &cut, "(PARTIAL in both: interrupted)"}} {
		out, err := Compare("a", m, []*Record{c.a}, "b", m, []*Record{c.b})
		if err != nil || !strings.Contains(out, "writeback-restart baseline "+c.want+"\n") {
			t.Errorf("compare with a partial cell (%v): want its header to say %q:\n%s", err, c.want, out)
		}
	}

	pct := *recs[0]
	pct.Strategy, pct.Depth = "pct", 3
	if _, err := Compare("a", m, recs[:1], "b", m, []*Record{&pct}); err == nil || !strings.Contains(err.Error(), "not comparable") {
		t.Errorf("comparing random with pct: %v, want 'not comparable'", err)
	}
}

func TestReadRecordsErrors(t *testing.T) {
	t.Parallel()
	var good bytes.Buffer
	for _, r := range testRecords(t)[:2] {
		r.WriteJSON(&good)
	}
	g := good.String()
	first := strings.SplitAfter(g, "\n")[0]
	for _, tc := range []struct{ in, want string }{
		{"", "r.jsonl: no records"},
		{g[:len(g)-20], "r.jsonl:2: truncated record"},
		{first + "\n", "r.jsonl:2: empty line"},
		{first + "{nonsense\n", "r.jsonl:2: not a pagelab record"},
		{strings.Replace(first, `"runs":3000`, `"runs":0`, 1), "r.jsonl:1: runs 0"},
		{strings.Replace(first, `"runs":3000`, `"runs":3000,"color":"blue"`, 1), `unknown field "color"`},
		{strings.Replace(first, `"bug-writeback"`, `"bug-nosuch"`, 1), `r.jsonl:1: unknown failure id "bug-nosuch"`},
		{strings.Replace(first, `"workload":"writeback-restart"`, `"workload":""`, 1), "r.jsonl:1: missing workload"},
		{first + first[:len(first)-1] + " {}\n", "r.jsonl:2: more than one JSON value"},
		// Hand-edited values the writer cannot produce (issue 11).
		{strings.Replace(first, `"runs":3000`, `"runs":9223372036854775000`, 1), "runs 9223372036854775000 out of range"},
		{strings.Replace(first, `"strategy":"random"`, `"strategy":"magic"`, 1), `strategy "magic"`},
		{strings.Replace(first, `"workload":"writeback-restart"`, `"workload":"a b"`, 1), `workload "a b" is not an id`},
		{strings.Replace(first, `"runs":3000`, `"runs":3000,"cpus":4`, 1), "cpus 4 in a random cell"},
		{strings.Replace(first, `"failing":`, `"pct_bound":2,"failing":`, 1), "pct_bound 2"},
		{strings.Replace(first, `"seed":`, `"focus":"i_size","seed":`, 1), `focus "i_size" under random (only surw and pct-point take one)`},
		{strings.Replace(strings.Replace(first, `"strategy":"random"`, `"strategy":"surw"`, 1), `"seed":`, `"focus":"nope","seed":`, 1), `focus "nope": not a focus`},
		{strings.Replace(first, `"first_failure":{`, `"first_failure":{"hang":"v1/x/y/seed=1/",`, 1), `first_failure of "hang", which never fired`},
		{strings.Repeat("x", MaxRecordBytes+10) + "\n", "r.jsonl:1: line longer than 64 MiB"},
	} {
		_, err := ReadRecords(strings.NewReader(tc.in), "r.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadRecords(%.60q…) = %v, want an error containing %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
}

// FuzzReadRecords: the results reader never panics, and what it accepts
// writes back to something it accepts again, identically.
func FuzzReadRecords(f *testing.F) {
	f.Add(`{"workload":"w","fix":"baseline","strategy":"random","seed":1,"runs":10,"failing":1,"failures":{"bug-writeback":1},"first_failure":{},"steps":5,"most_steps":3}` + "\n")
	f.Add(`{"workload":"w","fix":"baseline","strategy":"surw","focus":"i_size+PG_writeback","seed":1,"runs":10,"failing":0,"failures":{},"first_failure":{},"steps":5,"most_steps":3}` + "\n")
	f.Add(`{"workload":"lock-storm","fix":"v5.8","strategy":"timed","seed":1,"runs":1,"failing":0,"failures":{},"first_failure":{},"steps":1,"most_steps":1,"cpus":4,"latency":{"lock_page":{"count":1,"p50_ns":1,"p90_ns":1,"p99_ns":1,"p99.9_ns":1,"max_ns":1,"ops_per_sec":1,"wakeups_per_op":0,"spurious_per_op":0,"run_ops_per_sec":[1],"run_p50_ns":[1],"run_p99_ns":[1]}}}` + "\n")
	f.Add(`{"workload":"w","fix":"hold-ref","strategy":"random","seed":1,"runs":10,"failing":1,"failures":{"bug-writeback":1},"first_failure":{},"steps":5,"most_steps":3,"verdicts":{"bug-writeback":"fails","data-loss":"fails","hang":"verified","livelock":"unknown"},"verify":{"mode":"source-sets","complete":true,"states":9,"transitions":12,"executions":4,"max_depth":7,"max_states":100,"first_failure":{"data-loss":"v1/w/hold-ref/seed=1/a@x.."},"lasso_stem":["a"],"lasso_cycle":["b","c"]}}` + "\n")
	f.Add(`{"workload":"w","fix":"v5.8","strategy":"random","seed":1,"runs":10,"failing":0,"failures":{},"first_failure":{},"steps":5,"most_steps":3,"verdicts":{"bug-writeback":"unknown"},"verify":{"complete":false,"states":100,"transitions":120,"executions":40,"max_depth":7,"max_states":100,"budget_hit":true,"truncated":2}}` + "\n")
	f.Add("{}\n")
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := ReadRecords(strings.NewReader(in), "f")
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		var b bytes.Buffer
		for _, r := range recs {
			if err := r.WriteJSON(&b); err != nil {
				t.Fatal(err)
			}
		}
		again, err := ReadRecords(bytes.NewReader(b.Bytes()), "f")
		if err != nil {
			t.Fatalf("re-reading what was accepted: %v", err)
		}
		if !reflect.DeepEqual(recs, again) {
			t.Fatal("records changed on a round trip")
		}
	})
}

// TestWriteFileAtomicMode: result files are readable by others (0644 less
// the umask), not CreateTemp's 0600.
func TestWriteFileAtomicMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.txt")
	if err := WriteFileAtomic(path, []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), 0o644&^umask(); got != want {
		t.Errorf("mode %v, want %v", got, want)
	}
	if umask()&0o044 == 0 && fi.Mode().Perm()&0o044 != 0o044 {
		t.Errorf("mode %v: not readable by group and others under umask %03o", fi.Mode().Perm(), umask())
	}
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp*")); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestReadRecordsLatencyErrors: timed records whose latencies the writer
// could not have produced are refused with the field named; they used to
// print NaN (empty per-run arrays) or vanish from compare (unknown ops).
func TestReadRecordsLatencyErrors(t *testing.T) {
	const rec = `{"workload":"lock-storm","fix":"v5.8","strategy":"timed","seed":1,"runs":2,"failing":0,"failures":{},"first_failure":{},"steps":4,"most_steps":2,"cpus":4,"latency":{"lock_page":{"count":3,"p50_ns":1,"p90_ns":2,"p99_ns":3,"p99.9_ns":3,"max_ns":3,"ops_per_sec":1,"wakeups_per_op":1,"spurious_per_op":0,"run_ops_per_sec":[1,2],"run_p50_ns":[1,1],"run_p99_ns":[3,2]}}}` + "\n"
	if _, err := ReadRecords(strings.NewReader(rec), "r"); err != nil {
		t.Fatalf("valid timed record refused: %v", err)
	}
	refusesMutants(t, rec, []mutant{
		{`"run_p50_ns":[1,1]`, `"run_p50_ns":[]`, "per-run values"},
		{`"run_ops_per_sec":[1,2],"run_p50_ns":[1,1],"run_p99_ns":[3,2]`, `"run_ops_per_sec":[],"run_p50_ns":[],"run_p99_ns":[]`, "per-run values"},
		{`"lock_page"`, `"lock_pages"`, `unknown operation "lock_pages"`},
		{`"count":3`, `"count":0`, "count 0"},
		{`"p90_ns":2`, `"p90_ns":7`, "percentiles out of order"},
		{`"spurious_per_op":0`, `"spurious_per_op":5`, "spurious"},
		{`"cpus":4`, `"cpus":0`, "cpus 0 out of range"},
		{`"max_ns":3`, `"max_ns":1e300`, "bad value"},
		{`"run_p99_ns":[3,2]`, `"run_p99_ns":[3,2],"run_wakeups_per_op":[1],"run_spurious_per_op":[0]`, "1 and 1 per-run wake-up values"},
		{`"run_p99_ns":[3,2]`, `"run_p99_ns":[3,2],"run_wakeups_per_op":[1,1]`, "2 and 0 per-run wake-up values"},
		{`"run_p99_ns":[3,2]`, `"run_p99_ns":[3,2],"run_wakeups_per_op":[1,1],"run_spurious_per_op":[0,2]`, "run 1: 2 spurious wake-ups per operation of 1"},
		{`"run_p99_ns":[3,2]`, `"run_p99_ns":[3,9]`, "run 1: p50 1, p99 9 out of order or above the pooled max 3"},
		{`"run_p50_ns":[1,1]`, `"run_p50_ns":[1,3]`, "run 1: p50 3, p99 2 out of order"},
	})
}

// mutant is a valid record with old replaced by new, which ReadRecords
// must refuse with an error containing want.
type mutant struct{ old, new, want string }

func refusesMutants(t *testing.T, rec string, ms []mutant) {
	t.Helper()
	for _, m := range ms {
		in := strings.Replace(rec, m.old, m.new, 1)
		_, err := ReadRecords(strings.NewReader(in), "r")
		if err == nil || !strings.Contains(err.Error(), m.want) {
			t.Errorf("%s -> %s: got %v, want an error containing %q", m.old, m.new, err, m.want)
		}
	}
}

// TestReadRecordsCountErrors: a count metric's per-run values must lie in
// order under the pooled maximum, as the writer produces them.
func TestReadRecordsCountErrors(t *testing.T) {
	const rec = `{"workload":"writeback-restart","fix":"baseline","strategy":"timed","seed":1,"runs":2,"failing":0,"failures":{},"first_failure":{},"steps":4,"most_steps":2,"cpus":4,"counts":{"wb_wait_locked":{"unit":"cycles","count":3,"p50":1,"p90":2,"p99":2,"max":2,"run_p50":[1,1],"run_p99":[2,1],"run_max":[2,1]}}}` + "\n"
	if _, err := ReadRecords(strings.NewReader(rec), "r"); err != nil {
		t.Fatalf("valid count record refused: %v", err)
	}
	refusesMutants(t, rec, []mutant{
		{`"run_max":[2,1]`, `"run_max":[2,5]`, "run 1: p50 1, p99 1, max 5 out of order or above the pooled max 2"},
		{`"run_max":[2,1]`, `"run_max":[1,1]`, "run 0: p50 1, p99 2, max 1 out of order"},
		{`"run_p50":[1,1]`, `"run_p50":[1,2]`, "run 1: p50 2, p99 1"},
	})
}

// TestReadManifestErrors: a manifest must be one object with the fields
// pagelab writes, in a regular file, with nothing after it.
func TestReadManifestErrors(t *testing.T) {
	dir := t.TempDir()
	good := `{"command":["pagelab","bench"],"git_revision":"abc","go_version":"go1.26","host":{"hostname":"h","goos":"linux","goarch":"amd64","cpus":2},"seed":1,"runs":10,"count":1,"cpus":[4],"workloads":["w"],"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:01:00Z","complete":true,"cells":1,"cells_total":1,"files":[]}`
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := ReadManifest(write("good.json", good+"\n")); err != nil {
		t.Fatalf("good manifest: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	for _, tc := range []struct{ name, content, want string }{
		{"empty-object", "{}", "no command"},
		{"null", "null", "want a JSON object"},
		{"trailing", good + " {}", "data after the JSON object"},
		{"trailing-garbage", good + "x", "data after the JSON object"},
		{"incomplete-but-complete", strings.Replace(good, `"cells":1`, `"cells":0`, 1), "complete, but 0 of 1 cells"},
		{"unknown-field", strings.Replace(good, `"seed":1`, `"seed":1,"x":2`, 1), `unknown field "x"`},
	} {
		_, err := ReadManifest(write(tc.name, tc.content))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ReadManifest(filepath.Join(dir, "adir")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: got %v", err)
	}
}

// FuzzReadManifest: the manifest reader never panics and accepts only
// what round-trips.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"command":["pagelab"],"git_revision":"a","go_version":"g","start":"s","end":"e","complete":true}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseManifest(again); err != nil {
			t.Fatalf("re-reading an accepted manifest: %v", err)
		}
	})
}

// TestCompareListsUncomparedLatency: a timed cell whose primary operation
// is timed in one run only is listed as not compared, not dropped.
func TestCompareListsUncomparedLatency(t *testing.T) {
	const rec = `{"workload":"lock-storm","fix":"v5.8","strategy":"timed","seed":1,"runs":2,"failing":0,"failures":{},"first_failure":{},"steps":4,"most_steps":2,"cpus":4,"latency":{"lock_page":{"count":3,"p50_ns":1,"p90_ns":2,"p99_ns":3,"p99.9_ns":3,"max_ns":3,"ops_per_sec":1,"wakeups_per_op":1,"spurious_per_op":0,"run_ops_per_sec":[1,2],"run_p50_ns":[1,1],"run_p99_ns":[3,2]}}}` + "\n"
	a, err := ReadRecords(strings.NewReader(rec), "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadRecords(strings.NewReader(strings.Replace(rec, `"lock_page"`, `"fsync"`, 1)), "b")
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Complete: true}
	out, err := Compare("a", m, a, "b", m, b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "not compared (latency):") || !strings.Contains(out, "lock_page timed in one run only") {
		t.Errorf("compare does not list the uncompared cell:\n%s", out)
	}
}

// TestReadResultsAgainstManifest: a results file with fewer records than
// its manifest counts (cut or edited since) is refused, a partial run's
// extra record of the cell cut short is not, and a directory bench
// claimed but never wrote a cell into says so.
func TestReadResultsAgainstManifest(t *testing.T) {
	t.Parallel()
	recs := testRecords(t)
	dir := t.TempDir()
	if err := WriteResults(dir, testManifest(), recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:5], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadResults(dir); err == nil || !strings.Contains(err.Error(), "5 records of finished cells, but") {
		t.Errorf("a results file cut to 5 of 6 records: %v", err)
	}

	partial := t.TempDir()
	m := testManifest()
	m.Cells, m.Complete = 2, false
	cut := *recs[2]
	cut.Partial = true
	if err := WriteProgress(partial, m, []*Record{recs[0], recs[1], &cut}); err != nil {
		t.Fatal(err)
	}
	if _, got, err := ReadResults(partial); err != nil || len(got) != 3 {
		t.Errorf("2 cells and the one cut short: %d records, %v", len(got), err)
	}

	claimed := filepath.Join(t.TempDir(), "claimed")
	m = testManifest()
	m.Cells, m.Complete = 0, false
	if err := ClaimDir(claimed, m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadResults(claimed); err == nil || !strings.Contains(err.Error(), "finished no cell") {
		t.Errorf("a claimed directory: %v", err)
	}
}

// TestSummaryPartial: an interrupted run's summary says how far the cell
// cut short got, names it above its workload's tables, and gives the runs
// each cell was to make, not that cell's.
func TestSummaryPartial(t *testing.T) {
	rec := func(fix string, runs, failing int, partial bool) *Record {
		return &Record{Workload: "writeback-restart", Fix: fix, Strategy: "random", Seed: 1, Runs: runs, Failing: failing,
			Failures: map[string]int{"bug-writeback": failing}, Partial: partial}
	}
	for _, c := range []struct {
		recs []*Record
		want []string
	}{
		{[]*Record{rec("baseline", 300, 9, false), rec("v5.8", 120, 0, true)},
			[]string{"interrupted after 1 of 3 cells,\nand 120 runs of the next", "300 runs per fix",
				"PARTIAL: v5.8 was interrupted after 120 runs; its rows count those only."}},
		{[]*Record{rec("baseline", 42, 1, true)},
			[]string{"interrupted after 0 of 3 cells,\nand 42 runs of the next", "PARTIAL: baseline was interrupted after 42 runs"}},
	} {
		m := testManifest()
		m.Complete, m.Cells, m.CellsTotal = false, len(c.recs)-1, 3
		s := Summary(m, c.recs)
		checkSummaryColumns(t, "partial summary", s)
		for _, w := range c.want {
			if !strings.Contains(s, w) {
				t.Errorf("summary lacks %q:\n%s", w, s)
			}
		}
	}
}

// TestBenchFileNames: a result line names its benchmark as go test
// would, Benchmark once, the workload in CamelCase, then the fix and the
// parameters as sub-benchmark keys; benchstat reads the name back.
func TestBenchFileNames(t *testing.T) {
	recs := []*Record{{Workload: "writeback-restart", Fix: "hold-ref+loop-wait", Strategy: "random", Runs: 10, Failing: 1,
		Failures: map[string]int{"bug-writeback": 1}, Params: map[string]string{"rounds": "2"}}}
	var b bytes.Buffer
	if err := WriteBenchFile(&b, &Manifest{GitRevision: "r"}, recs); err != nil {
		t.Fatal(err)
	}
	const want = "BenchmarkWritebackRestart/fix=hold-ref+loop-wait/rounds=2 10 "
	if !strings.Contains(b.String(), "\n"+want) {
		t.Errorf("no line starting %q:\n%s", want, b.String())
	}
	r := benchfmt.NewReader(bytes.NewReader(b.Bytes()), BenchFile)
	for r.Scan() {
		if res, ok := r.Result().(*benchfmt.Result); ok {
			if got := string(res.Name); got != "WritebackRestart/fix=hold-ref+loop-wait/rounds=2" {
				t.Errorf("benchstat reads the name as %q", got)
			}
		}
	}
}

// FuzzBenchFile: whatever records the reader accepts, the benchmark file
// written from them is one benchfmt (benchstat's reader) reads without a
// syntax error: a hand-edited results.jsonl cannot make bench.txt
// unreadable.
func FuzzBenchFile(f *testing.F) {
	f.Add(`{"workload":"w","fix":"baseline","strategy":"random","seed":1,"runs":10,"failing":1,"failures":{"bug-writeback":1},"first_failure":{},"steps":5,"most_steps":3}` + "\n")
	f.Add(`{"workload":"lock-storm","fix":"v5.8","strategy":"timed","seed":1,"runs":1,"failing":0,"failures":{},"first_failure":{},"steps":1,"most_steps":1,"cpus":4,"params":{"ops":"7"},"latency":{"lock_page":{"count":1,"p50_ns":1,"p90_ns":1,"p99_ns":1,"p99.9_ns":1,"max_ns":1,"ops_per_sec":1,"wakeups_per_op":0,"spurious_per_op":0,"run_ops_per_sec":[1],"run_p50_ns":[1],"run_p99_ns":[1]}}}` + "\n")
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := ReadRecords(strings.NewReader(in), "f")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteBenchFile(&b, &Manifest{GitRevision: "r", GoVersion: "g", Command: []string{"pagelab"}}, recs); err != nil {
			t.Fatal(err)
		}
		r := benchfmt.NewReader(bytes.NewReader(b.Bytes()), BenchFile)
		for r.Scan() {
			if se, ok := r.Result().(*benchfmt.SyntaxError); ok {
				t.Fatalf("bench.txt unreadable: %v\n%s", se, b.String())
			}
		}
	})
}

// TestSummaryLongFixNames: a composition of fixes longer than the fix
// column goes on a line of its own, in the latency, count and search
// tables alike, so that they still read in 80 columns.
func TestSummaryLongFixNames(t *testing.T) {
	long := "hold-ref+loop-wait+walk-break-128+no-bookmarks"
	var recs []*Record
	for _, fix := range []string{"baseline", long} {
		recs = append(recs, &Record{Workload: "writeback-chase", Fix: fix, Strategy: "timed", Runs: 3, CPUs: 64,
			Failures: map[string]int{},
			Latency: map[string]*OpRecord{"fsync": {Count: 3, RunOpsPerSec: []float64{1e5, 1.1e5, 0.9e5},
				RunP50: []float64{1e3, 1.1e3, 0.9e3}, RunP99: []float64{1e6, 1.1e6, 0.9e6}}},
			Counts: map[string]*CountRecord{"nonpreempt": {Unit: "ns", Count: 3, P50: 1e3, P99: 2e7, Max: 2e7, RunMax: []float64{2e7, 2e7, 2e7}}}})
	}
	for _, fix := range []string{"baseline", long} {
		recs = append(recs, &Record{Workload: "isize-compress", Fix: fix, Strategy: "random", Runs: 100, Failures: map[string]int{},
			Verdicts: map[string]string{"bug-writeback": "unknown", "data-loss": "unknown", "livelock": "fails"}, Verify: &VerifyRecord{BudgetHit: true, States: 2000000}})
	}
	s := Summary(&Manifest{Complete: true}, recs)
	checkSummaryColumns(t, "summary", s)
	if n := strings.Count(s, "\n  "+long+"\n"); n < 4 {
		t.Errorf("%s on a line of its own %d times, want in each table:\n%s", long, n, s)
	}
}

// TestPartialWarning: compare names the run an interrupt cut short.
func TestPartialWarning(t *testing.T) {
	done, cut := &Manifest{Complete: true}, &Manifest{}
	for _, tc := range []struct {
		a, b *Manifest
		want string
	}{
		{done, done, ""},
		{cut, done, "the old run is partial (interrupted)."},
		{done, cut, "the new run is partial (interrupted)."},
		{cut, cut, "both runs are partial (interrupted)."},
	} {
		if got := PartialWarning(tc.a, tc.b); got != tc.want {
			t.Errorf("old complete %v, new complete %v: %q, want %q", tc.a.Complete, tc.b.Complete, got, tc.want)
		}
	}
}
