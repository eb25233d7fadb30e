package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// queueCheck wraps a strategy to check, at every decision, the run queue
// the Explorer keeps as tasks spawn, sleep, wake and end against a
// recount of its tasks: every task neither finished nor asleep, in ID
// order (the order every strategy and every recorded schedule assumes).
type queueCheck struct {
	sim.Strategy
	x     *sim.Explorer
	picks int
	err   error
}

func (q *queueCheck) Pick(runnable []*sim.Task, last *sim.Task, step int) *sim.Task {
	q.picks++
	var want []*sim.Task
	for _, t := range q.x.Tasks() {
		if !t.Done() && !t.Blocked() {
			want = append(want, t)
		}
	}
	if !slices.Equal(runnable, want) && q.err == nil {
		q.err = fmt.Errorf("decision %d: run queue %s, the tasks' states say %s", step, taskIDs(runnable), taskIDs(want))
	}
	return q.Strategy.Pick(runnable, last, step)
}

func taskIDs(ts []*sim.Task) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, " %d:%s", t.ID, t.Name)
	}
	return "[" + strings.TrimSpace(b.String()) + "]"
}

// TestRunQueue runs executions of every workload under every fix of its
// family, with random walks that preempt seldom and often, and checks the
// run queue at every decision (queueCheck). A queue that missed a wake-up
// or kept a finished task would change the decisions that the schedules,
// the counts and the goldens rest on.
func TestRunQueue(t *testing.T) {
	runs := 40
	switch {
	case raceEnabled:
		// Tenfold slower: the race detector has a few executions per
		// cell to look at.
		runs = 3
	case testing.Short():
		runs = 10
	}
	for _, w := range workloads.All() {
		fs := w.Fixes
		if len(fs) == 0 {
			fs = []string{"baseline"}
		}
		// A workload's cells on one core, the workloads on all: each
		// runner is its own.
		t.Run(w.ID, func(t *testing.T) {
			t.Parallel()
			for _, fix := range fs {
				v, err := fixes.Parse(fix)
				if err != nil {
					t.Fatal(err)
				}
				for _, preempt := range []float64{0.1, 0.7} {
					q := &queueCheck{Strategy: sim.NewRandom(5, preempt)}
					r := newRunner(&Config{Workload: w, Params: w.Defaults(), Variant: v, Seed: 5}, q)
					q.x = r.x
					for range runs {
						if _, err := r.exec(); err != nil {
							t.Fatalf("%s %s: %v", w.ID, fix, err)
						}
					}
					r.x.Close()
					if q.err != nil {
						t.Errorf("%s %s preempt %g: %v", w.ID, fix, preempt, q.err)
					}
					if q.picks == 0 {
						t.Errorf("%s %s: no decision taken", w.ID, fix)
					}
				}
			}
		})
	}
}
