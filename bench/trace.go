package bench

import (
	"slices"

	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// TraceStep is one executed step of a traced replay.
type TraceStep struct {
	Task  string
	Label string   // the scheduling point the step started at
	Stack []string // the task's kernel call stack there
	// Lines the step touched: read, or written (atomic RMW, store, lock).
	Reads, Writes []uint64
	// Data is what the step did to the kernel data a race diagram shows
	// beyond page flags and refcounts (diagramData: i_size, xarray
	// slots, page->index, ->mapping, compound heads, PTEs, buffers), from
	// its footprint.
	Data    []sim.Access
	Wakes   []string     // tasks this step woke
	Reports []*mm.Report // failures this step raised
	// Preempted says the task was still runnable when the next step went
	// to another task.
	Preempted bool
}

// Trace is a replay with every step recorded.
type Trace struct {
	Steps    []*TraceStep
	Replayed *Replayed
	Tasks    []string // in order of first step
}

// diagramData accepts the footprint objects of TraceStep.Data.
var diagramData = func() func(sim.Obj) bool {
	f, err := mm.ParseFocus("i_size+xa-slot+page-index+page-mapping+page-head+pte+page-private")
	if err != nil {
		panic(err)
	}
	return f
}()

// TraceReplay replays cfg.Schedule and records every step.
func TraceReplay(cfg *ReplayConfig) (*Trace, error) {
	tr := &Trace{}
	var cur *TraceStep
	var kern func() []mm.Report
	seen := 0
	flush := func() {
		if cur == nil || kern == nil {
			return
		}
		reps := kern()
		for i := seen; i < len(reps); i++ {
			r := reps[i]
			cur.Reports = append(cur.Reports, &r)
		}
		seen = len(reps)
	}
	c := *cfg
	c.Trace = func(t *sim.Task, step int) {
		flush()
		cur = &TraceStep{Task: t.Name, Label: t.Label(), Stack: slices.Clone(t.Stack())}
		tr.Steps = append(tr.Steps, cur)
		if !slices.Contains(tr.Tasks, t.Name) {
			tr.Tasks = append(tr.Tasks, t.Name)
		}
	}
	c.onAccess = func(t *sim.Task, line uint64, kind sim.AccessKind) {
		if cur == nil || cur.Task != t.Name {
			return
		}
		switch kind {
		case sim.AccessRead:
			cur.Reads = append(cur.Reads, line)
		case sim.AccessRMW:
			cur.Writes = append(cur.Writes, line)
		}
		// Spinlock words order steps but are not what races: not kept.
	}
	c.onFootprint = func(t *sim.Task, fp sim.Footprint) {
		if cur == nil || cur.Task != t.Name {
			return
		}
		for _, a := range fp {
			if diagramData(a.Obj) {
				cur.Data = append(cur.Data, a)
			}
		}
	}
	c.onWake = func(waker, wakee *sim.Task) {
		if cur != nil && cur.Task == waker.Name {
			cur.Wakes = append(cur.Wakes, wakee.Name)
		}
	}
	c.onKernel = func(k *mm.Kernel) { kern = k.Reports; seen = 0 }
	c.onStepped = func(t *sim.Task) {
		if cur != nil {
			cur.Preempted = !t.Done() && !t.Blocked()
		}
	}
	r, err := Replay(&c)
	if err != nil {
		return nil, err
	}
	flush()
	// A step is preempted only if the next step is another task's.
	for i, s := range tr.Steps {
		if i+1 < len(tr.Steps) && tr.Steps[i+1].Task == s.Task {
			s.Preempted = false
		}
	}
	tr.Replayed = r
	return tr, nil
}
