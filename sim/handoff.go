package sim

import (
	"fmt"
	"runtime"
	"slices"
	"time"
)

// HandoffLoop runs the bare hand-off — one task stepping in a loop, every
// decision taken in Run after a switch (AlwaysSwitch), under hand-off h —
// for n decisions and returns how long they took: the unit of cost the
// executor is measured against (BenchmarkHandoff, and the benchmarks that
// report a ratio to it measured in the same run).
func HandoffLoop(h Handoff, n int) (time.Duration, error) {
	x := NewExplorer(Sequential{}, h)
	defer x.Close()
	x.MaxSteps = n
	x.AlwaysSwitch = true
	x.Reset()
	x.Spawn("t", "start", func(t *Task) {
		for {
			t.Step("loop")
		}
	})
	start := time.Now()
	res, err := x.Run()
	d := time.Since(start)
	if err != nil {
		return d, err
	}
	if res.Outcome != Livelock || res.Steps != n {
		return d, fmt.Errorf("hand-off loop: %v after %d steps, want a livelock after %d", res.Outcome, res.Steps, n)
	}
	return d, nil
}

// HandoffSampleRuns is the decisions of one timing of HandoffSample:
// 10,000, about 1 ms.
const HandoffSampleRuns = 10_000

// HandoffSample is the bare coroutine hand-off in ns per decision, as a
// reference taken beside a measurement on the same goroutine: the median
// of three timings of HandoffSampleRuns decisions (one timing can catch a
// transient of the machine), after a garbage collection (the garbage of
// what ran before, collected beside the timings, stretched them by half).
func HandoffSample() (float64, error) {
	runtime.GC()
	var ns [3]float64
	for i := range ns {
		d, err := HandoffLoop(HandoffCoroutine, HandoffSampleRuns)
		if err != nil {
			return 0, err
		}
		ns[i] = float64(d.Nanoseconds()) / HandoffSampleRuns
	}
	slices.Sort(ns[:])
	return ns[1], nil
}
