package sim

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
)

// profileToy profiles a toy program as package bench profiles a cell:
// random-walk executions with the access log on.
func profileToy(t *testing.T, p toyProgram, runs int) *Profile {
	t.Helper()
	pr := NewProfiler(NewRandom(7, 0.5))
	x := NewExplorer(pr, HandoffCoroutine)
	defer x.Close()
	x.EnableAccessLog()
	for range runs {
		x.Reset()
		m := &toyMem{v: make([]int, p.mem)}
		p.spawn(x, m)
		if _, err := x.Run(); err != nil {
			t.Fatal(err)
		}
		pr.Finish()
	}
	return pr.Profile()
}

// newPCTTask is pct-task as package bench builds it: racy-step PCT with
// change points drawn per task.
func newPCTTask(seed uint64, depth int, prof *Profile) *PCTRacy {
	p := NewPCTRacy(seed, depth, prof)
	p.PerTask = true
	return p
}

func samplers(prof *Profile, seed uint64) map[string]Strategy {
	return map[string]Strategy{
		"pct-racy":  NewPCTRacy(seed, 3, prof),
		"pct-task":  newPCTTask(seed, 3, prof),
		"pct-point": NewPCTPoint(seed, 3, prof),
		"pos":       NewPOS(seed, prof),
		"surw":      NewSURW(seed, prof),
		"racefuzz":  NewRaceFuzz(seed, 0.1, prof),
	}
}

// samplerFinal is what a sampler must not lose: the final state of an
// execution that ends, and the oops of one that halts. How far the other
// tasks got before an oops is not: the profile leaves the machine's
// running state out (see Profiler.Stepped), so a step no task races with
// may be taken before an oops that brute force also lets cut it off.
func samplerFinal(res Result, m *toyMem) string {
	if res.Outcome == Halted {
		return fmt.Sprint(res.Outcome, " ", res.HaltReason, " by ", res.HaltTask.Name)
	}
	return toyFinal(res, m)
}

// TestSamplersReachEveryOutcome: on every toy program, each sampler
// reaches every final state and every oops brute force reaches: taking
// the steps the profile saw no race at at once, and predicting races by
// point, loses no outcome.
func TestSamplersReachEveryOutcome(t *testing.T) {
	for _, p := range testPrograms() {
		want := bruteForceSampler(t, p)
		prof := profileToy(t, p, 64)
		for name, s := range samplers(prof, 1) {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				x := NewExplorer(s, HandoffCoroutine)
				defer x.Close()
				got := map[string]bool{}
				for range 20000 {
					got[samplerFinal(runProgram(t, x, p))] = true
					if len(got) == len(want) {
						break
					}
				}
				for f := range want {
					if !got[f] {
						t.Errorf("never reached %s (reached %v)", f, slices.Sorted(maps.Keys(got)))
					}
				}
				for f := range got {
					if !want[f] {
						t.Errorf("reached %s, which brute force does not", f)
					}
				}
			})
		}
	}
}

// TestSamplersDeterministic: the same seed gives the same executions, and
// an execution depends only on its number (a batch split into parts runs
// the same executions).
func TestSamplersDeterministic(t *testing.T) {
	p := toyPrograms[0]
	prof := profileToy(t, p, 64)
	run := func(s Strategy, first, n int) []string {
		x := NewExplorer(s, HandoffCoroutine)
		defer x.Close()
		x.Record = true
		x.SetRun(first)
		var out []string
		for range n {
			x.Reset()
			p.spawn(x, &toyMem{v: make([]int, p.mem)})
			if _, err := x.Run(); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(x.Segments()))
		}
		return out
	}
	for name := range samplers(prof, 1) {
		a := run(samplers(prof, 9)[name], 0, 40)
		b := run(samplers(prof, 9)[name], 0, 40)
		c := run(samplers(prof, 9)[name], 25, 15)
		if !slices.Equal(a, b) {
			t.Errorf("%s: two runs with seed 9 differ", name)
		}
		if !slices.Equal(a[25:], c) {
			t.Errorf("%s: executions 25..39 run on their own differ from the batch's", name)
		}
		if d := run(samplers(prof, 10)[name], 0, 40); slices.Equal(a, d) {
			t.Errorf("%s: seeds 9 and 10 give the same executions", name)
		}
	}
}

// chi19 is the 99.9th percentile of chi-square with 19 degrees of
// freedom: 20 interleavings.
const chi19 = 43.82

// chiSquare20 is the chi-square statistic of counts of 20 interleavings
// against uniform.
func chiSquare20(count map[string]int) float64 {
	runs := 0
	for _, c := range count {
		runs += c
	}
	chi := 0.0
	for _, c := range count {
		d := float64(c) - float64(runs)/20
		chi += d * d / (float64(runs) / 20)
	}
	return chi
}

// storeOrder is the order, by task, of the last recorded execution's
// stores to object obj (the toy programs label them "store<obj>").
func storeOrder(x *Explorer, obj int) string {
	label := fmt.Sprint("store", obj)
	var order []byte
	for _, d := range x.Decisions {
		if d.Label == label {
			order = append(order, byte('0'+d.Task))
		}
	}
	return string(order)
}

// storeOrders runs n executions of p under s and counts each order of the
// stores to object obj.
func storeOrders(t *testing.T, p toyProgram, s Strategy, obj, n int) map[string]int {
	t.Helper()
	x := NewExplorer(s, HandoffCoroutine)
	defer x.Close()
	x.Record = true
	count := map[string]int{}
	for range n {
		x.Reset()
		p.spawn(x, &toyMem{v: make([]int, p.mem)})
		if _, err := x.Run(); err != nil {
			t.Fatal(err)
		}
		count[storeOrder(x, obj)]++
	}
	return count
}

// TestSURWUniform: two tasks that never block, three conflicting stores
// each: the profile's counts are exact, and SURW samples each of the
// C(6,3) = 20 interleavings with probability 1/20 (chi-square test at
// the 0.1% level, 19 degrees of freedom).
func TestSURWUniform(t *testing.T) {
	p := toyProgram{"two-by-three", 1, func(x *Explorer, m *toyMem) {
		for i := range 2 {
			x.Spawn(fmt.Sprint("w", i), "start", func(t *Task) {
				for k := range 3 {
					m.store(t, 0, 10*i+k)
				}
			})
		}
	}}
	prof := profileToy(t, p, 64)
	if got := prof.RacyTaskSteps("w0"); got != 3 {
		t.Fatalf("profile: w0 has %d racy steps, want 3", got)
	}
	const n = 20000
	// interleavings runs n executions under s and counts each order of
	// the six stores; chi is its chi-square statistic against uniform.
	interleavings := func(s Strategy) (count map[string]int, chi float64) {
		count = storeOrders(t, p, s, 0, n)
		return count, chiSquare20(count)
	}
	count, chi := interleavings(NewSURW(3, prof))
	if len(count) != 20 {
		t.Fatalf("%d interleavings of the stores, want 20: %v", len(count), count)
	}
	if chi > chi19 {
		t.Errorf("chi-square %.1f over 20 interleavings: not uniform: %v", chi, count)
	}
	// The random walk is not uniform here: the same test tells them apart.
	if _, rchi := interleavings(NewRandom(3, 1)); rchi < chi19 {
		t.Errorf("the random walk passed the uniformity test (chi-square %.1f): the test cannot tell", rchi)
	}
}

// TestSURWSelectivelyUniform: two tasks store alternately to two objects,
// three stores each to each. Both objects are candidates; each execution
// draws one (a tenth of two, at least one), and the orders of the six
// stores to the drawn object are uniform over their 20 interleavings
// (chi-square at the 0.1% level for each object), whatever the stores to
// the other one do; both objects get drawn.
func TestSURWSelectivelyUniform(t *testing.T) {
	p := toyProgram{"two-objects", 2, func(x *Explorer, m *toyMem) {
		for i := range 2 {
			x.Spawn(fmt.Sprint("w", i), "start", func(t *Task) {
				for k := range 3 {
					m.store(t, 0, 10*i+k)
					m.store(t, 1, 10*i+k)
				}
			})
		}
	}}
	prof := profileToy(t, p, 64)
	s := NewSURW(5, prof)
	if len(s.shared) != 2 {
		t.Fatalf("%d candidate objects, want 2", len(s.shared))
	}
	for _, o := range s.shared {
		if o.tasks["w0"] != 3 || o.tasks["w1"] != 3 {
			t.Fatalf("object %d: events per task %v, want 3 each", o.obj, o.tasks)
		}
	}
	x := NewExplorer(s, HandoffCoroutine)
	defer x.Close()
	x.Record = true
	const n = 40000
	count := [2]map[string]int{{}, {}}
	for range n {
		x.Reset()
		p.spawn(x, &toyMem{v: make([]int, p.mem)})
		if _, err := x.Run(); err != nil {
			t.Fatal(err)
		}
		if len(s.chosen) != 1 {
			t.Fatalf("%d objects drawn, want 1", len(s.chosen))
		}
		o := s.shared[s.chosen[0]].obj
		count[o][storeOrder(x, int(o))]++
	}
	for o, c := range count {
		runs := 0
		for _, k := range c {
			runs += k
		}
		if len(c) != 20 || runs < n/3 {
			t.Fatalf("object %d: %d executions, %d interleavings of its stores, want 20: %v", o, runs, len(c), c)
		}
		if chi := chiSquare20(c); chi > chi19 {
			t.Errorf("object %d: chi-square %.1f over 20 interleavings: not uniform: %v", o, chi, c)
		}
	}
}

// TestPCTRacyBound: on the lost-update program, every final state PCT of
// depth 3 can reach is reached at least as often as racy-step PCT's bound
// promises, less three standard errors.
func TestPCTRacyBound(t *testing.T) {
	if raceEnabled {
		t.Skip("a statistic over lost-update's brute force (testPrograms), checked by the plain pass")
	}
	p := toyPrograms[0]
	prof := profileToy(t, p, 64)
	s := NewPCTRacy(5, 3, prof)
	const n = 40000
	count := countFinals(t, p, s, n, toyFinal)
	bound, _, k := s.Bound()
	if k != prof.MaxRacy || bound <= 0 {
		t.Fatalf("bound %g over k=%d, want k=%d", bound, k, prof.MaxRacy)
	}
	checkBound(t, count, n, bruteForce(t, p), bound)
}

// countFinals runs n executions of p under s and counts each final state.
func countFinals(t *testing.T, p toyProgram, s Strategy, n int, final func(Result, *toyMem) string) map[string]int {
	t.Helper()
	x := NewExplorer(s, HandoffCoroutine)
	defer x.Close()
	count := map[string]int{}
	for range n {
		count[final(runProgram(t, x, p))]++
	}
	return count
}

// runProgram runs one execution of p on x: its result and final memory.
// pairProgram: two tasks write objects 1 and 2 together at point "pair",
// then each stores to object 3, stores times (point "store3").
func pairProgram(stores int) toyProgram {
	return toyProgram{"pair", 4, func(x *Explorer, m *toyMem) {
		for i := range 2 {
			x.Spawn(fmt.Sprint("w", i), "start", func(t *Task) {
				t.Step("pair")
				m.v[1], m.v[2] = i, i
				t.Write(1, uint64(i))
				t.Write(2, uint64(i))
				for range stores {
					m.store(t, 3, i)
				}
			})
		}
	}}
}

// toySchedules runs p n times under s and returns each execution's
// decisions, as text.
func toySchedules(t *testing.T, s Strategy, p toyProgram, n int) []string {
	t.Helper()
	x := NewExplorer(s, HandoffCoroutine)
	defer x.Close()
	x.Record = true
	var out []string
	for range n {
		runProgram(t, x, p)
		out = append(out, fmt.Sprint(x.Decisions))
	}
	return out
}

func runProgram(t *testing.T, x *Explorer, p toyProgram) (Result, *toyMem) {
	t.Helper()
	x.Reset()
	m := &toyMem{v: make([]int, p.mem)}
	p.spawn(x, m)
	res, err := x.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res, m
}

// checkBound: every final state of want was reached in at least bound of
// the n executions counted, less three standard errors.
func checkBound(t *testing.T, count map[string]int, n int, want map[string]bool, bound float64) {
	t.Helper()
	se := math.Sqrt(bound * (1 - bound) / float64(n))
	for f := range want {
		if got := float64(count[f]) / float64(n); got < bound-3*se {
			t.Errorf("%s: reached in %.2g of executions, below the bound %.2g", f, got, bound)
		}
	}
}

// TestPCTTaskBound: per-task change points keep PCT's guarantee. On every
// toy program with racy steps, every final state brute force reaches is
// reached by pct-task of depth 3 at least as often as the bound it reports,
// 1/(n·(N·K)^2) with N the task names and K the most racy steps one task
// took, less three standard errors.
func TestPCTTaskBound(t *testing.T) {
	for _, p := range testPrograms() {
		t.Run(p.name, func(t *testing.T) {
			prof := profileToy(t, p, 64)
			if prof.MaxRacy == 0 {
				return // no racy step (independent): nothing to bound
			}
			s := newPCTTask(5, 3, prof)
			const n = 40000
			count := countFinals(t, p, s, n, samplerFinal)
			bound, _, k := s.Bound()
			most := 0
			for _, name := range prof.TaskNames() {
				most = max(most, prof.RacyTaskSteps(name))
			}
			if want := len(prof.TaskNames()) * most; k != want || bound <= 0 {
				t.Fatalf("bound %g over k=%d, want k = N·K = %d", bound, k, want)
			}
			checkBound(t, count, n, bruteForceSampler(t, p), bound)
		})
	}
}

// completionPrograms are lost-update programs in which I/O completions
// (TaskIRQ) race: "completions", three completions that each add one to
// object 0 and a task that copies it to object 1; "cpu-and-irq", a task
// that adds 1 to object 0 and a completion that adds 10, each a load and
// then a store.
var completionPrograms = []toyProgram{
	{"completions", 2, func(x *Explorer, m *toyMem) {
		for i := range 3 {
			x.SpawnKind(fmt.Sprint("io", i), "start", TaskIRQ, func(t *Task) {
				r := m.load(t, 0)
				m.store(t, 0, r+1)
			})
		}
		x.Spawn("copy", "start", func(t *Task) { m.store(t, 1, m.load(t, 0)) })
	}},
	{"cpu-and-irq", 1, func(x *Explorer, m *toyMem) {
		x.Spawn("sub", "start", func(t *Task) {
			r := m.load(t, 0)
			m.store(t, 0, r+1)
		})
		x.SpawnKind("io", "start", TaskIRQ, func(t *Task) {
			r := m.load(t, 0)
			m.store(t, 0, r+10)
		})
	}},
}

// TestPCTIRQBound: pct-irq (pct-task whose change points fall on I/O
// completions' racy steps) keeps PCT's guarantee over the completions. On
// "cpu-and-irq", object 0 ends at 10 (the task's update lost) when the
// completion outranks the task and is held between its load and its
// store: a bug of depth 2 whose preemption is a completion's. At depth 2
// that takes the one change point on the store (1/2), at depth 3 both
// (1/4; one on the load drops the completion before it loads): 1/4 and
// 1/8 with the priorities (1/2), the bound 1/(n·(N·K)^(d-1)) for n = 2
// tasks, N = 1 completion, K = 2 racy steps, reached at least that often
// less three standard errors. Object 0 never ends at 1 (the completion's
// update lost: the task held), which pct-task reaches.
func TestPCTIRQBound(t *testing.T) {
	p := completionPrograms[1]
	prof := profileToy(t, p, 64)
	final := func(_ Result, m *toyMem) string { return fmt.Sprint(m.v[0]) }
	const n = 20000
	for _, tc := range []struct {
		depth int
		bound float64
	}{{2, 1.0 / 4}, {3, 1.0 / 8}} {
		irq := newPCTTask(3, tc.depth, prof)
		irq.Completions = true
		count := countFinals(t, p, irq, n, final)
		bound, tasks, k := irq.Bound()
		if tasks != 2 || k != 2 || bound != tc.bound {
			t.Fatalf("depth %d: bound %g for n=%d, k=%d; want %g for n=2, k=2", tc.depth, bound, tasks, k, tc.bound)
		}
		checkBound(t, count, n, map[string]bool{"10": true}, bound)
		if count["1"] != 0 {
			t.Errorf("depth %d: pct-irq held the task that is not a completion: %d of %d executions lost the completion's update", tc.depth, count["1"], n)
		}
	}
	if task := countFinals(t, p, newPCTTask(3, 3, prof), n, final); task["1"] == 0 {
		t.Errorf("pct-task never held the task either (%v): the test cannot tell", task)
	}
}

// TestPCTIRQCompletions: on "completions" pct-irq's k counts the three
// completions' names and racy steps only, and it reaches every final
// state brute force reaches in which a completion's update was lost (the
// counter below 3). What a change point costs where every completion step
// comes before the bug's: all three completions done before the copier
// reads, a bug of depth 1, is never reached at depth 3 (each of the two
// change points is taken, and the completion it holds drops below the
// copier), where pct-task, whose change points may fall on the copier,
// reaches it. PCT's guarantee is for bugs of depth d; see PCTRacy.
func TestPCTIRQCompletions(t *testing.T) {
	p := completionPrograms[0]
	prof := profileToy(t, p, 64)
	if got, want := prof.CompletionNames(), []string{"io0", "io1", "io2"}; !slices.Equal(got, want) {
		t.Fatalf("completions %q, want %q", got, want)
	}
	s := newPCTTask(5, 3, prof)
	s.Completions = true
	if _, _, k := s.Bound(); k != 3*prof.RacyTaskSteps("io0") {
		t.Fatalf("k=%d, want N·K = 3·%d", k, prof.RacyTaskSteps("io0"))
	}
	const n = 20000
	count := countFinals(t, p, s, n, samplerFinal)
	for f := range bruteForceSampler(t, p) {
		if !strings.HasPrefix(f, "completed [3 ") && count[f] == 0 {
			t.Errorf("%s: never reached", f)
		}
	}
	const allFirst = "completed [3 3]"
	if count[allFirst] != 0 {
		t.Errorf("%s reached %d times: every change point holds a completion", allFirst, count[allFirst])
	}
	if task := countFinals(t, p, newPCTTask(5, 3, prof), n, samplerFinal); task[allFirst] == 0 {
		t.Errorf("pct-task never reached %s either: the test cannot tell", allFirst)
	}
}

// TestPCTIRQWithoutCompletions: with no completion in the profile, pct-irq
// has no change points: it keeps its initial priorities, and never falls
// back to drawing them among every task.
func TestPCTIRQWithoutCompletions(t *testing.T) {
	p := toyPrograms[0]
	prof := profileToy(t, p, 64)
	if got := prof.CompletionNames(); len(got) != 0 {
		t.Fatalf("completions %q, want none", got)
	}
	s := newPCTTask(5, 3, prof)
	s.Completions = true
	// Without change points a task runs from its first step to its last:
	// no update of lost-update's counter is lost.
	count := countFinals(t, p, s, 2000, func(_ Result, m *toyMem) string { return fmt.Sprint(m.v[0]) })
	if len(count) != 1 || count["3"] != 2000 {
		t.Errorf("final counters %v, want 3 in every execution", count)
	}
}

// TestSURWFocus: given a focus, SURW's interesting events are the accesses
// to the objects it names, in every execution: on the program of
// TestSURWSelectivelyUniform, focused on object 1, the orders of the six
// stores to object 1 are uniform over their 20 interleavings in every
// execution. An object that is no candidate (one task touches it) can be
// named too; a focus that names nothing the profile saw is refused.
func TestSURWFocus(t *testing.T) {
	p := toyProgram{"two-objects", 3, func(x *Explorer, m *toyMem) {
		for i := range 2 {
			x.Spawn(fmt.Sprint("w", i), "start", func(t *Task) {
				for k := range 3 {
					m.store(t, 0, 10*i+k)
					m.store(t, 1, 10*i+k)
				}
				if i == 0 {
					m.store(t, 2, 1)
				}
			})
		}
	}}
	prof := profileToy(t, p, 64)
	if _, err := NewSURWFocus(1, prof, func(o Obj) bool { return o == 99 }); err != ErrFocusUnmatched {
		t.Errorf("a focus on no profiled object: error %v, want ErrFocusUnmatched", err)
	}
	if s, err := NewSURWFocus(1, prof, func(o Obj) bool { return o == 2 }); err != nil || s.Objects() != 1 {
		t.Errorf("a focus on the object one task touches: %v, want accepted", err)
	}
	s, err := NewSURWFocus(5, prof, func(o Obj) bool { return o == 1 })
	if err != nil {
		t.Fatal(err)
	}
	count := storeOrders(t, p, s, 1, 20000)
	if len(count) != 20 {
		t.Fatalf("%d interleavings of the stores to object 1, want 20: %v", len(count), count)
	}
	if chi := chiSquare20(count); chi > chi19 {
		t.Errorf("chi-square %.1f over 20 interleavings: not uniform: %v", chi, count)
	}
}

// TestSURWUnserializableCandidates: SURW draws its interesting objects
// among the shared objects on which the profile saw an unserializable
// interleaving (AVIO's four: read-write-read, write-write-read,
// write-read-write, read-write-write), and among every shared object
// when it saw none. Stores racing with stores (write-write-write), a
// write the task reads back while another only reads (write-read-read)
// and a lock word, touched only by atomic read-modify-writes, are
// serializable.
func TestSURWUnserializableCandidates(t *testing.T) {
	sync2 := func(t *Task, o Obj) {
		t.Step(fmt.Sprint("sync", o))
		t.Sync(o)
	}
	p := toyProgram{"avio", 7, func(x *Explorer, m *toyMem) {
		// 0: read-write-read (and write-write-read: r's second read).
		x.Spawn("r", "start", func(t *Task) { m.load(t, 0); m.load(t, 0) })
		x.Spawn("w", "start", func(t *Task) { m.store(t, 0, 1) })
		// 1: stores only, two by each task.
		x.Spawn("a", "start", func(t *Task) { m.store(t, 1, 1); m.store(t, 1, 2) })
		x.Spawn("b", "start", func(t *Task) { m.store(t, 1, 3); m.store(t, 1, 4) })
		// 2: a lock word.
		x.Spawn("l1", "start", func(t *Task) { sync2(t, 2); sync2(t, 2) })
		x.Spawn("l2", "start", func(t *Task) { sync2(t, 2); sync2(t, 2) })
		// 3: read-write-write, the lost update.
		x.Spawn("u1", "start", func(t *Task) { m.store(t, 3, m.load(t, 3)+1) })
		x.Spawn("u2", "start", func(t *Task) { m.store(t, 3, 5) })
		// 4: write-read-write.
		x.Spawn("p", "start", func(t *Task) { m.store(t, 4, 1); m.store(t, 4, 2) })
		x.Spawn("q", "start", func(t *Task) { m.load(t, 4) })
		// 5: write-read-read.
		x.Spawn("v", "start", func(t *Task) { m.store(t, 5, 1); m.load(t, 5) })
		x.Spawn("z", "start", func(t *Task) { m.load(t, 5) })
	}}
	prof := profileToy(t, p, 64)
	if got, want := NewSURW(1, prof).Candidates(), []Obj{0, 3, 4}; !slices.Equal(got, want) {
		t.Errorf("candidates %v, want %v (the unserializable objects)", got, want)
	}
	// Without an unserializable object, every shared one.
	q := toyProgram{"serializable", 6, func(x *Explorer, m *toyMem) {
		x.Spawn("a", "start", func(t *Task) { m.store(t, 1, 1); m.store(t, 1, 2) })
		x.Spawn("b", "start", func(t *Task) { m.store(t, 1, 3); m.store(t, 1, 4) })
		x.Spawn("l1", "start", func(t *Task) { sync2(t, 2); sync2(t, 2) })
		x.Spawn("l2", "start", func(t *Task) { sync2(t, 2); sync2(t, 2) })
		x.Spawn("v", "start", func(t *Task) { m.store(t, 5, 1); m.load(t, 5) })
		x.Spawn("z", "start", func(t *Task) { m.load(t, 5) })
	}}
	if got, want := NewSURW(1, profileToy(t, q, 64)).Candidates(), []Obj{1, 2, 5}; !slices.Equal(got, want) {
		t.Errorf("without an unserializable object: candidates %v, want every shared one, %v", got, want)
	}
}

// TestAVIOLatest: the latest accesses of one kind to an object answer,
// for any task, whether another task made one after a point, including
// when the latest of all is the asking task's own.
func TestAVIOLatest(t *testing.T) {
	var l avioLatest
	if l.since(0, 0) {
		t.Error("no access yet, and one is reported")
	}
	l.add(1, 5) // task 1 at 5
	l.add(0, 7) // task 0 at 7
	for _, tc := range []struct {
		task, seq int32
		want      bool
	}{
		{0, 4, true},  // task 1's at 5, under task 0's own at 7
		{0, 6, false}, // only task 0's own after 6
		{1, 6, true},  // task 0's at 7
		{1, 7, false},
		{2, 6, true},
	} {
		if got := l.since(tc.task, tc.seq); got != tc.want {
			t.Errorf("since(task %d, %d) = %v, want %v", tc.task, tc.seq, got, tc.want)
		}
	}
	l.add(0, 9) // task 0 again: task 1's at 5 is still the other's latest
	if !l.since(0, 4) || l.since(0, 5) {
		t.Error("a second access by the same task lost the other task's")
	}
}

// TestSURWInteresting: a focus acts on SURW only through the points it
// marks and the events it counts. Objects 1 and 2, written together at
// one point by both tasks, mark the same point with the same counts, and
// focused on either SURW runs the same schedules; focused on both, it
// counts twice the events; on object 3, written at another point, it
// marks that point and runs other schedules.
func TestSURWInteresting(t *testing.T) {
	p := pairProgram(2)
	prof := profileToy(t, p, 64)
	focus := func(f func(Obj) bool) *SURW {
		s, err := NewSURWFocus(7, prof, f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two := focus(func(o Obj) bool { return o == 1 }), focus(func(o Obj) bool { return o == 2 })
	both := focus(func(o Obj) bool { return o == 1 || o == 2 })
	three := focus(func(o Obj) bool { return o == 3 })
	if got, want := one.Interesting(), []string{"pair", "w0=1", "w1=1"}; !slices.Equal(got, want) || !slices.Equal(two.Interesting(), want) {
		t.Fatalf("Interesting %v and %v, want %v for both", got, two.Interesting(), want)
	}
	if got, want := both.Interesting(), []string{"pair", "w0=2", "w1=2"}; !slices.Equal(got, want) {
		t.Errorf("focus on 1 and 2: Interesting %v, want %v", got, want)
	}
	if got := three.Interesting(); !slices.Contains(got, "store3") || slices.Contains(got, "pair") {
		t.Errorf("focus on 3: Interesting %v, want store3's point and not pair", got)
	}
	if NewSURW(7, prof).Interesting() != nil {
		t.Error("unfocused SURW has an Interesting key: its objects are drawn per execution")
	}
	a, b, c := toySchedules(t, one, p, 200), toySchedules(t, two, p, 200), toySchedules(t, three, p, 200)
	if !slices.Equal(a, b) {
		t.Error("foci with the same Interesting ran different schedules")
	}
	if slices.Equal(a, c) {
		t.Error("foci with different Interesting ran the same 200 schedules: the test cannot tell them apart")
	}
}
