package sim

import (
	"math"
	"math/rand/v2"
)

// Samplers that aim at the racy steps. Each draws every choice from a
// generator seeded by (seed, execution number), so that an execution is
// reproducible on its own, and each predicts a task's next step by the
// scheduling point it is paused at, through a Profile of the cell (see
// profile.go). A step at a point the profile found independent cannot
// change the order of conflicting steps: it commutes
// with every step of every other task the profile saw (see eager).

// PCTRacy is PCT (Burckhardt et al., ASPLOS 2010) whose d-1 change points
// fall only on racy steps, as in PCTWM (Gao, Yao, Rigger, Musuvathi,
// Gupta: "Probabilistic Concurrency Testing for Weak Memory Programs",
// ASPLOS 2023), which draws them among communication events, and taPCT
// (Ozkan, Majumdar, Oraee: "Trace aware random testing for distributed
// systems", OOPSLA 2019). The argument is PCT's: a bug of depth d needs
// d-1 tasks to lose the CPU just before given steps, and every ordering
// constraint is between two conflicting steps, so a change point is only
// ever needed just before a racy step. Drawing change points among the
// first k racy steps instead of the first k steps makes the guarantee
// 1/(n·k^(d-1)) with k counting racy steps: Bound.
//
// As in the paper's algorithm, a change point is taken just before the
// step it is numbered by: when the highest-priority runnable task is about
// to take racy step number c and c is change point i, its priority drops
// to d-i and the highest-priority task is picked again.
type PCTRacy struct {
	Depth int
	// PerTask draws each change point as a task (by name, uniformly among
	// the profiled tasks) and a racy step of that task (uniformly among
	// the most it took in a profiled execution), instead of a racy step
	// of the whole execution.
	PerTask bool
	// Completions (with PerTask) draws the change points' tasks among the
	// profiled I/O completions only (Profile.CompletionNames): pct-irq.
	// The argument is PCT's over a smaller set: a bug of depth d whose
	// d-1 preemptions all fall on completions' racy steps is found with
	// probability at least 1/(n·(N·K)^(d-1)), N the completions' names
	// and K the most racy steps one took, where pct-task's N counts every
	// task name; a bug that needs any other task preempted while it could
	// run is never found (no other task's priority drops). As PCT's, the
	// guarantee is for bugs of depth d: every change point is taken once
	// its completion reaches the step, so a bug of lower depth whose last
	// step follows every completion step is missed (TestPCTIRQCompletions),
	// where pct-task's spare change points may fall on other tasks. Race
	// A and race B hold a writeback completion between its clearing of
	// PG_writeback and its wake-up, an interrupt handler slowed on its CPU
	// while the submitters run on: race B has fourteen task names, three
	// of them completions (race A five and three), so a change point holds
	// a given completion at a given racy step 14/3 times as often as
	// pct-task's.
	Completions bool

	prof *Profile
	pc   *pointCache
	seed uint64
	pcg  rand.PCG
	rng  *rand.Rand
	k    int
	maxN int
	racy int // racy steps taken in this execution
	prio []uint64
	// cp are the execution's change points: point i is change point i+1
	// of the paper's (it drops its task to priority d-(i+1)). With
	// perTask each belongs to a task name (an index into names);
	// without, all to name 0, counting the execution's racy steps.
	cp changePoints
	// PerTask: the profiled task names, and by index nameIdx, and
	// racySteps the most racy steps each took in a profiled execution;
	// perTask says whether change points are per task in this execution.
	// By task ID: every task's name (an index, -1 for a name no profiled
	// execution had) and racy steps so far.
	names     []string
	nameIdx   map[string]int
	racySteps []int
	perTask   bool
	tname     []int
	local     []int
	// next is, by task ID, the number of the task's next racy step that
	// is a change point not yet taken for its name, or -1 (nextAll: the
	// execution's, without PerTask). Pick looks through the change points
	// only when a task is about to take that step: at the other racy
	// steps there is nothing to find.
	next    []int
	nextAll int
	highest
}

// NewPCTRacy returns racy-step PCT of depth d over a profile: change
// points are drawn among the first prof.MaxRacy racy steps.
func NewPCTRacy(seed uint64, depth int, prof *Profile) *PCTRacy {
	p := &PCTRacy{Depth: depth, prof: prof, pc: newPointCache(prof), seed: seed, k: max(prof.MaxRacy, 1)}
	p.rng = rand.New(&p.pcg)
	return p
}

func (p *PCTRacy) Begin(run int) {
	p.pcg.Seed(runSeed(p.seed, run))
	p.prio, p.racy = p.prio[:0], 0
	p.cp.reset()
	p.tname, p.local = p.tname[:0], p.local[:0]
	p.next, p.bestOK = p.next[:0], false
	if p.PerTask && p.names == nil {
		p.names = append([]string{}, p.taskNames()...) // not nil: drawn once
		p.nameIdx = make(map[string]int, len(p.names))
		p.racySteps = make([]int, len(p.names))
		for i, name := range p.names {
			p.nameIdx[name] = i
			p.racySteps[i] = max(p.prof.RacyTaskSteps(name), 1)
		}
	}
	// Without a profiled task, pct-task draws its change points over the
	// execution's racy steps; pct-irq without a profiled completion has
	// none (bench refuses it before it runs).
	p.perTask = p.PerTask && (len(p.names) > 0 || p.Completions)
	for i := 1; i < p.Depth && (!p.perTask || len(p.names) > 0); i++ {
		if p.perTask {
			name := p.rng.IntN(len(p.names))
			p.cp.add(name, p.rng.IntN(p.racySteps[name]))
			continue
		}
		p.cp.add(0, p.rng.IntN(p.k))
	}
	p.nextAll = p.cp.next(0, 0)
}

func (p *PCTRacy) Spawned(t *Task) {
	name, next := -1, -1 // without perTask, nextAll is the one used
	if p.perTask {
		if i, ok := p.nameIdx[t.Name]; ok {
			name = i
		}
		next = p.cp.next(name, 0)
	}
	p.tname = append(p.tname, name)
	p.local = append(p.local, 0)
	p.next = append(p.next, next)
	p.prio = append(p.prio, uint64(p.Depth)+1+p.rng.Uint64N(math.MaxUint32))
	p.maxN = max(p.maxN, len(p.prio))
	p.bestOK = false
}

func (p *PCTRacy) Pick(runnable []*Task, last *Task, step int) *Task {
	for {
		best := p.get(runnable, p.prio)
		if !p.pc.racy(best.label) {
			return best
		}
		n, at := p.racy, p.nextAll
		if p.perTask {
			n, at = p.local[best.ID], p.next[best.ID]
		}
		if n != at {
			// Not a change point: the common case, decided without
			// looking through them.
			p.racy++
			p.local[best.ID]++
			return best
		}
		name := 0
		if p.perTask {
			name = p.tname[best.ID]
		}
		i := p.cp.take(name, n)
		if i < 0 {
			// next said there was one: looping would not end.
			panic("sim: PCTRacy's next change point is stale")
		}
		// Change point i+1, just before racy step n: the task about to
		// take it drops below every other task.
		p.prio[best.ID] = uint64(p.Depth - (i + 1))
		// A priority dropped: the best task is to be found again, and
		// the next change point of the execution, or of the tasks of
		// best's name (the change points taken were theirs), is past
		// the ones taken.
		p.bestOK = false
		if !p.perTask {
			p.nextAll = p.cp.next(0, p.racy)
			continue
		}
		p.cp.renext(p.next, p.tname, p.local, name)
	}
}

// taskNames are the task names PerTask draws change points among: every
// profiled task's, or with Completions the completions'.
func (p *PCTRacy) taskNames() []string {
	if p.Completions {
		return p.prof.CompletionNames()
	}
	return p.prof.TaskNames()
}

// Bound is the guarantee for a bug of depth Depth whose change points lie
// on racy steps (racy as the profile marks them): PCTBound(n, k, Depth), n
// the most tasks seen. k is the range a change point is drawn from: the
// first MaxRacy racy steps of the execution, or with PerTask N·K, N task
// names times K, the most racy steps one task took in a profiled
// execution (a change point hits a given racy step j < K of a given task
// with probability 1/(N·K_task) >= 1/(N·K)); with Completions, N and K
// are the completions', and the bound is for bugs whose change points
// lie on completions' racy steps.
func (p *PCTRacy) Bound() (prob float64, n, k int) {
	k = p.k
	if p.PerTask {
		names := p.taskNames()
		most := 1
		for _, name := range names {
			most = max(most, p.prof.RacyTaskSteps(name))
		}
		k = max(len(names), 1) * most
	}
	return PCTBound(p.maxN, k, p.Depth), p.maxN, k
}

// POS is partial order sampling (Yuan, Yang, Gu: "Partial Order Aware
// Concurrency Sampling", CAV 2018). Every task's pending step has a random
// priority; the runnable task whose pending step has the highest runs.
// After a step e, its task's next step draws a fresh priority, and so does
// every pending step that races with e: the priorities of steps that do
// not race with e are kept, which is what makes POS sample partial orders
// rather than interleavings close to uniformly (a step independent of
// everything it could be reordered with keeps its chance). Races are
// predicted by the profile: e's point against each pending step's point.
//
// A pending step at a point the profile found independent is taken at once
// (the last task's first): it commutes with every other task's steps, so
// taking it now loses no partial order of the conflicting steps, and it
// saves a coroutine switch. POS has no closed-form guarantee for one bug; Bound
// is not defined.
type POS struct {
	prof  *Profile
	pc    *pointCache
	seed  uint64
	pcg   rand.PCG
	rng   *rand.Rand
	prio  []float64 // by task ID: the priority of its pending step
	ran   string    // the point of the step the last task took
	ranPt *Point    // its profile (nil: never profiled)
}

// NewPOS returns partial order sampling over a profile.
func NewPOS(seed uint64, prof *Profile) *POS {
	p := &POS{prof: prof, pc: newPointCache(prof), seed: seed}
	p.rng = rand.New(&p.pcg)
	return p
}

func (p *POS) Begin(run int) {
	p.pcg.Seed(runSeed(p.seed, run))
	p.prio, p.ran, p.ranPt = p.prio[:0], "", nil
}

func (p *POS) Spawned(t *Task) { p.prio = append(p.prio, p.rng.Float64()) }

func (p *POS) Pick(runnable []*Task, last *Task, step int) *Task {
	if last != nil && p.ran != "" {
		p.prio[last.ID] = p.rng.Float64()
		if p.ranPt.racy() {
			for _, t := range runnable {
				if t != last && p.ranPt.conflicts(p.pc.point(t.label)) {
					p.prio[t.ID] = p.rng.Float64()
				}
			}
		}
	}
	t := eager(p.pc, runnable, last)
	if t == nil {
		t = runnable[0]
		for _, u := range runnable[1:] {
			if p.prio[u.ID] > p.prio[t.ID] {
				t = u
			}
		}
	}
	p.ran, p.ranPt = t.label, p.pc.point(t.label)
	return t
}

// eager is the runnable task whose pending step the profile found
// independent of every other task's steps, the last task first, or nil.
// Taking such a step at once loses no ordering of conflicting steps: it
// commutes with everything the others can do (Godefroid's persistent
// sets with a singleton set, LNCS 1032, 1996).
func eager(pc *pointCache, runnable []*Task, last *Task) *Task {
	if last != nil && !last.done && !last.blocked && pc.independent(last.label) {
		return last
	}
	for _, t := range runnable {
		if pc.independent(t.label) {
			return t
		}
	}
	return nil
}

// RaceFuzz is race-directed random testing (Sen: "Race Directed Random
// Testing of Concurrent Programs", PLDI 2008). Each execution picks one
// pair of points that may conflict (Profile.Pairs, uniformly) and runs a
// random walk (preempting with probability Preempt at each point) in
// which a task about to take a step at either point is postponed: it does
// not run while another task can. When a second task arrives at the
// pair's other point (or, for a pair of one point, at the same point), the
// race is real: one of the two steps, drawn at random, runs, and the other
// stays postponed, so that each order of the race is taken with
// probability 1/2 wherever the walk brings the tasks together. When every
// runnable task
// is postponed, one of them, drawn at random, is let go: postponing never
// deadlocks an execution.
//
// The point of postponing is the window: a step held at one side of a race
// waits, for as long as the others can run, for its partner, which is how
// a completion delayed before its wake-up meets a waiter that queued after
// the page was reused. Every failure it finds is a real execution of the
// model, replayable by its schedule; like the paper's, it has no
// probability bound.
type RaceFuzz struct {
	Preempt float64

	prof *Profile
	seed uint64
	pcg  rand.PCG
	rng  *rand.Rand
	pair Pair
	// released is, by task ID, the point a task was let go at: it is not
	// postponed again until it has taken that step.
	released []string
}

// NewRaceFuzz returns race-directed random testing over a profile.
func NewRaceFuzz(seed uint64, preempt float64, prof *Profile) *RaceFuzz {
	r := &RaceFuzz{Preempt: preempt, prof: prof, seed: seed}
	r.rng = rand.New(&r.pcg)
	return r
}

func (r *RaceFuzz) Begin(run int) {
	r.pcg.Seed(runSeed(r.seed, run))
	r.released = r.released[:0]
	r.pair = Pair{}
	if ps := r.prof.Pairs(); len(ps) > 0 {
		r.pair = ps[r.rng.IntN(len(ps))]
	}
}

func (r *RaceFuzz) Spawned(t *Task) { r.released = append(r.released, "") }

// Pair is the pair of points the current execution aims at.
func (r *RaceFuzz) Pair() Pair { return r.pair }

func (r *RaceFuzz) at(t *Task) bool {
	return t.label == r.pair.A || t.label == r.pair.B
}

func (r *RaceFuzz) postponed(t *Task) bool {
	if r.released[t.ID] != "" {
		if r.released[t.ID] == t.label {
			return false
		}
		r.released[t.ID] = "" // took the step it was let go for
	}
	return r.at(t)
}

// partners reports whether t and u wait at the two points of the pair.
func (r *RaceFuzz) partners(t, u *Task) bool {
	return (t.label == r.pair.A && u.label == r.pair.B) || (t.label == r.pair.B && u.label == r.pair.A)
}

func (r *RaceFuzz) Pick(runnable []*Task, last *Task, step int) *Task {
	if r.pair.A == "" {
		return r.walk(runnable, last)
	}
	// A race met: a postponed task and another arriving at the pair's
	// other point. As in the paper, one of the two steps, drawn at
	// random, runs; the other stays postponed, to meet the next partner
	// or be let go.
	for i, t := range runnable {
		if !r.postponed(t) {
			continue
		}
		for _, u := range runnable[i+1:] {
			if r.postponed(u) && r.partners(t, u) {
				if r.rng.IntN(2) == 1 {
					t = u
				}
				r.released[t.ID] = t.label
				return t
			}
		}
	}
	free := 0
	for _, t := range runnable {
		if !r.postponed(t) {
			free++
		}
	}
	if free == 0 {
		t := runnable[r.rng.IntN(len(runnable))]
		r.released[t.ID] = t.label
		return t
	}
	if last != nil && !last.done && !last.blocked && !r.postponed(last) && r.rng.Float64() >= r.Preempt {
		return last
	}
	i := r.rng.IntN(free)
	for _, t := range runnable {
		if !r.postponed(t) {
			if i == 0 {
				return t
			}
			i--
		}
	}
	panic("unreachable")
}

func (r *RaceFuzz) walk(runnable []*Task, last *Task) *Task {
	if last != nil && !last.done && !last.blocked && r.rng.Float64() >= r.Preempt {
		return last
	}
	return runnable[r.rng.IntN(len(runnable))]
}
