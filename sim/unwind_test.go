package sim

import "testing"

// stopAfter runs the lowest runnable task for n decisions, then stops.
type stopAfter struct{ n int }

func (s stopAfter) Begin(int)     {}
func (s stopAfter) Spawned(*Task) {}
func (s stopAfter) Pick(runnable []*Task, last *Task, step int) *Task {
	if step >= s.n {
		return nil
	}
	return runnable[0]
}

// TestUnwindDeferredStep: an execution that ends while a task is inside a
// function whose deferred call has a scheduling point (shrink_page_list's
// putback) leaves the task's worker ready for the next execution, whose
// task then runs its own first step.
func TestUnwindDeferredStep(t *testing.T) {
	x := NewExplorer(stopAfter{1}, HandoffCoroutine)
	defer x.Close()
	var ran []string
	for run := range 3 {
		x.Reset()
		x.Spawn("t", "start", func(t *Task) {
			ran = append(ran, "first")
			defer func() {
				t.Step("putback")
				ran = append(ran, "deferred")
			}()
			t.Step("second")
			ran = append(ran, "second")
		})
		ran = ran[:0]
		if _, err := x.Run(); err != nil {
			t.Fatal(err)
		}
		if len(ran) != 1 || ran[0] != "first" {
			t.Fatalf("execution %d: its one step ran %v, want [first]", run, ran)
		}
	}
}
