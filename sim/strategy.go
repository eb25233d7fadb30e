package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// runSeed derives the generator state of execution number run from the
// user's seed, so that every execution of a batch is reproducible on its
// own and batches with different seeds share nothing.
func runSeed(seed uint64, run int) (uint64, uint64) {
	return seed, uint64(run)*0x9e3779b97f4a7c15 + 1
}

// Random is a random walk over interleavings: at every scheduling point the
// task that ran last is preempted with probability Preempt (and always when
// it sleeps or finishes), and then the next task is drawn uniformly from the
// runnable ones. Preempt = 1 draws a new task at every point.
type Random struct {
	Preempt float64

	seed uint64
	pcg  rand.PCG
	rng  *rand.Rand
}

// NewRandom returns the random strategy for a seed and preemption
// probability.
func NewRandom(seed uint64, preempt float64) *Random {
	r := &Random{seed: seed, Preempt: preempt}
	r.rng = rand.New(&r.pcg)
	return r
}

func (r *Random) Begin(run int)   { r.pcg.Seed(runSeed(r.seed, run)) }
func (r *Random) Spawned(t *Task) {}
func (r *Random) Pick(runnable []*Task, last *Task, step int) *Task {
	if len(runnable) == 1 {
		return runnable[0]
	}
	if last != nil && !last.done && !last.blocked && r.rng.Float64() >= r.Preempt {
		return last
	}
	return runnable[r.rng.IntN(len(runnable))]
}

// PCT is probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi,
// Nagarakatte: "A Randomized Scheduler with Probabilistic Guarantees of
// Finding Bugs", ASPLOS 2010). Every task gets a random priority and the
// highest-priority runnable task runs; at d-1 randomly chosen steps the
// running task's priority drops below all others. A bug of depth d (d
// ordering constraints) in a program with at most n tasks and k steps is
// found by one execution with probability at least 1/(n·k^(d-1)).
//
// k is the workload's estimate of its steps, fixed for the whole batch:
// execution number run depends on nothing but the seed and run, so that a
// batch split over goroutines, processes or machines (pagelab -j, -shard)
// runs exactly the executions of the unsplit one. (Adapting k to the
// longest execution seen so far would make an execution depend on those
// before it.) A change point is drawn from [0, k); an execution longer
// than k gets none beyond it, and Bound's guarantee is for bugs whose
// change points lie in the first k steps. n is the most tasks seen.
type PCT struct {
	Depth int

	seed    uint64
	pcg     rand.PCG
	rng     *rand.Rand
	k       int // change points are drawn from [0, k)
	maxN    int
	maxK    int
	prio    []uint64 // by task ID
	changes []int    // step of change point i (i = 1..d-1), ascending order not required
}

// NewPCT returns the PCT strategy of depth d (d >= 1) with an initial
// estimate of the number of steps of one execution.
func NewPCT(seed uint64, depth, stepsEstimate int) *PCT {
	if stepsEstimate < 1 {
		stepsEstimate = 1
	}
	p := &PCT{Depth: depth, seed: seed, k: stepsEstimate}
	p.rng = rand.New(&p.pcg)
	return p
}

func (p *PCT) Begin(run int) {
	p.pcg.Seed(runSeed(p.seed, run))
	p.prio = p.prio[:0]
	p.changes = p.changes[:0]
	for i := 1; i < p.Depth; i++ {
		p.changes = append(p.changes, p.rng.IntN(p.k))
	}
}

func (p *PCT) Spawned(t *Task) {
	// Initial priorities are above every change-point priority (those are
	// 1..d-1); drawing them at random is the random permutation of the
	// paper, extended to tasks created during the execution.
	p.prio = append(p.prio, uint64(p.Depth)+1+p.rng.Uint64N(math.MaxUint32))
	if n := len(p.prio); n > p.maxN {
		p.maxN = n
	}
}

func (p *PCT) Pick(runnable []*Task, last *Task, step int) *Task {
	if step+1 > p.maxK {
		p.maxK = step + 1
	}
	if last != nil {
		for i, c := range p.changes {
			if c == step {
				// Change point i+1: the task that just ran drops to
				// priority d-(i+1), below all initial priorities.
				p.prio[last.ID] = uint64(p.Depth - (i + 1))
			}
		}
	}
	return highestPrio(runnable, p.prio)
}

// highestPrio is the runnable task of the highest priority (prio by task
// ID), the lower ID among equals: PCT's choice, and PCTRacy's and
// Greybox's. The Explorer lists the runnable tasks by ID, so among equals
// it is also the first listed.
// highest is the runnable task of the highest priority in the list the
// last Pick was given, kept (bestOK) until that list changes (the
// Explorer says so when the strategy watches it: WatchRunnable,
// RunnableChanged) or a priority does (the strategy clears bestOK): the
// PCT samplers embed it, so that a decision that changes nothing costs
// no scan of the runnable tasks.
type highest struct {
	watched bool
	best    *Task
	bestOK  bool
}

func (h *highest) WatchRunnable()   { h.watched = true }
func (h *highest) RunnableChanged() { h.bestOK = false }

// get is highestPrio(runnable, prio), from the cache when it is valid.
func (h *highest) get(runnable []*Task, prio []uint64) *Task {
	if !h.watched || !h.bestOK {
		h.best, h.bestOK = highestPrio(runnable, prio), true
	}
	return h.best
}

func highestPrio(runnable []*Task, prio []uint64) *Task {
	best := runnable[0]
	for _, t := range runnable[1:] {
		if prio[t.ID] > prio[best.ID] || prio[t.ID] == prio[best.ID] && t.ID < best.ID {
			best = t
		}
	}
	return best
}

// Bound is PCT's lower bound on the probability that one execution finds a
// given bug of depth Depth whose change points lie in the first k steps:
// PCTBound(n, k, Depth), with n the most tasks seen in one execution and k
// the range change points are drawn from.
func (p *PCT) Bound() (prob float64, n, k int) {
	return PCTBound(p.maxN, p.k, p.Depth), p.maxN, p.k
}

// MostSteps is the most decisions PCT saw in one execution.
func (p *PCT) MostSteps() int { return p.maxK }

// PCTBound is 1/(n·k^(d-1)), PCT's guarantee for n tasks, k steps and
// depth d; 0 when n or k is 0 (nothing ran).
func PCTBound(n, k, d int) float64 {
	if n == 0 || k == 0 {
		return 0
	}
	return 1 / (float64(n) * math.Pow(float64(k), float64(d-1)))
}

// Sequential runs the task that ran last for as long as it is runnable, then
// the runnable task with the lowest ID: a schedule without preemption. It
// completes a replayed schedule that names only the interesting prefix.
type Sequential struct{}

func (Sequential) Begin(int)     {}
func (Sequential) Spawned(*Task) {}
func (Sequential) Pick(runnable []*Task, last *Task, step int) *Task {
	if last != nil && !last.done && !last.blocked {
		return last
	}
	return runnable[0]
}

// Divergence says where a replayed execution stopped following its
// schedule.
type Divergence struct {
	Step    int // decision index at which the schedule no longer applied
	Segment int // index of the segment that could not be followed
	Reason  string
}

func (d *Divergence) String() string {
	return fmt.Sprintf("diverged at step %d, segment %d: %s", d.Step, d.Segment+1, d.Reason)
}

// Replay follows a recorded schedule's segments, then hands over to Then
// (nil stops the execution) when the schedule is exhausted or no longer
// applies.
type Replay struct {
	Segments []Segment
	Then     Strategy
	// Loose follows the segments' tasks and Until points but not their
	// At: a segment starts its task wherever it is paused, a segment
	// whose task cannot run is skipped, and one whose task sleeps or
	// finishes before reaching Until ends there. Any subsequence of a
	// schedule's segments is then an execution, not a divergence: the
	// shrinker's candidates (bench.Shrink). A loose replay never
	// diverges; its execution is recorded as a strict schedule.
	Loose bool

	seg       int
	active    bool
	hits      int
	cur       *Task
	diverged  *Divergence
	exhausted bool
}

// NewReplay returns a replay of segs continued by then.
func NewReplay(segs []Segment, then Strategy) *Replay {
	return &Replay{Segments: segs, Then: then}
}

// Diverged reports where the last execution stopped following the
// schedule, or nil if it followed it to the end.
func (r *Replay) Diverged() *Divergence { return r.diverged }

// Exhausted reports whether the last execution followed every segment.
func (r *Replay) Exhausted() bool { return r.exhausted }

func (r *Replay) Begin(run int) {
	r.seg, r.active, r.hits, r.cur, r.diverged, r.exhausted = 0, false, 0, nil, nil, false
	if r.Then != nil {
		r.Then.Begin(run)
	}
}

func (r *Replay) Spawned(t *Task) {
	if r.Then != nil {
		r.Then.Spawned(t)
	}
}

func (r *Replay) Pick(runnable []*Task, last *Task, step int) *Task {
	if r.diverged != nil || r.exhausted {
		return r.then(runnable, last, step)
	}
	if r.active {
		s := r.Segments[r.seg]
		t := r.cur
		switch {
		case t.done || t.blocked:
			if s.Until != "" && !r.Loose {
				what := "finished"
				if t.blocked {
					what = "went to sleep at " + t.label
				}
				return r.diverge(runnable, last, step, fmt.Sprintf("%s %s before reaching %s", t.Name, what, s.Until))
			}
			r.next()
		case s.Until != "" && t.label == s.Until:
			r.hits++
			if r.hits >= s.count() {
				r.next()
			}
		}
		if r.active {
			return t
		}
	}
	var s Segment
	var t *Task
	for {
		if r.seg >= len(r.Segments) {
			r.exhausted = true
			return r.then(runnable, last, step)
		}
		s, t = r.Segments[r.seg], nil
		for _, c := range runnable {
			if c.Name == s.Task {
				t = c
				break
			}
		}
		if t != nil || !r.Loose {
			break
		}
		r.seg++
	}
	if t == nil {
		why := "no such task"
		for _, c := range r.tasksOf(runnable) {
			if c.Name == s.Task {
				switch {
				case c.done:
					why = "it has finished"
				case c.blocked:
					why = "it sleeps at " + c.label
				}
			}
		}
		return r.diverge(runnable, last, step, fmt.Sprintf("%s cannot run: %s", s.Task, why))
	}
	if t.label != s.At && !r.Loose {
		return r.diverge(runnable, last, step, fmt.Sprintf("%s is at %s, the schedule expects %s", t.Name, t.label, s.At))
	}
	r.active, r.hits, r.cur = true, 0, t
	return t
}

func (r *Replay) tasksOf(runnable []*Task) []*Task {
	if len(runnable) == 0 {
		return nil
	}
	return runnable[0].x.tasks
}

func (r *Replay) next() {
	r.active = false
	r.seg++
}

func (r *Replay) diverge(runnable []*Task, last *Task, step int, why string) *Task {
	r.diverged = &Divergence{Step: step, Segment: r.seg, Reason: why}
	return r.then(runnable, last, step)
}

func (r *Replay) then(runnable []*Task, last *Task, step int) *Task {
	if r.Then == nil {
		return nil
	}
	return r.Then.Pick(runnable, last, step)
}
