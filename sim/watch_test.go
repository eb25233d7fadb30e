package sim

import (
	"fmt"
	"slices"
	"testing"
)

// hidden is a strategy behind a wrapper that hides RunnableWatcher
// (hiddenObserver passes footprints on, for greybox): the Explorer never
// tells it that the runnable list changed, so it searches the list at
// every decision.
type hidden struct{ Strategy }

type hiddenObserver struct {
	Strategy
	StepObserver
}

func hide(s Strategy) Strategy {
	if o, ok := s.(StepObserver); ok {
		return hiddenObserver{s, o}
	}
	return hidden{s}
}

// convoy is a program whose runnable list changes often: four workers
// take a sleeping lock in turn (a waiter queues, sleeps and is woken by
// the unlock, which wakes every waiter), and one spawns a fifth task
// half-way.
func convoy(x *Explorer, m *toyMem) {
	var waiters []*Task
	lock := func(t *Task) {
		for {
			t.SetState(TaskUninterruptible)
			if m.load(t, 0) == 0 {
				m.store(t, 0, 1)
				break
			}
			waiters = append(waiters, t)
			t.Schedule("schedule")
		}
		t.SetState(TaskRunning)
	}
	unlock := func(t *Task) {
		m.store(t, 0, 0)
		ws := waiters
		waiters = nil
		for _, w := range ws {
			t.Step("wake")
			w.WakeUp()
		}
	}
	for id := range 4 {
		x.Spawn(fmt.Sprint("w", id), "start", func(t *Task) {
			for i := range 2 {
				lock(t)
				m.store(t, 1+id, m.load(t, 1+id)+1)
				unlock(t)
				if id == 0 && i == 0 {
					t.Spawn("late", "start", func(t *Task) { m.store(t, 5, 1) })
				}
			}
		})
	}
}

// TestWatchedPicksAreTheSame: PCTRacy (pct-racy, pct-task, at several
// depths) and Greybox keep the task of the highest priority while the
// Explorer says the runnable list stands, and look at their change points
// only at a task's next one. The same strategy hidden from the Explorer's
// notice, which searches the list at every decision, must decide the
// same, execution after execution (greybox: a whole campaign).
func TestWatchedPicksAreTheSame(t *testing.T) {
	p := toyProgram{name: "convoy", mem: 6, spawn: convoy}
	prof := profileToy(t, p, 64)
	builds := map[string]func() Strategy{
		"pct-racy d=3":  func() Strategy { return NewPCTRacy(3, 3, prof) },
		"pct-racy d=8":  func() Strategy { return NewPCTRacy(3, 8, prof) },
		"pct-task d=3":  func() Strategy { return newPCTTask(3, 3, prof) },
		"pct-task d=14": func() Strategy { return newPCTTask(3, 14, prof) },
		"greybox":       func() Strategy { return NewGreybox(3, prof) },
	}
	for name, build := range builds {
		t.Run(name, func(t *testing.T) {
			watched := build()
			if _, ok := watched.(RunnableWatcher); !ok {
				t.Fatalf("%T is not a RunnableWatcher", watched)
			}
			h := hide(build())
			if _, ok := h.(RunnableWatcher); ok {
				t.Fatal("the wrapper does not hide RunnableWatcher")
			}
			run := func(s Strategy) [][]Decision {
				x := NewExplorer(s, HandoffCoroutine)
				defer x.Close()
				x.EnableAccessLog()
				x.Record = true
				x.MaxSteps = 1000 // a wrong pick can livelock the convoy
				var all [][]Decision
				switches := 0
				for range 3000 {
					x.Reset()
					p.spawn(x, &toyMem{v: make([]int, p.mem)})
					res, err := x.Run()
					if err != nil {
						t.Fatal(err)
					}
					switches += res.Switches
					all = append(all, slices.Clone(x.Decisions))
				}
				if switches == 0 {
					t.Fatal("no execution switched tasks")
				}
				return all
			}
			want, got := run(h), run(watched)
			for i := range want {
				if slices.Equal(got[i], want[i]) {
					continue
				}
				j := 0 // the first decision that differs
				for j < len(got[i]) && j < len(want[i]) && got[i][j] == want[i][j] {
					j++
				}
				t.Fatalf("execution %d, decision %d: watched decides %v, searching every time %v",
					i, j, at(got[i], j), at(want[i], j))
			}
		})
	}
}

// at is decision j, or "the end" past the last.
func at(ds []Decision, j int) string {
	if j == len(ds) {
		return "the end"
	}
	return fmt.Sprintf("%d@%s", ds[j].Task, ds[j].Label)
}
