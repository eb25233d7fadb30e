package main

import (
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
)

// TestLatencyTableNamesStrategy: the failures of a latency table are headed
// by the strategy that found them (a native run is not a timed one).
func TestLatencyTableNamesStrategy(t *testing.T) {
	for _, strategy := range []string{"timed", "native"} {
		c := &bench.Cell{Workload: "lock-storm", Fix: "baseline", Strategy: strategy, Runs: 6, CPUs: 2}
		c.Failures[mm.Hang] = 1
		var b strings.Builder
		writeLatencyTable(&b, []*bench.Cell{c})
		if want := "failures in " + strategy + " runs:"; !strings.Contains(b.String(), want) {
			t.Errorf("%s run: table lacks %q:\n%s", strategy, want, b.String())
		}
	}
}

// TestReplayThenStopWording: a schedule followed to its end under -then
// stop says it stopped, not that it continued with "stop scheduling".
func TestReplayThenStopWording(t *testing.T) {
	stdout, _, err := runCLI("replay", "-workload", "writeback-restart", "-script", "race-a", "-fix", "v5.8", "-then", "stop")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, "stop scheduling") {
		t.Errorf("output says it continued with stop scheduling:\n%s", stdout)
	}
}

// TestZeroNote: the caveat on zeros comes with an aimed sampler that left
// a failure id at 0 under one fix and fired it under another; not with
// the walk, a search, or a table without such a zero.
func TestZeroNote(t *testing.T) {
	cell := func(strategy, fix string, fired int, partial bool) *bench.Cell {
		c := &bench.Cell{Workload: "writeback-restart", Fix: fix, Strategy: strategy, Runs: 100, Partial: partial}
		c.Failures[mm.BugWriteback] = fired
		return c
	}
	for _, tc := range []struct {
		name  string
		cells []*bench.Cell
		want  bool
	}{
		{"pct-task, a zero under a fix", []*bench.Cell{cell("pct-task", "baseline", 3, false), cell("pct-task", "v5.8", 0, false)}, true},
		{"pct-task, every fix fired", []*bench.Cell{cell("pct-task", "baseline", 3, false), cell("pct-task", "hold-ref", 1, false)}, false},
		{"pct-task, the zero interrupted", []*bench.Cell{cell("pct-task", "baseline", 3, false), cell("pct-task", "v5.8", 0, true)}, false},
		{"the walk", []*bench.Cell{cell("random", "baseline", 3, false), cell("random", "v5.8", 0, false)}, false},
		{"dfs", []*bench.Cell{cell("dfs", "baseline", 3, false), cell("dfs", "v5.8", 0, false)}, false},
	} {
		if got := zeroNote(tc.cells); got != tc.want {
			t.Errorf("%s: zeroNote = %v, want %v", tc.name, got, tc.want)
		}
	}
}
