package sweep

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files")

func lockStorm(t testing.TB) *workloads.Workload {
	t.Helper()
	wl, err := workloads.Lookup("lock-storm")
	if err != nil {
		t.Fatal(err)
	}
	return wl
}

func TestParseAxis(t *testing.T) {
	wl := lockStorm(t)
	for _, tc := range []struct {
		in     string
		name   string
		values []int
		err    string // a substring of the error, "" for none
	}{
		{"tasks=1,50,100,200,250", "tasks", []int{1, 50, 100, 200, 250}, ""},
		{"unfairness=0", "unfairness", []int{0}, ""},
		{"think=250,10", "think", []int{250, 10}, ""},
		{"tasks", "", nil, "want name=v1,v2"},
		{"=1,2", "", nil, "want name=v1,v2"},
		{"tasks=", "", nil, "want name=v1,v2"},
		{"users=1,2", "", nil, `unknown parameter "users"`},
		{"users=1,2", "", nil, "valid: tasks, pages"},
		{"tasks=1,x", "", nil, `value "x" out of range`},
		{"tasks=1,2000", "", nil, "from 0 to 1024"},
		{"tasks=1,,2", "", nil, `value "" out of range`},
		{"tasks=5,5", "", nil, "value 5 given twice"},
		{"tasks=1,2,3,4,5,6,7,8,9,10,11,12,13", "", nil, "at most 12"},
	} {
		a, err := ParseAxis(wl, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseAxis(%q) = %v, %v; want an error with %q", tc.in, a, err, tc.err)
			}
			continue
		}
		if err != nil || a.Name != tc.name || !slices.Equal(a.Values, tc.values) {
			t.Errorf("ParseAxis(%q) = %v, %v; want %s %v", tc.in, a, err, tc.name, tc.values)
		}
	}
}

func TestParseVariants(t *testing.T) {
	wl := lockStorm(t)
	for _, tc := range []struct {
		in    string
		names []string
		fixes []string
		err   string
	}{
		{DefaultVariants, []string{"v5.8", "fair-handoff", "baseline:unfairness=0", "baseline:unfairness=4", "baseline:unfairness=5"},
			[]string{"v5.8", "fair-handoff", "baseline", "baseline", "baseline"}, ""},
		{"fair-handoff:walk_break=16,think=5", []string{"fair-handoff:walk_break=16,think=5"}, []string{"fair-handoff"}, ""},
		{"hold-ref+loop-wait:think=5", nil, nil, "fix hold-ref does not apply to workload lock-storm (its fixes: baseline, v5.8, fair-handoff;"},
		{"", nil, nil, "-variants is empty"},
		{"nosuch", nil, nil, `unknown fix "nosuch"`},
		{"v5.8;", nil, nil, "empty fix id"},
		{"baseline:", nil, nil, "no parameters after ':'"},
		{"baseline:unfairness", nil, nil, "not name=value"},
		{"baseline:unfairness=-1", nil, nil, "out of range"},
		{"baseline:bogus=1", nil, nil, `unknown parameter "bogus"`},
		{"baseline:unfairness=4,unfairness=5", nil, nil, "given twice"},
		{"v5.8;v5.8", nil, nil, "v5.8 given twice"},
		{strings.Repeat("v5.8;", 12) + "v5.8", nil, nil, "given twice"},
	} {
		vs, err := ParseVariants(wl, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseVariants(%q): err %v, want one with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseVariants(%q): %v", tc.in, err)
			continue
		}
		var names, ids []string
		for _, v := range vs {
			names, ids = append(names, v.Name), append(ids, v.Fix.ID)
		}
		if !slices.Equal(names, tc.names) || !slices.Equal(ids, tc.fixes) {
			t.Errorf("ParseVariants(%q) = %v %v, want %v %v", tc.in, names, ids, tc.names, tc.fixes)
		}
	}
}

func TestParseBase(t *testing.T) {
	wl := lockStorm(t)
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{DefaultBase, []string{"think=60000"}, ""},
		{"think=1,pages=2", []string{"think=1", "pages=2"}, ""},
		{"think", nil, "not name=value"},
		{"pages=99", nil, "out of range"},
	} {
		got, err := ParseBase(wl, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseBase(%q): err %v, want one with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseBase(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestCells: the grid's cells, rows first, with the parameters layered
// defaults < base < variant < swept value; the errors of a bad grid.
func TestCells(t *testing.T) {
	wl := lockStorm(t)
	ax, _ := ParseAxis(wl, "tasks=2,3")
	vs, _ := ParseVariants(wl, "v5.8;baseline:unfairness=4,think=7")
	c := &Config{Workload: wl, Axis: ax, Variants: vs, Base: []string{"think=9", "ops=5"}, CPUs: 4, Count: 1, Costs: sim.DefaultCosts()}
	cells, err := c.Cells()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cell := range cells {
		got = append(got, strings.Join(append([]string{cell.Variant.ID}, wl.NonDefault(cell.Params)...), " "))
	}
	want := []string{
		"v5.8 tasks=2 ops=5 think=9", "v5.8 tasks=3 ops=5 think=9",
		"baseline tasks=2 ops=5 think=7 unfairness=4", "baseline tasks=3 ops=5 think=7 unfairness=4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cells %q, want %q", got, want)
	}

	fsync, _ := workloads.Lookup("writeback-restart")
	for _, tc := range []struct {
		mod func(c *Config)
		err string
	}{
		{func(c *Config) { c.Base = []string{"tasks=3"} }, "-base sets tasks, the swept parameter"},
		{func(c *Config) {
			c.Variants = []Variant{{Name: "v5.8:tasks=1", Fix: vs[0].Fix, Params: []string{"tasks=1"}}}
		}, "variant v5.8:tasks=1 sets tasks"},
		{func(c *Config) { c.CPUs = 0 }, "-cpus 0 out of range"},
		{func(c *Config) { c.Count = 0 }, "-count 0 out of range"},
		{func(c *Config) { c.Workload = fsync }, "not a latency workload"},
	} {
		cc := *c
		tc.mod(&cc)
		if _, err := cc.Cells(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Cells: err %v, want one with %q", err, tc.err)
		}
	}
}

// tiny is a small sweep: two user counts, two variants, one run per cell.
func tiny(t testing.TB, jobs int) *Config {
	wl := lockStorm(t)
	ax, err := ParseAxis(wl, "tasks=1,8")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ParseVariants(wl, "v5.8;fair-handoff;baseline:unfairness=0")
	if err != nil {
		t.Fatal(err)
	}
	return &Config{Workload: wl, Axis: ax, Variants: vs, Base: []string{"ops=20", "think=2000"}, CPUs: 4, Count: 2, Seed: 1,
		Costs: sim.DefaultCosts(), Jobs: jobs}
}

func render(t *testing.T, c *Config) string {
	t.Helper()
	res, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, res, false); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n")
	if err := Write(&b, res, true); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden: the table text and Markdown of a tiny sweep (go test
// ./sweep -run TestGolden -rewrite regenerates testdata/tiny.golden), the
// same whatever the goroutines.
func TestGolden(t *testing.T) {
	got := render(t, tiny(t, 1))
	if other := render(t, tiny(t, 3)); other != got {
		t.Errorf("-j 3 output differs from -j 1:\n%s\n%s", got, other)
	}
	path := filepath.Join("testdata", "tiny.golden")
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./sweep -run TestGolden -rewrite creates it)", err)
	}
	if got != string(want) {
		t.Errorf("table differs from %s (go test ./sweep -run TestGolden -rewrite updates it):\nwant:\n%s\ngot:\n%s", path, want, got)
	}
}

// TestInterrupted: a sweep stopped at once keeps no row and says so.
func TestInterrupted(t *testing.T) {
	c := tiny(t, 1)
	c.Stop = func() bool { return true }
	res, err := Run(c)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	if len(res.Rows) != 0 {
		t.Errorf("%d rows kept, want none", len(res.Rows))
	}
}

// TestHandoffBelowV58 is Larabel's direction on a cut-down default grid
// (100 users at 64 CPUs, 40 requests each): the strict hand-off of 5.9-rc1
// and budget 0 get well below v5.8's throughput, and budget 5 recovers
// most of it. It could fail: the fault path decides it.
func TestHandoffBelowV58(t *testing.T) {
	wl := lockStorm(t)
	ax, _ := ParseAxis(wl, "tasks=100")
	vs, _ := ParseVariants(wl, DefaultVariants)
	base, _ := ParseBase(wl, DefaultBase+",ops=40")
	res, err := Run(&Config{Workload: wl, Axis: ax, Variants: vs, Base: base, CPUs: DefaultCPUs, Count: 1, Seed: 1,
		Costs: sim.DefaultCosts(), Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	ratio := map[string]float64{}
	for i, row := range res.Rows {
		ratio[row.Variant.Name] = res.Ratio(i, 0)
		if row.PerSec[0] <= 0 {
			t.Errorf("%s: no throughput", row.Variant.Name)
		}
	}
	for _, v := range []string{"fair-handoff", "baseline:unfairness=0"} {
		if ratio[v] > 0.7 {
			t.Errorf("%s at 100 users: %.2f of v5.8's throughput, want below 0.7", v, ratio[v])
		}
	}
	if r := ratio["baseline:unfairness=5"]; r < 0.8 {
		t.Errorf("baseline (budget 5) at 100 users: %.2f of v5.8's throughput, want at least 0.8", r)
	}
}

// TestFaultPathExplore runs the fault path in explore mode (random and PCT
// schedules, three users on two hot pages) under every lock-storm fix and
// budget 0: no failure of any kind (hang, livelock, bad page, VM_BUG_ON),
// and every request's fault takes its page lock once.
func TestFaultPathExplore(t *testing.T) {
	wl := lockStorm(t)
	for _, fix := range append(slices.Clone(wl.Fixes), "baseline:unfairness=0") {
		id, extra, _ := strings.Cut(fix, ":")
		v, err := fixes.Parse(id)
		if err != nil {
			t.Fatal(err)
		}
		params, err := wl.ParseParams(append([]string{"tasks=3", "pages=2", "ops=3", "think=0"}, extra))
		if err != nil {
			t.Fatal(err)
		}
		for _, strategy := range []string{"random", "pct"} {
			c, err := bench.Run(&bench.Config{Workload: wl, Params: params, Variant: v, Strategy: strategy,
				Depth: 3, Preempt: 0.3, Seed: 7, Runs: 1000}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Runs != 1000 || c.Wakeups == 0 {
				t.Errorf("%s, %s: %d runs, %d wake-ups, %d steps at most: want 1000 runs that reached the sleeping lock", fix, strategy, c.Runs, c.Wakeups, c.MaxStepsIn)
			}
			if c.Failing != 0 {
				for f, n := range c.Failures {
					if n > 0 {
						t.Errorf("%s, %s: %d failing runs, first %v\n%s", fix, strategy, c.Failing, c.FirstReport[f], c.First[f])
						break
					}
				}
			}
		}
	}
}
