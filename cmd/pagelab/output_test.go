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
