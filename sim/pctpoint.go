package sim

import (
	"math"
	"math/rand/v2"
	"slices"
)

// PCTPoint is PCT whose change points are arrivals: each of the d-1 is a
// task name (uniformly among the profiled names that took a candidate
// point) and a candidate point that tasks of that name step from
// (uniformly among those the profile saw them take), and it is taken the
// first time a task of that name is about to step from that point. Its
// task then drops below every other, as in PCT (Burckhardt et al., ASPLOS
// 2010): change point i to priority d-i.
//
// PCT's argument needs a change point just before each of the d-1 steps
// that must lose the CPU; pct-task (PCTRacy with PerTask) numbers a
// task's racy steps and draws one of them, so a point in a loop (a walk
// over the xarray's slots, a drain of 63 pages) takes most of the draws.
// Here a point is one draw whatever its steps, and a preemption at a
// point's first arrival is hit with probability 1/(N·P_name), N the task
// names that took a candidate point and P_name the candidate points tasks
// of that name took: the bound is 1/(n·(N·P)^(d-1)) (Bound), P the most
// points one name took, for a bug whose d-1 preemptions fall at first
// arrivals. A name that took no candidate point gets no draw: a change
// point there could never be taken, and the preemptions a bug needs are
// at candidate points by the bound's premise. Without a focus every name
// of the seed workloads takes a racy point; with one, many do not
// (race-b-thp's PG_waiters: 9 of 14 names; race C1's free-list: 1 of 8),
// and drawing over all names spent those shares of the d-1 change points
// on nothing. A later arrival at a point is never a change point: a bug
// that needs one (the third store of a loop) is found only through the
// preemptions other change points cause, or not at all; pct-task reaches
// it.
//
// A focus (NewPCTPointFocus) keeps the points whose profiled footprint
// touched an object it accepts, as surw's focus names its interesting
// events: the report names the variable, and the preemptions are drawn
// among the accesses to it. That shrinks P to the points that touch it.
type PCTPoint struct {
	Depth int

	pc   *pointCache
	seed uint64
	pcg  rand.PCG
	rng  *rand.Rand
	// names are the profiled task names, nameIdx their indices, and
	// pts[i] the candidate points of name i (racy, and touching the
	// focus if there is one), in label order; drawn are the indices of
	// the names with a candidate point, what change points are drawn
	// among.
	names   []string
	nameIdx map[string]int
	pts     [][]*Point
	drawn   []int
	// The execution's change points: change point i+1 of the paper's is
	// cpName[i] and cpPt[i], taken once (cpTaken). left[name] counts the
	// change points of that name not yet taken, and byName[name] the
	// indices of its change points, in order (Pick looks at those only:
	// at depth 30 a scan of all of them took a quarter of an execution).
	cpName  []int
	cpPt    []*Point
	cpTaken []bool
	left    []int
	byName  [][]int
	// atPt[pt.idx] counts the change points not yet taken at point pt,
	// of any name: most decisions are at a point with none, and end
	// there.
	atPt []int32
	// By task ID: its priority and its name's index (-1: a name no
	// profiled execution had).
	prio  []uint64
	tname []int
	maxN  int
	highest
}

// NewPCTPoint returns PCT over first arrivals at racy points, of depth d,
// over a profile.
func NewPCTPoint(seed uint64, depth int, prof *Profile) *PCTPoint {
	p, _ := newPCTPoint(seed, depth, prof, nil)
	return p
}

// NewPCTPointFocus returns PCTPoint whose change points are arrivals at
// racy points whose profiled steps touched an object focus accepts;
// ErrFocusUnmatched if no racy point did.
func NewPCTPointFocus(seed uint64, depth int, prof *Profile, focus func(Obj) bool) (*PCTPoint, error) {
	return newPCTPoint(seed, depth, prof, focus)
}

func newPCTPoint(seed uint64, depth int, prof *Profile, focus func(Obj) bool) (*PCTPoint, error) {
	p := &PCTPoint{Depth: depth, pc: newPointCache(prof), seed: seed}
	p.rng = rand.New(&p.pcg)
	p.names = prof.TaskNames()
	p.nameIdx = make(map[string]int, len(p.names))
	for i, name := range p.names {
		p.nameIdx[name] = i
	}
	p.pts = make([][]*Point, len(p.names))
	for _, pt := range prof.Points() { // label order: deterministic
		if !pt.Racy || focus != nil && !pt.touches(focus) {
			continue
		}
		for _, name := range pt.tasks {
			if i, ok := p.nameIdx[name]; ok {
				p.pts[i] = append(p.pts[i], pt)
			}
		}
	}
	for i, pts := range p.pts {
		if len(pts) > 0 {
			p.drawn = append(p.drawn, i)
		}
	}
	// Every task that stepped at a racy point is a profiled name
	// (TaskNames): no name with a candidate means no racy point touched
	// the focus.
	if focus != nil && len(p.drawn) == 0 {
		return nil, ErrFocusUnmatched
	}
	p.left = make([]int, len(p.names))
	p.byName = make([][]int, len(p.names))
	p.atPt = make([]int32, len(prof.points))
	return p, nil
}

// Candidates are the labels of the points its change points are drawn
// among, in label order. Two PCTPoints of one profile, depth and seed
// with the same candidates run the same executions: a focus acts only
// through them.
func (p *PCTPoint) Candidates() []string {
	var out []string
	seen := map[*Point]bool{}
	for _, pts := range p.pts {
		for _, pt := range pts {
			if !seen[pt] {
				seen[pt] = true
				out = append(out, pt.Label)
			}
		}
	}
	slices.Sort(out)
	return out
}

// touches reports whether a step starting at pt touched an object f
// accepts.
func (pt *Point) touches(f func(Obj) bool) bool {
	for _, a := range pt.Footprint {
		if f(a.Obj) {
			return true
		}
	}
	return false
}

func (p *PCTPoint) Begin(run int) {
	p.pcg.Seed(runSeed(p.seed, run))
	p.prio, p.tname = p.prio[:0], p.tname[:0]
	for _, pt := range p.cpPt {
		p.atPt[pt.idx] = 0
	}
	p.cpName, p.cpPt, p.cpTaken = p.cpName[:0], p.cpPt[:0], p.cpTaken[:0]
	clear(p.left)
	for i := range p.byName {
		p.byName[i] = p.byName[i][:0]
	}
	p.bestOK = false
	if len(p.drawn) == 0 {
		return
	}
	for i := 1; i < p.Depth; i++ {
		name := p.drawn[p.rng.IntN(len(p.drawn))]
		pts := p.pts[name]
		pt := pts[p.rng.IntN(len(pts))]
		p.left[name]++
		p.byName[name] = append(p.byName[name], i-1)
		p.atPt[pt.idx]++
		p.cpName, p.cpPt, p.cpTaken = append(p.cpName, name), append(p.cpPt, pt), append(p.cpTaken, false)
	}
}

func (p *PCTPoint) Spawned(t *Task) {
	name := -1
	if i, ok := p.nameIdx[t.Name]; ok {
		name = i
	}
	p.tname = append(p.tname, name)
	p.prio = append(p.prio, uint64(p.Depth)+1+p.rng.Uint64N(math.MaxUint32))
	p.maxN = max(p.maxN, len(p.prio))
	p.bestOK = false
}

func (p *PCTPoint) Pick(runnable []*Task, last *Task, step int) *Task {
	for {
		best := p.get(runnable, p.prio)
		name := p.tname[best.ID]
		if name < 0 || p.left[name] == 0 {
			// No change point left for its name: the common case.
			return best
		}
		pt := p.pc.point(best.label)
		if pt == nil || p.atPt[pt.idx] == 0 {
			// No change point at this point (an untaken change point
			// always has one, so a point the profile never saw, nil,
			// matches none).
			return best
		}
		i := -1
		for _, j := range p.byName[name] {
			if !p.cpTaken[j] && p.cpPt[j] == pt {
				i = j
				break
			}
		}
		if i < 0 {
			// Change points at this point, but of other names.
			return best
		}
		// Change point i+1, the first arrival of a task of its name at
		// its point: the task drops below every other, and the best
		// task is to be found again.
		p.cpTaken[i] = true
		p.left[name]--
		p.atPt[pt.idx]--
		p.prio[best.ID] = uint64(p.Depth - (i + 1))
		p.bestOK = false
	}
}

// Bound is the guarantee for a bug of depth Depth whose d-1 preemptions
// fall at first arrivals of tasks at candidate points (racy, and touching
// the focus if there is one): PCTBound(n, N·P, Depth), n the most tasks
// seen, N the task names that took a candidate point and P the most
// candidate points one name took (a change point hits a given point of a
// given name with probability 1/(N·P_name) >= 1/(N·P)).
func (p *PCTPoint) Bound() (prob float64, n, k int) {
	most := 1
	for _, pts := range p.pts {
		most = max(most, len(pts))
	}
	k = max(len(p.drawn), 1) * most
	return PCTBound(p.maxN, k, p.Depth), p.maxN, k
}

// RacyObjects is every object a step at a racy point touched, in object
// order: what a focus of PCTPoint may name.
func (p *Profile) RacyObjects() []Obj {
	seen := map[Obj]bool{}
	var out []Obj
	for _, pt := range p.Points() {
		if !pt.Racy {
			continue
		}
		for _, a := range pt.Footprint {
			if !seen[a.Obj] {
				seen[a.Obj] = true
				out = append(out, a.Obj)
			}
		}
	}
	slices.Sort(out)
	return out
}
