package sim

import (
	"fmt"
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
