package sim

import "testing"

// BenchmarkHandoff measures one round trip scheduler → task → scheduler
// (one scheduling point) for each hand-off mechanism: the measurement
// behind the choice of coroutines (see Handoff). The task is picked again
// at every point, and AlwaysSwitch makes every decision go through Run, as
// one that picks another task does (without it, continuing the running
// task costs no switch at all: see Explorer.yielded).
func BenchmarkHandoff(b *testing.B) {
	for _, h := range []Handoff{HandoffCoroutine, HandoffChannel} {
		b.Run(h.String(), func(b *testing.B) {
			x := NewExplorer(Sequential{}, h)
			defer x.Close()
			x.MaxSteps = b.N + 1
			x.AlwaysSwitch = true
			x.Reset()
			x.Spawn("t", "start", func(t *Task) {
				for {
					t.Step("loop")
				}
			})
			b.ResetTimer()
			res, err := x.Run()
			b.StopTimer()
			if err != nil || res.Outcome != Livelock {
				b.Fatalf("got %v, %v; want a livelock after b.N steps", res.Outcome, err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}
