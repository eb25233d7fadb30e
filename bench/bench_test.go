package bench

import (
	"testing"

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
// in the same run, for the ratio. Target: each variant exhausted in under
// 10 ms on one core.
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
