package sim

import (
	"cmp"
	"maps"
	"slices"
	"sort"
)

// Profiles: which scheduling points race.
//
// The samplers that aim at racy steps (PCTRacy, POS, SURW, RaceFuzz) must
// decide before a step runs whether it can race, but a step's footprint is
// only known once it has run. Their answer is the one the papers' tools
// give (SURW profiles the program first; POS and RaceFuzzer instrument the
// access about to happen): a profile. A few executions of the cell, run
// with footprints on, record for every scheduling point (label) the
// objects the steps starting there touched and the tasks that took them.
// At a decision, a task's next step is predicted by the point it is paused
// at. Two classifications come out of it:
//
//   - May conflict (Independent is its negation): the point's footprint
//     conflicts with that of a point some other task took. This is what
//     the samplers' one reduction rests on, taking an independent step at
//     once: it is computed over the union of footprints, whether or not
//     the two steps ever met, so that a rare step (reclaim stripping
//     buffers, seen in 7 of 64 executions) still makes everything it
//     touches conflict.
//   - Racy: in some profiled execution a step at the point conflicted with
//     an earlier step of another task that did not happen before it (a
//     race, by vector clocks). This is where the samplers put their
//     weight: PCTRacy's change points, SURW's counts, POS's re-draws.
//
// A point no profiled step started at is treated as conflicting and racy.
// The profile is a sample: a footprint the profile never saw (a branch no
// profiled execution took) is the one way a conflict goes unmarked. No
// verdict rests on a profile: a sampler only finds failures, each
// replayable, and the exhaustive search (dpor) proves their absence.
//
// The running state of the machine (objRunning: every step reads it, an
// oops writes it) is left out: kept, every step would conflict with every
// oops; but what the other tasks did before an oops does not change what
// fired.

// Point is what the profile knows about one scheduling point.
type Point struct {
	Label string
	// Footprint is every object the steps starting here touched, each
	// once, with the union of the ways it was touched.
	Footprint Footprint
	// Racy: some step starting here raced with another task.
	Racy bool
	// Independent: no point another task took conflicts with this one.
	Independent bool
	// tasks are the names of the tasks that took a step here.
	tasks []string
	// Steps is how many profiled steps started here.
	Steps int
	// hash is strHash(Label), for the samplers that name steps by point.
	hash uint64
	// idx is the point's index in label order, and conf the points
	// whose footprints conflict with its own, a bit per index (Profile
	// computes both): POS asks at every decision, and a footprint of a
	// drain that touched 63 pages made the comparison most of an
	// execution's time.
	idx  int
	conf []uint64
}

// Profile is the result of profiling a cell (Profiler).
type Profile struct {
	// Runs is the number of profiled executions.
	Runs int
	// MaxSteps and MaxRacy are the most steps, and the most racy steps,
	// of one profiled execution; MaxTasks its most tasks.
	MaxSteps, MaxRacy, MaxTasks int
	points                      map[string]*Point
	// racyByTask is, per task name, the most racy steps it took in one
	// execution (the range of pct-task's and greybox's change points).
	racyByTask map[string]int
	// completions are the names of the I/O completion tasks (TaskIRQ)
	// the profiled executions spawned.
	completions map[string]bool
	pairs       []Pair
	// races are the pairs of points whose steps raced in some profiled
	// execution.
	races map[Pair]bool
	// hist is every profiled execution's steps, and shared SURW's
	// objects, counted from it the first time SURW asks (surw.go).
	hist   [][]namedStep
	shared *sharedSet
	// unserializable are the objects on which some profiled execution
	// showed an unserializable interleaving (Profiler.avio): SURW's
	// candidates.
	unserializable map[Obj]bool
}

// Point returns what the profile knows about label, or nil if no profiled
// step started there.
func (p *Profile) Point(label string) *Point { return p.points[label] }

// Racy reports whether a step starting at label is treated as racy: the
// profile saw one race, or never saw the point.
func (p *Profile) Racy(label string) bool { return p.points[label].racy() }

// Independent reports whether a step starting at label commutes with every
// step of every other task, as far as the profile saw.
func (p *Profile) Independent(label string) bool { return p.points[label].independent() }

// racy, independent and conflicts answer for a point the profile may not
// have seen (nil): an unknown point is racy, not independent, and
// conflicts with everything.
func (pt *Point) racy() bool        { return pt == nil || pt.Racy }
func (pt *Point) independent() bool { return pt != nil && pt.Independent }
func (pt *Point) conflicts(o *Point) bool {
	if pt == nil || o == nil {
		return true
	}
	if pt.conf != nil && o.idx>>6 < len(pt.conf) {
		return pt.conf[o.idx>>6]>>(o.idx&63)&1 != 0
	}
	return sortedConflicts(pt.Footprint, o.Footprint)
}

// Pair is two points whose steps may conflict when two different tasks
// take them (A <= B; A == B when two tasks at the same point conflict).
type Pair struct{ A, B string }

// Pairs are the points that may conflict, two by two, in label order.
func (p *Profile) Pairs() []Pair { return p.pairs }

// Races are the pairs of points whose steps raced in a profiled execution,
// in label order: a subset of Pairs.
func (p *Profile) Races() []Pair {
	var out []Pair
	for _, q := range p.pairs {
		if p.races[q] {
			out = append(out, q)
		}
	}
	return out
}

// RacyTaskSteps is the most racy steps a task of that name took in one
// profiled execution; unknown names get the most any task took.
func (p *Profile) RacyTaskSteps(name string) int {
	if n, ok := p.racyByTask[name]; ok {
		return n
	}
	most := 0
	for _, n := range p.racyByTask {
		most = max(most, n)
	}
	return most
}

// TaskNames are the names of the profiled tasks, sorted.
func (p *Profile) TaskNames() []string {
	return slices.Sorted(maps.Keys(p.racyByTask))
}

// CompletionNames are the names of the profiled I/O completion tasks
// (TaskIRQ: a bio's end_io, run from the block layer's completion
// interrupt) that took a racy step, sorted: pct-irq's change points fall
// on their racy steps.
func (p *Profile) CompletionNames() []string {
	var out []string
	for _, name := range p.TaskNames() {
		if p.completions[name] {
			out = append(out, name)
		}
	}
	return out
}

// Points lists the profiled points by label.
func (p *Profile) Points() []*Point {
	var ps []*Point
	for _, pt := range p.points {
		ps = append(ps, pt)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Label < ps[j].Label })
	return ps
}

// RacyPoints is the number of points marked racy.
func (p *Profile) RacyPoints() int {
	n := 0
	for _, pt := range p.points {
		if pt.Racy {
			n++
		}
	}
	return n
}

// Conflicts reports whether a step starting at label a may conflict with
// one starting at label b, by their profiled footprints; an unknown label
// conflicts with everything.
func (p *Profile) Conflicts(a, b string) bool { return p.points[a].conflicts(p.points[b]) }

// ConflictsWith reports whether footprint f (a step that ran) may conflict
// with a step starting at label.
func (p *Profile) ConflictsWith(f Footprint, label string) bool {
	pt := p.points[label]
	if pt == nil {
		return true
	}
	return f.Conflicts(pt.Footprint)
}

// Profiler is a Strategy that profiles: it delegates every decision to
// Inner and records what each step touched. The Explorer must record
// footprints (EnableAccessLog); call Finish after every execution's Run.
type Profiler struct {
	Inner Strategy

	prof  *Profile
	steps []profStep
	buf   Footprint
	names []string
	// hist is every profiled execution's steps, as (task name, label).
	hist [][]namedStep
	// avio's state: a dense index of the objects seen, and per
	// execution each object's latest accesses and each task's last
	// plain access to it (kept for their memory).
	avioIndex map[Obj]int32
	avioObjs  []avioObj
	avioLocal []avioLocal
}

type namedStep struct{ task, label string }

type profStep struct {
	task       int
	label      string
	start, end int
}

// NewProfiler returns a profiler that lets inner decide.
func NewProfiler(inner Strategy) *Profiler {
	return &Profiler{Inner: inner, prof: &Profile{points: map[string]*Point{}, racyByTask: map[string]int{},
		races: map[Pair]bool{}, unserializable: map[Obj]bool{}, completions: map[string]bool{}},
		avioIndex: map[Obj]int32{}}
}

func (p *Profiler) Begin(run int) {
	p.steps, p.buf, p.names = p.steps[:0], p.buf[:0], p.names[:0]
	p.Inner.Begin(run)
}

func (p *Profiler) Spawned(t *Task) {
	p.names = append(p.names, t.Name)
	if t.kind == TaskIRQ {
		p.prof.completions[t.Name] = true
	}
	p.Inner.Spawned(t)
}

func (p *Profiler) Pick(runnable []*Task, last *Task, step int) *Task {
	t := p.Inner.Pick(runnable, last, step)
	if t != nil {
		p.steps = append(p.steps, profStep{task: t.ID, label: t.label, start: len(p.buf), end: len(p.buf)})
	}
	return t
}

// Stepped keeps the footprint of the step just taken.
func (p *Profiler) Stepped(t *Task, fp Footprint) {
	if n := len(p.steps); n > 0 && p.steps[n-1].task == t.ID {
		for _, a := range fp {
			if a.Obj == objRunning {
				// Every step reads it and an oops writes it. Left out:
				// kept, every step would race with every oops, but what
				// the other tasks did before an oops does not change
				// what fired.
				continue
			}
			p.buf = append(p.buf, a)
		}
		p.steps[n-1].end = len(p.buf)
	}
}

// objAccesses is, per object, the steps that touched it since (and
// including) its last write: the accesses a later step can race with.
type objAccesses struct {
	write int   // the step of the last write, -1 if none
	reads []int // the steps that read it since
}

// Finish adds the execution that just ran to the profile.
//
// A step races when it conflicts with an earlier step of another task that
// does not happen before it: vector clocks (Lamport; Mattern, 1989) over
// the happens-before order the steps' conflicts make, checked against each
// object's last write and the reads since, as FastTrack and DJIT+ do
// (Flanagan, Freund: "FastTrack", PLDI 2009). Both steps of a race are
// marked. A conflict with a step that the task already knows of through
// other dependences (a wait queue after the lock that ordered it) is
// ordered, not a race: those steps are not marked for it.
func (p *Profiler) Finish() {
	pr := p.prof
	pr.Runs++
	pr.MaxSteps = max(pr.MaxSteps, len(p.steps))
	n := len(p.names)
	pr.MaxTasks = max(pr.MaxTasks, n)
	h := make([]namedStep, len(p.steps))
	for i, s := range p.steps {
		h[i] = namedStep{p.names[s.task], s.label}
	}
	p.hist = append(p.hist, h)
	p.avio(n)

	// clock[t] is task t's vector clock; vc[i] step i's (after it ran);
	// local[i] is step i's number within its task (1-based).
	clock := make([][]int32, n)
	for t := range clock {
		clock[t] = make([]int32, n)
	}
	vc := make([][]int32, len(p.steps))
	local := make([]int32, len(p.steps))
	racy := make([]bool, len(p.steps))
	objs := map[Obj]*objAccesses{}
	// inPred[j] == i+1: step j is already among step i's predecessors (a
	// step that touched many of the objects step i touches is joined
	// once: on writeback-chase the repeated joins were most of the
	// profile's time).
	inPred := make([]int, len(p.steps))
	var pred []int
	for i, s := range p.steps {
		c := clock[s.task]
		c[s.task]++
		local[i] = c[s.task]
		fp := p.buf[s.start:s.end]
		// Races are judged against the clock before this step's own
		// dependences join it.
		pred = pred[:0]
		add := func(j int) {
			if inPred[j] != i+1 {
				inPred[j] = i + 1
				pred = append(pred, j)
			}
		}
		for _, a := range fp {
			o := objs[a.Obj]
			if o == nil {
				continue
			}
			if o.write >= 0 {
				add(o.write)
			}
			if a.Op&OpWrite != 0 {
				for _, j := range o.reads {
					add(j)
				}
			}
		}
		for _, j := range pred {
			q := p.steps[j].task
			if q == s.task {
				continue
			}
			if c[q] < local[j] {
				racy[i], racy[j] = true, true
				a, b := p.steps[j].label, s.label
				if b < a {
					a, b = b, a
				}
				pr.races[Pair{a, b}] = true
			}
		}
		for _, j := range pred {
			for t, v := range vc[j] {
				c[t] = max(c[t], v)
			}
		}
		vc[i] = slices.Clone(c)
		for _, a := range fp {
			o := objs[a.Obj]
			if o == nil {
				o = &objAccesses{write: -1}
				objs[a.Obj] = o
			}
			if a.Op&OpWrite != 0 {
				o.write, o.reads = i, o.reads[:0]
			} else if n := len(o.reads); n == 0 || o.reads[n-1] != i {
				// Steps append in order: i, if there, is last.
				o.reads = append(o.reads, i)
			}
		}
	}
	for i, s := range p.steps {
		pt := pr.points[s.label]
		if pt == nil {
			pt = &Point{Label: s.label, hash: strHash(s.label)}
			pr.points[s.label] = pt
		}
		pt.Steps++
		if name := p.names[s.task]; !slices.Contains(pt.tasks, name) {
			pt.tasks = append(pt.tasks, name)
		}
		for _, a := range p.buf[s.start:s.end] {
			pt.Footprint = mergeAccess(pt.Footprint, a)
		}
		if racy[i] {
			pt.Racy = true
		}
	}
}

// avio adds to the profile the objects on which the execution that just
// ran showed an unserializable interleaving: two plain accesses
// of one task to an object with an access of another task between them,
// such that no serial order of the three gives what each read (AVIO: Lu,
// Tucek, Qin, Zhou, "AVIO: Detecting Atomicity Violations via Access
// Interleaving Invariants", ASPLOS 2006). Of the eight cases, four are
// unserializable, local-remote-local: read-write-read (the local reads
// disagree), write-write-read (the local read misses its own write),
// write-read-write (the remote read sees an intermediate value) and
// read-write-write (the local write is based on a stale read).
//
// The local pair is of plain loads and stores: an atomic read-modify-write
// is one access that no other can split, and a lock word, which the model
// touches only that way (Task.Sync), never forms a pair; a remote RMW is
// a read and a write. Race E's i_size, read twice by btrfs while a writer
// extends the file between, is the kind of object this finds.
func (p *Profiler) avio(n int) {
	// Objects get a dense index, kept across executions (they mostly
	// recur); per execution, objs[i] is object i's latest accesses and
	// local[i*n+t] task t's last plain access to it, both cleared.
	for _, s := range p.steps {
		for _, a := range p.buf[s.start:s.end] {
			if _, ok := p.avioIndex[a.Obj]; !ok {
				p.avioIndex[a.Obj] = int32(len(p.avioIndex))
			}
		}
	}
	m := len(p.avioIndex)
	p.avioObjs = slices.Grow(p.avioObjs[:0], m)[:m]
	clear(p.avioObjs)
	p.avioLocal = slices.Grow(p.avioLocal[:0], m*n)[:m*n]
	clear(p.avioLocal)
	seq := int32(0)
	for _, s := range p.steps {
		task := int32(s.task)
		for _, a := range p.buf[s.start:s.end] {
			seq++
			i := p.avioIndex[a.Obj]
			o := &p.avioObjs[i]
			if a.Op == OpRead || a.Op == OpWrite {
				me := &p.avioLocal[int(i)*n+s.task]
				if me.op != 0 {
					switch {
					case a.Op == OpRead && o.w.since(task, me.seq): // read-write-read, write-write-read
						p.prof.unserializable[a.Obj] = true
					case a.Op == OpWrite && me.op == OpWrite && o.r.since(task, me.seq): // write-read-write
						p.prof.unserializable[a.Obj] = true
					case a.Op == OpWrite && me.op == OpRead && o.w.since(task, me.seq): // read-write-write
						p.prof.unserializable[a.Obj] = true
					}
				}
				*me = avioLocal{a.Op, seq}
			}
			if a.Op&OpRead != 0 {
				o.r.add(task, seq)
			}
			if a.Op&OpWrite != 0 {
				o.w.add(task, seq)
			}
		}
	}
}

// avioLocal is a task's last plain access to an object: its op and when.
type avioLocal struct {
	op  AccessOp
	seq int32
}

// avioObj is, for one object, its latest reads and its latest writes.
type avioObj struct{ r, w avioLatest }

// avioLatest is the latest access of one kind to an object (last) and
// the latest by a task other than last's (other): enough to tell, for
// any task, whether another task accessed it after a given point.
type avioLatest struct{ last, other avioAccess }

type avioAccess struct{ task, seq int32 }

// add records an access by task at seq (later than every one before).
func (l *avioLatest) add(task, seq int32) {
	if l.last.seq != 0 && l.last.task != task {
		l.other = l.last
	}
	l.last = avioAccess{task, seq}
}

// since reports whether a task other than task made such an access
// after seq.
func (l *avioLatest) since(task, seq int32) bool {
	if l.last.seq != 0 && l.last.task != task {
		return l.last.seq > seq
	}
	return l.other.seq > seq
}

// twoTasks reports whether a task of as and a different task of bs exist.
func twoTasks(as, bs []string) bool {
	for _, a := range as {
		for _, b := range bs {
			if a != b {
				return true
			}
		}
	}
	return false
}

// mergeAccess adds a to f, once per object, with the union of the ways;
// f is kept sorted by object.
func mergeAccess(f Footprint, a Access) Footprint {
	i, found := slices.BinarySearchFunc(f, a.Obj, func(x Access, o Obj) int { return cmp.Compare(x.Obj, o) })
	if found {
		f[i].Op |= a.Op
		return f
	}
	return slices.Insert(f, i, a)
}

// Profile is what the profiled executions showed. The racy-step counts
// (MaxRacy, RacyTaskSteps) count, in every profiled execution, the steps at
// points the whole profile marks racy: what a sampler counts.
func (p *Profiler) Profile() *Profile {
	pr := p.prof
	pr.MaxRacy = 0
	clear(pr.racyByTask)
	pts := pr.Points()
	pr.pairs = pr.pairs[:0]
	words := (len(pts) + 63) / 64
	for i, pt := range pts {
		pt.Independent = true
		pt.idx, pt.conf = i, make([]uint64, words)
	}
	for i, a := range pts {
		for j, b := range pts[i:] {
			// A point's footprint is sorted by object, once per object
			// (mergeAccess): the linear merge decides.
			if !sortedConflicts(a.Footprint, b.Footprint) {
				continue
			}
			a.conf[(i+j)>>6] |= 1 << ((i + j) & 63)
			b.conf[i>>6] |= 1 << (i & 63)
			if !twoTasks(a.tasks, b.tasks) {
				continue
			}
			a.Independent, b.Independent = false, false
			pr.pairs = append(pr.pairs, Pair{a.Label, b.Label})
		}
	}
	pr.hist, pr.shared = p.hist, &sharedSet{}
	for _, h := range p.hist {
		racy := 0
		byTask := map[string]int{}
		for _, s := range h {
			if pr.Racy(s.label) {
				racy++
				byTask[s.task]++
			}
		}
		pr.MaxRacy = max(pr.MaxRacy, racy)
		for name, n := range byTask {
			pr.racyByTask[name] = max(pr.racyByTask[name], n)
		}
	}
	return pr
}
