package bench

import (
	"runtime"
	"testing"
	"time"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// BenchmarkExecutions measures the explore scheduler on whole executions of
// writeback-restart under the baseline (random strategy, default
// parameters): executions per second and scheduling decisions per second,
// for each task hand-off mechanism. Target: 100,000 executions/s on one core.
func BenchmarkExecutions(b *testing.B) {
	for _, h := range []sim.Handoff{sim.HandoffCoroutine, sim.HandoffChannel} {
		b.Run("writeback-restart/handoff="+h.String(), func(b *testing.B) {
			w, _ := workloads.Lookup("writeback-restart")
			v, _ := fixes.Parse("baseline")
			cfg := &Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "random",
				Preempt: DefaultPreempt, Seed: 1, Runs: b.N, Handoff: h}
			b.ResetTimer()
			c, err := Run(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(c.Runs)/s, "execs/s")
			b.ReportMetric(float64(c.Steps)/s, "decisions/s")
			b.ReportMetric(float64(c.Steps)/float64(c.Runs), "decisions/exec")
		})
	}
}

// BenchmarkExecutionCost measures, in one run, what a whole execution costs
// per scheduling point against the bare hand-off, the executor's unit of
// cost: whole executions of writeback-restart (baseline, default
// parameters, random strategy, preemption DefaultPreempt, coroutines, as
// BenchmarkExecutions), and the loop of sim's BenchmarkHandoff/coroutine
// (one task picked again at every point, every decision taken in Run after
// a switch back to it: sim.Explorer.AlwaysSwitch) for about as many
// decisions. The two alternate in eight rounds, so that a machine whose
// load changes during the run slows both alike. It reports ns/point (the
// executions' time over their decisions), handoff-ns (the loop's time per
// decision), x-handoff (their ratio; target: at most 1.5), decisions/s,
// execs/s, and an execution's points and how many of them switched to
// another task (points/exec, switches/exec: a decision that keeps the
// running task costs no hand-off, so what the rest cost is the model's and
// the bookkeeping's); ns/op is the time of one execution, and allocs/op
// and B/op what one execution allocates (the executions' alone: the
// timer stops around the hand-off loop). Run it on one core, the way the
// numbers are compared:
//
//	GOMAXPROCS=1 go test -run '^$' -bench ExecutionCost -benchtime 1s ./bench
func BenchmarkExecutionCost(b *testing.B) {
	w, _ := workloads.Lookup("writeback-restart")
	v, _ := fixes.Parse("baseline")
	const rounds = 8
	// The hand-off loop's decisions: about as many as the executions take
	// (44 each), at least enough for a stable number.
	points := max(44*b.N, 200_000)
	var handoff time.Duration
	var steps, switches int64
	runs := 0
	b.ReportAllocs()
	b.StopTimer()
	b.ResetTimer()
	for i := range rounds {
		// The executions' garbage is collected before the loop is timed,
		// so that their collection's work is not charged to the loop.
		runtime.GC()
		handoff += handoffLoop(b, points/rounds)
		// Executions first to last-1 of the batch: an execution depends
		// only on the seed and its number, so the rounds run exactly the
		// executions of one run of b.N.
		first, last := b.N*i/rounds, b.N*(i+1)/rounds
		if first == last {
			continue
		}
		cfg := &Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "random",
			Preempt: DefaultPreempt, Seed: 1, First: first, Runs: last - first, Handoff: sim.HandoffCoroutine}
		b.StartTimer()
		c, err := Run(cfg, nil)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		steps += c.Steps
		switches += c.Switches
		runs += c.Runs
	}
	exec := b.Elapsed()
	perPoint := float64(exec.Nanoseconds()) / float64(steps)
	perHandoff := float64(handoff.Nanoseconds()) / float64(points/rounds*rounds)
	b.ReportMetric(perPoint, "ns/point")
	b.ReportMetric(perHandoff, "handoff-ns")
	b.ReportMetric(perPoint/perHandoff, "x-handoff")
	b.ReportMetric(float64(steps)/exec.Seconds(), "decisions/s")
	b.ReportMetric(float64(runs)/exec.Seconds(), "execs/s")
	b.ReportMetric(float64(steps)/float64(runs), "points/exec")
	b.ReportMetric(float64(switches)/float64(runs), "switches/exec")
}

// handoffLoop times n decisions of the bare hand-off (sim.HandoffLoop).
func handoffLoop(b *testing.B, n int) time.Duration {
	d, err := sim.HandoffLoop(sim.HandoffCoroutine, n)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkTimed measures the timed scheduler on a 64-CPU lock-storm under
// the baseline: scheduling points simulated per second of host time.
// Target: 1,000,000 per second on one core.
func BenchmarkTimed(b *testing.B) {
	for _, wl := range []string{"lock-storm", "fsync-storm"} {
		b.Run(wl+"/cpus=64", func(b *testing.B) {
			w, _ := workloads.Lookup(wl)
			v, _ := fixes.Parse("baseline")
			cfg := &Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "timed",
				Seed: 1, Runs: b.N, CPUs: 64, Costs: sim.DefaultCosts(), MaxSteps: DefaultTimedMaxSteps}
			b.ResetTimer()
			c, err := Run(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(c.Steps)/s, "points/s")
			b.ReportMetric(float64(c.Steps)/float64(c.Runs), "points/exec")
		})
	}
}

// BenchmarkVerify measures the exhaustive search on writeback-restart at
// default parameters, one sub-benchmark per fix of race A's family: each
// op is one whole search (source sets, state caching, no bound), with the
// states and executions it took. BenchmarkVerifyDFS2 runs the
// preemption-bounded DFS (-strategy dfs -preemptions 2) on the same cells
// in the same run, for the ratio. The verification issue's target, each
// variant exhausted in under 10 ms on one core, is not met: a search takes
// 0.25 to 3.5 s (README, "Exhaustive verification"). The model's state
// space is 10 to 20 times an explicit-state model's, and a stateless
// search replays 13 to 19 steps per new transition, since Go cannot copy
// the tasks' stacks to checkpoint a state (the replayed steps record
// nothing: sim.PrefixReplayer).
func BenchmarkVerify(b *testing.B) {
	w, _ := workloads.Lookup("writeback-restart")
	for _, fix := range w.Fixes {
		b.Run("writeback-restart/fix="+fix, func(b *testing.B) {
			v, _ := fixes.Parse(fix)
			var res *Verification
			for b.Loop() {
				var err error
				res, err = Verify(&VerifyConfig{Workload: w, Params: w.Defaults(), Variant: v}, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			if !res.Complete {
				b.Fatalf("not complete: %+v", res.Stats)
			}
			b.ReportMetric(float64(res.Stats.States), "states")
			b.ReportMetric(float64(res.Stats.Executions), "execs")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/search")
		})
	}
}

// BenchmarkVerifyDFS2: the preemption-bounded DFS of the same cells (see
// BenchmarkVerify).
func BenchmarkVerifyDFS2(b *testing.B) {
	w, _ := workloads.Lookup("writeback-restart")
	for _, fix := range w.Fixes {
		b.Run("writeback-restart/fix="+fix, func(b *testing.B) {
			v, _ := fixes.Parse(fix)
			var c *Cell
			for b.Loop() {
				var err error
				c, err = Run(&Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "dfs", Depth: 2, Seed: 1, Runs: 10_000_000}, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			if !c.Exhausted {
				b.Fatal("dfs not exhausted")
			}
			b.ReportMetric(float64(c.Runs), "execs")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/search")
		})
	}
}
