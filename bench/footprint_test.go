package bench

// The footprint completeness tests. The model reports every access to
// shared state (sim.Task.Read, Write, RMW) with its value; -strategy dpor's
// sleep sets trust the footprints to say which steps commute, and its state
// cache trusts the state key to say which states are the same. A missing or
// wrong report makes both unsound without any visible symptom. Two tests
// look for one:
//
//   - TestFootprintWritesComplete compares the global state key with a
//     reflection walk of the whole model (statewalk_test.go) over random
//     executions of every race cell: states reached by different
//     interleavings with the same GlobalKey must be the same state (a
//     missed or wrongly valued Write shows up as a field that differs),
//     and states with the same StateKey must also have their tasks at the
//     same place.
//   - TestFootprintSwap commutes adjacent steps whose footprints do not
//     conflict and checks that nothing changes (a missed Read shows up: a
//     step whose behaviour depends on a value the other step wrote).

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// fpScale multiplies the footprint tests' budgets, for a deeper search
// than make test's: go test -run Footprint ./bench -args -fpscale 20.
var fpScale = flag.Int("fpscale", 1, "multiply the executions of the footprint tests")

// fpRuns scales an execution budget: down under -short, by -fpscale.
func fpRuns(n int) int {
	n *= max(*fpScale, 1)
	if testing.Short() {
		return max(n/4, 2)
	}
	return n
}

// skipUnderRace skips a footprint test under the race detector: the model
// runs one task at a time on coroutines there as everywhere, the plain
// pass checks the footprints, and a few executions per cell under the
// detector cost 78 s of CPU (the reflection walk is ten times slower)
// while the tests of batches, shards and native runs look at the
// goroutines.
func skipUnderRace(t *testing.T) {
	if raceEnabled {
		t.Skip("single-threaded footprint checks, run by the plain test pass; ten times slower under the race detector")
	}
}

// fpCell is a race workload, at its default parameters, under one fix of
// its family.
type fpCell struct {
	w   *workloads.Workload
	fix string
	v   *fixes.Variant
}

func (c fpCell) String() string { return c.w.ID + "," + c.fix }

func raceCells(t *testing.T) []fpCell {
	var cells []fpCell
	for _, w := range workloads.All() {
		if w.Race == "" {
			continue
		}
		for _, fix := range w.Fixes {
			v, err := fixes.Parse(fix)
			if err != nil {
				t.Fatal(err)
			}
			cells = append(cells, fpCell{w, fix, v})
		}
	}
	return cells
}

// runner is a bench runner for the cell whose Explorer records footprints.
func (c fpCell) runner(s sim.Strategy) *runner {
	r := newRunner(&Config{Workload: c.w, Params: c.w.Defaults(), Variant: c.v, Seed: 1}, s)
	r.x.EnableFootprints()
	return r
}

// follow is a strategy that runs the tasks of a list of task IDs, one
// decision each, and stops the execution when the list ends or when its
// next task cannot run (diverged says why).
type follow struct {
	x        *sim.Explorer
	ids      []int32
	diverged string
	stepped  func(t *sim.Task, fp sim.Footprint)
}

func (f *follow) Begin(int)         { f.diverged = "" }
func (f *follow) Spawned(*sim.Task) {}
func (f *follow) Pick(runnable []*sim.Task, last *sim.Task, step int) *sim.Task {
	if step >= len(f.ids) {
		return nil
	}
	want := int(f.ids[step])
	for _, t := range runnable {
		if t.ID == want {
			return t
		}
	}
	why := "no such task"
	if tasks := f.x.Tasks(); want < len(tasks) {
		t := tasks[want]
		switch {
		case t.Done():
			why = t.Name + " has finished"
		case t.Blocked():
			why = t.Name + " sleeps at " + t.Label()
		}
	}
	f.diverged = fmt.Sprintf("at step %d task %d cannot run: %s", step, want, why)
	return nil
}

func (f *follow) Stepped(t *sim.Task, fp sim.Footprint) {
	if f.stepped != nil {
		f.stepped(t, fp)
	}
}

// observed is a strategy that also sees every step's footprint.
type observed struct {
	sim.Strategy
	stepped func(t *sim.Task, fp sim.Footprint)
}

func (o *observed) Stepped(t *sim.Task, fp sim.Footprint) { o.stepped(t, fp) }

// replayer re-runs executions of a cell from their task IDs.
type replayer struct {
	f     *follow
	r     *runner
	step  int
	after func(step int)
}

func newReplayer(c fpCell) *replayer {
	rp := &replayer{f: &follow{}}
	rp.r = c.runner(rp.f)
	rp.f.x = rp.r.x
	rp.r.x.AfterStep = func(*sim.Task) {
		rp.step++
		if rp.after != nil {
			rp.after(rp.step)
		}
	}
	return rp
}

// run follows ids; after(n) is called once n steps have run.
func (rp *replayer) run(ids []int32, after func(step int), stepped func(t *sim.Task, fp sim.Footprint)) (*Exec, error) {
	rp.f.ids, rp.f.stepped, rp.after, rp.step = ids, stepped, after, 0
	return rp.r.exec()
}

// walk is the shared state now; local adds what the StateKey says about
// the tasks (see walkLocal).
func (rp *replayer) walk(detail bool) *stateWalk {
	return walkState(rp.r.k, rp.r.x.Tasks(), detail)
}

// detailAt replays ids for n steps and returns the detailed walks there
// (shared state, and task-local state), the decisions taken and the
// schedule that reproduces the state (pagelab replay -then stop).
func (rp *replayer) detailAt(ids []int32, n int) (global, local *stateWalk, decisions []sim.Decision, schedule string) {
	_, err := rp.run(ids[:n], func(step int) {
		if step == n {
			global, local = rp.walk(true), walkLocal(rp.r.x.Tasks(), true)
		}
	}, nil)
	if err != nil {
		panic(err)
	}
	if global == nil {
		panic(fmt.Sprintf("replay of %d steps stopped after %d: %s", n, rp.step, rp.f.diverged))
	}
	return global, local, slices.Clone(rp.r.x.Decisions), rp.r.schedule().String()
}

func (rp *replayer) close() { rp.r.x.Close() }

func decisionIDs(ds []sim.Decision) []int32 {
	ids := make([]int32, len(ds))
	for i, d := range ds {
		ids[i] = d.Task
	}
	return ids
}

// walkLocal serializes what an equal StateKey promises about the tasks
// beyond the shared state: which tasks exist, and for every unfinished one
// its name, where it is (its label and call stack), whether it sleeps,
// and the part of its mm.Thread that is not a wait entry (the I/O it
// completes, with what it captured at submission).
func walkLocal(tasks []*sim.Task, detail bool) *stateWalk {
	s := &stateWalk{detail: detail, entries: map[uintptr]uint64{}}
	s.push("tasks.len")
	s.emit(uint64(len(tasks)))
	s.pop()
	for _, t := range tasks {
		s.push(fmt.Sprintf("task[%d]", t.ID))
		if t.Done() {
			// A finished task is nothing but finished (its name does
			// not matter: the IDs of tasks yet to come are the same).
			s.push(".done")
			s.emit(1)
			s.pop()
			s.pop()
			continue
		}
		s.push(".name")
		s.walkAny(t.Name)
		s.pop()
		s.push(".label")
		s.walkAny(t.Label())
		s.pop()
		s.push(".blocked")
		s.walkAny(t.Blocked())
		s.pop()
		s.push(".stack")
		s.walkAny(t.Stack())
		s.pop()
		if th, ok := t.Local.(*mm.Thread); ok {
			walkThreadLocal(s, th)
		}
		s.pop()
	}
	return s
}

// fpReport collects the misses of a cell, with the detail of the first few.
type fpReport struct {
	count   int
	details []string
	fields  map[string]int // differing paths, indices elided
}

var indexRE = regexp.MustCompile(`\[[^\]]*\]`)

func (r *fpReport) add(detail func() (string, []string)) {
	r.count++
	if len(r.details) >= 3 {
		return
	}
	msg, diff := detail()
	if r.fields == nil {
		r.fields = map[string]int{}
	}
	seen := map[string]bool{}
	for _, d := range diff {
		p, _, _ := strings.Cut(d, ": ")
		p = indexRE.ReplaceAllString(p, "[]")
		if !seen[p] {
			seen[p] = true
			r.fields[p]++
		}
	}
	if len(diff) > 25 {
		diff = append(diff[:25:25], fmt.Sprintf("... and %d more", len(diff)-25))
	}
	if len(diff) > 0 {
		msg += "\n  differing fields (first / second):\n    " + strings.Join(diff, "\n    ")
	}
	r.details = append(r.details, msg)
}

func (r *fpReport) fail(t *testing.T, what string) {
	t.Helper()
	if r.count == 0 {
		return
	}
	var fields []string
	for f, n := range r.fields {
		fields = append(fields, fmt.Sprintf("%s (%d)", f, n))
	}
	slices.Sort(fields)
	t.Errorf("%d %s; fields involved in the first %d: %s\n%s", r.count, what, len(r.details),
		strings.Join(fields, ", "), strings.Join(r.details, "\n\n"))
}

// lastSteps renders the last n decisions, for the messages.
func lastSteps(ds []sim.Decision, tasks []*sim.Task, n int) string {
	var l []string
	for i := max(len(ds)-n, 0); i < len(ds); i++ {
		name := fmt.Sprint(ds[i].Task)
		if int(ds[i].Task) < len(tasks) {
			name = tasks[ds[i].Task].Name
		}
		l = append(l, fmt.Sprintf("%d:%s@%s", i, name, ds[i].Label))
	}
	return strings.Join(l, " ")
}

// TestFootprintWritesComplete: over random executions of every race cell,
// two states reached by different interleavings with the same GlobalKey
// (the objects written since Run began, with their values) are the same
// shared state as far as the reflection walk can tell; and two with the
// same StateKey also have the same tasks in the same places.
//
// The walk is too slow to run after every step of every execution, so the
// test runs in two passes: the first records, after every step, the two
// keys and a hash of the decisions so far (equal decisions mean the same
// state: the model is deterministic), and keeps, per key, up to three
// samples with different histories; the second replays the executions
// that hold such samples and walks the state there.
func TestFootprintWritesComplete(t *testing.T) {
	skipUnderRace(t)
	runs := fpRuns(200)
	for _, c := range raceCells(t) {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			checkWritesComplete(t, c, runs)
		})
	}
}

type fpSample struct {
	exec, step int32
	history    uint64
}

func checkWritesComplete(t *testing.T, c fpCell, runs int) {
	const perKey = 3
	rnd := sim.NewRandom(1, DefaultPreempt)
	r := c.runner(rnd)
	defer r.x.Close()
	var (
		ids  [][]int32
		byGK = map[sim.Key][]fpSample{}
		bySK = map[sim.Key][]fpSample{}
		cur  fpSample
	)
	add := func(m map[sim.Key][]fpSample, k sim.Key) {
		l := m[k]
		if len(l) >= perKey {
			return
		}
		for _, s := range l {
			if s.history == cur.history {
				return
			}
		}
		m[k] = append(l, cur)
	}
	r.x.AfterStep = func(tk *sim.Task) {
		cur.step++
		cur.history = mix64(cur.history ^ uint64(tk.ID+1)<<32 ^ uint64(cur.step))
		add(byGK, r.x.GlobalKey())
		add(bySK, r.x.StateKey())
	}
	// Vary the preemption rate: few preemptions reach the states of the
	// sequential executions by many routes, many reach the rest.
	preempts := []float64{0.05, 0.2, 0.5, 1}
	for e := range runs {
		rnd.Preempt = preempts[e%len(preempts)]
		cur = fpSample{exec: int32(e)}
		if _, err := r.exec(); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, decisionIDs(r.x.Decisions))
	}

	// Pass 2: the samples that share a key with another history.
	need := map[int32]map[int32]bool{}
	for _, m := range []map[sim.Key][]fpSample{byGK, bySK} {
		for _, l := range m {
			if len(l) < 2 {
				continue
			}
			for _, s := range l {
				if need[s.exec] == nil {
					need[s.exec] = map[int32]bool{}
				}
				need[s.exec][s.step] = true
			}
		}
	}
	rp := newReplayer(c)
	defer rp.close()
	type hashes struct{ global, local uint64 }
	walked := map[[2]int32]hashes{}
	for e := range int32(runs) {
		steps := need[e]
		if len(steps) == 0 {
			continue
		}
		last := int32(0)
		for s := range steps {
			last = max(last, s)
		}
		_, err := rp.run(ids[e][:last], func(step int) {
			if steps[int32(step)] {
				walked[[2]int32{e, int32(step)}] = hashes{rp.walk(false).h, walkLocal(rp.r.x.Tasks(), false).h}
			}
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rp.f.diverged != "" || rp.step != int(last) {
			t.Fatalf("replay of execution %d is not deterministic: %s after %d of %d steps", e, rp.f.diverged, rp.step, last)
		}
	}

	var gkReport, skReport fpReport
	describe := func(kind string, a, b fpSample) (string, []string) {
		ga, la, da, sa := rp.detailAt(ids[a.exec], int(a.step))
		tasksA := slices.Clone(rp.r.x.Tasks())
		gb, lb, db, sb := rp.detailAt(ids[b.exec], int(b.step))
		tasksB := rp.r.x.Tasks()
		diff := stateDiff(ga, gb)
		if kind == "StateKey" {
			diff = append(diff, stateDiff(la, lb)...)
		}
		msg := fmt.Sprintf("%s, %s: equal %s after\n  execution %d step %d: %s\n    schedule: %s\n  execution %d step %d: %s\n    schedule: %s",
			c.w.ID, c.fix, kind,
			a.exec, a.step, lastSteps(da, tasksA, 6), sa,
			b.exec, b.step, lastSteps(db, tasksB, 6), sb)
		return msg, diff
	}
	groups := 0
	for _, l := range sharedGroups(byGK) {
		groups++
		h0 := walked[[2]int32{l[0].exec, l[0].step}]
		for _, s := range l[1:] {
			if walked[[2]int32{s.exec, s.step}].global != h0.global {
				gkReport.add(func() (string, []string) { return describe("GlobalKey", l[0], s) })
				break
			}
		}
	}
	for _, l := range sharedGroups(bySK) {
		groups++
		h0 := walked[[2]int32{l[0].exec, l[0].step}]
		for _, s := range l[1:] {
			if walked[[2]int32{s.exec, s.step}] != h0 {
				skReport.add(func() (string, []string) { return describe("StateKey", l[0], s) })
				break
			}
		}
	}
	t.Logf("%d executions, %d states with another history under the same key, %d walks", runs, groups, len(walked))
	gkReport.fail(t, "GlobalKeys shared by different shared states (a Write missed or reported with a wrong value)")
	skReport.fail(t, "StateKeys shared by different states (a Read missed, or a task's local state not determined by what it read)")
}

// sharedGroups are the samples of the keys held by more than one history,
// in the order of their first sample (for messages that do not change
// from one run to the next).
func sharedGroups(m map[sim.Key][]fpSample) [][]fpSample {
	var out [][]fpSample
	for _, l := range m {
		if len(l) > 1 {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b []fpSample) int {
		if a[0].exec != b[0].exec {
			return int(a[0].exec - b[0].exec)
		}
		return int(a[0].step - b[0].step)
	})
	return out
}

// TestFootprintSwap: in random executions of every race cell, adjacent
// steps i and i+1 of different tasks whose footprints do not conflict
// commute. Replayed with the two swapped, the execution must be valid (each
// task runnable at its new position, at the same label), each of the two
// steps must touch what it touched before, the StateKey and the state
// after them must be those of the original after step i+1, and the rest of
// the execution, unchanged, must end the same way (outcome, failures, final
// state). A step whose behaviour depends on a value the other wrote, though
// their footprints said they were independent, is a missing Read (or
// Write).
func TestFootprintSwap(t *testing.T) {
	skipUnderRace(t)
	execs := fpRuns(32)
	for _, c := range raceCells(t) {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			checkSwaps(t, c, execs, 16)
		})
	}
}

func checkSwaps(t *testing.T, c fpCell, execs, swaps int) {
	rnd := sim.NewRandom(2, 0.3)
	var (
		fps  []sim.Footprint
		keys []sim.Key
	)
	r := c.runner(&observed{Strategy: rnd, stepped: func(_ *sim.Task, fp sim.Footprint) {
		fps = append(fps, slices.Clone(fp))
	}})
	defer r.x.Close()
	r.x.AfterStep = func(*sim.Task) { keys = append(keys, r.x.StateKey()) }
	rp := newReplayer(c)
	defer rp.close()
	rng := rand.New(rand.NewPCG(3, uint64(len(c.w.ID))))
	var report fpReport
	tried := 0
	for e := range execs {
		rnd.Preempt = []float64{0.1, 0.3, 0.6}[e%3]
		fps, keys = fps[:0], keys[:0]
		ex, err := r.exec()
		if err != nil {
			t.Fatal(err)
		}
		ds := slices.Clone(r.x.Decisions)
		ids := decisionIDs(ds)
		tasks := slices.Clone(r.x.Tasks())
		type end struct {
			outcome sim.Outcome
			steps   int
			fired   mm.FailureSet
			state   uint64
			key     sim.Key
		}
		origEnd := end{ex.Result.Outcome, ex.Result.Steps, ex.Fired, walkState(r.k, r.x.Tasks(), false).h, r.x.StateKey()}

		var cand []int
		for i := 0; i+1 < len(ids); i++ {
			if i+2 == len(ids) && ex.Result.Outcome == sim.Halted {
				// The second step oopses: moved first, it ends the
				// execution before the other runs.
				break
			}
			if ids[i] != ids[i+1] && !fps[i].Conflicts(fps[i+1]) {
				cand = append(cand, i)
			}
		}
		// Pairs that touch the same owner (the same page, inode, task:
		// a missing access is most likely there) first, then the rest.
		rng.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
		common := ubiquitous(fps)
		slices.SortStableFunc(cand, func(a, b int) int {
			return b2i(related(fps[b], fps[b+1], common)) - b2i(related(fps[a], fps[a+1], common))
		})
		cand = cand[:min(len(cand), swaps)]
		if len(cand) == 0 {
			continue
		}
		// The original's state after each chosen pair, replaying it.
		origWalk := map[int][2]uint64{}
		for _, i := range cand {
			origWalk[i+2] = [2]uint64{}
		}
		nondet := -1
		_, err = rp.run(ids, func(step int) {
			if _, ok := origWalk[step]; ok {
				origWalk[step] = [2]uint64{rp.walk(false).h, walkLocal(rp.r.x.Tasks(), false).h}
			}
			if k := rp.r.x.StateKey(); k != keys[step-1] && nondet < 0 {
				nondet = step - 1
			}
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if nondet >= 0 || rp.f.diverged != "" {
			t.Fatalf("replay of execution %d is not deterministic: StateKey after step %d differs, %s", e, nondet, rp.f.diverged)
		}

		for _, i := range cand {
			tried++
			sw := slices.Clone(ids)
			sw[i], sw[i+1] = sw[i+1], sw[i]
			var (
				swFP   [2]sim.Footprint
				swKey  sim.Key
				swWalk [2]uint64
				n      int
			)
			ex2, err := rp.run(sw, func(step int) {
				if step == i+2 {
					swKey = rp.r.x.StateKey()
					swWalk = [2]uint64{rp.walk(false).h, walkLocal(rp.r.x.Tasks(), false).h}
				}
			}, func(_ *sim.Task, fp sim.Footprint) {
				n++
				if n == i+1 || n == i+2 {
					swFP[n-i-1] = slices.Clone(fp)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			sds := rp.r.x.Decisions
			var problems []string
			stateDiffers := false
			switch {
			case rp.f.diverged != "" && rp.step <= i+1:
				problems = append(problems, "the swapped execution is invalid: "+rp.f.diverged)
			case rp.step <= i+1:
				why := ""
				if ex2.Result.Outcome == sim.Halted {
					why = fmt.Sprintf(": %v", ex2.Result.HaltReason)
				}
				problems = append(problems, fmt.Sprintf("the swapped execution ends (%v) after %d steps%s", ex2.Result.Outcome, rp.step, why))
			default:
				if sds[i].Label != ds[i+1].Label || sds[i+1].Label != ds[i].Label {
					problems = append(problems, fmt.Sprintf("the swapped steps start at %s and %s, not %s and %s",
						sds[i].Label, sds[i+1].Label, ds[i+1].Label, ds[i].Label))
				}
				if !slices.Equal(swFP[0], fps[i+1]) {
					problems = append(problems, fmt.Sprintf("step %d's footprint moved first is %s, was %s", i+1, fpString(swFP[0]), fpString(fps[i+1])))
				}
				if !slices.Equal(swFP[1], fps[i]) {
					problems = append(problems, fmt.Sprintf("step %d's footprint moved second is %s, was %s", i, fpString(swFP[1]), fpString(fps[i])))
				}
				if swKey != keys[i+1] {
					problems = append(problems, "the StateKey after the pair differs")
				}
				if swWalk[0] != origWalk[i+2][0] {
					problems = append(problems, "the shared state after the pair differs")
					stateDiffers = true
				}
				if swWalk[1] != origWalk[i+2][1] {
					problems = append(problems, "the tasks after the pair differ (labels, stacks, I/O)")
					stateDiffers = true
				}
				if rp.f.diverged != "" {
					problems = append(problems, "the rest of the execution no longer applies: "+rp.f.diverged)
					break
				}
				swEnd := end{ex2.Result.Outcome, ex2.Result.Steps, ex2.Fired, rp.walk(false).h, rp.r.x.StateKey()}
				if swEnd != origEnd {
					problems = append(problems, fmt.Sprintf("the execution ends differently: %v after %d steps with %v (state %x, key %x), was %v after %d steps with %v (state %x, key %x)",
						swEnd.outcome, swEnd.steps, swEnd.fired.List(), swEnd.state, swEnd.key,
						origEnd.outcome, origEnd.steps, origEnd.fired.List(), origEnd.state, origEnd.key))
				}
			}
			if len(problems) == 0 {
				continue
			}
			report.add(func() (string, []string) {
				_, _, _, sched := rp.detailAt(ids, len(ids))
				msg := fmt.Sprintf("%s, %s: execution %d, steps %d and %d swapped:\n  step %d %s@%s touches %s\n  step %d %s@%s touches %s\n  %s\n  before them: %s\n  schedule: %s",
					c.w.ID, c.fix, e, i, i+1,
					i, tasks[ids[i]].Name, ds[i].Label, fpString(fps[i]),
					i+1, tasks[ids[i+1]].Name, ds[i+1].Label, fpString(fps[i+1]),
					strings.Join(problems, "\n  "), lastSteps(ds[:i], tasks, 4), sched)
				if !stateDiffers {
					return msg, nil
				}
				// The state after the pair, original / swapped.
				ga, la, _, _ := rp.detailAt(ids, i+2)
				gb, lb, _, _ := rp.detailAt(sw, i+2)
				return msg, append(stateDiff(ga, gb), stateDiff(la, lb)...)
			})
		}
	}
	t.Logf("%d executions, %d swaps tried", execs, tried)
	report.fail(t, "swaps of independent steps that did not commute (a Read or Write missing from a footprint)")
}

// related reports whether two footprints touch objects of the same owner
// (an Obj's kind and owner are its bits above the low 24, see
// mm/footprint.go; for sim's objects, the kind of object), leaving out
// the objects most steps touch.
func related(f, g sim.Footprint, common map[sim.Obj]bool) bool {
	for _, a := range f {
		for _, b := range g {
			if a.Obj>>24 == b.Obj>>24 && !common[a.Obj] && !common[b.Obj] {
				return true
			}
		}
	}
	return false
}

// ubiquitous are the objects that more than half the steps touch.
func ubiquitous(fps []sim.Footprint) map[sim.Obj]bool {
	n := map[sim.Obj]int{}
	for _, fp := range fps {
		seen := map[sim.Obj]bool{}
		for _, a := range fp {
			if !seen[a.Obj] {
				seen[a.Obj] = true
				n[a.Obj]++
			}
		}
	}
	out := map[sim.Obj]bool{}
	for o, c := range n {
		if 2*c > len(fps) {
			out[o] = true
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fpString(fp sim.Footprint) string {
	if len(fp) == 0 {
		return "nothing"
	}
	var l []string
	for _, a := range fp {
		l = append(l, a.Op.String()+" "+mm.ObjString(a.Obj))
	}
	return strings.Join(l, ", ")
}
