package hunt

import (
	"cmp"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
)

// benchMaxRuns bounds one seed's search for its first failure.
const benchMaxRuns = 200_000

// BenchmarkFirstFailure measures, for every seed interleaving's failure id,
// the time to the first execution that fires it under the workload's
// default strategy (what pagelab run uses without -strategy), under
// greybox and greybox-irq (a campaign from scratch per seed, its genomes
// at their default bounds, as in the hunt) and under pct-irq at depth
// pctIRQDepth (greybox-irq and pct-irq where the workload has completions
// that race; skipped, saying so, where none does), one seed per iteration
// (seeds 1..b.N; -benchtime 100x for the README's 100), on the
// benchmark's goroutine. The cell's profile is built before the
// timer starts (once per process and cell, as in a run). Reported: the
// median time and executions over the seeds, and the median in bare
// coroutine hand-offs (the machine-independent figure), the fraction of
// seeds that found it, and the time of all the seeds' executions per
// scheduling point, also over the hand-off (ns/point, x-handoff: what an
// execution of the cell costs, against BenchmarkExecutionCost's
// writeback-restart). The hand-off is timed (sim.HandoffSample,
// outside the benchmark's timer) before the first seed and
// again before any seed that starts handoffResample or more after the
// last sample, and each seed's time is counted in the hand-offs of the
// latest sample: a machine whose speed drifts during a cell's seconds
// slows both alike, while the seeds of a cell that takes milliseconds run
// back to back as before, not each after a sample that evicted their
// caches (handoff-ns is the median of the seeds' samples). With them:
// the scheduling points
// of an execution and how many of them switched to another task (the
// rest let the running task go on without a hand-off). A seed stops at
// benchMaxRuns executions without a failure (counted as never, above
// every time in the median). Target: a median under 5 ms on one core. A
// target that the strategy does not fire in a probe of 20,000 executions
// (greybox: one campaign of 50,000, the hunt's -campaign-runs), or that
// half the seeds do not find, is skipped, saying so (the hunt table
// gives its rate).
func BenchmarkFirstFailure(b *testing.B) {
	ts, err := Targets()
	if err != nil {
		b.Fatal(err)
	}
	v, err := fixes.Parse("baseline")
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range ts {
		strategies := []string{t.Workload.DefaultStrategy(), "greybox", "greybox-irq"}
		if strategies[0] != "pct-irq" {
			strategies = append(strategies, "pct-irq")
		}
		for i, strategy := range strategies {
			depth := cmp.Or(t.Workload.SamplerDepth, bench.DefaultDepth)
			if i > 0 && strategy == "pct-irq" { // not the workload's default
				depth = pctIRQDepth
			}
			if bench.Adaptive(strategy) {
				depth = 0 // its default genome bounds, the hunt's
			}
			b.Run(t.Seed+"/"+strategy, func(b *testing.B) {
				focus := ""
				if strategy == t.Workload.Sampler {
					focus = t.Workload.SamplerFocus
				}
				cell := func(seed uint64, runs int) *bench.Config {
					return &bench.Config{Workload: t.Workload, Params: t.Params, Variant: v, Strategy: strategy,
						Depth: depth, Focus: focus, Preempt: bench.DefaultPreempt, Seed: seed, Runs: runs}
				}
				// The probe: independent draws of 20,000, or for greybox
				// one campaign as long as the hunt's (-campaign-runs): a
				// campaign's first 20,000 executions miss race-b-thp,
				// which most campaigns find within 50,000.
				probeRuns := 20_000
				if bench.Adaptive(strategy) {
					probeRuns = 50_000
				}
				probe, err := bench.Run(cell(1_000_000, probeRuns), nil)
				if ce := (*bench.CompletionsError)(nil); errors.As(err, &ce) {
					b.Skip(err)
				}
				if err != nil {
					b.Fatal(err)
				}
				if probe.Failures[t.Failure] == 0 {
					b.Skipf("%s never fires %s in %d executions", strategy, t.Failure, probeRuns)
				}
				f := t.Failure
				// times and units are the seeds' times to the first
				// failure, in ns and in hand-offs; handoffs the hand-off
				// samples, one per seed.
				var times, units, runs, handoffs []float64
				found := 0
				// Every seed's executions, failing or not: their time per
				// scheduling point, and in hand-offs.
				var allNs, allUnits, allSteps, allSwitches, allRuns float64
				var handoff float64
				var sampled time.Time
				b.ResetTimer()
				for i := range b.N {
					if i == 0 || time.Since(sampled) >= handoffResample {
						b.StopTimer()
						handoff, sampled = handoffSample(b), time.Now()
						b.StartTimer()
					}
					handoffs = append(handoffs, handoff)
					c := cell(uint64(i+1), benchMaxRuns)
					c.Until = func(c *bench.Cell) bool { return c.Failures[f] > 0 }
					start := time.Now()
					got, err := bench.Run(c, nil)
					el := time.Since(start)
					if err != nil {
						b.Fatal(err)
					}
					allNs += float64(el.Nanoseconds())
					allUnits += float64(el.Nanoseconds()) / handoff
					allSteps += float64(got.Steps)
					allSwitches += float64(got.Switches)
					allRuns += float64(got.Runs)
					if got.Failures[f] == 0 {
						times = append(times, math.Inf(1))
						units = append(units, math.Inf(1))
						runs = append(runs, math.Inf(1))
						// The median is past every seed once the seeds that
						// never found it fill the sorted upper half: the
						// rest cannot change that.
						if never := i + 1 - found; never >= b.N-b.N/2 {
							b.Skipf("%s finds %s in at most %d of %d seeds within %d executions", strategy, f, b.N-never, b.N, benchMaxRuns)
						}
						continue
					}
					found++
					times = append(times, float64(el.Nanoseconds()))
					units = append(units, float64(el.Nanoseconds())/handoff)
					runs = append(runs, float64(got.Runs))
				}
				b.StopTimer()
				med := median(times)
				if math.IsInf(med, 1) {
					b.Skipf("%s finds %s in only %d of %d seeds within %d executions", strategy, f, found, b.N, benchMaxRuns)
				}
				b.ReportMetric(float64(found)/float64(b.N), "found-frac")
				b.ReportMetric(med/1e6, "ms-median")
				b.ReportMetric(median(runs), "execs-median")
				b.ReportMetric(median(units), "handoffs-median")
				b.ReportMetric(median(handoffs), "handoff-ns")
				b.ReportMetric(allNs/allSteps, "ns/point")
				b.ReportMetric(allUnits/allSteps, "x-handoff")
				b.ReportMetric(allSteps/allRuns, "points/exec")
				b.ReportMetric(allSwitches/allRuns, "switches/exec")
			})
		}
	}
}

// pctIRQDepth is pct-irq's depth where it is not the workload's default
// (the hunt table's depths are 6 and 14; 6 is race A's and race B's
// better).
const pctIRQDepth = 6

// handoffResample is how long a hand-off sample holds.
const handoffResample = 100 * time.Millisecond

// handoffSample is the bare coroutine hand-off (sim's BenchmarkHandoff
// loop, every decision through the scheduler) in ns per decision:
// sim.HandoffSample.
func handoffSample(b *testing.B) float64 {
	ns, err := sim.HandoffSample()
	if err != nil {
		b.Fatal(err)
	}
	return ns
}
