package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/montanaflynn/stats"

	"github.com/pagelab/pagelab/mm"
)

// Record is one cell as a JSON Lines record: the contract of `pagelab run
// -json` (SPEC §3) and the content of a results directory's results.jsonl,
// from which its summary, benchmark file and plots are made.
type Record struct {
	Workload     string               `json:"workload"`
	Fix          string               `json:"fix"`
	Strategy     string               `json:"strategy"`
	Depth        int                  `json:"depth,omitempty"`
	Seed         uint64               `json:"seed"`
	Params       map[string]string    `json:"params,omitempty"`
	Runs         int                  `json:"runs"`
	Failing      int                  `json:"failing"`
	Failures     map[string]int       `json:"failures"`
	FirstFailure map[string]string    `json:"first_failure"`
	Steps        int64                `json:"steps"`
	MostSteps    int                  `json:"most_steps"` // most decisions in one run
	PCTBound     float64              `json:"pct_bound,omitempty"`
	PCTTasks     int                  `json:"pct_tasks,omitempty"`
	PCTSteps     int                  `json:"pct_steps,omitempty"`
	Exhausted    bool                 `json:"exhausted,omitempty"`
	CPUs         int                  `json:"cpus,omitempty"`
	VirtualNS    int64                `json:"virtual_ns,omitempty"`
	Latency      map[string]*OpRecord `json:"latency,omitempty"`
	// Verdicts are the exhaustive search's, per failure id: verified,
	// fails or unknown; absent when the cell was not verified (pagelab
	// bench -verify-states 0, a timed cell, or a run made before).
	Verdicts map[string]string `json:"verdicts,omitempty"`
	Verify   *VerifyRecord     `json:"verify,omitempty"`
}

// OpRecord is one operation's latency in a timed or native cell (ns).
type OpRecord struct {
	Count      int64   `json:"count"`
	P50        float64 `json:"p50_ns"`
	P90        float64 `json:"p90_ns"`
	P99        float64 `json:"p99_ns"`
	P999       float64 `json:"p99.9_ns"`
	Max        float64 `json:"max_ns"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	WakeupsOp  float64 `json:"wakeups_per_op"`
	SpuriousOp float64 `json:"spurious_per_op"`
	// Per run (one value per execution, for comparisons across runs).
	RunOpsPerSec []float64 `json:"run_ops_per_sec,omitempty"`
	RunP50       []float64 `json:"run_p50_ns,omitempty"`
	RunP99       []float64 `json:"run_p99_ns,omitempty"`
	// Quantiles are the pooled distribution at ranks 0, 1/200, …, 1
	// (nearest rank), for ECDFs and box plots.
	Quantiles []float64 `json:"quantiles_ns,omitempty"`
}

// NumQuantiles is the number of quantiles a record keeps per operation.
const NumQuantiles = 201

// NewRecord is the record of a cell.
func NewRecord(c *Cell) *Record {
	r := &Record{
		Workload: c.Workload, Fix: c.Fix, Strategy: c.Strategy, Depth: c.Depth, Seed: c.Seed,
		Runs: c.Runs, Failing: c.Failing, Failures: map[string]int{}, FirstFailure: map[string]string{},
		Steps: c.Steps, MostSteps: c.MaxStepsIn, PCTBound: c.PCTBound, PCTTasks: c.PCTN, PCTSteps: c.PCTK,
		Exhausted: c.Exhausted,
	}
	if len(c.Params) > 0 {
		r.Params = map[string]string{}
		for _, p := range c.Params {
			k, v, _ := strings.Cut(p, "=")
			r.Params[k] = v
		}
	}
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		if c.Failures[f] > 0 {
			r.Failures[f.String()] = c.Failures[f]
			if c.First[f] != "" {
				r.FirstFailure[f.String()] = c.First[f]
			}
		}
	}
	if c.CPUs > 0 {
		r.CPUs = c.CPUs
		for _, m := range c.Makespans {
			r.VirtualNS += m
		}
		r.Latency = map[string]*OpRecord{}
		for _, l := range c.Latencies {
			r.Latency[l.Op] = &OpRecord{
				Count: l.Count, P50: l.P50, P90: l.P90, P99: l.P99, P999: l.P999, Max: l.Max,
				OpsPerSec: l.PerSec, WakeupsOp: l.WakeupsPerOp(), SpuriousOp: l.SpuriousPerOp(),
				RunOpsPerSec: l.RunPerSec, RunP50: l.RunP50, RunP99: l.RunP99,
				Quantiles: quantiles(l.Samples),
			}
		}
	}
	return r
}

func quantiles(samples []float64) []float64 {
	if len(samples) == 0 {
		return nil
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	q := make([]float64, NumQuantiles)
	for i := range q {
		// Nearest rank: the smallest value with at least i/200 of the
		// samples at or below it.
		rank := int(math.Ceil(float64(i) / float64(NumQuantiles-1) * float64(len(sorted))))
		q[i] = sorted[max(rank-1, 0)]
	}
	return q
}

// Median of the per-run values, for tables (the statistics come from
// benchmath).
func median(v []float64) float64 {
	m, _ := stats.Median(v)
	return m
}

// WriteJSON writes the record as one line.
func (r *Record) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadRecords parses a results.jsonl file. Errors name the file and line
// and say what is wrong; a truncated last line is an error.
func ReadRecords(r io.Reader, name string) ([]*Record, error) {
	br := bufio.NewReader(r)
	var out []*Record
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF && len(b) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if err == io.EOF {
			return nil, fmt.Errorf("%s:%d: truncated record (no newline at the end)", name, line)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil, fmt.Errorf("%s:%d: empty line (want one JSON record per line)", name, line)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		rec := new(Record)
		if err := dec.Decode(rec); err != nil {
			return nil, fmt.Errorf("%s:%d: not a pagelab record: %v", name, line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%s:%d: more than one JSON value on the line", name, line)
		}
		if err := rec.validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no records", name)
	}
	return out, nil
}

func (r *Record) validate() error {
	// An empty object and an absent one mean the same: keep one form, as
	// written, so that a record survives a round trip unchanged.
	if len(r.Latency) == 0 {
		r.Latency = nil
	}
	if len(r.Params) == 0 {
		r.Params = nil
	}
	if r.Failures == nil {
		r.Failures = map[string]int{}
	}
	if r.FirstFailure == nil {
		r.FirstFailure = map[string]string{}
	}
	switch {
	case r.Workload == "":
		return fmt.Errorf("missing workload")
	case r.Fix == "":
		return fmt.Errorf("missing fix")
	case r.Runs < 1:
		return fmt.Errorf("runs %d: want at least 1", r.Runs)
	case r.Failing < 0 || r.Failing > r.Runs:
		return fmt.Errorf("failing %d out of %d runs", r.Failing, r.Runs)
	}
	for id, k := range r.Failures {
		if _, ok := mm.ParseFailure(id); !ok {
			return fmt.Errorf("unknown failure id %q", id)
		}
		if k < 0 || k > r.Runs {
			return fmt.Errorf("failure %s in %d out of %d runs", id, k, r.Runs)
		}
	}
	if err := r.validateVerdicts(); err != nil {
		return err
	}
	for op, l := range r.Latency {
		if l == nil {
			return fmt.Errorf("latency %s: null", op)
		}
		if len(l.Quantiles) != 0 && len(l.Quantiles) != NumQuantiles {
			return fmt.Errorf("latency %s: %d quantiles, want %d", op, len(l.Quantiles), NumQuantiles)
		}
		for _, v := range [][]float64{l.Quantiles, l.RunOpsPerSec, l.RunP50, l.RunP99, {l.P50, l.P99, l.Max, l.OpsPerSec}} {
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
					return fmt.Errorf("latency %s: bad value %v", op, x)
				}
			}
		}
	}
	return nil
}

// Key identifies a cell across two runs: workload, fix, CPU count and
// non-default parameters.
func (r *Record) Key() string {
	var ps []string
	for k, v := range r.Params {
		ps = append(ps, k+"="+v)
	}
	slices.Sort(ps)
	return fmt.Sprintf("%s/%s/cpus=%d/%s", r.Workload, r.Fix, r.CPUs, strings.Join(ps, ","))
}
