package sim

import (
	"cmp"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
)

// SURW is the selectively uniform random walk (Zhao, Wolff, Mathur,
// Roychoudhury: "Selectively Uniform Concurrency Testing", ASPLOS 2025).
//
// A uniform random walk picks, at each step, a task with probability
// proportional to the steps it has left, which samples the interleavings
// of tasks that never block uniformly: each interleaving of counts n_i has
// probability Π n_i! / (Σ n_i)!, where the usual walk (a uniform choice
// among the runnable tasks) favours the interleavings that switch early.
// Uniform over every step would spread the walk over interleavings that
// differ only where nothing races; SURW is uniform over the interesting
// events only, those on a few shared objects drawn at random, and leaves
// the rest to a uniform choice among the runnable tasks:
//
//   - The candidates are the objects two task names touched and one wrote,
//     in more than two profiled steps, and on which a profiled execution
//     showed an unserializable interleaving (AVIO's: a task's two plain
//     accesses split by another task's, in an order no serial execution
//     gives; Profiler.avio), or every such shared object when none did
//     (sharedObjects). Each execution draws a tenth of them, at least one
//     (Frac): a step is interesting when its point's footprint holds one
//     of those.
//   - A task's weight is its interesting events left: the most steps a
//     task of its name took at those points in one profiled execution,
//     less those it took; a task that took more keeps weight 1, so that
//     every interleaving stays possible (the paper's Γ-completeness).
//   - At each decision a runnable task is drawn uniformly. If its pending
//     step is interesting, it runs only if it is the intended task: one
//     drawn by weight among the runnable tasks not held back, once per
//     interesting event. A drawn task that is not intended is held back
//     and the draw repeats among the others; when the intended task takes
//     its interesting step the held tasks are let go. When every runnable
//     task is held back (the intended one blocked), all are let go and the
//     intended task is drawn again.
//
// The interesting objects are drawn per execution, from the execution's
// own seed, where the authors' implementation for P (PChecker's
// SURWScheduler) draws them once for a campaign: an execution here
// depends on nothing but the seed and its number (a batch split over
// goroutines or shards runs the same executions). As in the other
// samplers, a pending step the profile found independent runs at once
// (eager). Blocking and the estimates make the distribution only close to
// uniform; Bound is not defined.
//
// The paper's interesting events are a set A given to the walk; drawing
// A at random is its answer to not knowing where the bug is. A user who
// does know (the report names the variable read twice, the flag tested
// too late) gives A instead (NewSURWFocus): every object the focus
// accepts, in every execution, whether or not the profile found it
// shared. The walk is then uniform over the interleavings of the
// accesses to those objects, and nothing else changes.
type SURW struct {
	// Frac is the fraction of the candidate objects that are interesting
	// in one execution (at least one): 0.1, the authors' choice.
	Frac float64

	prof   *Profile
	pc     *pointCache
	seed   uint64
	pcg    rand.PCG
	rng    *rand.Rand
	shared []sharedObject
	// focused: shared holds the focus's objects, every one drawn in
	// every execution.
	focused bool
	// The execution in progress: the drawn objects (indices into
	// shared); mark[pt.idx] == epoch for the points that touch them.
	chosen   []int
	perm     []int
	mark     []uint32
	epoch    uint32
	left     []int  // by task ID: interesting events left, as estimated
	held     []bool // by task ID: drawn at an interesting step, not intended
	intended int    // task ID, -1 for none
	free     []*Task
}

// NewSURW returns the selectively uniform random walk over a profile.
func NewSURW(seed uint64, prof *Profile) *SURW {
	s := &SURW{Frac: 0.1, prof: prof, pc: newPointCache(prof), seed: seed, shared: prof.sharedObjects(), mark: make([]uint32, len(prof.points))}
	s.rng = rand.New(&s.pcg)
	return s
}

// ErrFocusUnmatched is NewSURWFocus's error when no profiled step touched
// an object the focus accepts: the walk would be the plain uniform one
// under a name that promises otherwise.
var ErrFocusUnmatched = errors.New("no profiled step touches an object the focus names")

// NewSURWFocus returns the walk whose interesting events are the accesses
// to the objects focus accepts (the paper's A, given), among every object
// a profiled step touched.
func NewSURWFocus(seed uint64, prof *Profile, focus func(Obj) bool) (*SURW, error) {
	var objs []sharedObject
	for _, o := range prof.objects() {
		if focus(o.obj) {
			objs = append(objs, o.sharedObject)
		}
	}
	if len(objs) == 0 {
		return nil, ErrFocusUnmatched
	}
	s := &SURW{prof: prof, pc: newPointCache(prof), seed: seed, shared: objs, focused: true, mark: make([]uint32, len(prof.points))}
	s.rng = rand.New(&s.pcg)
	return s, nil
}

// Objects is the number of interesting objects: those drawn from in an
// execution, or with a focus, those in every execution.
func (s *SURW) Objects() int { return len(s.shared) }

// Candidates are the objects Objects counts, in object order.
func (s *SURW) Candidates() []Obj {
	out := make([]Obj, len(s.shared))
	for i, o := range s.shared {
		out[i] = o.obj
	}
	return out
}

// Interesting is what a focused SURW's executions depend on besides the
// profile and the seed, as a key: the labels of the points whose steps
// are interesting, in label order, then each task name's interesting
// events ("name=n", the sum over the focus's objects that Spawned gives a
// task of that name), in name order; nil without a focus. With a focus,
// Begin draws nothing and Pick reads the objects only through the points
// they mark and those counts, so two foci with the same Interesting run
// the same executions: a sweep measures them once.
func (s *SURW) Interesting() []string {
	if !s.focused {
		return nil
	}
	marked := map[string]bool{}
	weight := map[string]int{}
	for _, o := range s.shared {
		for _, pt := range o.points {
			marked[pt.Label] = true
		}
		for name, n := range o.tasks {
			weight[name] += n
		}
	}
	out := slices.Sorted(maps.Keys(marked))
	for _, name := range slices.Sorted(maps.Keys(weight)) {
		out = append(out, name+"="+strconv.Itoa(weight[name]))
	}
	return out
}

func (s *SURW) Begin(run int) {
	s.pcg.Seed(runSeed(s.seed, run))
	s.left, s.held, s.intended = s.left[:0], s.held[:0], -1
	s.chosen = s.chosen[:0]
	s.epoch++
	if len(s.shared) == 0 {
		return
	}
	if s.focused {
		for i, o := range s.shared {
			s.chosen = append(s.chosen, i)
			for _, pt := range o.points {
				s.mark[pt.idx] = s.epoch
			}
		}
		return
	}
	n := len(s.shared)
	k := min(max(int(float64(n)*s.Frac), 1), n)
	// k distinct objects: the first k places of a Fisher-Yates shuffle.
	s.perm = s.perm[:0]
	for i := range n {
		s.perm = append(s.perm, i)
	}
	for i := range k {
		j := i + s.rng.IntN(n-i)
		s.perm[i], s.perm[j] = s.perm[j], s.perm[i]
		s.chosen = append(s.chosen, s.perm[i])
		for _, pt := range s.shared[s.perm[i]].points {
			s.mark[pt.idx] = s.epoch
		}
	}
}

func (s *SURW) Spawned(t *Task) {
	w := 0
	for _, i := range s.chosen {
		w += s.shared[i].tasks[t.Name]
	}
	s.left = append(s.left, w)
	s.held = append(s.held, false)
}

// interesting reports whether t's pending step touches a drawn object, as
// its point's profiled footprint says (a point never profiled might).
func (s *SURW) interesting(t *Task) bool {
	pt := s.pc.point(t.label)
	return pt == nil || s.mark[pt.idx] == s.epoch
}

func (s *SURW) Pick(runnable []*Task, last *Task, step int) *Task {
	if t := eager(s.pc, runnable, last); t != nil {
		return t
	}
	// The intended task may have blocked since it was drawn: then there
	// is none (it was drawn among the runnable tasks, and the list does
	// not change within a decision, so this holds for the draws below).
	if !slices.ContainsFunc(runnable, func(t *Task) bool { return t.ID == s.intended }) {
		s.intended = -1
	}
	// free is the runnable tasks not held back, in runnable order; a
	// task held back below leaves it (rebuilding it at every draw made a
	// decision among hundreds of tasks quadratic).
	s.free = s.free[:0]
	for _, t := range runnable {
		if !s.held[t.ID] {
			s.free = append(s.free, t)
		}
	}
	for {
		if len(s.free) == 0 {
			clear(s.held)
			s.intended = -1
			s.free = append(s.free, runnable...)
		}
		i := s.rng.IntN(len(s.free))
		t := s.free[i]
		if !s.interesting(t) {
			return t
		}
		s.left[t.ID] = max(s.left[t.ID], 1)
		if s.intended < 0 {
			s.intended = s.byWeight()
		}
		if t.ID != s.intended {
			s.held[t.ID] = true
			s.free = slices.Delete(s.free, i, i+1)
			continue
		}
		s.left[t.ID]--
		clear(s.held)
		s.intended = -1
		return t
	}
}

// byWeight draws a task of free by its interesting events left (some
// has at least one: the task just drawn).
func (s *SURW) byWeight() int {
	total := 0
	for _, u := range s.free {
		total += s.left[u.ID]
	}
	r := s.rng.IntN(total)
	for _, u := range s.free {
		if r < s.left[u.ID] {
			return u.ID
		}
		r -= s.left[u.ID]
	}
	panic("unreachable")
}

// sharedObject is one of SURW's candidate objects: the points whose
// footprint holds it, and per task name the most steps a task of that
// name took at those points in one profiled execution.
type sharedObject struct {
	obj    Obj
	points []*Point
	tasks  map[string]int
}

// sharedSet is every object of a profile with its SURW counts, computed
// once, the first time a SURW sampler asks, and the candidates among them.
type sharedSet struct {
	once   sync.Once
	all    []profiledObject
	shared []sharedObject
}

// profiledObject is an object a profiled step touched, with what decides
// whether it is a SURW candidate.
type profiledObject struct {
	sharedObject
	written bool
	steps   int32 // the most steps at its points in one execution
}

// sharedObjects are SURW's candidates: the objects that two task names
// touched and one wrote, in more than two steps of one profiled
// execution (the paper's shared resources with more than two events), and
// of those the ones with a profiled unserializable interleaving if there
// are any, in object order. Where the bug is an atomicity violation the
// paper's random draw among every shared object mostly misses the one
// that matters: of plain race E's 44 shared objects, 3 show one (i_size
// among them). sim's own objects (the running word, kind 0xff) are left out.
func (p *Profile) sharedObjects() []sharedObject {
	if p.shared == nil {
		return nil
	}
	p.countOnce()
	return p.shared.shared
}

// Objects is every object a profiled step touched but sim's own, in
// object order: what a SURW focus can name.
func (p *Profile) Objects() []Obj {
	var out []Obj
	for _, o := range p.objects() {
		out = append(out, o.obj)
	}
	return out
}

// objects is every object a profiled step touched but sim's own, in
// object order.
func (p *Profile) objects() []profiledObject {
	if p.shared == nil {
		return nil
	}
	p.countOnce()
	return p.shared.all
}

func (p *Profile) countOnce() {
	p.shared.once.Do(func() {
		p.shared.all = p.countObjects()
		var shared, avio []sharedObject
		for _, o := range p.shared.all {
			if len(o.tasks) >= 2 && o.written && o.steps > 2 {
				shared = append(shared, o.sharedObject)
				if p.unserializable[o.obj] {
					avio = append(avio, o.sharedObject)
				}
			}
		}
		// The shared objects on which the profile saw an unserializable
		// interleaving, if any; every shared object otherwise.
		p.shared.shared = shared
		if len(avio) > 0 {
			p.shared.shared = avio
		}
	})
}

func (p *Profile) countObjects() []profiledObject {
	index := map[Obj]int{}
	var objs []sharedObject
	var written []bool
	// objsAt[label] are the indices of the objects of the point's
	// footprint, found once per point rather than per profiled step.
	objsAt := map[string][]int{}
	for _, pt := range p.Points() {
		for _, a := range pt.Footprint {
			if a.Obj>>56 == 0xff {
				continue
			}
			i, ok := index[a.Obj]
			if !ok {
				i = len(objs)
				index[a.Obj] = i
				objs = append(objs, sharedObject{obj: a.Obj, tasks: map[string]int{}})
				written = append(written, false)
			}
			objs[i].points = append(objs[i].points, pt)
			written[i] = written[i] || a.Op&OpWrite != 0
			objsAt[pt.Label] = append(objsAt[pt.Label], i)
		}
	}
	// Per execution, steps per (object, task name), flat; most holds the
	// maxima over executions.
	names := map[string]int{}
	var nameList []string
	for _, h := range p.hist {
		for _, st := range h {
			if _, ok := names[st.task]; !ok {
				names[st.task] = len(nameList)
				nameList = append(nameList, st.task)
			}
		}
	}
	n := len(nameList)
	count := make([]int32, len(objs)*n)
	most := make([]int32, len(objs)*n)
	steps := make([]int32, len(objs))
	for _, h := range p.hist {
		clear(count)
		for _, st := range h {
			ni := names[st.task]
			for _, i := range objsAt[st.label] {
				count[i*n+ni]++
			}
		}
		for i := range objs {
			total := int32(0)
			for ni := range n {
				c := count[i*n+ni]
				most[i*n+ni] = max(most[i*n+ni], c)
				total += c
			}
			steps[i] = max(steps[i], total)
		}
	}
	out := make([]profiledObject, 0, len(objs))
	for i, o := range objs {
		for ni, name := range nameList {
			if c := most[i*n+ni]; c > 0 {
				o.tasks[name] = int(c)
			}
		}
		out = append(out, profiledObject{sharedObject: o, written: written[i], steps: steps[i]})
	}
	slices.SortFunc(out, func(a, b profiledObject) int { return cmp.Compare(a.obj, b.obj) })
	return out
}
