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
			d, err := HandoffLoop(h, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/d.Seconds(), "decisions/s")
		})
	}
}
