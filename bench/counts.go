package bench

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/montanaflynn/stats"

	"github.com/pagelab/pagelab/mm"
)

// Count metrics: the distributions the model reports beside latencies
// (mm.CountNames: entries a writeback wake-up walk visited, writeback
// cycles a waiter waited through, the stretches a worker kept its CPU
// without a preemption point). A cell keeps each as a Latency (the same
// pooled HDR histogram, exact minimum and maximum, per-run values) whose
// values are in the metric's unit, not nanoseconds; RunMax is the largest
// value of each run.

// Count returns the statistics of the named count metric, or nil.
func (c *Cell) Count(name string) *Latency {
	for _, l := range c.Counts {
		if l.Op == name {
			return l
		}
	}
	return nil
}

// CountUnit is the unit of the named count metric ("" if unknown).
func CountUnit(name string) string {
	if i := slices.Index(mm.CountNames[:], name); i >= 0 {
		return mm.CountUnits[i]
	}
	return ""
}

// addCounts adds one execution's count metrics (sim.Explorer.Counts).
func (c *Cell) addCounts(counts [][]int64) {
	for m, samples := range counts {
		if len(samples) == 0 || m >= int(mm.NumCounts) {
			continue
		}
		name := mm.CountNames[m]
		l := c.Count(name)
		if l == nil {
			l = &Latency{Op: name, Hist: newHist(), Min: math.MaxInt64}
			c.Counts = append(c.Counts, l)
		}
		run := make([]float64, len(samples))
		var most int64
		for i, v := range samples {
			run[i] = float64(v)
			l.record(v)
			most = max(most, v)
		}
		l.Count += int64(len(samples))
		p50, _ := stats.PercentileNearestRank(run, 50)
		p99, _ := stats.PercentileNearestRank(run, 99)
		l.RunP50 = append(l.RunP50, p50)
		l.RunP99 = append(l.RunP99, p99)
		l.RunMax = append(l.RunMax, float64(most))
	}
}

// CountRecord is one count metric of a timed or native cell, in its unit.
type CountRecord struct {
	Unit  string  `json:"unit"`
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	// Per run (one value per execution in which it was recorded).
	RunP50 []float64 `json:"run_p50,omitempty"`
	RunP99 []float64 `json:"run_p99,omitempty"`
	RunMax []float64 `json:"run_max,omitempty"`
	// Quantiles are the pooled distribution at ranks 0, 1/200, …, 1.
	Quantiles []float64 `json:"quantiles,omitempty"`
}

func newCountRecords(c *Cell) map[string]*CountRecord {
	if len(c.Counts) == 0 {
		return nil
	}
	m := map[string]*CountRecord{}
	for _, l := range c.Counts {
		m[l.Op] = &CountRecord{
			Unit: CountUnit(l.Op), Count: l.Count, P50: l.P50, P90: l.P90, P99: l.P99, Max: float64(l.Max),
			RunP50: l.RunP50, RunP99: l.RunP99, RunMax: l.RunMax, Quantiles: l.Quantiles(),
		}
	}
	return m
}

// validate checks one count metric's record of a cell of runs runs.
func (l *CountRecord) validate(name string, runs int) error {
	if l == nil {
		return fmt.Errorf("null")
	}
	if want := CountUnit(name); want == "" {
		return fmt.Errorf("unknown count metric (valid: %s)", strings.Join(mm.CountNames[:], ", "))
	} else if l.Unit != want {
		return fmt.Errorf("unit %q, want %q", l.Unit, want)
	}
	if l.Count < 1 {
		return fmt.Errorf("count %d: a metric is recorded only when it has values", l.Count)
	}
	if len(l.Quantiles) != 0 && len(l.Quantiles) != NumQuantiles {
		return fmt.Errorf("%d quantiles, want %d", len(l.Quantiles), NumQuantiles)
	}
	for _, v := range [][]float64{l.Quantiles, l.RunP50, l.RunP99, l.RunMax, {l.P50, l.P90, l.P99, l.Max}} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > math.MaxInt64 {
				return fmt.Errorf("bad value %v", x)
			}
		}
	}
	n := len(l.RunMax)
	if n < 1 || n > runs || int64(n) > l.Count || len(l.RunP50) != n || len(l.RunP99) != n {
		return fmt.Errorf("%d, %d and %d per-run values (p50, p99, max): want one per run in which it was recorded, 1 to %d",
			len(l.RunP50), len(l.RunP99), n, min(int64(runs), l.Count))
	}
	if !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		return fmt.Errorf("percentiles out of order: p50 %v, p90 %v, p99 %v, max %v", l.P50, l.P90, l.P99, l.Max)
	}
	if !slices.IsSorted(l.Quantiles) {
		return fmt.Errorf("quantiles not in increasing order")
	}
	return runsWithin(l.RunP50, l.RunP99, l.RunMax, l.Max)
}

// countParts are a shard's count histograms (PartRecord.Counts).
func countParts(c *Cell) (map[string]*OpPart, error) {
	var m map[string]*OpPart
	for _, l := range c.Counts {
		enc, err := l.Hist.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: encoding the %s histogram: %v", c.Workload, c.Fix, l.Op, err)
		}
		if m == nil {
			m = map[string]*OpPart{}
		}
		m[l.Op] = &OpPart{Hist: string(enc), Min: l.Min}
	}
	return m, nil
}

// partCounts rebuilds a shard's count metrics from its record.
func partCounts(r *Record, c *Cell) error {
	for _, name := range slices.Sorted(maps.Keys(r.Counts)) {
		l, lp := r.Counts[name], r.Part.Counts[name]
		if lp == nil {
			return fmt.Errorf("%s/%s: count %s without its histogram", r.Workload, r.Fix, name)
		}
		h, err := hdrhistogram.Decode([]byte(lp.Hist))
		if err != nil {
			return fmt.Errorf("%s/%s: the %s histogram: %v", r.Workload, r.Fix, name, err)
		}
		if h.TotalCount() != l.Count {
			return fmt.Errorf("%s/%s: the %s histogram holds %d values, the record %d", r.Workload, r.Fix, name, h.TotalCount(), l.Count)
		}
		c.Counts = append(c.Counts, &Latency{
			Op: name, Count: l.Count, Hist: h, Min: lp.Min, Max: int64(l.Max),
			RunP50: l.RunP50, RunP99: l.RunP99, RunMax: l.RunMax,
		})
	}
	return nil
}
