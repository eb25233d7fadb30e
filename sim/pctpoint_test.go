package sim

import (
	"errors"
	"fmt"
	"maps"
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
// task names and P the most racy points one name took, less three
// standard errors.
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
			if want := len(prof.TaskNames()) * most; k != want || bound <= 0 {
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
