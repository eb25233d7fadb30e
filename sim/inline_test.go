package sim

import (
	"errors"
	"testing"
)

// stepper steps 200 times, waking the next task every tenth step and
// sleeping every 50th while another task is awake (which wakes it, at the
// latest when it finishes): scheduling points, sleeps and wake-ups, with no
// allocation of its own.
func stepper(t *Task) {
	x := t.x
	for i := range 200 {
		if i%10 == 9 {
			x.tasks[(t.ID+1)%len(x.tasks)].WakeUp()
		}
		if i%50 == 49 && otherAwake(t) {
			t.SetState(TaskUninterruptible)
			t.Schedule("sleep")
			t.SetState(TaskRunning)
			continue
		}
		t.Step("step")
	}
	for _, o := range x.tasks {
		o.WakeUp()
	}
}

func otherAwake(t *Task) bool {
	for _, o := range t.x.tasks {
		if o != t && !o.done && !o.blocked {
			return true
		}
	}
	return false
}

// TestStepAllocs: once an Explorer has run an execution, the next ones
// allocate nothing: no decision, inline or in Run, and no step costs an
// allocation (Record on, the path of every bench).
func TestStepAllocs(t *testing.T) {
	for _, h := range []Handoff{HandoffCoroutine, HandoffChannel} {
		x := NewExplorer(NewRandom(1, 0.1), h)
		x.Record = true
		steps := 0
		exec := func() {
			x.Reset()
			for _, name := range []string{"a", "b", "c"} {
				x.Spawn(name, "start", stepper)
			}
			res, err := x.Run()
			if err != nil || res.Outcome != Completed {
				t.Fatalf("%v, %v", res.Outcome, err)
			}
			steps = res.Steps
		}
		exec()
		if steps < 600 {
			t.Fatalf("%d steps, want at least 600", steps)
		}
		if allocs := testing.AllocsPerRun(20, exec); allocs != 0 {
			t.Errorf("%v: %.1f allocations per execution of %d steps, want 0", h, allocs, steps)
		}
		x.Close()
	}
}

// panicky panics in Pick at step n.
type panicky struct {
	Sequential
	n int
}

func (p panicky) Pick(runnable []*Task, last *Task, step int) *Task {
	if step == p.n {
		panic("strategy failed")
	}
	return p.Sequential.Pick(runnable, last, step)
}

// TestStrategyPanicInline: a strategy that panics in a decision taken on
// the running task's side panics out of Run, as it does in a decision Run
// takes itself, and is not reported as the model's panic (ErrModel).
func TestStrategyPanicInline(t *testing.T) {
	for _, always := range []bool{false, true} {
		x := NewExplorer(panicky{n: 5}, HandoffCoroutine)
		x.AlwaysSwitch = always
		x.Reset()
		x.Spawn("t", "start", func(t *Task) {
			for {
				t.Step("loop")
			}
		})
		var err error
		got := func() (r any) {
			defer func() { r = recover() }()
			_, err = x.Run()
			return nil
		}()
		if got != "strategy failed" || errors.Is(err, ErrModel) {
			t.Errorf("AlwaysSwitch %v: Run panicked with %v, returned %v; want the strategy's panic", always, got, err)
		}
		x.Close()
	}
}
