package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"

	"github.com/pagelab/pagelab/mm"
)

// WriteBenchFile writes the records in the Go benchmark format
// (golang.org/design/14313-benchmark-format), which `go tool benchstat`
// reads unchanged; `go tool benchstat -col /fix bench.txt` compares the fix
// variants.
//
// An explored cell is one result: iterations = runs, and per failure id
// that fired in the workload its rate, with `Unit … assume=exact` (the count
// is exact for the seed). A timed or native cell is one result per
// execution (one seed each): per operation its throughput, p50/p99
// latency, and wake-ups and spurious wake-ups per operation (the fairness
// figures), so that benchstat gets a distribution to summarize.
func WriteBenchFile(w io.Writer, m *Manifest, recs []*Record) error {
	bw := benchfmt.NewWriter(w)
	cfg := []benchfmt.Config{
		{Key: "goos", Value: []byte(m.Host.GOOS), File: true},
		{Key: "goarch", Value: []byte(m.Host.GOARCH), File: true},
		{Key: "pagelab-revision", Value: []byte(m.GitRevision), File: true},
		{Key: "pagelab-seed", Value: []byte(strconv.FormatUint(m.Seed, 10)), File: true},
	}
	units := map[string]map[string]string{} // unit → metadata
	var results []*benchfmt.Result
	ids := failureColumns(recs)
	for _, r := range recs {
		name := benchName(r)
		if r.Latency == nil {
			res := &benchfmt.Result{Config: cfg, Name: benchfmt.Name(name), Iters: r.Runs}
			res.Values = append(res.Values, benchfmt.Value{Value: float64(r.Failing) / float64(r.Runs), Unit: "fail-rate"})
			units["fail-rate"] = map[string]string{"better": "lower", "assume": "exact"}
			for _, id := range ids[r.Workload] {
				u := id + "-rate"
				res.Values = append(res.Values, benchfmt.Value{Value: float64(r.Failures[id]) / float64(r.Runs), Unit: u})
				units[u] = map[string]string{"better": "lower", "assume": "exact"}
			}
			results = append(results, res)
			continue
		}
		ops := slices.Sorted(maps.Keys(r.Latency))
		for run := 0; ; run++ {
			res := &benchfmt.Result{Config: cfg, Name: benchfmt.Name(name), Iters: 1}
			for _, op := range ops {
				l := r.Latency[op]
				if run >= len(l.RunOpsPerSec) {
					continue
				}
				res.Values = append(res.Values,
					benchfmt.Value{Value: l.RunOpsPerSec[run], Unit: op + "-ops/s"},
					benchfmt.Value{Value: l.RunP50[run], Unit: op + "-p50-ns"},
					benchfmt.Value{Value: l.RunP99[run], Unit: op + "-p99-ns"})
				units[op+"-ops/s"] = map[string]string{"better": "higher"}
				units[op+"-p50-ns"] = map[string]string{"better": "lower"}
				units[op+"-p99-ns"] = map[string]string{"better": "lower"}
				if run < len(l.RunWakeupsOp) {
					res.Values = append(res.Values,
						benchfmt.Value{Value: l.RunWakeupsOp[run], Unit: op + "-wakeups/op"},
						benchfmt.Value{Value: l.RunSpuriousOp[run], Unit: op + "-spurious/op"})
					units[op+"-wakeups/op"] = map[string]string{"better": "lower"}
					units[op+"-spurious/op"] = map[string]string{"better": "lower"}
				}
			}
			for _, name := range slices.Sorted(maps.Keys(r.Counts)) {
				c := r.Counts[name]
				if run >= len(c.RunMax) {
					continue
				}
				u := name + "-max-" + c.Unit
				res.Values = append(res.Values, benchfmt.Value{Value: c.RunMax[run], Unit: u})
				units[u] = map[string]string{"better": "lower"}
			}
			if len(res.Values) == 0 {
				break
			}
			results = append(results, res)
		}
	}
	for _, u := range slices.Sorted(maps.Keys(units)) {
		for _, k := range slices.Sorted(maps.Keys(units[u])) {
			if err := bw.Write(&benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: u, Key: k}, OrigUnit: u, Value: units[u][k]}); err != nil {
				return err
			}
		}
	}
	for _, res := range results {
		if err := bw.Write(res); err != nil {
			return err
		}
	}
	return nil
}

// benchName is WritebackRestart/fix=hold-ref+loop-wait/cpus=16/…, which
// the file shows as BenchmarkWritebackRestart/…: a benchfmt.Name is the
// name without the Benchmark prefix, and the writer adds it.
func benchName(r *Record) string {
	var b strings.Builder
	for _, part := range strings.Split(r.Workload, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	fmt.Fprintf(&b, "/fix=%s", r.Fix)
	if r.CPUs > 0 {
		fmt.Fprintf(&b, "/cpus=%d", r.CPUs)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Params)) {
		fmt.Fprintf(&b, "/%s=%s", k, r.Params[k])
	}
	return b.String()
}

// failureColumns lists, per workload, the failure ids that fired in any of
// its records, in id order.
func failureColumns(recs []*Record) map[string][]string {
	seen := map[string]map[string]bool{}
	for _, r := range recs {
		if seen[r.Workload] == nil {
			seen[r.Workload] = map[string]bool{}
		}
		for id, k := range r.Failures {
			if k > 0 {
				seen[r.Workload][id] = true
			}
		}
	}
	out := map[string][]string{}
	for w, ids := range seen {
		for f := mm.Failure(0); f < mm.NumFailures; f++ {
			if ids[f.String()] {
				out[w] = append(out[w], f.String())
			}
		}
	}
	return out
}
