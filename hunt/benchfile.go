package hunt

import (
	"io"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Units of WriteBench: a seed's time to the first failure, on one
// goroutine, in wall time, executions and bare hand-offs, whether the seed
// found it within its budget, the wall time of one of its executions, and
// a row's rate.
const (
	UnitTTFNs       = "ns/first-failure"
	UnitTTFRuns     = "execs/first-failure"
	UnitTTFHandoffs = "handoffs/first-failure"
	UnitFound       = "found/seed"
	UnitExecNs      = "ns/exec"
	UnitRate        = "fired/exec"
)

// WriteBench writes the rows in the Go benchmark format
// (golang.org/design/14313-benchmark-format), which `go tool benchstat`
// reads. Per row: one result for its rate (fired/exec over the row's
// executions, `assume=exact`: the count is exact for the hunt's seed), and
// one result per seed of its time to the first failure: wall time,
// executions and hand-offs to it, found/seed (1 or 0), and ns/exec, the
// seed's wall time over its executions. benchstat then gives the median
// over the seeds with its interval, and compares two hunts seed set
// against seed set (`go tool benchstat old.txt new.txt` across revisions,
// `-col /strategy` across samplers). Its test is unpaired and the seeds'
// first failures spread widely (a third either way over 100 seeds): a
// revision that makes the executions cheaper without changing them shows
// in ns/exec, whose seeds agree to a few percent, where ns/first-failure
// may read as no change.
//
// A seed that did not find the failure is written with what it spent, its
// budget, and found/seed 0: a lower bound, so that benchstat's median is
// the hunt's while fewer than half the seeds missed; where half or more
// did, the median of found/seed reads 0. A row whose first failure was
// estimated from its rate, or not measured (interrupted), has its rate
// only.
//
// The benchmark's name is Hunt, then the target as keys: target (the
// seed interleaving) or workload and its parameters that differ from the
// defaults, fix, failure; then strategy, depth and focus where the row
// has them. config is the file's configuration (revision, seed, host).
func WriteBench(w io.Writer, rows []*Row, config []benchfmt.Config) error {
	bw := benchfmt.NewWriter(w)
	for _, u := range []struct{ unit, better string }{
		{UnitTTFNs, "lower"}, {UnitTTFRuns, "lower"}, {UnitTTFHandoffs, "lower"},
		{UnitFound, "higher"}, {UnitExecNs, "lower"}, {UnitRate, "higher"},
	} {
		if err := bw.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u.unit, Key: "better"}, OrigUnit: u.unit, Value: u.better}); err != nil {
			return err
		}
	}
	if err := bw.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: UnitRate, Key: "assume"}, OrigUnit: UnitRate, Value: "exact"}); err != nil {
		return err
	}
	for _, r := range rows {
		name := benchfmt.Name(r.benchName())
		rate := &benchfmt.Result{Config: config, Name: name, Iters: r.Runs,
			Values: []benchfmt.Value{{Value: r.Rate(), Unit: UnitRate}}}
		if err := bw.Write(rate); err != nil {
			return err
		}
		for _, ff := range r.FirstFailures {
			found := 0.0
			if ff.Found {
				found = 1
			}
			vs := []benchfmt.Value{{Value: ff.Ns, Unit: UnitTTFNs}, {Value: ff.Runs, Unit: UnitTTFRuns}}
			if ff.Handoffs > 0 {
				vs = append(vs, benchfmt.Value{Value: ff.Handoffs, Unit: UnitTTFHandoffs})
			}
			vs = append(vs, benchfmt.Value{Value: found, Unit: UnitFound}, benchfmt.Value{Value: ff.Ns / ff.Runs, Unit: UnitExecNs})
			if err := bw.Write(&benchfmt.Result{Config: config, Name: name, Iters: 1, Values: vs}); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchName is the row's benchmark name, without the Benchmark prefix
// ("Hunt/target=race-a/fix=baseline/failure=bug-writeback/strategy=pct-irq/depth=6").
func (r *Row) benchName() string {
	t := r.Target
	parts := []string{"Hunt"}
	if t.Seed != "" {
		parts = append(parts, "target="+t.Seed)
	} else {
		parts = append(parts, "workload="+t.Workload.ID)
		parts = append(parts, t.Workload.NonDefault(t.Params)...)
	}
	parts = append(parts, "fix="+t.variant().ID, "failure="+t.Failure.String(), "strategy="+r.Strategy)
	if r.Depth > 0 {
		parts = append(parts, "depth="+strconv.Itoa(r.Depth))
	}
	if r.Focus != "" {
		parts = append(parts, "focus="+r.Focus)
	}
	return strings.Join(parts, "/")
}
