package sim

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
)

// arrivalsOnce reports whether no profiled execution of prof had a task
// step from one point twice: every preemption is then a first arrival.
func arrivalsOnce(prof *Profile) bool {
	for _, h := range prof.hist {
		seen := map[namedStep]bool{}
		for _, s := range h {
			if seen[s] {
				return false
			}
			seen[s] = true
		}
	}
	return true
}

// TestPCTPointBound: first-arrival change points keep PCT's guarantee for
// bugs whose preemptions are first arrivals. On every toy program where
// no task steps from one point twice (so that every preemption is one),
// every final state brute force reaches is reached by pct-point of depth
// 3 at least as often as the bound it reports, 1/(n·(N·P)^2) with N the
// task names that took a racy point and P the most racy points one name
// took, less three standard errors.
func TestPCTPointBound(t *testing.T) {
	checked := 0
	for _, p := range testPrograms() {
		t.Run(p.name, func(t *testing.T) {
			prof := profileToy(t, p, 64)
			if prof.MaxRacy == 0 || !arrivalsOnce(prof) {
				return
			}
			checked++
			s := NewPCTPoint(5, 3, prof)
			const n = 40000
			count := countFinals(t, p, s, n, samplerFinal)
			bound, _, k := s.Bound()
			most := 0
			for _, pts := range s.pts {
				most = max(most, len(pts))
			}
			if want := len(s.drawn) * most; k != want || bound <= 0 {
				t.Fatalf("bound %g over k=%d, want k = N·P = %d", bound, k, want)
			}
			checkBound(t, count, n, bruteForceSampler(t, p), bound)
		})
	}
	if checked < 2 {
		t.Fatalf("%d toy programs with racy steps and single arrivals: the test checks too little", checked)
	}
}

// laterArrival is a program whose one outcome needs a preemption at a
// second arrival: w stores 1 then 2 to object 0 from the same point, r
// copies what it reads into object 1. r reads 1 only if w loses the CPU
// between its two stores.
var laterArrival = toyProgram{"later-arrival", 2, func(x *Explorer, m *toyMem) {
	x.Spawn("w", "start", func(t *Task) {
		m.store(t, 0, 1)
		m.store(t, 0, 2)
	})
	x.Spawn("r", "start", func(t *Task) {
		m.store(t, 1, m.load(t, 0))
	})
}}

// TestPCTPointLaterArrival: the limit the doc comment states. A later
// arrival at a point is never a change point, so pct-point never has r
// read 1 in laterArrival, at any depth, while brute force and pct-task
// (whose change points number a task's racy steps) do.
func TestPCTPointLaterArrival(t *testing.T) {
	p := laterArrival
	prof := profileToy(t, p, 64)
	if arrivalsOnce(prof) {
		t.Fatal("w's two stores share a point in no profiled execution")
	}
	// The final state lists the memory: object 0 ends at 2, and object 1
	// holds what r read.
	readOne := func(final map[string]int) int {
		n := 0
		for f, c := range final {
			if strings.Contains(f, "[2 1]") {
				n += c
			}
		}
		return n
	}
	want := bruteForceSampler(t, p)
	if !slices.ContainsFunc(slices.Collect(maps.Keys(want)), func(f string) bool { return strings.Contains(f, "[2 1]") }) {
		t.Fatalf("brute force never has r read 1: %v", want)
	}
	for d := 2; d <= 6; d++ {
		if n := readOne(countFinals(t, p, NewPCTPoint(1, d, prof), 5000, samplerFinal)); n != 0 {
			t.Errorf("pct-point d=%d: r read 1 in %d executions", d, n)
		}
	}
	if n := readOne(countFinals(t, p, newPCTTask(1, 3, prof), 5000, samplerFinal)); n == 0 {
		t.Error("pct-task d=3 never has r read 1")
	}
}

// TestPCTPointFocus: a focus keeps the racy points whose steps touched an
// object it accepts. On lost-update, focused on object 0 it keeps every
// racy point; on an object no racy step touches it is refused.
func TestPCTPointFocus(t *testing.T) {
	p := toyPrograms[0]
	prof := profileToy(t, p, 64)
	all := NewPCTPoint(1, 3, prof)
	obj0, err := NewPCTPointFocus(1, 3, prof, func(o Obj) bool { return o == 0 })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(obj0.pts) != fmt.Sprint(all.pts) {
		t.Errorf("focus on object 0: points %v, want every racy point %v", obj0.pts, all.pts)
	}
	if _, err := NewPCTPointFocus(1, 3, prof, func(o Obj) bool { return o == 99 }); !errors.Is(err, ErrFocusUnmatched) {
		t.Errorf("focus on an object no step touches: %v, want ErrFocusUnmatched", err)
	}
}

// TestPCTPointCandidates: a focus acts only through the racy points it
// keeps. Two tasks store to objects 1 and 2 from one point and to object 3
// from another: foci on 1 and on 2 keep the same point, and run the same
// schedules execution by execution; a focus on 3 keeps the other point.
func TestPCTPointCandidates(t *testing.T) {
	p := pairProgram(1)
	prof := profileToy(t, p, 64)
	focus := func(o Obj) *PCTPoint {
		s, err := NewPCTPointFocus(7, 3, prof, func(x Obj) bool { return x == o })
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	one, two, three := focus(1), focus(2), focus(3)
	if got := one.Candidates(); !slices.Equal(got, []string{"pair"}) || !slices.Equal(two.Candidates(), got) {
		t.Fatalf("candidates %v and %v, want [pair] for both", got, two.Candidates())
	}
	if got := three.Candidates(); !slices.Equal(got, []string{"store3"}) {
		t.Fatalf("focus on 3: candidates %v, want [store3]", got)
	}
	a, b, c := toySchedules(t, one, p, 200), toySchedules(t, two, p, 200), toySchedules(t, three, p, 200)
	if !slices.Equal(a, b) {
		t.Error("foci with the same candidates ran different schedules")
	}
	if slices.Equal(a, c) {
		t.Error("foci with different candidates ran the same 200 schedules: the test cannot tell them apart")
	}
}

// bystanders: w stores objects 0 and 2, r copies object 0 into object 1,
// and b0 and b1 race on object 3, which neither w nor r touches.
var bystanders = toyProgram{"bystanders", 4, func(x *Explorer, m *toyMem) {
	x.Spawn("w", "start", func(t *Task) {
		m.store(t, 0, 1)
		m.store(t, 2, 1)
	})
	x.Spawn("r", "start", func(t *Task) {
		m.store(t, 1, m.load(t, 0))
	})
	for i := range 2 {
		x.Spawn(fmt.Sprint("b", i), "start", func(t *Task) {
			m.store(t, 3, i)
			m.store(t, 3, i+2)
		})
	}
}}

// TestPCTPointDrawsCandidateNames: change points are drawn only among the
// task names that took a candidate point. Focused on object 0, which only
// w and r touch, every change point of every execution is w's or r's,
// both are drawn, the bound counts two names, not four, and the two
// orders of w's store and r's load are each reached at least as often as
// that bound says (less three standard errors).
func TestPCTPointDrawsCandidateNames(t *testing.T) {
	p := bystanders
	prof := profileToy(t, p, 64)
	if got := prof.TaskNames(); len(got) != 4 {
		t.Fatalf("profiled names %v, want w, r, b0, b1", got)
	}
	const d = 4
	s, err := NewPCTPointFocus(3, d, prof, func(o Obj) bool { return o == 0 })
	if err != nil {
		t.Fatal(err)
	}
	drawn := map[string]int{}
	for run := range 1000 {
		s.Begin(run)
		if len(s.cpName) != d-1 {
			t.Fatalf("run %d: %d change points, want %d", run, len(s.cpName), d-1)
		}
		for _, i := range s.cpName {
			drawn[s.names[i]]++
		}
	}
	if len(drawn) != 2 || drawn["w"] == 0 || drawn["r"] == 0 {
		t.Errorf("change points drawn on %v, want w's and r's alone", drawn)
	}
	const n = 20000
	count := countFinals(t, p, s, n, samplerFinal)
	bound, tasks, k := s.Bound()
	if k != 2 || tasks != 4 || bound <= 0 {
		t.Errorf("bound %g over n=%d tasks and k=%d, want n=4 and k = 2 names × 1 point", bound, tasks, k)
	}
	read := map[string]int{}
	for f, c := range count {
		// The memory is [object 0, object 1, ...]: object 1 is what r
		// read.
		switch {
		case strings.Contains(f, "[1 0 "):
			read["before w's store"] += c
		case strings.Contains(f, "[1 1 "):
			read["after w's store"] += c
		default:
			t.Fatalf("final state %q", f)
		}
	}
	se := math.Sqrt(bound * (1 - bound) / n)
	for _, o := range []string{"before w's store", "after w's store"} {
		if got := float64(read[o]) / n; got < bound-3*se {
			t.Errorf("r read %s in %.3g of executions, below the bound %.3g", o, got, bound)
		}
	}
}
