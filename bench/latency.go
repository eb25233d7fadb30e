package bench

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/montanaflynn/stats"

	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// Latency is the distribution of one operation's latency over a cell's
// runs, in the clock's unit (virtual ns under the timed scheduler).
type Latency struct {
	Op    string
	Count int64
	// Hist pools the latencies of every run in an HDR histogram
	// (HistDigits significant digits): memory stays flat in the number of
	// runs, and histograms of runs and shards merge exactly. Min and Max
	// are exact.
	Hist     *hdrhistogram.Histogram
	Min, Max int64
	// Wakeups and Spurious are summed over the operations.
	Wakeups, Spurious int64
	// Percentiles of the pooled distribution (from Hist: within 10^-3
	// relative of the nearest-rank value).
	P50, P90, P99, P999 float64
	// PerSec is operations per second of the runs' total time; RunPerSec
	// and RunP99 are the same per run (for comparisons across runs).
	PerSec    float64
	RunPerSec []float64
	RunP50    []float64
	RunP99    []float64
	// RunWakeups and RunSpurious are each run's wake-ups and spurious
	// wake-ups per operation (the fairness figures, for benchstat).
	RunWakeups, RunSpurious []float64
	// RunMax is each run's largest value (count metrics only).
	RunMax []float64
}

// WakeupsPerOp and SpuriousPerOp are averages per operation.
func (l *Latency) WakeupsPerOp() float64  { return float64(l.Wakeups) / float64(max(l.Count, 1)) }
func (l *Latency) SpuriousPerOp() float64 { return float64(l.Spurious) / float64(max(l.Count, 1)) }

// Latency returns the statistics of the named operation, or nil.
func (c *Cell) Latency(op string) *Latency {
	for _, l := range c.Latencies {
		if l.Op == op {
			return l
		}
	}
	return nil
}

func (c *Cell) addTimed(ops []sim.OpStats, makespan int64) {
	c.Makespans = append(c.Makespans, makespan)
	for op := range ops {
		o := &ops[op]
		if len(o.Samples) == 0 || op >= int(mm.NumOps) {
			continue
		}
		name := mm.OpNames[op]
		l := c.Latency(name)
		if l == nil {
			l = &Latency{Op: name, Hist: newHist(), Min: math.MaxInt64}
			c.Latencies = append(c.Latencies, l)
		}
		run := make([]float64, len(o.Samples))
		for i, v := range o.Samples {
			run[i] = float64(v)
			l.record(v)
		}
		l.Count += int64(len(o.Samples))
		l.Wakeups += o.Wakeups
		l.Spurious += o.Spurious
		p50, _ := stats.PercentileNearestRank(run, 50)
		p99, _ := stats.PercentileNearestRank(run, 99)
		l.RunP50 = append(l.RunP50, p50)
		l.RunP99 = append(l.RunP99, p99)
		l.RunPerSec = append(l.RunPerSec, float64(len(o.Samples))/(float64(max(makespan, 1))/1e9))
		l.RunWakeups = append(l.RunWakeups, float64(o.Wakeups)/float64(len(o.Samples)))
		l.RunSpurious = append(l.RunSpurious, float64(o.Spurious)/float64(len(o.Samples)))
	}
}

func (c *Cell) summarize() {
	var total int64
	for _, m := range c.Makespans {
		total += m
	}
	for _, l := range c.Latencies {
		l.P50, l.P90, l.P99, l.P999 = l.Quantile(50), l.Quantile(90), l.Quantile(99), l.Quantile(99.9)
		l.PerSec = float64(l.Count) / (float64(max(total, 1)) / 1e9)
	}
	for _, l := range c.Counts {
		l.P50, l.P90, l.P99, l.P999 = l.Quantile(50), l.Quantile(90), l.Quantile(99), l.Quantile(99.9)
	}
}

// HistDigits is the HDR histograms' precision: 3 significant digits, so a
// percentile is within 0.1% of the exact one (exact below 2048 ns).
const HistDigits = 3

// HistMax is the largest latency a histogram tracks exactly: 2^50 ns, 13
// days (no execution's clock gets near: sim.MaxCost, the -timeout bound);
// a larger one is counted at HistMax, and Max keeps the exact value.
const HistMax = 1 << 50

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, HistMax, HistDigits) }

func (l *Latency) record(v int64) {
	l.Min, l.Max = min(l.Min, v), max(l.Max, v)
	l.Hist.RecordValue(min(max(v, 0), HistMax))
}

// Quantile is the latency at percentile q (0 to 100) of the pooled
// distribution: the exact minimum at 0, the exact maximum at 100, and the
// HDR histogram's value (clamped to them) in between.
func (l *Latency) Quantile(q float64) float64 {
	if l.Count == 0 {
		return 0
	}
	switch {
	case q <= 0:
		return float64(l.Min)
	case q >= 100:
		return float64(l.Max)
	}
	return float64(min(max(l.Hist.ValueAtQuantile(q), l.Min), l.Max))
}

// Quantiles are the pooled distribution at percentiles 0, 0.5, …, 100.
func (l *Latency) Quantiles() []float64 {
	if l.Count == 0 {
		return nil
	}
	q := make([]float64, NumQuantiles)
	for i := range q {
		q[i] = l.Quantile(100 * float64(i) / float64(NumQuantiles-1))
	}
	return q
}
