package sim

import (
	"fmt"
	"math/bits"
	"slices"
)

// DPOR is the exhaustive search behind `pagelab verify` and
// -strategy dpor: every reachable state of the model, with no bound on
// preemptions, visited by re-executing choice prefixes from the initial
// state (the model's coroutines cannot be copied, so a state is reached
// again by replaying the decisions that led to it).
//
// Three mechanisms keep it small, each with a published soundness argument
// and each checked against brute force in the tests:
//
//   - State caching. The key of a state (Explorer.StateKey) is the set of
//     (object, value) pairs written since the start plus every task's
//     observation hash and status (footprint.go): equal keys mean equal
//     futures. A state reached again is not explored again.
//
//   - Sleep sets (Godefroid, "Partial-Order Methods for the Verification of
//     Concurrent Systems", LNCS 1032, 1996, ch. 5). After exploring
//     transition t from a state, its later siblings carry t in their sleep
//     set, and a child keeps it as long as the transition leading to it is
//     independent of t (their footprints do not conflict): t from there
//     reaches a state the search already reaches through t first. Sleep
//     sets alone prune transitions, never states: every reachable state is
//     still visited (Godefroid, Theorem 5.?; the property the tests check).
//
//   - Sleep sets with state caching, combined as in Godefroid, Holzmann and
//     Pirottin, "State-space caching revisited" (FMSD 7(3), 1995) and
//     Godefroid 1996 §6.3: a cached state remembers the sleep set it was
//     explored with; a revisit with sleep set Z prunes only if the stored
//     set is a subset of Z, and otherwise explores the transitions in the
//     stored set that are not in Z, and stores the intersection. This is
//     what keeps the combination from losing states.
//
// Cycles. Without a CutPoint a task's observation hash changes with every
// step it takes, so no key can repeat along a path and the state graph is
// acyclic: every execution ends, and no livelock exists. CutPoints make
// spins visible as cycles; the search records the edges it explored and,
// when cut points were executed, looks for a fair cycle (a strongly
// connected component in which every task enabled in all its states takes
// a step) with Tarjan's algorithm. Under sleep sets some edges are never
// executed, so "no fair cycle" is only a proof when Reduce is off.
//
// A search that stops early (MaxStates, MaxDepth, a caller's budget) is not
// exhausted and proves nothing.
type DPOR struct {
	// Reduce turns on sleep sets (state caching is always on).
	Reduce bool
	// MaxStates bounds the distinct states (0: no bound).
	MaxStates int
	// MaxDepth bounds the decisions of one execution; an execution that
	// reaches it is truncated and the search is then not exhaustive.
	MaxDepth int

	x     *Explorer
	stack []*dporFrame
	free  []*dporFrame
	step  int // index of the frame of the decision being taken
	cache map[Key]*dporState
	// states in discovery order, for the cycle analysis.
	states []*dporState
	edges  []dporEdge

	started, exhausted, stopped bool
	stats                       DPORStats
	// end describes how the current execution was cut off by the search.
	end DPOREnd
}

// DPOREnd says why the search stopped the current execution (or
// DPOREndNone when the execution ended by itself).
type DPOREnd uint8

const (
	DPOREndNone DPOREnd = iota
	// DPOREndCached: it reached a state explored before.
	DPOREndCached
	// DPOREndSleepBlocked: every enabled transition was in the sleep set.
	DPOREndSleepBlocked
	// DPOREndDepth: MaxDepth was reached.
	DPOREndDepth
	// DPOREndBudget: MaxStates was reached.
	DPOREndBudget
)

// DPORStats counts the search's work.
type DPORStats struct {
	// Executions started, and how each ended when the search cut it off.
	Executions   int
	Cached       int // reached a state explored before
	SleepBlocked int // every enabled transition asleep
	Truncated    int // MaxDepth reached
	// States is the number of distinct states; Transitions the number of
	// transitions executed for the first time (edges of the state graph).
	States      int
	Transitions int
	// Steps counts every step executed, replays included.
	Steps int64
	// MaxDepth is the longest execution, in decisions.
	MaxDepth int
	// CutPoints says whether any execution passed a CutPoint (the state
	// graph may have cycles).
	CutPoints bool
	// BudgetHit: MaxStates stopped the search.
	BudgetHit bool
}

type dporSleeper struct {
	task int32
	fp   Footprint
}

type dporFrame struct {
	state   *dporState
	sleep   []dporSleeper // the sleep set the state is explored with here
	done    []dporSleeper // transitions already explored from this frame
	todo    []int32
	cur     int32
	curFp   Footprint
	fpKnown bool
}

type dporState struct {
	key     Key
	id      int32
	sleep   uint64 // task IDs asleep when last explored (Godefroid's H(s))
	enabled uint64
	onStack bool
	// how it was first reached: parent state and task, for lassos.
	parent int32
	via    int32
}

type dporEdge struct {
	from, to int32
	task     int32
}

// NewDPOR returns the exhaustive search; reduce turns on sleep sets.
func NewDPOR(reduce bool, maxDepth int) *DPOR {
	return &DPOR{Reduce: reduce, MaxDepth: maxDepth, cache: make(map[Key]*dporState)}
}

// Attach connects the search to the Explorer whose states it keys; the
// Explorer must record footprints (EnableFootprints).
func (d *DPOR) Attach(x *Explorer) {
	if x.fp == nil {
		panic("sim: DPOR needs an Explorer with footprints enabled")
	}
	d.x = x
}

// Exhausted reports whether every reachable state has been explored
// (after the execution that Begin last prepared found nothing left).
func (d *DPOR) Exhausted() bool { return d.exhausted }

// Complete reports whether the search was exhaustive: it ran out of work,
// and neither the depth bound nor the state budget cut anything off.
func (d *DPOR) Complete() bool {
	return d.exhausted && !d.stopped && d.stats.Truncated == 0
}

// Stats are the search's counters so far.
func (d *DPOR) Stats() DPORStats { return d.stats }

// End says how the search cut off the last execution.
func (d *DPOR) End() DPOREnd { return d.end }

// Begin prepares execution number run: the first runs from the initial
// state; each later one replays the stack up to the deepest frame with an
// unexplored transition and takes that transition.
func (d *DPOR) Begin(run int) {
	d.step = 0
	d.end = DPOREndNone
	if !d.started {
		d.started = true
		d.stats.Executions++
		return
	}
	for len(d.stack) > 0 {
		top := d.stack[len(d.stack)-1]
		if d.Reduce && top.fpKnown {
			top.done = append(top.done, dporSleeper{top.cur, top.curFp})
		}
		if len(top.todo) > 0 && !d.stopped {
			top.cur, top.todo = top.todo[0], top.todo[1:]
			top.curFp, top.fpKnown = nil, false
			d.stats.Executions++
			return
		}
		top.state.onStack = false
		d.stack = d.stack[:len(d.stack)-1]
		d.release(top)
	}
	d.exhausted = true
}

// Stop ends the search after the current execution (a caller's budget).
func (d *DPOR) Stop() { d.stopped = true }

func (d *DPOR) Spawned(*Task) {}

// Pick replays the stack, then explores: at a new state it decides from
// the cache and the sleep set which transitions to take.
func (d *DPOR) Pick(runnable []*Task, last *Task, step int) *Task {
	if step < len(d.stack) {
		d.step = step
		f := d.stack[step]
		for _, t := range runnable {
			if int32(t.ID) == f.cur {
				return t
			}
		}
		panic(fmt.Sprintf("sim: dpor: replay diverged at decision %d: task %d not runnable (the model is not deterministic)", step, f.cur))
	}
	d.step = step
	if d.MaxDepth > 0 && step >= d.MaxDepth {
		d.stats.Truncated++
		d.end = DPOREndDepth
		return nil
	}
	var enabled uint64
	for _, t := range runnable {
		if t.ID >= 64 {
			panic("sim: dpor: more than 64 tasks")
		}
		enabled |= 1 << t.ID
	}
	// The sleep set here: what the parent slept on or had explored,
	// minus what conflicts with the transition just taken.
	var sleep []dporSleeper
	var z uint64
	var parent *dporFrame
	if step > 0 {
		parent = d.stack[step-1]
	}
	if d.Reduce && parent != nil {
		for _, set := range [2][]dporSleeper{parent.sleep, parent.done} {
			for _, u := range set {
				if u.task == parent.cur || enabled&(1<<u.task) == 0 || u.fp.Conflicts(parent.curFp) {
					continue
				}
				if z&(1<<u.task) == 0 {
					z |= 1 << u.task
					sleep = append(sleep, u)
				}
			}
		}
	}
	key := d.x.StateKey()
	s, seen := d.cache[key]
	var todo uint64
	if seen {
		if parent != nil {
			d.edges = append(d.edges, dporEdge{parent.state.id, s.id, parent.cur})
		}
		if s.sleep&^z == 0 {
			d.stats.Cached++
			d.end = DPOREndCached
			return nil
		}
		todo = s.sleep &^ z & enabled
		s.sleep &= z
	} else {
		if d.MaxStates > 0 && d.stats.States >= d.MaxStates {
			d.stats.BudgetHit = true
			d.stopped = true
			d.end = DPOREndBudget
			return nil
		}
		s = &dporState{key: key, id: int32(len(d.states)), sleep: z, enabled: enabled, parent: -1, via: -1}
		if parent != nil {
			s.parent, s.via = parent.state.id, parent.cur
			d.edges = append(d.edges, dporEdge{parent.state.id, s.id, parent.cur})
		}
		d.cache[key] = s
		d.states = append(d.states, s)
		d.stats.States++
		todo = enabled &^ z
	}
	if todo == 0 {
		d.stats.SleepBlocked++
		d.end = DPOREndSleepBlocked
		return nil
	}
	f := d.frame()
	f.state, f.sleep = s, sleep
	for todo != 0 {
		i := bits.TrailingZeros64(todo)
		todo &^= 1 << i
		f.todo = append(f.todo, int32(i))
	}
	f.cur, f.todo = f.todo[0], f.todo[1:]
	s.onStack = true
	d.stack = append(d.stack, f)
	d.stats.MaxDepth = max(d.stats.MaxDepth, len(d.stack))
	for _, t := range runnable {
		if int32(t.ID) == f.cur {
			return t
		}
	}
	panic("unreachable")
}

// Stepped records the footprint of the step just taken by the frame's
// current transition (the first time it runs; replays repeat it).
func (d *DPOR) Stepped(t *Task, fp Footprint) {
	d.stats.Steps++
	if d.step < len(d.stack) {
		f := d.stack[d.step]
		if !f.fpKnown {
			f.curFp, f.fpKnown = slices.Clone(fp), true
			d.stats.Transitions++
		}
	}
	if d.x.cutPoints > 0 {
		d.stats.CutPoints = true
	}
}

func (d *DPOR) frame() *dporFrame {
	if n := len(d.free); n > 0 {
		f := d.free[n-1]
		d.free = d.free[:n-1]
		return f
	}
	return &dporFrame{}
}

func (d *DPOR) release(f *dporFrame) {
	f.sleep, f.done, f.todo = nil, f.done[:0], f.todo[:0]
	f.curFp, f.fpKnown = nil, false
	d.free = append(d.free, f)
}

// Lasso is a fair cycle of the explored state graph: the decisions (task
// IDs) of a path from the initial state into it, and of a closed walk
// through every edge of its strongly connected component.
type Lasso struct {
	Stem, Cycle []int32
}

// FairCycle looks for a weakly fair cycle in the explored state graph: a
// non-trivial strongly connected component in which every task enabled in
// all of its states takes some transition inside it (the closed walk
// through all its edges is then a fair infinite execution: a livelock). It
// returns nil if there is none among the explored edges.
func (d *DPOR) FairCycle() *Lasso {
	n := len(d.states)
	adj := make([][]dporEdge, n)
	for _, e := range d.edges {
		adj[e.from] = append(adj[e.from], e)
	}
	for _, comp := range tarjan(n, adj) {
		in := make(map[int32]bool, len(comp))
		for _, v := range comp {
			in[v] = true
		}
		all := ^uint64(0)
		var stepped uint64
		var inner []dporEdge
		for _, v := range comp {
			all &= d.states[v].enabled
			for _, e := range adj[v] {
				if in[e.to] {
					stepped |= 1 << e.task
					inner = append(inner, e)
				}
			}
		}
		if len(inner) == 0 || all&^stepped != 0 {
			continue
		}
		return d.lasso(comp[0], in, adj, inner)
	}
	return nil
}

func (d *DPOR) lasso(root int32, in map[int32]bool, adj [][]dporEdge, inner []dporEdge) *Lasso {
	l := &Lasso{}
	for v := root; d.states[v].parent >= 0; v = d.states[v].parent {
		l.Stem = append(l.Stem, d.states[v].via)
	}
	slices.Reverse(l.Stem)
	// path finds decisions from a to b inside the component (BFS).
	path := func(a, b int32) []int32 {
		if a == b {
			return nil
		}
		prev := map[int32]dporEdge{a: {from: -1}}
		for q := []int32{a}; len(q) > 0; q = q[1:] {
			for _, e := range adj[q[0]] {
				if _, ok := prev[e.to]; !ok && in[e.to] {
					prev[e.to] = e
					q = append(q, e.to)
				}
			}
		}
		var p []int32
		for v := b; v != a; {
			e := prev[v]
			p = append(p, e.task)
			v = e.from
		}
		slices.Reverse(p)
		return p
	}
	at := root
	for _, e := range inner {
		l.Cycle = append(l.Cycle, path(at, e.from)...)
		l.Cycle = append(l.Cycle, e.task)
		at = e.to
	}
	l.Cycle = append(l.Cycle, path(at, root)...)
	return l
}

// tarjan returns the strongly connected components of the graph
// (Tarjan, "Depth-first search and linear graph algorithms", SIAM J.
// Comput. 1(2), 1972), iteratively.
func tarjan(n int, adj [][]dporEdge) [][]int32 {
	index := make([]int32, n)
	low := make([]int32, n)
	on := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int32
	var comps [][]int32
	next := int32(0)
	type frame struct {
		v int32
		i int
	}
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{int32(root), 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		on[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.i < len(adj[v]) {
				w := adj[v][f.i].to
				f.i++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					on[w] = true
					call = append(call, frame{w, 0})
				} else if on[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				low[u] = min(low[u], low[v])
			}
			if low[v] == index[v] {
				var comp []int32
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					on[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				comps = append(comps, comp)
			}
		}
	}
	return comps
}
