package hunt

import (
	"bytes"
	"math"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

const benchGolden = "testdata/bench.golden"

// checkBench: the rows of TestTableGolden in the benchmark format are
// golden, and benchfmt (benchstat's reader) reads them back: per row its
// rate, and one result per seed of a measured first failure whose values
// are finite (a seed that missed has what it spent and found/seed 0), their
// found/seed adding up to the seeds that found it, and their executions'
// median the table's where every seed found it.
func checkBench(t *testing.T, cfg *Config, rows []*Row) {
	t.Helper()
	var b bytes.Buffer
	conf := []benchfmt.Config{{Key: "pagelab-revision", Value: []byte("test"), File: true}}
	if err := WriteBench(&b, rows, conf); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, benchGolden, b.Bytes())

	type perRow struct {
		rate       int
		seeds      int
		found      float64
		execsFound []float64
	}
	got := map[string]*perRow{}
	rd := benchfmt.NewReader(bytes.NewReader(b.Bytes()), benchGolden)
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Errorf("%v", rec)
		case *benchfmt.Result:
			name := string(rec.Name)
			if got[name] == nil {
				got[name] = &perRow{}
			}
			g := got[name]
			vals := map[string]float64{}
			for _, v := range rec.Values {
				if math.IsInf(v.Value, 0) || math.IsNaN(v.Value) {
					t.Errorf("%s: %s is %v", name, v.Unit, v.Value)
				}
				vals[v.Unit] = v.Value
			}
			if _, ok := vals[UnitRate]; ok {
				g.rate++
				continue
			}
			g.seeds++
			g.found += vals[UnitFound]
			// benchfmt reads ns as seconds (benchunit.Tidy).
			if perExec, ttf := vals["sec/exec"], vals["sec/first-failure"]; math.Abs(perExec*vals[UnitTTFRuns]-ttf) > 1e-9*ttf {
				t.Errorf("%s: %g s per execution over %g executions, %g s in all", name, perExec, vals[UnitTTFRuns], ttf)
			}
			if vals[UnitFound] == 1 {
				g.execsFound = append(g.execsFound, vals[UnitTTFRuns])
			}
		}
	}
	if len(got) != len(rows) {
		t.Errorf("%d benchmark names for %d rows", len(got), len(rows))
	}
	for _, r := range rows {
		g := got[r.benchName()]
		if g == nil {
			t.Errorf("no results named %s", r.benchName())
			continue
		}
		wantSeeds := 0
		if !r.TTFEstimated {
			wantSeeds = cfg.Seeds
		}
		if g.rate != 1 || g.seeds != wantSeeds || int(g.found) != r.TTFFound {
			t.Errorf("%s: %d rate results, %d seeds (%g found), want 1, %d (%d found)", r.benchName(), g.rate, g.seeds, g.found, wantSeeds, r.TTFFound)
		}
		if wantSeeds > 0 && r.TTFFound == wantSeeds && median(g.execsFound) != r.TTFRuns {
			t.Errorf("%s: median of the seeds' executions %g, the table's %g", r.benchName(), median(g.execsFound), r.TTFRuns)
		}
	}
}

// TestBenchstatReadsHunt: go tool benchstat summarizes the hunt's
// benchmark file by strategy, with the first failure in seconds and
// executions, and no value it could not read.
func TestBenchstatReadsHunt(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to run benchstat with: %v", err)
	}
	out, err := exec.Command(goCmd, "tool", "benchstat", "-col", "/strategy", benchGolden).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool benchstat: %v\n%s", err, out)
	}
	for _, want := range []string{"sec/first-failure", "execs/first-failure", "handoffs/first-failure", "found/seed", "sec/exec", "fired/exec", "pct-task", "greybox-irq"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("benchstat's summary has no %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"NaN", "Inf"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("benchstat's summary has %s:\n%s", bad, out)
		}
	}
}
