package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// toyMem is shared memory for the DPOR tests: every access is a step and
// reports its footprint, as the model does.
type toyMem struct{ v []int }

func (m *toyMem) load(t *Task, i int) int {
	t.Step(fmt.Sprintf("load%d", i))
	t.Read(Obj(i), uint64(m.v[i]))
	return m.v[i]
}

func (m *toyMem) store(t *Task, i, v int) {
	t.Step(fmt.Sprintf("store%d", i))
	m.v[i] = v
	t.Write(Obj(i), uint64(v))
}

// toyProgram spawns a program's tasks over fresh memory.
type toyProgram struct {
	name  string
	mem   int
	spawn func(x *Explorer, m *toyMem)
}

var toyPrograms = []toyProgram{
	{"lost-update", 2, func(x *Explorer, m *toyMem) {
		for i := range 3 {
			x.Spawn(fmt.Sprint("inc", i), "start", func(t *Task) {
				r := m.load(t, 0)
				m.store(t, 0, r+1)
			})
		}
		x.Spawn("other", "start", func(t *Task) { m.store(t, 1, m.load(t, 0)+1) })
	}},
	{"independent", 4, func(x *Explorer, m *toyMem) {
		for i := range 4 {
			x.Spawn(fmt.Sprint("w", i), "start", func(t *Task) {
				for k := range 2 {
					m.store(t, i, k+1)
				}
			})
		}
	}},
	{"message-passing", 3, func(x *Explorer, m *toyMem) {
		x.Spawn("producer", "start", func(t *Task) { m.store(t, 0, 42); m.store(t, 1, 1) })
		x.Spawn("consumer", "start", func(t *Task) {
			if m.load(t, 1) == 1 {
				m.store(t, 2, m.load(t, 0))
			} else {
				m.store(t, 2, -1)
			}
		})
		x.Spawn("noise", "start", func(t *Task) { m.store(t, 0, 5) })
	}},
	{"sleep-wake", 2, func(x *Explorer, m *toyMem) {
		var waiter *Task
		waiter = x.Spawn("waiter", "start", func(t *Task) {
			for {
				t.SetState(TaskUninterruptible)
				if m.load(t, 0) == 1 {
					break
				}
				t.Schedule("schedule")
			}
			t.SetState(TaskRunning)
			m.store(t, 1, 1)
		})
		x.Spawn("waker", "start", func(t *Task) {
			m.store(t, 0, 1)
			t.Step("wake")
			waiter.WakeUp()
		})
		// A second waker that does not set the flag: a lost wake-up
		// is possible only if the protocol is wrong.
		x.Spawn("spurious", "start", func(t *Task) { t.Step("wake"); waiter.WakeUp() })
	}},
	{"oops", 2, func(x *Explorer, m *toyMem) {
		// An oops ends the machine: how far the others got before it is
		// part of the final state, and their steps never run after it.
		x.Spawn("oopser", "start", func(t *Task) {
			if m.load(t, 1) == 0 {
				t.Halt("BUG")
			}
		})
		x.Spawn("writer", "start", func(t *Task) { m.store(t, 0, 1); m.store(t, 1, 1) })
	}},
	{"lost-wakeup", 1, func(x *Explorer, m *toyMem) {
		// The waiter checks before announcing its sleep: some
		// interleavings hang.
		var waiter *Task
		waiter = x.Spawn("waiter", "start", func(t *Task) {
			if m.load(t, 0) == 0 {
				t.SetState(TaskUninterruptible)
				t.Schedule("schedule")
			}
		})
		x.Spawn("waker", "start", func(t *Task) {
			m.store(t, 0, 1)
			t.Step("wake")
			waiter.WakeUp()
		})
	}},
}

// toyFinal is an execution's end: its outcome and memory.
func toyFinal(res Result, m *toyMem) string { return fmt.Sprint(res.Outcome, m.v) }

// bruteForce runs every interleaving (DFS with no effective bound) and
// returns their final states (toyFinal).
func bruteForce(t *testing.T, p toyProgram) map[string]bool { return bruteForceFinals(t, p).toy }

// bruteForceSampler is bruteForce with samplerFinal as what is kept of
// each execution.
func bruteForceSampler(t *testing.T, p toyProgram) map[string]bool {
	return bruteForceFinals(t, p).sampler
}

// bruteFinals are the final states of every interleaving of a program, as
// toyFinal and as samplerFinal see them.
type bruteFinals struct{ toy, sampler map[string]bool }

// testPrograms are the toy programs the brute-force comparisons run: all
// of them, or under the race detector those of fewer than four tasks. The
// brute force of a four-task program (lost-update, independent) runs
// thousands of interleavings on one goroutine: 1.7 to 2.1 s each in the
// plain pass, 33 s under the detector, whose concern, the hand-off
// between the tasks' goroutines, the small programs exercise as well.
func testPrograms() []toyProgram {
	if !raceEnabled {
		return toyPrograms
	}
	return slices.DeleteFunc(slices.Clone(toyPrograms), func(p toyProgram) bool {
		return p.name == "lost-update" || p.name == "independent"
	})
}

// withGenerated is testPrograms (a copy) and n programs of gen, seeds 0
// to n-1: a tenth of them under -short or the race detector.
func withGenerated(n uint64, gen func(seed uint64) toyProgram) []toyProgram {
	progs := slices.Clone(testPrograms())
	if testing.Short() || raceEnabled {
		n /= 10
	}
	for seed := range n {
		progs = append(progs, gen(seed))
	}
	return progs
}

// bruteCache keeps the brute force of each of toyPrograms: it depends on
// the program alone, and five tests compare against it (DPOR, the
// samplers, greybox, the PCT bounds). Its search is the slowest part of
// each of them: seconds for lost-update and independent, ten times that
// under the race detector, where it was most of the package's minutes.
// Other programs (random ones, a test's own, whose names may repeat) are
// searched every time.
var bruteCache struct {
	sync.Mutex
	m map[string]bruteFinals
}

// bruteForceFinals runs every interleaving of p (cached for toyPrograms);
// the caller gets its own copies of the sets.
func bruteForceFinals(t *testing.T, p toyProgram) bruteFinals {
	t.Helper()
	if !slices.ContainsFunc(toyPrograms, func(q toyProgram) bool { return q.name == p.name && q.mem == p.mem }) {
		return bruteSearch(t, p)
	}
	bruteCache.Lock()
	defer bruteCache.Unlock()
	f, ok := bruteCache.m[p.name]
	if !ok {
		f = bruteSearch(t, p)
		if bruteCache.m == nil {
			bruteCache.m = map[string]bruteFinals{}
		}
		bruteCache.m[p.name] = f
	}
	return bruteFinals{maps.Clone(f.toy), maps.Clone(f.sampler)}
}

// bruteSearch is the brute force itself.
func bruteSearch(t *testing.T, p toyProgram) bruteFinals { return dfsSearch(t, p, 1<<20) }

// dfsSearch runs every interleaving of p with at most bound preemptions
// (the DFS strategy) and returns their final states.
func dfsSearch(t *testing.T, p toyProgram, bound int) bruteFinals {
	t.Helper()
	d := NewDFS(bound)
	x := NewExplorer(d, HandoffCoroutine)
	defer x.Close()
	f := bruteFinals{map[string]bool{}, map[string]bool{}}
	for n := 0; ; n++ {
		x.Reset()
		if d.Exhausted() {
			break
		}
		m := &toyMem{v: make([]int, p.mem)}
		p.spawn(x, m)
		res, err := x.Run()
		if err != nil {
			t.Fatal(err)
		}
		f.toy[toyFinal(res, m)] = true
		f.sampler[samplerFinal(res, m)] = true
		if n > 1_000_000 {
			t.Fatal("the DFS did not end")
		}
	}
	return f
}

// searchDPOR runs the stateful search and returns the final states it saw.
func searchDPOR(t *testing.T, p toyProgram, mode DPORMode) (map[string]bool, *DPOR) {
	d := NewDPOR(mode, 1000)
	return searchWith(t, p, d), d
}

// searchWith runs the search d (new, unattached) on p to its end and
// returns the final states it saw.
func searchWith(t *testing.T, p toyProgram, d *DPOR) map[string]bool {
	x := NewExplorer(d, HandoffCoroutine)
	x.EnableFootprints()
	d.Attach(x)
	defer x.Close()
	return searchOn(t, p, x, d)
}

// searchOn runs the search d, attached to x (whose strategy is d or wraps
// it), on p to its end and returns the final states it saw.
func searchOn(t *testing.T, p toyProgram, x *Explorer, d *DPOR) map[string]bool {
	t.Helper()
	finals := map[string]bool{}
	for n := 0; ; n++ {
		x.Reset()
		if d.Exhausted() {
			break
		}
		m := &toyMem{v: make([]int, p.mem)}
		p.spawn(x, m)
		res, err := x.Run()
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != Stopped {
			finals[toyFinal(res, m)] = true
		}
		if n > 2_000_000 {
			t.Fatal("search did not end")
		}
	}
	return finals
}

// TestDPORAgainstBruteForce: with and without sleep sets, the stateful
// search reaches exactly the final states (outcome and memory) that
// running every interleaving reaches, and with sleep sets it takes fewer
// executions.
func TestDPORAgainstBruteForce(t *testing.T) {
	for _, p := range testPrograms() {
		t.Run(p.name, func(t *testing.T) {
			want := bruteForce(t, p)
			for _, mode := range []DPORMode{Full, SleepSets, SourceSets} {
				got, d := searchDPOR(t, p, mode)
				if !maps.Equal(got, want) {
					t.Errorf("%v: final states %v, brute force %v", mode, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
				}
				if !d.Complete() {
					t.Errorf("%v: search not complete", mode)
				}
				t.Logf("%v: %+v", mode, d.Stats())
			}
		})
	}
}

// TestDPORSleepSetsReduce: four tasks writing disjoint words have one
// Mazurkiewicz trace; sleep sets explore far fewer transitions than the
// unreduced search of the same states.
func TestDPORSleepSetsReduce(t *testing.T) {
	p := toyPrograms[1]
	_, full := searchDPOR(t, p, Full)
	_, red := searchDPOR(t, p, SleepSets)
	_, src := searchDPOR(t, p, SourceSets)
	// One trace of 12 steps: 12 states before a step (the final one is
	// not keyed: nothing is left to choose there).
	if src.Stats().Executions != 1 || src.Stats().States != 12 {
		t.Errorf("source sets: %d executions, %d states; want 1 execution through 12 states", src.Stats().Executions, src.Stats().States)
	}
	if full.Stats().States != red.Stats().States {
		t.Errorf("states: %d unreduced, %d with sleep sets: sleep sets must visit every state", full.Stats().States, red.Stats().States)
	}
	if red.Stats().Transitions*2 > full.Stats().Transitions {
		t.Errorf("transitions: %d with sleep sets, %d without: no reduction", red.Stats().Transitions, full.Stats().Transitions)
	}
}

// spinner spins on a flag another task sets, declaring its loop head.
func spinUntil(t *Task, m *toyMem, i int) {
	t.Enter("spin")
	defer t.Exit()
	for {
		t.CutPoint("spin")
		if m.load(t, i) == 1 {
			return
		}
	}
}

// TestDPORCycles: a spin that waits for another task is an unfair cycle,
// not a livelock; two tasks that undo each other's work forever are a
// fair cycle, found with its lasso.
func TestDPORCycles(t *testing.T) {
	spin := toyProgram{"spin", 1, func(x *Explorer, m *toyMem) {
		x.Spawn("spinner", "start", func(t *Task) { spinUntil(t, m, 0) })
		x.Spawn("setter", "start", func(t *Task) { m.store(t, 0, 1) })
	}}
	for _, mode := range []DPORMode{Full, SleepSets, SourceSets} {
		got, d := searchDPOR(t, spin, mode)
		if mode == SourceSets && (!d.Restarted() || d.Stats().Mode != SleepSets) {
			t.Errorf("spin: source sets passed a cut point without restarting with sleep sets")
		}
		if !d.Complete() || !d.Stats().CutPoints {
			t.Fatalf("spin: complete %v, cut points %v", d.Complete(), d.Stats().CutPoints)
		}
		if l := d.FairCycle(); l != nil {
			t.Errorf("spin (%v): fair cycle %+v reported for an unfair spin", mode, l)
		}
		if want := map[string]bool{"completed [1]": true}; !maps.Equal(got, want) {
			t.Errorf("spin: finals %v", got)
		}
	}
	pingpong := toyProgram{"ping-pong", 2, func(x *Explorer, m *toyMem) {
		// Each waits for its turn and hands it over: forever.
		for i := range 2 {
			x.Spawn(fmt.Sprint("p", i), "start", func(t *Task) {
				t.Enter("pingpong")
				defer t.Exit()
				for {
					t.CutPoint("turn")
					if m.load(t, 0) == i {
						m.store(t, 0, 1-i)
					}
				}
			})
		}
	}}
	_, d := searchDPOR(t, pingpong, Full)
	l := d.FairCycle()
	if l == nil {
		t.Fatal("ping-pong: no fair cycle found")
	}
	if !slices.Contains(l.Cycle, 0) || !slices.Contains(l.Cycle, 1) {
		t.Errorf("ping-pong lasso %+v does not run both tasks", l)
	}
}

// randomProgram builds a program of 2 or 3 tasks, each a few loads and
// stores over 3 words, where loaded values decide later stores and
// branches: a different dependence structure for every seed.
func randomProgram(seed uint64) toyProgram {
	r := rand.New(rand.NewPCG(seed, 7))
	type op struct {
		store, branch bool
		word, val     int
	}
	ntasks := 2 + r.IntN(2)
	progs := make([][]op, ntasks)
	for i := range progs {
		for range 1 + r.IntN(3) {
			progs[i] = append(progs[i], op{store: r.IntN(2) == 0, branch: r.IntN(3) == 0, word: r.IntN(3), val: 1 + r.IntN(3)})
		}
	}
	return toyProgram{fmt.Sprint("random", seed), 3, func(x *Explorer, m *toyMem) {
		for i, prog := range progs {
			x.Spawn(fmt.Sprint("t", i), "start", func(t *Task) {
				acc := 0
				for _, o := range prog {
					switch {
					case o.store:
						m.store(t, o.word, o.val+acc)
					case o.branch:
						if m.load(t, o.word) != 0 {
							return
						}
					default:
						acc += m.load(t, o.word)
					}
				}
			})
		}
	}}
}

// TestDPORRandomPrograms: on 300 random programs every reduction reaches
// exactly the final states of brute force.
func TestDPORRandomPrograms(t *testing.T) {
	n := uint64(300)
	if testing.Short() || raceEnabled {
		n = 30
	}
	for seed := range n {
		p := randomProgram(seed)
		want := bruteForce(t, p)
		for _, mode := range []DPORMode{Full, SleepSets, SourceSets} {
			got, d := searchDPOR(t, p, mode)
			if !maps.Equal(got, want) {
				t.Fatalf("%s, %v: final states %v, brute force %v", p.name, mode, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
			if !d.Complete() {
				t.Fatalf("%s, %v: not complete", p.name, mode)
			}
		}
	}
}

// TestDPORAccessIndex: on the toy and random programs, the frames the source-set
// search's access index marks as conflicting with each new step are
// exactly those whose step Conflicts with it (another task's, a common
// object, one side writing), found by comparing every pair.
func TestDPORAccessIndex(t *testing.T) {
	n := uint64(100)
	if testing.Short() || raceEnabled {
		n = 20
	}
	progs := slices.Clone(toyPrograms)
	for seed := range n {
		progs = append(progs, randomProgram(seed))
	}
	var checked, nonEmpty int
	for _, p := range progs {
		d := NewDPOR(SourceSets, 1000)
		d.checkMarks = func(n int, marks []uint64) {
			checked++
			f := d.stack[n]
			for j := range n {
				e := d.stack[j]
				want := e.cur != f.cur && e.curFp.Conflicts(f.curFp)
				got := marks[j>>6]&(1<<(j&63)) != 0
				if got != want {
					t.Fatalf("%s: step %d (task %d) against step %d (task %d): index says %v, Conflicts %v", p.name, n, f.cur, j, e.cur, got, want)
				}
				if got {
					nonEmpty++
				}
			}
		}
		searchWith(t, p, d)
	}
	if checked == 0 || nonEmpty == 0 {
		t.Fatalf("%d steps checked, %d conflicts marked: the test saw nothing", checked, nonEmpty)
	}
	t.Logf("%d steps checked, %d conflicts marked", checked, nonEmpty)
}

// TestReturnMerges: a function that reads a racy value but hands back
// nothing leaves its caller in one state either way once it declares
// Return; without it the read value splits the states. Both searches
// reach brute force's final states.
func TestReturnMerges(t *testing.T) {
	prog := func(declare bool) toyProgram {
		return toyProgram{fmt.Sprint("return-", declare), 2, func(x *Explorer, m *toyMem) {
			x.Spawn("reader", "start", func(t *Task) {
				func() {
					t.Enter("peek")
					defer t.Exit()
					m.load(t, 0)
					if declare {
						t.Return()
					}
				}()
				m.store(t, 1, 1)
				m.store(t, 1, 2)
			})
			x.Spawn("writer", "start", func(t *Task) { m.store(t, 0, 1); m.store(t, 0, 2) })
		}}
	}
	var states [2]int
	for i, declare := range []bool{false, true} {
		p := prog(declare)
		want := bruteForce(t, p)
		got, d := searchDPOR(t, p, Full)
		if !maps.Equal(got, want) {
			t.Errorf("%s: final states %v, brute force %v", p.name, got, want)
		}
		states[i] = d.Stats().States
	}
	if states[1] >= states[0] {
		t.Errorf("states: %d without Return, %d with: the summary merged nothing", states[0], states[1])
	}
}

// TestSummaryTable: equal summaries share one interned copy whatever their
// spare words, a union leaves its operands alone, and the interned copy
// answers conflicting as the summary it was made from.
func TestSummaryTable(t *testing.T) {
	objs := map[Obj]int32{}
	mk := func(steps ...[3]int) *dporSummary {
		s := &dporSummary{}
		for _, st := range steps {
			op := AccessOp(OpRead)
			if st[2] == 1 {
				op = OpWrite
			}
			s.add(int32(st[0]), Footprint{{Obj(st[1]), op}}, objs)
		}
		return s
	}
	var tb summaryTable
	a := mk([3]int{0, 1, 0}, [3]int{2, 70, 1})
	b := mk([3]int{2, 70, 1}, [3]int{0, 1, 0})
	// Spare zero words and an empty trailing task change nothing.
	b.rd[0] = append(b.rd[0], 0, 0)
	b.grow(5)
	ia, ib := tb.union(0, a), tb.union(0, b)
	if ia != ib || ia == 0 {
		t.Fatal("equal summaries interned twice")
	}
	if len(b.rd) != 5 || len(b.rd[0]) != 3 {
		t.Fatal("union changed its operand")
	}
	c := mk([3]int{1, 1, 1})
	ic := tb.union(ia, c)
	if ic == ia {
		t.Fatal("a union with a new step returned the old summary")
	}
	ua, uc := tb.get(ia), tb.get(ic)
	if ua.tasks() != 3 || hasBit(ua.wr[1], objs[1]) {
		t.Fatal("a union changed the interned summary it started from")
	}
	if got := tb.union(ia, mk([3]int{0, 1, 0})); got != ia {
		t.Fatal("a union that adds nothing is not the summary it started from")
	}
	for _, tc := range []struct {
		task int32
		obj  Obj
		op   AccessOp
		want uint64
	}{
		{3, 1, OpRead, 1 << 1},       // task 1 wrote object 1
		{3, 1, OpWrite, 1<<0 | 1<<1}, // task 0 read it, task 1 wrote it
		{3, 70, OpRead, 1 << 2},      // task 2 wrote object 70
		{2, 70, OpWrite, 0},          // only task 2 touched it
		{0, 1, OpWrite, 1 << 1},      // task 0's own steps do not count
	} {
		i, ok := objs[tc.obj]
		if !ok {
			t.Fatalf("object %d not interned", tc.obj)
		}
		if got := uc.conflicting(tc.task, []int32{i}, []AccessOp{tc.op}); got != tc.want {
			t.Errorf("conflicting(task %d, obj %d, op %v) = %b, want %b", tc.task, tc.obj, tc.op, got, tc.want)
		}
	}
}

// TestSummaryWithin: within, union's shortcut, says whether merging one
// summary into another changes it, on random summaries of up to four
// tasks over 150 objects (two and three words, trailing zero words and
// missing tasks on either side).
func TestSummaryWithin(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	objs := map[Obj]int32{}
	for o := range 150 {
		objs[Obj(o)] = int32(o)
	}
	mk := func(n int) *dporSummary {
		s := &dporSummary{}
		for range n {
			op := AccessOp(1 + rng.IntN(3))
			s.add(int32(rng.IntN(4)), Footprint{{Obj(rng.IntN(150)), op}}, objs)
		}
		if rng.IntN(3) == 0 {
			s.grow(6)
		}
		return s
	}
	hits := 0
	for range 3000 {
		o := mk(rng.IntN(40))
		s := mk(rng.IntN(6))
		var u dporSummary
		u.merge(o)
		u.merge(s)
		want := u.equal(o)
		if got := s.within(o); got != want {
			t.Fatalf("within = %v, merging changes it: %v", got, !want)
		}
		if want {
			hits++
		}
	}
	if hits < 100 || hits > 2900 {
		t.Fatalf("%d of 3000 within: the test exercises one side only", hits)
	}
}

// TestDPORPreemptionBound: under a preemption bound, the stateful search
// reaches exactly the final states of the DFS that runs every
// interleaving within the same bound, on the toy programs and 300 random
// ones, for bounds 0 to 3: none that needs more preemptions (the bound is
// kept), and none missed (a state reached again with fewer preemptions
// is explored again).
func TestDPORPreemptionBound(t *testing.T) {
	progs := withGenerated(300, randomProgram)
	reexplored := 0
	for _, p := range progs {
		for bound := range 4 {
			want := dfsSearch(t, p, bound).toy
			d := NewDPOR(Full, 1000)
			d.SetPreemptionBound(bound)
			d.onReexplore = func() { reexplored++ }
			got := searchWith(t, p, d)
			if !maps.Equal(got, want) {
				t.Fatalf("%s, bound %d: final states %v, bounded DFS %v", p.name, bound, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
			if !d.Complete() {
				t.Fatalf("%s, bound %d: not complete", p.name, bound)
			}
		}
	}
	if reexplored == 0 {
		t.Error("no state was reached again with fewer preemptions: the test does not exercise the re-exploration")
	}
	t.Logf("%d programs, %d re-explorations", len(progs), reexplored)
}

// TestDPORPreemptionBoundNeedsFull: a bound under sleep sets or source
// sets, which are not sound with one, is refused.
func TestDPORPreemptionBoundNeedsFull(t *testing.T) {
	for _, mode := range []DPORMode{SourceSets, SleepSets} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%v: SetPreemptionBound did not panic", mode)
				}
			}()
			NewDPOR(mode, 100).SetPreemptionBound(2)
		}()
	}
}
