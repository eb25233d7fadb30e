package bench

import (
	"github.com/montanaflynn/stats"

	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// Latency is the distribution of one operation's latency over a cell's
// runs, in the clock's unit (virtual ns under the timed scheduler).
type Latency struct {
	Op    string
	Count int64
	// Samples holds every latency, pooled over the runs.
	Samples []float64
	// Wakeups and Spurious are summed over the operations.
	Wakeups, Spurious int64
	// Percentiles (nearest rank) and maximum of Samples.
	P50, P90, P99, P999, Max float64
	// PerSec is operations per second of the runs' total time; RunPerSec
	// and RunP99 are the same per run (for comparisons across runs).
	PerSec    float64
	RunPerSec []float64
	RunP50    []float64
	RunP99    []float64
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
			l = &Latency{Op: name}
			c.Latencies = append(c.Latencies, l)
		}
		run := make([]float64, len(o.Samples))
		for i, v := range o.Samples {
			run[i] = float64(v)
		}
		l.Samples = append(l.Samples, run...)
		l.Count += int64(len(o.Samples))
		l.Wakeups += o.Wakeups
		l.Spurious += o.Spurious
		p50, _ := stats.PercentileNearestRank(run, 50)
		p99, _ := stats.PercentileNearestRank(run, 99)
		l.RunP50 = append(l.RunP50, p50)
		l.RunP99 = append(l.RunP99, p99)
		l.RunPerSec = append(l.RunPerSec, float64(len(o.Samples))/(float64(max(makespan, 1))/1e9))
	}
}

func (c *Cell) summarize() {
	var total int64
	for _, m := range c.Makespans {
		total += m
	}
	for _, l := range c.Latencies {
		l.P50, _ = stats.PercentileNearestRank(l.Samples, 50)
		l.P90, _ = stats.PercentileNearestRank(l.Samples, 90)
		l.P99, _ = stats.PercentileNearestRank(l.Samples, 99)
		l.P999, _ = stats.PercentileNearestRank(l.Samples, 99.9)
		l.Max, _ = stats.Max(l.Samples)
		l.PerSec = float64(l.Count) / (float64(max(total, 1)) / 1e9)
	}
}
