package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/montanaflynn/stats"

	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// Record is one cell as a JSON Lines record: the contract of `pagelab run
// -json` (SPEC §3) and the content of a results directory's results.jsonl,
// from which its summary, benchmark file and plots are made.
type Record struct {
	Workload     string               `json:"workload"`
	Fix          string               `json:"fix"`
	Strategy     string               `json:"strategy"`
	Depth        int                  `json:"depth,omitempty"`
	Focus        string               `json:"focus,omitempty"`
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
	// Counts are the count metrics (counts.go) of a timed or native cell.
	Counts map[string]*CountRecord `json:"counts,omitempty"`
	// Verdicts are the exhaustive search's, per failure id: verified,
	// fails or unknown; absent when the cell was not verified (pagelab
	// bench -verify-states 0, a timed cell, or a run made before).
	Verdicts map[string]string `json:"verdicts,omitempty"`
	Verify   *VerifyRecord     `json:"verify,omitempty"`
	// Partial marks a cell an interrupt (SIGINT, SIGTERM) cut short: its
	// counts are those of the runs it finished.
	Partial bool `json:"partial,omitempty"`
	// Part is present in a shard's records only (pagelab bench -shard):
	// what pagelab merge needs to combine the shards exactly.
	Part *PartRecord `json:"part,omitempty"`
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
	// Wake-ups and spurious wake-ups per operation, per run (absent from
	// records written before they were kept).
	RunWakeupsOp  []float64 `json:"run_wakeups_per_op,omitempty"`
	RunSpuriousOp []float64 `json:"run_spurious_per_op,omitempty"`
	// Quantiles are the pooled distribution at ranks 0, 1/200, …, 1
	// (nearest rank), for ECDFs and box plots.
	Quantiles []float64 `json:"quantiles_ns,omitempty"`
}

// NumQuantiles is the number of quantiles a record keeps per operation.
const NumQuantiles = 201

// NewRecord is the record of a cell.
func NewRecord(c *Cell) *Record {
	r := &Record{
		Workload: c.Workload, Fix: c.Fix, Strategy: c.Strategy, Depth: c.Depth, Focus: c.Focus, Seed: c.Seed,
		Runs: c.Runs, Failing: c.Failing, Failures: map[string]int{}, FirstFailure: map[string]string{},
		Steps: c.Steps, MostSteps: c.MaxStepsIn, PCTBound: c.PCTBound, PCTTasks: c.PCTN, PCTSteps: c.PCTK,
		Exhausted: c.Exhausted, Partial: c.Partial,
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
			// Saturating: the total of many long runs may pass the
			// int64 range, which no single run can (sim.MaxCost).
			if r.VirtualNS > math.MaxInt64-m {
				r.VirtualNS = math.MaxInt64
			} else {
				r.VirtualNS += m
			}
		}
		r.Latency = map[string]*OpRecord{}
		for _, l := range c.Latencies {
			r.Latency[l.Op] = &OpRecord{
				Count: l.Count, P50: l.P50, P90: l.P90, P99: l.P99, P999: l.P999, Max: float64(l.Max),
				OpsPerSec: l.PerSec, WakeupsOp: l.WakeupsPerOp(), SpuriousOp: l.SpuriousPerOp(),
				RunOpsPerSec: l.RunPerSec, RunP50: l.RunP50, RunP99: l.RunP99,
				RunWakeupsOp: l.RunWakeups, RunSpuriousOp: l.RunSpurious,
				Quantiles: l.Quantiles(),
			}
		}
		r.Counts = newCountRecords(c)
	}
	return r
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
	// One byte more than the bound tells a file at the bound from a longer one.
	br := bufio.NewReaderSize(io.LimitReader(r, MaxResultsBytes+1), 64<<10)
	var out []*Record
	total := 0
	for line := 1; ; line++ {
		b, err := readLine(br, MaxRecordBytes)
		total += len(b)
		if total > MaxResultsBytes {
			return nil, fmt.Errorf("%s: larger than %d MiB: not a pagelab results file", name, MaxResultsBytes>>20)
		}
		if err == errLineTooLong {
			return nil, fmt.Errorf("%s:%d: line longer than %d MiB: not a pagelab record", name, line, MaxRecordBytes>>20)
		}
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

var errLineTooLong = errors.New("line too long")

// readLine reads up to and including the next newline, failing with
// errLineTooLong beyond max bytes rather than growing without bound.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max {
			return line, errLineTooLong
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// Bounds of what pagelab writes, which a reader enforces: a file beyond them
// was not written by pagelab, and reading it must not exhaust memory.
const (
	// MaxRuns bounds -runs and -count, and a record's runs.
	MaxRuns = 1 << 40
	// MaxRecordBytes bounds one line of results.jsonl.
	MaxRecordBytes = 64 << 20
	// MaxResultsBytes bounds a results.jsonl file.
	MaxResultsBytes = 1 << 30
	// MaxManifestBytes bounds a manifest.json file.
	MaxManifestBytes = 16 << 20
)

// isID reports whether s has the shape of a workload, fix or parameter id.
func isID(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.+", c)) {
			return false
		}
	}
	return true
}

// validate checks every field against what NewRecord can produce, so that
// nothing downstream (statistics, tables, plots) meets a value it cannot
// handle: a hand-edited or corrupt record is an error naming the field.
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
	timed := r.Strategy == "timed" || r.Strategy == "native"
	switch {
	case r.Workload == "":
		return fmt.Errorf("missing workload")
	case !isID(r.Workload):
		return fmt.Errorf("workload %q is not an id", r.Workload)
	case r.Fix == "":
		return fmt.Errorf("missing fix")
	case !isID(r.Fix):
		return fmt.Errorf("fix %q is not an id", r.Fix)
	case !slices.Contains(Strategies, r.Strategy):
		return fmt.Errorf("strategy %q (valid: %s)", r.Strategy, strings.Join(Strategies, ", "))
	case r.Depth < 0 || r.Depth > MaxDepth:
		return fmt.Errorf("depth %d out of range (0 to %d)", r.Depth, MaxDepth)
	case r.Focus != "" && !TakesFocus(r.Strategy):
		return fmt.Errorf("focus %q under %s (only surw and pct-point take one)", r.Focus, r.Strategy)
	case r.Focus != "" && !validFocus(r.Focus):
		return fmt.Errorf("focus %q: not a focus (mm.ParseFocus)", r.Focus)
	case r.Runs < minRuns(r) || r.Runs > MaxRuns:
		return fmt.Errorf("runs %d out of range (%d to %d)", r.Runs, minRuns(r), MaxRuns)
	case r.Failing < 0 || r.Failing > r.Runs:
		return fmt.Errorf("failing %d out of %d runs", r.Failing, r.Runs)
	case r.Steps < 0 || r.MostSteps < 0 || int64(r.MostSteps) > r.Steps:
		return fmt.Errorf("steps %d with most_steps %d in one run", r.Steps, r.MostSteps)
	case r.Steps/int64(max(r.Runs, 1)) > int64(r.MostSteps):
		return fmt.Errorf("steps %d in %d runs of at most %d steps", r.Steps, r.Runs, r.MostSteps)
	case math.IsNaN(r.PCTBound) || r.PCTBound < 0 || r.PCTBound > 1:
		return fmt.Errorf("pct_bound %v: want a probability", r.PCTBound)
	case r.PCTTasks < 0 || r.PCTSteps < 0:
		return fmt.Errorf("pct_tasks %d, pct_steps %d: want counts", r.PCTTasks, r.PCTSteps)
	case timed && (r.CPUs < 1 || r.CPUs > sim.MaxCPUs):
		return fmt.Errorf("cpus %d out of range for a %s cell (1 to %d)", r.CPUs, r.Strategy, sim.MaxCPUs)
	case !timed && r.CPUs != 0:
		return fmt.Errorf("cpus %d in a %s cell (only timed and native cells have CPUs)", r.CPUs, r.Strategy)
	case r.VirtualNS < 0:
		return fmt.Errorf("virtual_ns %d: negative", r.VirtualNS)
	case !timed && r.Latency != nil:
		return fmt.Errorf("latency in a %s cell (only timed and native cells have latencies)", r.Strategy)
	case !timed && r.Counts != nil:
		return fmt.Errorf("counts in a %s cell (only timed and native cells have them)", r.Strategy)
	}
	for k, v := range r.Params {
		if !isID(k) {
			return fmt.Errorf("parameter %q is not an id", k)
		}
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("parameter %s=%q: not an integer", k, v)
		}
	}
	for id, k := range r.Failures {
		if _, ok := mm.ParseFailure(id); !ok {
			return fmt.Errorf("unknown failure id %q", id)
		}
		if k < 0 || k > r.Failing {
			return fmt.Errorf("failure %s in %d runs, but %d of %d runs failed", id, k, r.Failing, r.Runs)
		}
	}
	if r.Failing > 0 && !slices.ContainsFunc(slices.Collect(maps.Values(r.Failures)), func(k int) bool { return k > 0 }) {
		return fmt.Errorf("%d failing runs but no failure counted", r.Failing)
	}
	for id, sched := range r.FirstFailure {
		if r.Failures[id] == 0 {
			return fmt.Errorf("first_failure of %q, which never fired", id)
		}
		if _, err := sim.ParseSchedule(sched); err != nil {
			return fmt.Errorf("first_failure of %s: %v", id, err)
		}
	}
	if err := r.validateVerdicts(); err != nil {
		return err
	}
	if err := r.validatePart(); err != nil {
		return err
	}
	for op, l := range r.Latency {
		if err := l.validate(r.Runs); err != nil {
			return fmt.Errorf("latency %s: %v", op, err)
		}
		if !slices.Contains(mm.OpNames[:], op) {
			return fmt.Errorf("latency of unknown operation %q (valid: %s)", op, strings.Join(mm.OpNames[:], ", "))
		}
	}
	for name, l := range r.Counts {
		if err := l.validate(name, r.Runs); err != nil {
			return fmt.Errorf("count %s: %v", name, err)
		}
	}
	return nil
}

// minRuns is the fewest runs a record can hold: 1, but 0 for a shard's
// part of a dfs enumeration, whose subtrees may all be another part's.
func minRuns(r *Record) int {
	if r.Part != nil && r.Strategy == "dfs" {
		return 0
	}
	return 1
}

// validate checks one operation's latency record of a cell of runs runs.
func (l *OpRecord) validate(runs int) error {
	if l == nil {
		return fmt.Errorf("null")
	}
	if l.Count < 1 {
		return fmt.Errorf("count %d: an operation is recorded only when it ran", l.Count)
	}
	if len(l.Quantiles) != 0 && len(l.Quantiles) != NumQuantiles {
		return fmt.Errorf("%d quantiles, want %d", len(l.Quantiles), NumQuantiles)
	}
	for _, v := range [][]float64{l.Quantiles, l.RunOpsPerSec, l.RunP50, l.RunP99, l.RunWakeupsOp, l.RunSpuriousOp,
		{l.P50, l.P90, l.P99, l.P999, l.Max, l.OpsPerSec, l.WakeupsOp, l.SpuriousOp}} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > math.MaxInt64 {
				return fmt.Errorf("bad value %v", x)
			}
		}
	}
	n := len(l.RunP50)
	if n < 1 || n > runs || int64(n) > l.Count || len(l.RunP99) != n || len(l.RunOpsPerSec) != n {
		return fmt.Errorf("%d, %d and %d per-run values (ops/s, p50, p99): want one per run in which it ran, 1 to %d",
			len(l.RunOpsPerSec), n, len(l.RunP99), min(int64(runs), l.Count))
	}
	if w, s := len(l.RunWakeupsOp), len(l.RunSpuriousOp); w != s || w != 0 && w != n {
		return fmt.Errorf("%d and %d per-run wake-up values (wake-ups, spurious): want none or one per run, %d", w, s, n)
	}
	for i := range l.RunWakeupsOp {
		if l.RunSpuriousOp[i] > l.RunWakeupsOp[i] {
			return fmt.Errorf("run %d: %v spurious wake-ups per operation of %v", i, l.RunSpuriousOp[i], l.RunWakeupsOp[i])
		}
	}
	if !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		return fmt.Errorf("percentiles out of order: p50 %v, p90 %v, p99 %v, p99.9 %v, max %v", l.P50, l.P90, l.P99, l.P999, l.Max)
	}
	if !slices.IsSorted(l.Quantiles) {
		return fmt.Errorf("quantiles not in increasing order")
	}
	if err := runsWithin(l.RunP50, l.RunP99, nil, l.Max); err != nil {
		return err
	}
	if l.SpuriousOp > l.WakeupsOp {
		return fmt.Errorf("%v spurious wake-ups per operation of %v", l.SpuriousOp, l.WakeupsOp)
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

// runsWithin checks that every run's p50 <= p99 (<= max, when the metric
// keeps one per run) <= the pooled maximum: each is an exact nearest-rank
// value of that run's samples, and the pooled maximum is the largest of
// all of them (a record that breaks this was edited or corrupted, and its
// per-run comparisons would be wrong).
func runsWithin(p50, p99, most []float64, pooledMax float64) error {
	for i := range p50 {
		top := p99[i]
		if most != nil {
			top = most[i]
		}
		if !(p50[i] <= p99[i] && p99[i] <= top && top <= pooledMax) {
			if most != nil {
				return fmt.Errorf("run %d: p50 %v, p99 %v, max %v out of order or above the pooled max %v", i, p50[i], p99[i], most[i], pooledMax)
			}
			return fmt.Errorf("run %d: p50 %v, p99 %v out of order or above the pooled max %v", i, p50[i], p99[i], pooledMax)
		}
	}
	return nil
}

func validFocus(spec string) bool {
	_, err := mm.ParseFocus(spec)
	return err == nil
}
