package bench

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

func cell(t *testing.T, workload, fix, strategy string, runs int, seed uint64) *Cell {
	t.Helper()
	w, p := cellOf(t, workload, nil)
	v, err := fixes.Parse(fix)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(&Config{Workload: w, Params: p, Variant: v, Strategy: strategy,
		Depth: 3, Preempt: DefaultPreempt, Seed: seed, Runs: runs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"random", "pct"} {
		a := cell(t, "writeback-reuse", "baseline", s, 3000, 5)
		b := cell(t, "writeback-reuse", "baseline", s, 3000, 5)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs with seed 5 differ:\n%+v\n%+v", s, a, b)
		}
		if a.Failing == 0 {
			t.Errorf("%s: no failing run in 3000 executions of writeback-reuse under baseline", s)
		}
	}
}

// TestFirstFailuresReplay: every first-failure schedule a run reports
// replays, under the same fix, to an execution in which that failure fires.
func TestFirstFailuresReplay(t *testing.T) {
	t.Parallel()
	if raceEnabled {
		// 80,000 executions and their replays, all on this goroutine
		// (coroutine hand-offs): TestBatchIsRun (-j 2 and 5) and
		// TestInlineDecisions (the channel hand-off) run the executor
		// across goroutines under the detector.
		t.Skip("one goroutine's executions and replays: checked by the plain pass; ten times slower under the race detector")
	}
	for _, wl := range []string{"writeback-restart", "writeback-reuse"} {
		c := cell(t, wl, "baseline", "random", 40000, 1)
		w, _ := workloads.Lookup(wl)
		v, _ := fixes.Parse("baseline")
		found := 0
		for f := mm.Failure(0); f < mm.NumFailures; f++ {
			if c.Failures[f] == 0 {
				continue
			}
			found++
			s, err := sim.ParseSchedule(c.First[f])
			if err != nil {
				t.Fatalf("%s %s: %v", wl, f, err)
			}
			r, err := Replay(&ReplayConfig{Workload: w, Params: w.Defaults(), Variant: v, Schedule: s, Then: "stop"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Diverged != nil || !r.Exec.Fired.Has(f) {
				t.Errorf("%s: first %s schedule replays to %v (diverged: %v)\n%s", wl, f, r.Exec.Fired.List(), r.Diverged, c.First[f])
			}
		}
		if wl == "writeback-restart" && c.Failures[mm.BugWriteback] == 0 {
			t.Errorf("writeback-restart under baseline: no bug-writeback in %d runs", c.Runs)
		}
		if found == 0 {
			t.Errorf("%s: nothing failed", wl)
		}
	}
}

func TestInterruptKeepsFinishedRuns(t *testing.T) {
	w, _ := workloads.Lookup("writeback-restart")
	v, _ := fixes.Parse("baseline")
	n := 0
	c, err := Run(&Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "random",
		Preempt: DefaultPreempt, Seed: 1, Runs: 1000}, func() bool { n++; return n > 10 })
	if err != ErrInterrupted || c.Runs != 10 {
		t.Fatalf("got %d runs, %v; want 10 runs and ErrInterrupted", c.Runs, err)
	}
}

func timedCell(t *testing.T, workload, fix string, cpus int) *Cell {
	t.Helper()
	w, _ := workloads.Lookup(workload)
	v, err := fixes.Parse(fix)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(&Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "timed",
		Seed: 3, Runs: 2, CPUs: cpus, Costs: sim.DefaultCosts(), MaxSteps: DefaultTimedMaxSteps}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTimedIsDeterministic(t *testing.T) {
	for _, wl := range []string{"lock-storm", "fsync-storm"} {
		a, b := timedCell(t, wl, "baseline", 16), timedCell(t, wl, "baseline", 16)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two timed runs with seed 3 differ", wl)
		}
		if len(a.Latencies) == 0 || a.Latencies[0].Count == 0 {
			t.Errorf("%s: no latencies recorded", wl)
		}
	}
}

// TestLockStormHandoffCost pins what the lab measured with the default cost
// model: at 64 CPUs, handing the page lock to the first waiter (5.9-rc1)
// gets less than 60% of v5.8's lock throughput (Larabel's direction).
func TestLockStormHandoffCost(t *testing.T) {
	t.Parallel()
	v58 := timedCell(t, "lock-storm", "v5.8", 64).Latency("lock_page")
	fair := timedCell(t, "lock-storm", "fair-handoff", 64).Latency("lock_page")
	if fair.PerSec >= 0.6*v58.PerSec {
		t.Errorf("fair-handoff %.0f lock_page/s, v5.8 %.0f: want fair-handoff below 60%%", fair.PerSec, v58.PerSec)
	}
	if fair.SpuriousPerOp() != 0 {
		t.Errorf("fair-handoff: %.2f spurious wake-ups per lock; a handed-off waiter never finds the bit taken", fair.SpuriousPerOp())
	}
}

// TestTimedMaxSteps: a workload's own step budget wins over the default,
// which applies when it sets none.
func TestTimedMaxSteps(t *testing.T) {
	for _, tc := range []struct {
		workload string
		want     int
	}{
		{"fsync-storm", 5_000_000},
		{"lock-storm", DefaultTimedMaxSteps},
	} {
		w, err := workloads.Lookup(tc.workload)
		if err != nil {
			t.Fatal(err)
		}
		if got := TimedMaxSteps(w); got != tc.want {
			t.Errorf("TimedMaxSteps(%s) = %d, want %d", tc.workload, got, tc.want)
		}
	}
}

// TestSamplerNote: the line under a run's header says why its strategy is
// the workload's default, nothing for another independent sampler, and
// greybox's caveat (its counts are not independent draws) whatever the
// workload.
func TestSamplerNote(t *testing.T) {
	for _, tc := range []struct {
		workload, strategy, want string
	}{
		{"writeback-restart", "pct-irq", "pct-irq is this workload's default: "},
		{"writeback-restart", "pct-task", ""},
		{"writeback-restart", "random", ""},
		{"isize-compress", "surw:i_size", "surw is this workload's default: "},
		{"isize-compress", "surw", ""},
		{"isize-compress", "pos", ""},
		{"thp-truncate-opens", "random", "random is this workload's default: "},
		{"thp-truncate-opens", "pct-task", ""},
		{"gup-dio-wrprotect", "random", "random is this workload's default: "},
		{"writeback-restart", "greybox", "not independent draws"},
		{"lock-storm", "greybox", "not independent draws"},
		{"writeback-reuse", "greybox-irq", "greybox-irq is a campaign: "},
	} {
		strategy, focus, _ := strings.Cut(tc.strategy, ":")
		got := SamplerNote(tc.workload, strategy, focus)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("SamplerNote(%s, %s) = %q, want %q in it", tc.workload, tc.strategy, got, tc.want)
		}
	}
}

// TestRaceWorkloadsSayWhy: every race workload run without -strategy
// says which strategy it chose and why, the random walk's included.
func TestRaceWorkloadsSayWhy(t *testing.T) {
	for _, wl := range workloads.All() {
		if wl.Race == "" || wl.Latency {
			continue
		}
		if SamplerNote(wl.ID, wl.DefaultStrategy(), wl.SamplerFocus) == "" {
			t.Errorf("%s: its default strategy %s has no reason (Workload.SamplerWhy)", wl.ID, wl.DefaultStrategy())
		}
	}
}

// TestSamplerFocus: a workload's default focus is surw's, parses, and
// names objects the workload's steps touch.
func TestSamplerFocus(t *testing.T) {
	v, err := fixes.Parse("baseline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, wl := range workloads.All() {
		if wl.SamplerFocus == "" {
			continue
		}
		n++
		if !TakesFocus(wl.Sampler) {
			t.Errorf("%s: focus %q on %s (only surw and pct-point take one)", wl.ID, wl.SamplerFocus, wl.Sampler)
		}
		cfg := &Config{Workload: wl, Params: wl.Defaults(), Variant: v, Strategy: wl.Sampler, Focus: wl.SamplerFocus, Seed: 1, Runs: 1}
		if err := CheckFocus(cfg); err != nil {
			t.Errorf("%s: %v", wl.ID, err)
		}
	}
	if n == 0 {
		t.Fatal("no workload has a default focus: the test checks nothing")
	}
}

// TestGreyboxIRQCell: greybox-irq refuses a workload none of whose I/O
// completions takes a racy step, saying so in its own name and naming the
// greybox that draws among every task; on race A's workload a campaign
// fires bug-writeback (first in a median 78 executions in the README's hunt) and
// is the same for the same seed.
func TestGreyboxIRQCell(t *testing.T) {
	base, err := fixes.Parse("baseline")
	if err != nil {
		t.Fatal(err)
	}
	cell := func(workload string) *Config {
		w, err := workloads.Lookup(workload)
		if err != nil {
			t.Fatal(err)
		}
		return &Config{Workload: w, Params: w.Defaults(), Variant: base, Strategy: "greybox-irq", Seed: 1, Runs: 2000}
	}
	_, err = Run(cell("thp-truncate-opens"), nil)
	var ce *CompletionsError
	if !errors.As(err, &ce) || ce.Strategy != "greybox-irq" || !strings.Contains(err.Error(), "greybox draws them among every task") {
		t.Errorf("greybox-irq without completions: error %v, want a CompletionsError of greybox-irq", err)
	}
	a, err := Run(cell("writeback-restart"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Failures[mm.BugWriteback] == 0 {
		t.Errorf("greybox-irq never fired bug-writeback in %d executions: %v", a.Runs, a.Failures)
	}
	b, err := Run(cell("writeback-restart"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Failures, b.Failures) || a.Steps != b.Steps {
		t.Errorf("the same seed gave %v in %d steps, then %v in %d", a.Failures, a.Steps, b.Failures, b.Steps)
	}
}
