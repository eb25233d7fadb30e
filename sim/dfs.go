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
//
// Split(i, n) makes it part i of n of the same enumeration: the tree is cut
// at its first SplitDepth branching decisions (those with more than one
// option), and each subtree belongs to the part given by a hash of the
// choices made there. A part runs the executions of its subtrees, in the
// same order as the whole enumeration, skipping a foreign subtree as soon
// as the decisions that name it are fixed; above that depth it may run an
// execution of a foreign subtree to learn the tree's shape, which Own then
// reports as not its own (not to be counted). Every execution belongs to
// exactly one part, so the parts together run exactly the executions of
// the whole, and an execution's Choices order them as the whole does
// (lexicographically).
type DFS struct {
	Bound int

	prefix    []int
	chosen    []int
	allowed   []int
	used      int
	started   bool
	exhausted bool

	part, parts int
	branches    []int // choices at the branching decisions, up to SplitDepth
}

// SplitDepth is how many branching decisions name a subtree of a split
// DFS: enough subtrees for parts to balance, few enough that the foreign
// executions run above that depth stay a small share.
const SplitDepth = 4

// Split makes d part i of n (0 <= i < n) of its enumeration.
func (d *DFS) Split(i, n int) { d.part, d.parts = i, n }

// Own reports whether the execution that just ran belongs to this part
// (always, unless Split).
func (d *DFS) Own() bool { return d.parts <= 1 || d.owner(d.branches) == d.part }

// Choices is the last execution's choice at every decision, its place in
// the enumeration's order (lexicographic).
func (d *DFS) Choices() []int { return append([]int(nil), d.chosen...) }

// owner is the part of the subtree named by the choices at its first
// branching decisions (FNV-1a over them).
func (d *DFS) owner(branches []int) int {
	h := uint64(14695981039346656037)
	for _, c := range branches {
		h ^= uint64(c) + 1
		h *= 1099511628211
	}
	return int(h % uint64(d.parts))
}

// foreign reports whether every execution under the prefix chosen[:i+1]
// belongs to another part: the prefix fixes the first SplitDepth branching
// decisions, and their subtree is not this part's.
func (d *DFS) foreign(i int) bool {
	if d.parts <= 1 {
		return false
	}
	var branches []int
	for k := 0; k <= i && len(branches) < SplitDepth; k++ {
		if d.allowed[k] > 1 {
			branches = append(branches, d.chosen[k])
		}
	}
	return len(branches) == SplitDepth && d.owner(branches) != d.part
}

// NewDFS returns the exhaustive strategy with a preemption bound.
func NewDFS(bound int) *DFS { return &DFS{Bound: bound} }

// Exhausted reports whether every interleaving within the bound has been
// run (after the execution that Begin last prepared).
func (d *DFS) Exhausted() bool { return d.exhausted }

func (d *DFS) Begin(run int) {
	if d.started {
		// The next prefix: the deepest decision with an untried option
		// (of this part's: a split DFS passes over foreign subtrees).
		for {
			i := len(d.chosen) - 1
			for i >= 0 && d.chosen[i]+1 >= d.allowed[i] {
				i--
			}
			if i < 0 {
				d.exhausted = true
				d.prefix = d.prefix[:0]
				break
			}
			d.chosen, d.allowed = d.chosen[:i+1], d.allowed[:i+1]
			d.chosen[i]++
			if !d.foreign(i) {
				d.prefix = append(d.prefix[:0], d.chosen...)
				break
			}
		}
	}
	d.started = true
	d.chosen, d.allowed, d.used = d.chosen[:0], d.allowed[:0], 0
	d.branches = d.branches[:0]
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
	if allowed > 1 && len(d.branches) < SplitDepth {
		d.branches = append(d.branches, c)
	}
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
