package sim

import (
	"fmt"
	"math/bits"
	"slices"
)

// DPOR is the exhaustive search behind `pagelab verify` and
// -strategy dpor: every interleaving of the model, with no bound on
// preemptions, explored by re-executing choice prefixes from the initial
// state (the model's coroutines cannot be copied, so a state is reached
// again by replaying the decisions that led to it).
//
// Three mechanisms keep it small, each with a published soundness argument
// and each checked against brute force in the tests:
//
//   - Source sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal Dynamic
//     Partial Order Reduction", POPL 2014, Algorithm 1, "source-DPOR").
//     Each executed step is checked for races with earlier steps of other
//     tasks (dependent footprints, ordered by happens-before with nothing
//     in between, tracked with vector clocks); for a race e ⋖ f the
//     search makes sure that one of the initials of notdep(e).f is
//     explored from the state before e. One execution per Mazurkiewicz
//     trace of the footprints' dependence relation, up to sleep-set
//     blocked ones.
//
//   - Sleep sets (Godefroid, "Partial-Order Methods for the Verification of
//     Concurrent Systems", LNCS 1032, 1996, ch. 5), as source-DPOR uses
//     them: after exploring task p from a state, p sleeps in the later
//     siblings' subtrees as long as the steps taken there are independent
//     of p's.
//
//   - State caching. The key of a state (Explorer.StateKey) is the set of
//     (object, value) pairs written since the start plus every task's
//     observation hash and status (footprint.go): equal keys mean equal
//     futures. A state reached again is not explored again. Combined with
//     sleep sets as in Godefroid, Holzmann and Pirottin, "State-space
//     caching revisited" (FMSD 7(3), 1995): a cached state remembers the
//     sleep set it was explored with; a revisit with sleep set Z prunes
//     only if the stored set is a subset of Z, and otherwise explores the
//     stored transitions that are not in Z and keeps the intersection.
//     Combined with source sets as in Yang, Chen, Gopalakrishnan and Kirby,
//     "Efficient Stateful Dynamic Partial Order Reduction" (SPIN 2008):
//     a pruned state's explored future may race with the new prefix, so
//     every state keeps a summary of the steps its explored future took
//     (which task touched which object, how), and a revisit adds backtrack
//     points for every race between the prefix and that summary. The
//     summary cannot order its steps, so the backtrack points are
//     conservative: where the initials of the race's reversal are not
//     known, every enabled task is added. The summary of a state is
//     complete only when its exploration has finished, which holds at
//     every revisit in an acyclic state graph.
//
// Cycles. Without a CutPoint a task's observation hash changes with every
// step it takes, so no key can repeat along a path and the state graph is
// acyclic. CutPoints let a spin that changes nothing revisit its state. A
// summary is complete only once its state's exploration has finished, so
// a source-set search that revisits a state still on its stack (a cycle)
// starts again in sleep-set mode (Mode SleepSets), which visits every
// reachable state with or without cycles. The search records the edges
// it explored and looks for a fair cycle (a strongly connected component
// in which every task enabled in all of its states takes a step) with
// Tarjan's algorithm; under sleep sets some edges are never executed, so
// "no fair cycle" is only a proof in Mode Full or when no execution
// passed a CutPoint.
//
// A search that stops early (MaxStates, MaxDepth, a caller's budget) is not
// exhausted and proves nothing.
type DPOR struct {
	// Mode is the reduction.
	Mode DPORMode
	// MaxStates bounds the distinct states (0: no bound).
	MaxStates int
	// MaxDepth bounds the decisions of one execution; an execution that
	// reaches it is truncated and the search is then not exhaustive.
	MaxDepth int
	// NoCache turns state caching off: stateless search.
	NoCache bool
	// bounded: only executions with at most bound preemptions are
	// searched (SetPreemptionBound).
	bounded bool
	bound   int

	x     *Explorer
	stack []*dporFrame
	free  []*dporFrame
	// notdepBuf: notdep's result, reused (its callers are done with it
	// before the next call).
	notdepBuf []*dporFrame
	// acc indexes the prefix's steps by the objects they touched (source
	// sets): acc[i] lists, in stack order, the frames whose step wrote
	// interned object i (wr) or only read it (rd). An entry whose frame
	// has since been replaced (its depth is no longer below the new
	// step's, or the frame there has another serial) is stale; a frame
	// is replaced only with every frame above it, so the stale entries
	// of a list are its tail, dropped when the list is next used.
	acc    []dporObjAccess
	serial uint64
	// marks: races' bitset of the frames that conflict with a new step.
	marks []uint64
	// checkMarks, if set, sees that bitset for the step at frame n
	// (tests: the index against comparing every pair).
	checkMarks func(n int, marks []uint64)
	// onKey, if set, sees every state key the search computes, in order
	// (tests: a replay without recording against one with).
	onKey func(Key)
	// onReexplore, if set, is called when a state is explored again,
	// reached with fewer preemptions (tests).
	onReexplore func()
	step        int // index of the frame of the decision being taken
	// states: every state reached, by id (discovery order) and key.
	states stateStore
	// edges: the explored edges, for the cycle analysis.
	edges chunked[dporEdge]
	// objs interns the objects of footprints for the summaries, and sums
	// the states' summaries.
	objs map[Obj]int32
	sums summaryTable

	started, exhausted, stopped bool
	restarted                   bool
	stats                       DPORStats
	// end describes how the current execution was cut off by the search.
	end DPOREnd
}

// DPORMode is the reduction the search applies on top of state caching.
type DPORMode uint8

const (
	// SourceSets: source-DPOR with sleep sets (the default).
	SourceSets DPORMode = iota
	// SleepSets: sleep sets alone; every reachable state is visited.
	SleepSets
	// Full: no reduction; every edge of the state graph is executed.
	Full
)

var dporModeNames = [...]string{"source-sets", "sleep-sets", "full"}

func (m DPORMode) String() string { return dporModeNames[m] }

// ParseDPORMode is the inverse of String.
func ParseDPORMode(s string) (DPORMode, bool) {
	for i, n := range dporModeNames {
		if n == s {
			return DPORMode(i), true
		}
	}
	return 0, false
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
	// DPOREndRestart: a source-set search closed a cycle; it starts
	// again with sleep sets.
	DPOREndRestart
)

// DPORStats counts the search's work.
type DPORStats struct {
	// Mode is the reduction actually used (SleepSets after a restart).
	Mode DPORMode
	// Executions started, and how each ended when the search cut it off.
	Executions   int
	Cached       int // reached a state explored before
	SleepBlocked int // every enabled transition asleep
	Truncated    int // MaxDepth reached
	// States is the number of distinct states; Transitions the number of
	// transitions executed for the first time (edges of the state graph).
	States      int
	Transitions int
	// Races found between steps, and backtrack points the summaries of
	// revisited states added.
	Races          int
	SummaryBacktrk int
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
	fp   Footprint // sorted (Footprint.sorted)
	sig  fpSig
}

type dporFrame struct {
	state *dporState
	sleep []dporSleeper // the sleep set the state is explored with here
	done  []dporSleeper // transitions already explored from this frame
	// backtrack: tasks to explore from here (source sets grow it);
	// explored: those taken so far (cur included).
	backtrack, explored uint64
	enabled             uint64
	cur                 int32
	// pre is the preemptions the path to this frame's state took; last
	// the task that took the step into it if that task can go on here
	// (-1 otherwise): from here, any other task is a preemption
	// (SetPreemptionBound).
	pre, last int32
	// curFp: the cur step's footprint, sorted (Footprint.sorted: what
	// the dependence tests and the summaries read), and its signature.
	curFp   Footprint
	curSig  fpSig
	fpKnown bool
	// spare: footprint buffers of this frame's released transitions (cur
	// and done), for its next ones: only this frame and the frames above
	// it (released first) read a transition's footprint.
	spare []Footprint
	// curIdx and curOps: the cur step's accesses with their objects
	// interned, each object once (curFp's order; source sets).
	curIdx []int32
	curOps []AccessOp
	// serial names this frame's cur step in the access index (source
	// sets): a new one (from 1) each time curFp is set, 0 while it is
	// not, so that no entry of a step the frame held before matches.
	serial uint64
	// The cur step as an event: its index among its task's steps (from
	// 1) and its vector clock (source sets).
	taskIdx int32
	clock   []int32
	// sum: the steps taken in this frame's explored future.
	sum dporSummary
}

type dporState struct {
	key     Key
	sleep   uint64 // task IDs asleep when last explored (Godefroid's H(s))
	enabled uint64
	id      int32
	// how it was first reached: parent state and task, for lassos.
	parent int32
	// sum: the steps its explored future took (source sets), 0 until its
	// exploration first finished, else an id in DPOR.sums: states whose
	// futures touched the same objects share one immutable copy, and a
	// later exploration replaces it rather than adding to it in place.
	sum     int32
	via     int8
	onStack bool
	// pre: the fewest preemptions a path into this state took when it
	// was explored (SetPreemptionBound).
	pre int8
}

// dporSummary records, per task, which interned objects its steps read
// and wrote: bit i of rd[t] / wr[t] is object i. anyRd and anyWr are their
// unions over the tasks: most of a step's objects no summarized step
// wrote (a pcp refill checks sixty-three pages' flags), and conflicting
// rules those out with one test instead of one per task.
type dporSummary struct {
	rd, wr       [][]uint64
	anyRd, anyWr []uint64
}

func (s *dporSummary) add(task int32, fp Footprint, objs map[Obj]int32) {
	s.grow(int(task) + 1)
	for _, a := range fp {
		i, ok := objs[a.Obj]
		if !ok {
			i = int32(len(objs))
			objs[a.Obj] = i
		}
		w := int(i >> 6)
		if a.Op&OpRead != 0 {
			s.rd[task] = setBit(s.rd[task], w, i)
			s.anyRd = setBit(s.anyRd, w, i)
		}
		if a.Op&OpWrite != 0 {
			s.wr[task] = setBit(s.wr[task], w, i)
			s.anyWr = setBit(s.anyWr, w, i)
		}
	}
}

func setBit(b []uint64, w int, i int32) []uint64 {
	if len(b) <= w {
		b = append(b, make([]uint64, w+1-len(b))...)
	}
	b[w] |= 1 << (i & 63)
	return b
}

func orInto(dst, src []uint64) []uint64 {
	if len(dst) < len(src) {
		dst = append(dst, make([]uint64, len(src)-len(dst))...)
	}
	for i, v := range src {
		dst[i] |= v
	}
	return dst
}

func (s *dporSummary) merge(o *dporSummary) {
	s.grow(len(o.rd))
	for t := range o.rd {
		s.rd[t] = orInto(s.rd[t], o.rd[t])
		s.wr[t] = orInto(s.wr[t], o.wr[t])
	}
	s.anyRd = orInto(s.anyRd, o.anyRd)
	s.anyWr = orInto(s.anyWr, o.anyWr)
}

// grow makes room for n tasks, reusing what reset emptied.
func (s *dporSummary) grow(n int) {
	if len(s.rd) >= n {
		return
	}
	s.rd, s.wr = slices.Grow(s.rd, n-len(s.rd)), slices.Grow(s.wr, n-len(s.wr))
	s.rd, s.wr = s.rd[:n], s.wr[:n]
}

// reset empties s, keeping its storage (a frame's summary: the state's
// is its own copy, made by merge).
func (s *dporSummary) reset() {
	for t := range s.rd {
		s.rd[t], s.wr[t] = s.rd[t][:0], s.wr[t][:0]
	}
	s.rd, s.wr = s.rd[:0], s.wr[:0]
	s.anyRd, s.anyWr = s.anyRd[:0], s.anyWr[:0]
}

func hasBit(b []uint64, i int32) bool {
	w := int(i >> 6)
	return w < len(b) && b[w]&(1<<(i&63)) != 0
}

// conflicting is the set of tasks other than task whose summarized steps
// conflict with a step that accessed the interned objects idx with ops.
func (s *dporSummary) conflicting(task int32, idx []int32, ops []AccessOp) uint64 {
	var m uint64
	for k, i := range idx {
		w := ops[k]&OpWrite != 0
		// No summarized step wrote i, and this one only reads it (or
		// none touched it at all): no task conflicts on i.
		if !hasBit(s.anyWr, i) && (!w || !hasBit(s.anyRd, i)) {
			continue
		}
		for t := range s.rd {
			if int32(t) == task || m&(1<<t) != 0 {
				continue
			}
			if hasBit(s.wr[t], i) || (w && hasBit(s.rd[t], i)) {
				m |= 1 << t
			}
		}
	}
	return m
}

type dporObjAccess struct{ rd, wr []dporAccEntry }

type dporAccEntry struct {
	depth  int32
	serial uint64
}

// prune drops the stale entries at the tail of l (see DPOR.acc), for a
// new step at frame n.
func (d *DPOR) prune(l []dporAccEntry, n int) []dporAccEntry {
	for k := len(l) - 1; k >= 0; k-- {
		if e := l[k]; int(e.depth) < n && d.stack[e.depth].serial == e.serial {
			return l[:k+1]
		}
	}
	return l[:0]
}

type dporEdge struct {
	from, to int32
	task     int32
}

// NewDPOR returns the exhaustive search with the given reduction.
func NewDPOR(mode DPORMode, maxDepth int) *DPOR {
	return &DPOR{Mode: mode, MaxDepth: maxDepth, objs: make(map[Obj]int32)}
}

// MaxPreemptionBound is the largest preemption bound SetPreemptionBound
// takes.
const MaxPreemptionBound = 100

// SetPreemptionBound makes the search explore only the executions with at
// most c preemptions (iterative context bounding, Musuvathi and Qadeer,
// PLDI 2007, as the DFS strategy counts them: at a decision where the
// task that took the last step can go on, running any other task is a
// preemption; after a task sleeps or ends, any task follows for free).
// Complete then means that every state such an execution reaches was
// explored, not every reachable state.
//
// It needs Mode Full: sleep sets and source sets assume that the
// reordering of an execution they skip is explored instead, and that
// reordering may need more preemptions than the bound allows (Coons,
// Musuvathi, McKinley: "Bounded partial-order reduction", OOPSLA 2013).
// With every edge executed, the search is the exhaustive exploration of
// the graph of (state, last task, preemptions used) with state caching,
// where a state explored with p preemptions used subsumes a visit with
// p' >= p and the same last task: every execution within the bound from
// the second is one from the first (tested against the DFS strategy).
func (d *DPOR) SetPreemptionBound(c int) {
	if d.Mode != Full {
		panic("sim: dpor: a preemption bound needs Mode Full")
	}
	if c < 0 || c > MaxPreemptionBound {
		panic(fmt.Sprintf("sim: dpor: preemption bound %d out of range", c))
	}
	d.bounded, d.bound = true, c
}

// PreemptionBound is the bound SetPreemptionBound set, -1 for none.
func (d *DPOR) PreemptionBound() int {
	if !d.bounded {
		return -1
	}
	return d.bound
}

// Attach connects the search to the Explorer whose states it keys; the
// Explorer must record footprints (EnableFootprints).
func (d *DPOR) Attach(x *Explorer) {
	if x.fp == nil {
		panic("sim: DPOR needs an Explorer with footprints enabled")
	}
	d.x = x
}

// Exhausted reports whether the search has nothing left to run (after the
// execution that Begin last prepared found nothing left).
func (d *DPOR) Exhausted() bool { return d.exhausted }

// Complete reports whether the search was exhaustive: it ran out of work,
// and neither the depth bound nor the state budget nor the caller cut
// anything off.
func (d *DPOR) Complete() bool {
	return d.exhausted && !d.stopped && d.stats.Truncated == 0
}

// Stats are the search's counters so far.
func (d *DPOR) Stats() DPORStats {
	s := d.stats
	s.Mode = d.Mode
	return s
}

// End says how the search cut off the last execution.
func (d *DPOR) End() DPOREnd { return d.end }

// Restarted reports whether the search started again in sleep-set mode
// (a cycle in source-set mode); results seen before the restart stay
// valid (every execution is a real one), only the reduction changed.
func (d *DPOR) Restarted() bool { return d.restarted }

// Begin prepares execution number run: the first runs from the initial
// state; each later one replays the stack up to the deepest frame with an
// unexplored transition and takes that transition.
func (d *DPOR) Begin(run int) {
	d.step = 0
	if d.end == DPOREndRestart {
		d.restart()
	}
	d.end = DPOREndNone
	if !d.started {
		d.started = true
		d.stats.Executions++
		return
	}
	for len(d.stack) > 0 {
		top := d.stack[len(d.stack)-1]
		if top.fpKnown {
			// The footprint moves to done (release takes each
			// buffer back once).
			top.done = append(top.done, dporSleeper{top.cur, top.curFp, top.curSig})
			top.curFp = nil
		}
		if next := top.backtrack &^ top.explored &^ sleepMask(top.sleep); next != 0 && !d.stopped {
			top.cur = int32(bits.TrailingZeros64(next))
			top.explored |= 1 << top.cur
			top.curFp, top.curSig, top.fpKnown, top.serial = nil, fpSig{}, false, 0
			d.stats.Executions++
			return
		}
		d.pop()
	}
	d.exhausted = true
}

// ReplayLen is how many first decisions of the execution Begin prepared
// repeat the previous execution's (PrefixReplayer): the frames below the
// top, whose transitions ran last time; the top's is new. Stepped only
// looks at the footprint of a frame's step the first time it runs.
func (d *DPOR) ReplayLen() int {
	if d.exhausted || len(d.stack) == 0 {
		return 0
	}
	return len(d.stack) - 1
}

// pop finishes the top frame: its state is fully explored, and its
// summary goes to the state and to the frame below.
func (d *DPOR) pop() {
	top := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	top.state.onStack = false
	if d.Mode == SourceSets {
		for _, u := range top.done {
			top.sum.add(u.task, u.fp, d.objs)
		}
		top.state.sum = d.sums.union(top.state.sum, &top.sum)
		if n := len(d.stack); n > 0 {
			d.stack[n-1].sum.merge(d.sums.get(top.state.sum))
		}
	}
	d.release(top)
}

// restart drops everything and starts over with sleep sets.
func (d *DPOR) restart() {
	for len(d.stack) > 0 {
		top := d.stack[len(d.stack)-1]
		d.stack = d.stack[:len(d.stack)-1]
		d.release(top)
	}
	d.Mode = SleepSets
	d.restarted = true
	d.acc = nil
	d.states.clear()
	d.sums.clear()
	d.edges.clear()
	keep := d.stats
	d.stats = DPORStats{Executions: keep.Executions, Steps: keep.Steps, CutPoints: true}
	d.started = false
}

func sleepMask(s []dporSleeper) uint64 {
	var m uint64
	for _, u := range s {
		m |= 1 << u.task
	}
	return m
}

// Stop ends the search after the current execution (a caller's budget).
func (d *DPOR) Stop() { d.stopped = true }

func (d *DPOR) Spawned(*Task) {}

// Pick replays the stack, then explores: at a new state it decides from
// the cache and the sleep set which transitions to take.
func (d *DPOR) Pick(runnable []*Task, last *Task, step int) *Task {
	d.step = step
	if step < len(d.stack) {
		f := d.stack[step]
		for _, t := range runnable {
			if int32(t.ID) == f.cur {
				return t
			}
		}
		panic(fmt.Sprintf("sim: dpor: replay diverged at decision %d: task %d not runnable (the model is not deterministic)", step, f.cur))
	}
	if d.end == DPOREndRestart {
		return nil
	}
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
	if d.Mode != Full && parent != nil {
		for _, set := range [2][]dporSleeper{parent.sleep, parent.done} {
			for _, u := range set {
				if u.task == parent.cur || enabled&(1<<u.task) == 0 || u.sig.meets(parent.curSig) && sortedConflicts(u.fp, parent.curFp) {
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
	// Under a preemption bound the node is (state, last task,
	// preemptions): the last task goes into the key, since what a
	// decision costs depends on it.
	pre, lastOn := int32(0), int32(-1)
	allowed := enabled
	if d.bounded {
		if last != nil && enabled&(1<<last.ID) != 0 {
			lastOn = int32(last.ID)
		}
		if parent != nil {
			pre = parent.pre
			if parent.last >= 0 && parent.cur != parent.last {
				pre++
			}
		}
		if lastOn >= 0 && int(pre) >= d.bound {
			allowed = 1 << lastOn
		}
		key = key.xor(pairKey(uint64(lastOn+1), 0x9ee3b7))
	}
	if d.onKey != nil {
		d.onKey(key)
	}
	var s *dporState
	if !d.NoCache {
		s = d.states.get(key)
	}
	seen := s != nil
	var todo uint64
	if seen {
		if parent != nil {
			d.edges.push(dporEdge{parent.state.id, s.id, parent.cur})
		}
		if s.onStack && d.Mode == SourceSets {
			// A cycle: s's exploration is under way and its summary
			// incomplete. Start again with sleep sets.
			d.end = DPOREndRestart
			return nil
		}
		if d.Mode == SourceSets {
			// The prefix may race with the future explored from s.
			if sum := d.sums.get(s.sum); sum != nil {
				d.summaryBacktrack(sum)
				if parent != nil {
					parent.sum.merge(sum)
				}
			}
		}
		switch {
		case d.bounded && pre < int32(s.pre):
			// Reached with fewer preemptions than when it was
			// explored: more of its future is within the bound.
			s.pre = int8(pre)
			todo = allowed
			if d.onReexplore != nil {
				d.onReexplore()
			}
		case s.sleep&^z == 0:
			d.stats.Cached++
			d.end = DPOREndCached
			return nil
		default:
			todo = s.sleep &^ z & enabled
			s.sleep &= z
		}
	} else {
		if d.MaxStates > 0 && d.stats.States >= d.MaxStates {
			d.stats.BudgetHit = true
			d.stopped = true
			d.end = DPOREndBudget
			return nil
		}
		st := dporState{key: key, sleep: z, enabled: enabled, parent: -1, via: -1, pre: int8(pre)}
		if parent != nil {
			st.parent, st.via = parent.state.id, int8(parent.cur)
		}
		s = d.states.add(st)
		if parent != nil {
			d.edges.push(dporEdge{parent.state.id, s.id, parent.cur})
		}
		d.stats.States++
		todo = allowed &^ z
		if d.Mode == SourceSets && todo != 0 {
			// Start with one task; races add the others they need.
			// The task that ran last goes on if it can: fewer
			// preemptions, schedules that read like the kernel's.
			first := uint64(1) << bits.TrailingZeros64(todo)
			if last != nil && todo&(1<<last.ID) != 0 {
				first = 1 << last.ID
			}
			todo = first
		}
	}
	if todo == 0 {
		d.stats.SleepBlocked++
		d.end = DPOREndSleepBlocked
		return nil
	}
	f := d.frame()
	f.state, f.sleep, f.enabled = s, sleep, enabled
	f.pre, f.last = pre, lastOn
	f.backtrack = todo
	f.cur = int32(bits.TrailingZeros64(todo))
	if last != nil && todo&(1<<last.ID) != 0 {
		f.cur = int32(last.ID)
	}
	f.explored = 1 << f.cur
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
// current transition (the first time it runs; replays repeat it) and, with
// source sets, looks for its races.
func (d *DPOR) Stepped(t *Task, fp Footprint) {
	d.stats.Steps++
	if d.x.cutPoints > 0 {
		d.stats.CutPoints = true
	}
	if d.step >= len(d.stack) {
		return
	}
	f := d.stack[d.step]
	if f.fpKnown {
		return
	}
	var buf Footprint
	if n := len(f.spare); n > 0 {
		buf, f.spare = f.spare[n-1], f.spare[:n-1]
	}
	f.curFp, f.curSig, f.fpKnown = fp.sortedInto(buf), fp.sig(), true
	d.stats.Transitions++
	if d.Mode == SourceSets {
		// An oops disables every other task: their pending steps never
		// run, so no race with them is ever seen. Each of them must get
		// its chance to run before the oops (Flanagan and Godefroid,
		// POPL 2005, check every process's next transition, not only
		// the executed ones; source sets see only executed events).
		for _, a := range fp {
			if a.Obj == objRunning && a.Op&OpWrite != 0 {
				f.backtrack |= f.enabled
			}
		}
		f.curIdx, f.curOps = f.curIdx[:0], f.curOps[:0]
		for _, a := range f.curFp {
			i, ok := d.objs[a.Obj]
			if !ok {
				i = int32(len(d.objs))
				d.objs[a.Obj] = i
			}
			f.curIdx, f.curOps = append(f.curIdx, i), append(f.curOps, a.Op)
		}
		if d.step != len(d.stack)-1 {
			// The access index's stale entries are a tail only if
			// every new step is the top frame's (see DPOR.acc).
			panic("sim: dpor: a step's footprint first recorded below the top of the stack")
		}
		d.serial++
		f.serial = d.serial
		d.races(d.step)
	}
}

// races computes the vector clock of the step at frame n and, for every
// race e ⋖ f with an earlier step e (Abdulla et al. 2014: dependent,
// different tasks, e happens before f with no step between them on the
// happens-before order), makes sure the state before e explores one of
// the initials of notdep(e).f.
func (d *DPOR) races(n int) {
	f := d.stack[n]
	p := f.cur
	// Program order: the clock of p's previous step.
	clock := f.clock[:0]
	f.taskIdx = 1
	for j := n - 1; j >= 0; j-- {
		if d.stack[j].cur == p {
			clock = append(clock, d.stack[j].clock...)
			f.taskIdx = d.stack[j].taskIdx + 1
			break
		}
	}
	clock = growClock(clock, int(p)+1)
	clock[p] = f.taskIdx
	// The earlier steps that conflict with f's (another task's, on a
	// common object that one of them writes), from the access index,
	// marked by frame; then f's own accesses join the index.
	words := n/64 + 1
	if cap(d.marks) < words {
		d.marks = make([]uint64, words)
	}
	marks := d.marks[:words]
	clear(marks)
	for k, i := range f.curIdx {
		for int(i) >= len(d.acc) {
			d.acc = append(d.acc, dporObjAccess{})
		}
		a := &d.acc[i]
		a.rd, a.wr = d.prune(a.rd, n), d.prune(a.wr, n)
		d.mark(marks, a.wr, p)
		if f.curOps[k]&OpWrite != 0 {
			d.mark(marks, a.rd, p)
			a.wr = append(a.wr, dporAccEntry{int32(n), f.serial})
		} else {
			a.rd = append(a.rd, dporAccEntry{int32(n), f.serial})
		}
	}
	if d.checkMarks != nil {
		d.checkMarks(n, marks)
	}
	// Newest first: a race is a conflicting step that nothing between
	// it and f orders before f.
	for w := len(marks) - 1; w >= 0; w-- {
		for marks[w] != 0 {
			b := 63 - bits.LeadingZeros64(marks[w])
			marks[w] &^= 1 << b
			j := w<<6 | b
			e := d.stack[j]
			if int(e.cur) >= len(clock) || clock[e.cur] < e.taskIdx {
				d.stats.Races++
				if e.enabled&^e.backtrack != 0 {
					d.reverse(j, n, p)
				}
			}
			clock = joinClock(clock, e.clock)
		}
	}
	f.clock = clock
}

// mark sets the frames of the entries l that are not task p's.
func (d *DPOR) mark(marks []uint64, l []dporAccEntry, p int32) {
	for _, e := range l {
		if d.stack[e.depth].cur != p {
			marks[e.depth>>6] |= 1 << (e.depth & 63)
		}
	}
}

// reverse handles the race between the steps at frames j and n (task p):
// one initial of v = notdep(e_j).p must be in backtrack(j).
func (d *DPOR) reverse(j, n int, p int32) {
	e := d.stack[j]
	v, initials, seen := d.notdep(j, n)
	if seen&(1<<p) == 0 {
		f := d.stack[n]
		initial := true
		for _, h := range v {
			if hb(h, f) {
				initial = false
				break
			}
		}
		if initial {
			initials |= 1 << p
		}
	}
	d.addBacktrack(e, initials, p)
}

// notdep returns the steps of frames j+1..n-1 that do not happen after
// the step at frame j (notdep(e) of Abdulla et al.), the initials among
// them (tasks whose first step in it has no happens-before predecessor
// in it) and every task with a step in it.
func (d *DPOR) notdep(j, n int) (v []*dporFrame, initials, seen uint64) {
	e := d.stack[j]
	v = d.notdepBuf[:0]
	for k := j + 1; k < n; k++ {
		if g := d.stack[k]; !hb(e, g) {
			v = append(v, g)
		}
	}
	d.notdepBuf = v
	for i, g := range v {
		if seen&(1<<g.cur) != 0 {
			continue
		}
		seen |= 1 << g.cur
		initial := true
		for _, h := range v[:i] {
			if hb(h, g) {
				initial = false
				break
			}
		}
		if initial {
			initials |= 1 << g.cur
		}
	}
	return v, initials, seen
}

// addBacktrack makes sure backtrack(frame) holds one of initials
// (preferring p), or, if initials is empty or not enabled there, every
// enabled task.
func (d *DPOR) addBacktrack(fr *dporFrame, initials uint64, p int32) {
	initials &= fr.enabled
	if initials == 0 {
		fr.backtrack |= fr.enabled
		return
	}
	if fr.backtrack&initials != 0 {
		return
	}
	if initials&(1<<p) != 0 {
		fr.backtrack |= 1 << p
	} else {
		fr.backtrack |= 1 << bits.TrailingZeros64(initials)
	}
}

// summaryBacktrack adds, for every step e of the current prefix and every
// task whose steps in a revisited state's explored future conflict with
// e, the backtrack points a race between them would need. The future's
// steps cannot be ordered, so where the reversal's initials depend on them
// (no step after e in the prefix is independent of e) every enabled task
// is added.
func (d *DPOR) summaryBacktrack(sum *dporSummary) {
	if len(sum.rd) == 0 {
		return
	}
	n := len(d.stack)
	for j := 0; j < n; j++ {
		e := d.stack[j]
		if e.enabled&^e.backtrack == 0 {
			// Every enabled task is to be explored from here
			// already: no race can add one.
			continue
		}
		tasks := sum.conflicting(e.cur, e.curIdx, e.curOps)
		if tasks == 0 {
			continue
		}
		// notdep(e) within the prefix, and its initials.
		_, initials, _ := d.notdep(j, n)
		before := e.backtrack
		for tasks != 0 {
			u := int32(bits.TrailingZeros64(tasks))
			tasks &^= 1 << u
			d.addBacktrack(e, initials, u)
		}
		if e.backtrack != before {
			d.stats.SummaryBacktrk++
		}
	}
}

// hb reports whether the step at frame a happens before the step at frame
// b (b's clock has seen a).
func hb(a, b *dporFrame) bool {
	return int(a.cur) < len(b.clock) && b.clock[a.cur] >= a.taskIdx
}

func growClock(c []int32, n int) []int32 {
	for len(c) < n {
		c = append(c, 0)
	}
	return c
}

func joinClock(c, o []int32) []int32 {
	c = growClock(c, len(o))
	for i, v := range o {
		c[i] = max(c[i], v)
	}
	return c
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
	for _, u := range f.done {
		f.spare = append(f.spare, u.fp)
	}
	if f.curFp != nil {
		f.spare = append(f.spare, f.curFp)
	}
	f.sleep, f.done = nil, f.done[:0]
	f.curFp, f.curSig, f.fpKnown, f.serial = nil, fpSig{}, false, 0
	f.backtrack, f.explored = 0, 0
	f.clock = f.clock[:0]
	f.sum.reset()
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
	g := d.graph()
	var found *Lasso
	tarjan(g, func(comp []int32) bool {
		if len(comp) == 1 {
			// Most components are one state; it is a cycle only with an
			// edge to itself, and fair only if every task enabled there
			// takes one.
			v := comp[0]
			var stepped uint64
			var inner []dporEdge
			for _, e := range g.out(v) {
				if e.to == v {
					stepped |= 1 << e.task
					inner = append(inner, e)
				}
			}
			if len(inner) == 0 || d.states.at(v).enabled&^stepped != 0 {
				return false
			}
			found = d.lasso(v, map[int32]bool{v: true}, g, inner)
			return true
		}
		in := make(map[int32]bool, len(comp))
		for _, v := range comp {
			in[v] = true
		}
		all := ^uint64(0)
		var stepped uint64
		var inner []dporEdge
		for _, v := range comp {
			all &= d.states.at(v).enabled
			for _, e := range g.out(v) {
				if in[e.to] {
					stepped |= 1 << e.task
					inner = append(inner, e)
				}
			}
		}
		if len(inner) == 0 || all&^stepped != 0 {
			return false
		}
		found = d.lasso(comp[0], in, g, inner)
		return true
	})
	return found
}

// stateGraph is the explored edges by source state, in compressed rows:
// state v's are edges[off[v]:off[v+1]], in discovery order. Two arrays,
// not a slice per state: the graph is built once at the end of a search,
// when its states already fill the memory (a slice per state doubled
// it on a search of 120 million states).
type stateGraph struct {
	off   []int
	edges []dporEdge
}

func (g *stateGraph) n() int { return len(g.off) - 1 }

func (g *stateGraph) out(v int32) []dporEdge { return g.edges[g.off[v]:g.off[v+1]] }

// graph is the explored state graph (a counting sort of the edges by
// source, stable).
func (d *DPOR) graph() *stateGraph {
	n := d.states.len()
	g := &stateGraph{off: make([]int, n+1), edges: make([]dporEdge, d.edges.n)}
	d.edges.each(func(e dporEdge) { g.off[e.from+1]++ })
	for v := range n {
		g.off[v+1] += g.off[v]
	}
	// Fill each row from its start; the starts end up where the next
	// row starts, and are shifted back.
	d.edges.each(func(e dporEdge) {
		g.edges[g.off[e.from]] = e
		g.off[e.from]++
	})
	for v := n; v > 0; v-- {
		g.off[v] = g.off[v-1]
	}
	g.off[0] = 0
	return g
}

func (d *DPOR) lasso(root int32, in map[int32]bool, g *stateGraph, inner []dporEdge) *Lasso {
	l := &Lasso{}
	for v := root; d.states.at(v).parent >= 0; v = d.states.at(v).parent {
		l.Stem = append(l.Stem, int32(d.states.at(v).via))
	}
	slices.Reverse(l.Stem)
	// path finds decisions from a to b inside the component (BFS).
	path := func(a, b int32) []int32 {
		if a == b {
			return nil
		}
		prev := map[int32]dporEdge{a: {from: -1}}
		for q := []int32{a}; len(q) > 0; q = q[1:] {
			for _, e := range g.out(q[0]) {
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

// tarjan calls visit with each strongly connected component of the graph,
// in the order Tarjan's algorithm completes them ("Depth-first search and
// linear graph algorithms", SIAM J. Comput. 1(2), 1972; iteratively), until
// visit returns true. The slice is reused: visit copies what it keeps.
func tarjan(g *stateGraph, visit func(comp []int32) bool) {
	n := g.n()
	index := make([]int32, n)
	low := make([]int32, n)
	on := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack, comp []int32
	next := int32(0)
	type frame struct {
		v int32
		i int
	}
	var call []frame
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		call = append(call[:0], frame{int32(root), 0})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		on[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if out := g.out(v); f.i < len(out) {
				w := out[f.i].to
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
				comp = comp[:0]
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					on[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				if visit(comp) {
					return
				}
			}
		}
	}
}

// summaryTable interns the states' summaries. A search keeps one per
// state, and a state's is a bitset per task over every object the tasks
// touched: at about a kilobyte each, they were most of the memory of a
// search of millions of states (race C1 at its seed's parameters: 9.4
// million states, 8.9 GB). Most states share their summary with many
// others (every state near the end of the same tasks' work touched the
// same objects), so each distinct summary is stored once, compact and
// immutable, and a state holds its id.
type summaryTable struct {
	// list holds the summaries by id; id 0 is none.
	list    []*dporSummary
	byHash  map[uint64][]int32
	scratch dporSummary
}

// get is the summary with the given id (nil for 0).
func (tb *summaryTable) get(id int32) *dporSummary {
	if id == 0 {
		return nil
	}
	return tb.list[id]
}

// union is the id of the interned summary of old's (0: empty) with add
// merged in; neither is changed.
func (tb *summaryTable) union(old int32, add *dporSummary) int32 {
	o := tb.get(old)
	if o != nil && add.within(o) {
		// A state explored again whose new future touched nothing its
		// earlier ones did not: the union is old, found without hashing.
		return old
	}
	u := &tb.scratch
	u.reset()
	if o != nil {
		u.merge(o)
	}
	u.merge(add)
	h := u.hash()
	for _, c := range tb.byHash[h] {
		if tb.list[c].equal(u) {
			return c
		}
	}
	if tb.byHash == nil {
		tb.byHash = make(map[uint64][]int32)
		tb.list = append(tb.list[:0], nil)
	}
	c := int32(len(tb.list))
	tb.list = append(tb.list, u.compact())
	tb.byHash[h] = append(tb.byHash[h], c)
	return c
}

func (tb *summaryTable) clear() {
	clear(tb.byHash)
	clear(tb.list)
	tb.list = tb.list[:min(len(tb.list), 1)]
}

// trimWords is b without its trailing zero words: two bitsets with the
// same bits set are equal once trimmed.
func trimWords(b []uint64) []uint64 {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return b[:n]
}

// tasks is the number of tasks up to the last one with a bit set.
func (s *dporSummary) tasks() int {
	n := len(s.rd)
	for n > 0 && len(trimWords(s.rd[n-1])) == 0 && len(trimWords(s.wr[n-1])) == 0 {
		n--
	}
	return n
}

// hash is a hash of the bits set, per task (anyRd and anyWr are their
// unions, determined by them).
func (s *dporSummary) hash() uint64 {
	h := uint64(0x5eed5eed)
	for t := range s.tasks() {
		h = mix64(h ^ uint64(t) ^ 0x7a5c)
		for _, w := range trimWords(s.rd[t]) {
			h = mix64(h ^ w)
		}
		h = mix64(h ^ 0x3e)
		for _, w := range trimWords(s.wr[t]) {
			h = mix64(h ^ w)
		}
	}
	return h
}

// within reports whether every bit set in s is set in o.
func (s *dporSummary) within(o *dporSummary) bool {
	if !subset(s.anyRd, o.anyRd) || !subset(s.anyWr, o.anyWr) {
		return false
	}
	for t := range s.rd {
		var ord, owr []uint64
		if t < len(o.rd) {
			ord, owr = o.rd[t], o.wr[t]
		}
		if !subset(s.rd[t], ord) || !subset(s.wr[t], owr) {
			return false
		}
	}
	return true
}

// subset reports whether every bit set in a is set in b.
func subset(a, b []uint64) bool {
	for i, w := range a {
		if i < len(b) {
			w &^= b[i]
		}
		if w != 0 {
			return false
		}
	}
	return true
}

// equal reports whether s and o have the same bits set.
func (s *dporSummary) equal(o *dporSummary) bool {
	n := s.tasks()
	if o.tasks() != n {
		return false
	}
	for t := range n {
		if !slices.Equal(trimWords(s.rd[t]), trimWords(o.rd[t])) || !slices.Equal(trimWords(s.wr[t]), trimWords(o.wr[t])) {
			return false
		}
	}
	return true
}

// compact is a copy of s in one allocation of its words, trimmed. Its
// slices have no spare capacity: nothing can append into a neighbour's.
func (s *dporSummary) compact() *dporSummary {
	n := s.tasks()
	words := len(trimWords(s.anyRd)) + len(trimWords(s.anyWr))
	for t := range n {
		words += len(trimWords(s.rd[t])) + len(trimWords(s.wr[t]))
	}
	buf := make([]uint64, 0, words)
	take := func(b []uint64) []uint64 {
		b = trimWords(b)
		i := len(buf)
		buf = append(buf, b...)
		return buf[i:len(buf):len(buf)]
	}
	c := &dporSummary{rd: make([][]uint64, n), wr: make([][]uint64, n)}
	for t := range n {
		c.rd[t], c.wr[t] = take(s.rd[t]), take(s.wr[t])
	}
	c.anyRd, c.anyWr = take(s.anyRd), take(s.anyWr)
	return c
}
