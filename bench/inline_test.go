package bench

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// inlineTrace is everything an execution shows the outside: its decisions,
// result, failures and reports, and the order of the hooks' calls (Trace,
// AfterStep, OnWake, Interrupt polls and the strategy's picks), for
// comparing the decisions taken on the tasks' side with those taken in Run
// (sim.Explorer.AlwaysSwitch).
type inlineTrace struct {
	log  []string
	runs []string
}

// spy wraps a strategy to log its Pick calls and their arguments.
type spy struct {
	sim.Strategy
	tr *inlineTrace
}

func (s spy) Pick(runnable []*sim.Task, last *sim.Task, step int) *sim.Task {
	var b strings.Builder
	fmt.Fprintf(&b, "pick %d last=%s:", step, taskLabel(last))
	for _, t := range runnable {
		b.WriteString(" " + taskLabel(t))
	}
	got := s.Strategy.Pick(runnable, last, step)
	fmt.Fprintf(&b, " -> %s", taskLabel(got))
	s.tr.log = append(s.tr.log, b.String())
	return got
}

func taskLabel(t *sim.Task) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s@%s", t.Name, t.Label())
}

// inlineRun runs executions of a cell with the decisions taken inline or in
// Run (always), and logs what they show.
func inlineRun(t *testing.T, wl *workloads.Workload, strategy string, preempt float64, runs int, h sim.Handoff, always bool) *inlineTrace {
	t.Helper()
	v, _ := fixes.Parse("baseline")
	cfg := &Config{Workload: wl, Params: wl.Defaults(), Variant: v, Seed: 3, Handoff: h, CPUs: 4, Costs: sim.DefaultCosts()}
	var s sim.Strategy
	var timed *sim.Timed
	switch strategy {
	case "random":
		s = sim.NewRandom(3, preempt)
	case "pct":
		s = sim.NewPCT(3, 3, wl.StepsEstimate)
	case "timed":
		timed = sim.NewTimed(3, 4, sim.DefaultCosts())
		s = timed
		cfg.MaxSteps = 200_000
	}
	tr := &inlineTrace{}
	if timed == nil {
		s = spy{s, tr}
	}
	r := newRunner(cfg, s)
	defer r.x.Close()
	r.x.AlwaysSwitch = always
	r.x.RecordOps = timed != nil
	r.x.Trace = func(tk *sim.Task, step int) {
		tr.log = append(tr.log, fmt.Sprintf("trace %d %s stack=%v now=%d", step, taskLabel(tk), tk.Stack(), tk.Now()))
	}
	r.x.AfterStep = func(tk *sim.Task) {
		tr.log = append(tr.log, fmt.Sprintf("after %s done=%v blocked=%v", taskLabel(tk), tk.Done(), tk.Blocked()))
	}
	r.x.OnWake = func(waker, wakee *sim.Task) {
		tr.log = append(tr.log, fmt.Sprintf("wake %s %s", taskLabel(waker), taskLabel(wakee)))
	}
	polls := 0
	r.x.Interrupt = func() bool {
		polls++
		tr.log = append(tr.log, fmt.Sprintf("interrupt poll %d", polls))
		return false
	}
	for range runs {
		e, err := r.exec()
		if err != nil {
			t.Fatal(err)
		}
		res := e.Result
		halt := -1
		if res.HaltTask != nil {
			halt = res.HaltTask.ID
		}
		run := fmt.Sprintf("%v halt=%d %v steps=%d wakeups=%d interrupted=%v fired=%v reports=%v decisions=%v",
			res.Outcome, halt, res.HaltReason, res.Steps, res.Wakeups, res.Interrupted, e.Fired, e.Reports, r.x.Decisions)
		if timed != nil {
			run += fmt.Sprintf(" makespan=%d ops=%v", timed.Makespan(), r.x.Ops())
		}
		tr.runs = append(tr.runs, run)
	}
	return tr
}

// TestInlineDecisions: a decision taken on the running task's side
// (sim.Explorer.yielded) is the decision Run takes after a switch back to
// it: the same Pick calls with the same arguments, in the same order with
// the hooks, and the same executions, for every workload, for the
// strategies that take the common paths, on both hand-offs.
func TestInlineDecisions(t *testing.T) {
	type cfg struct {
		strategy string
		preempt  float64
		runs     int
		h        sim.Handoff
	}
	cfgs := []cfg{
		{"random", 0.1, 150, sim.HandoffCoroutine},
		{"random", 1, 60, sim.HandoffCoroutine},
		{"pct", 0, 60, sim.HandoffCoroutine},
		{"random", 0.3, 30, sim.HandoffChannel},
	}
	for _, wl := range workloads.All() {
		// A workload's configurations on one core, the workloads on all.
		t.Run(wl.ID, func(t *testing.T) {
			t.Parallel()
			for _, c := range cfgs {
				strategy := c.strategy
				runs := c.runs
				if raceEnabled {
					// Tenfold slower: a few executions each for the
					// detector to look at.
					runs = max(runs/10, 2)
				}
				if wl.Latency {
					if c.h != sim.HandoffCoroutine || c.preempt != 0.1 {
						continue
					}
					strategy, runs = "timed", 2
				}
				name := fmt.Sprintf("%s/%s/%v/%v", wl.ID, strategy, c.preempt, c.h)
				want := inlineRun(t, wl, strategy, c.preempt, runs, c.h, true)
				got := inlineRun(t, wl, strategy, c.preempt, runs, c.h, false)
				if !reflect.DeepEqual(want.runs, got.runs) {
					for i := range want.runs {
						if want.runs[i] != got.runs[i] {
							t.Fatalf("%s: execution %d differs\nin Run:  %s\ninline: %s", name, i, want.runs[i], got.runs[i])
						}
					}
				}
				if !reflect.DeepEqual(want.log, got.log) {
					for i := range min(len(want.log), len(got.log)) {
						if want.log[i] != got.log[i] {
							t.Fatalf("%s: event %d differs\nin Run:  %s\ninline: %s", name, i, want.log[i], got.log[i])
						}
					}
					t.Fatalf("%s: %d events in Run, %d inline", name, len(want.log), len(got.log))
				}
			}
		})
	}
}

// TestInlineDecisionsDPOR: the exhaustive search, whose strategy looks at
// every step's footprint (a StepObserver) and at the state key, explores
// the same executions with the decisions taken inline.
func TestInlineDecisionsDPOR(t *testing.T) {
	t.Parallel()
	w, _ := workloads.Lookup("writeback-restart")
	v, _ := fixes.Parse("baseline")
	search := func(always bool) []string {
		cfg := &Config{Workload: w, Params: w.Defaults(), Variant: v, Seed: 1, MaxSteps: DefaultVerifyDepth + 1}
		dpor := sim.NewDPOR(sim.SourceSets, DefaultVerifyDepth)
		dpor.MaxStates = DefaultVerifyStates
		r := newRunner(cfg, dpor)
		defer r.x.Close()
		r.x.AlwaysSwitch = always
		r.x.EnableFootprints()
		dpor.Attach(r.x)
		var out []string
		for i := 0; i < 3000 && !dpor.Exhausted(); i++ {
			e, err := r.exec()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%v %d %v %v key=%v", e.Result.Outcome, e.Result.Steps, e.Fired, r.x.Decisions, r.x.StateKey()))
		}
		return out
	}
	want, got := search(true), search(false)
	if len(want) != len(got) {
		t.Fatalf("%d executions in Run, %d inline", len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("execution %d differs\nin Run:  %s\ninline: %s", i, want[i], got[i])
		}
	}
}
