package sim

// DFS enumerates every interleaving with at most Bound preemptions
// (iterative context bounding, Musuvathi and Qadeer, PLDI 2007, as in
// CHESS). At a scheduling point where the task that ran last can go on,
// continuing it is free and switching to any other runnable task is a
// preemption; where it slept or finished, any runnable task may follow, for
// free. Executions are enumerated depth first by replaying a prefix of
// choices and extending it with the free default (continue, or the lowest
// task ID); Begin moves to the next unexplored prefix, and Exhausted says
// when there is none.
type DFS struct {
	Bound int

	prefix    []int
	chosen    []int
	allowed   []int
	used      int
	started   bool
	exhausted bool
}

// NewDFS returns the exhaustive strategy with a preemption bound.
func NewDFS(bound int) *DFS { return &DFS{Bound: bound} }

// Exhausted reports whether every interleaving within the bound has been
// run (after the execution that Begin last prepared).
func (d *DFS) Exhausted() bool { return d.exhausted }

func (d *DFS) Begin(run int) {
	if d.started {
		// The next prefix: the deepest decision with an untried option.
		i := len(d.chosen) - 1
		for i >= 0 && d.chosen[i]+1 >= d.allowed[i] {
			i--
		}
		if i < 0 {
			d.exhausted = true
			d.prefix = d.prefix[:0]
		} else {
			d.prefix = append(d.prefix[:0], d.chosen[:i]...)
			d.prefix = append(d.prefix, d.chosen[i]+1)
		}
	}
	d.started = true
	d.chosen, d.allowed, d.used = d.chosen[:0], d.allowed[:0], 0
}

func (d *DFS) Spawned(*Task) {}

func (d *DFS) Pick(runnable []*Task, last *Task, step int) *Task {
	canContinue := last != nil && !last.done && !last.blocked
	allowed := len(runnable)
	if canContinue && d.used >= d.Bound {
		allowed = 1 // only continuing is within the bound
	}
	i := len(d.chosen)
	c := 0
	if i < len(d.prefix) {
		c = d.prefix[i]
	}
	if c >= allowed {
		c = allowed - 1 // cannot happen for a deterministic program
	}
	d.chosen = append(d.chosen, c)
	d.allowed = append(d.allowed, allowed)
	if canContinue {
		if c == 0 {
			return last
		}
		d.used++
		// Options after the first are the other runnable tasks in ID order.
		k := 0
		for _, t := range runnable {
			if t == last {
				continue
			}
			k++
			if k == c {
				return t
			}
		}
	}
	return runnable[c]
}
