package bench

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/montanaflynn/stats"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// TestLatencyHistogram: the pooled percentiles of the HDR histogram are
// within 0.1% of the exact nearest-rank ones, the extremes exact, and the
// pooled state does not grow with the number of runs (only the three
// per-run values do).
func TestLatencyHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	c := &Cell{}
	var all []float64
	for run := range 50 {
		ops := make([]sim.OpStats, 1)
		for range 1000 {
			v := int64(math.Exp(r.NormFloat64()*2 + 8))
			ops[0].Samples = append(ops[0].Samples, v)
			all = append(all, float64(v))
		}
		c.addTimed(ops, int64(1e6*(run+1)))
	}
	c.summarize()
	l := c.Latencies[0]
	if l.Count != int64(len(all)) || len(l.RunP50) != 50 {
		t.Fatalf("count %d, %d per-run values", l.Count, len(l.RunP50))
	}
	for _, q := range []float64{0.5, 10, 50, 90, 99, 99.9} {
		exact, _ := stats.PercentileNearestRank(all, q)
		if got := l.Quantile(q); math.Abs(got-exact) > 1e-3*exact+1 {
			t.Errorf("p%v = %v, exact %v", q, got, exact)
		}
	}
	if l.Quantile(0) != slices.Min(all) || l.Quantile(100) != slices.Max(all) {
		t.Errorf("extremes %v..%v, want exact %v..%v", l.Quantile(0), l.Quantile(100), slices.Min(all), slices.Max(all))
	}
	if qs := l.Quantiles(); len(qs) != NumQuantiles || !slices.IsSorted(qs) {
		t.Errorf("quantiles: %d, sorted %v", len(qs), slices.IsSorted(qs))
	}
	before := l.Hist.ByteSize()
	ops := []sim.OpStats{{Samples: []int64{5, 1 << 55}}} // beyond HistMax: counted at it, Max exact
	c.addTimed(ops, 1)
	if l.Hist.ByteSize() != before {
		t.Errorf("histogram grew from %d to %d bytes", before, l.Hist.ByteSize())
	}
	if l.Max != 1<<55 {
		t.Errorf("max %d, want the exact 2^55", l.Max)
	}
}

// TestInterruptInsideExecution: an interrupt is seen inside one long
// execution (here a lock-storm run of hours), not only between executions,
// and the execution cut short is not counted.
func TestInterruptInsideExecution(t *testing.T) {
	wl, err := workloads.Lookup("lock-storm")
	if err != nil {
		t.Fatal(err)
	}
	p, err := wl.ParseParams([]string{"tasks=1024", "ops=100000"})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := fixes.Parse("baseline")
	start := time.Now()
	stop := func() bool { return time.Since(start) > 200*time.Millisecond }
	c, err := Run(&Config{Workload: wl, Params: p, Variant: v, Strategy: "timed", Seed: 1, Runs: 1, CPUs: 64,
		Costs: sim.DefaultCosts(), MaxSteps: TimedMaxSteps(wl)}, stop)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	if c.Runs != 0 {
		t.Errorf("%d runs counted, want the cut one left out", c.Runs)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v", d)
	}
}
