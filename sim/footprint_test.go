package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// fpOrder runs the tasks of ids, one decision each, then stops.
type fpOrder struct{ ids []int }

func (o *fpOrder) Begin(int)     {}
func (o *fpOrder) Spawned(*Task) {}
func (o *fpOrder) Pick(runnable []*Task, last *Task, step int) *Task {
	if step >= len(o.ids) {
		return nil
	}
	for _, t := range runnable {
		if t.ID == o.ids[step] {
			return t
		}
	}
	return nil
}

// fpKeys runs one execution of fns (task i runs fns[i]) in the order of
// ids with footprints on, and returns the GlobalKey and StateKey after
// every step.
func fpKeys(t *testing.T, ids []int, fns ...func(*Task)) (global, state []Key) {
	t.Helper()
	x := NewExplorer(&fpOrder{ids}, HandoffCoroutine)
	defer x.Close()
	x.EnableFootprints()
	x.Reset()
	for i, fn := range fns {
		x.Spawn(fmt.Sprintf("t%d", i), "start", fn)
	}
	x.AfterStep = func(*Task) {
		global = append(global, x.GlobalKey())
		state = append(state, x.StateKey())
	}
	if _, err := x.Run(); err != nil {
		t.Fatal(err)
	}
	if len(global) != len(ids) {
		t.Fatalf("%d steps ran, want %d", len(global), len(ids))
	}
	return global, state
}

func fpLast(k []Key) Key { return k[len(k)-1] }

const (
	fpObjA Obj = 1<<56 | 1
	fpObjB Obj = 1<<56 | 2
)

func fpWriter(o Obj, vals ...uint64) func(*Task) {
	return func(t *Task) {
		for _, v := range vals {
			t.Write(o, v)
		}
	}
}

// TestFootprintIndependentWrites: writes to different objects in either
// order give the same GlobalKey (and StateKey); a different value gives
// another.
func TestFootprintIndependentWrites(t *testing.T) {
	g1, s1 := fpKeys(t, []int{0, 1}, fpWriter(fpObjA, 5), fpWriter(fpObjB, 7))
	g2, s2 := fpKeys(t, []int{1, 0}, fpWriter(fpObjA, 5), fpWriter(fpObjB, 7))
	if fpLast(g1) != fpLast(g2) || fpLast(s1) != fpLast(s2) {
		t.Errorf("independent writes in two orders: GlobalKeys %v / %v, StateKeys %v / %v", fpLast(g1), fpLast(g2), fpLast(s1), fpLast(s2))
	}
	if g1[0] == (Key{}) || g1[0] == fpLast(g1) {
		t.Errorf("a write does not change the GlobalKey: %v, then %v", g1[0], fpLast(g1))
	}
	g3, _ := fpKeys(t, []int{0, 1}, fpWriter(fpObjA, 5), fpWriter(fpObjB, 8))
	if fpLast(g3) == fpLast(g1) {
		t.Errorf("B=7 and B=8 give the same GlobalKey %v", fpLast(g1))
	}
	// Same object, same final value, whoever wrote it.
	g4, _ := fpKeys(t, []int{0, 1}, fpWriter(fpObjA, 3), fpWriter(fpObjA, 5))
	g5, _ := fpKeys(t, []int{1}, fpWriter(fpObjA, 3), fpWriter(fpObjA, 5))
	if fpLast(g4) != fpLast(g5) {
		t.Errorf("A=3 then A=5 and A=5 alone: GlobalKeys %v / %v", fpLast(g4), fpLast(g5))
	}
}

// TestFootprintIdempotentWrite: writing an object's current value back
// changes nothing, nor does writing other values in between.
func TestFootprintIdempotentWrite(t *testing.T) {
	once, _ := fpKeys(t, []int{0}, fpWriter(fpObjA, 5))
	twice, _ := fpKeys(t, []int{0, 1}, fpWriter(fpObjA, 5), fpWriter(fpObjA, 5))
	if once[0] != fpLast(twice) || twice[0] != twice[1] {
		t.Errorf("A=5 once %v, twice %v", once[0], twice)
	}
	back, _ := fpKeys(t, []int{0}, fpWriter(fpObjA, 5, 6, 5))
	if back[0] != once[0] {
		t.Errorf("A=5, A=6, A=5: GlobalKey %v, want that of A=5, %v", back[0], once[0])
	}
}

// TestFootprintObservationHash: what a task reads (Read, RMW) goes into its
// observation hash, hence the StateKey, and not into the GlobalKey; an
// RMW's new value goes into the GlobalKey.
func TestFootprintObservationHash(t *testing.T) {
	step := func(access func(t *Task)) func(*Task) {
		return func(t *Task) {
			access(t)
			t.Step("after") // still alive: its observation hash counts
		}
	}
	run := func(access func(t *Task)) (Key, Key) {
		g, s := fpKeys(t, []int{0}, step(access))
		return g[0], s[0]
	}
	g0, s0 := run(func(*Task) {})
	g1, s1 := run(func(t *Task) { t.Read(fpObjA, 1) })
	g2, s2 := run(func(t *Task) { t.Read(fpObjA, 2) })
	g3, s3 := run(func(t *Task) { t.Read(fpObjB, 1) })
	if g1 != g0 || g2 != g0 || g3 != g0 {
		t.Errorf("reads change the GlobalKey: %v %v %v, none %v", g1, g2, g3, g0)
	}
	if s1 == s0 || s1 == s2 || s1 == s3 {
		t.Errorf("StateKeys of read nothing %v, A=1 %v, A=2 %v, B=1 %v: a read must change it, by object and value", s0, s1, s2, s3)
	}
	r1, rs1 := run(func(t *Task) { t.RMW(fpObjA, 1, 9) })
	r2, rs2 := run(func(t *Task) { t.RMW(fpObjA, 2, 9) })
	w9, ws9 := run(func(t *Task) { t.Write(fpObjA, 9) })
	if r1 != w9 || r2 != w9 {
		t.Errorf("RMW to 9: GlobalKeys %v %v, want that of a write of 9, %v", r1, r2, w9)
	}
	if rs1 == rs2 || rs1 == ws9 {
		t.Errorf("RMW that found 1 and 2, and a plain write: StateKeys %v %v %v", rs1, rs2, ws9)
	}
}

// TestFootprintConflicts: conflicts are symmetric, need a common object
// and a write to it by one side; reads never conflict with reads.
func TestFootprintConflicts(t *testing.T) {
	fps := map[string]Footprint{
		"none":     nil,
		"R(A)":     {{fpObjA, OpRead}},
		"R(B)":     {{fpObjB, OpRead}},
		"W(A)":     {{fpObjA, OpWrite}},
		"W(B)":     {{fpObjB, OpWrite}},
		"RMW(A)":   {{fpObjA, OpRMW}},
		"R(A)R(B)": {{fpObjA, OpRead}, {fpObjB, OpRead}},
		"R(B)W(A)": {{fpObjB, OpRead}, {fpObjA, OpWrite}},
	}
	want := map[[2]string]bool{
		{"R(A)", "W(A)"}: true, {"R(A)", "RMW(A)"}: true, {"W(A)", "W(A)"}: true,
		{"W(A)", "RMW(A)"}: true, {"RMW(A)", "RMW(A)"}: true,
		{"R(B)", "W(B)"}: true, {"W(B)", "W(B)"}: true,
		{"W(B)", "R(A)R(B)"}: true, {"W(A)", "R(A)R(B)"}: true, {"RMW(A)", "R(A)R(B)"}: true,
		{"R(B)W(A)", "R(A)"}: true, {"R(B)W(A)", "W(A)"}: true, {"R(B)W(A)", "RMW(A)"}: true,
		{"R(B)W(A)", "W(B)"}: true, {"R(B)W(A)", "R(A)R(B)"}: true, {"R(B)W(A)", "R(B)W(A)"}: true,
	}
	for a, fa := range fps {
		for b, fb := range fps {
			got, rev := fa.Conflicts(fb), fb.Conflicts(fa)
			if fast := fa.sig().meets(fb.sig()) && sortedConflicts(fa.sorted(), fb.sorted()); fast != got {
				t.Errorf("%s conflicts with %s: %v, the DPOR's fast test says %v", a, b, got, fast)
			}
			if got != rev {
				t.Errorf("%s conflicts with %s: %v, the other way round: %v", a, b, got, rev)
			}
			if w := want[[2]string{a, b}] || want[[2]string{b, a}]; got != w {
				t.Errorf("%s conflicts with %s: %v, want %v", a, b, got, w)
			}
		}
	}
}

// TestSortedConflictsIsConflicts: the DPOR's fast test (signatures that do
// not meet, then the sorted footprints merged) says what Conflicts says,
// on random footprints of 0 to 150 accesses over few or many objects
// (few: most pairs conflict, and repeats of one object in a footprint
// must merge their ops; many: few pairs conflict, and big footprints
// saturate their signatures).
func TestSortedConflictsIsConflicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(objs uint64) Footprint {
		f := make(Footprint, rng.IntN(151))
		for i := range f {
			f[i] = Access{Obj(rng.Uint64N(objs) * 0x9e3779b97f4a7c15), AccessOp(1 + rng.IntN(3))}
		}
		return f
	}
	agree, conflicts := 0, 0
	for i := range 20000 {
		objs := uint64(4)
		if i%2 == 1 {
			objs = 100_000
		}
		f, g := gen(objs), gen(objs)
		if i%7 == 0 {
			f = f[:min(len(f), rng.IntN(3))]
		}
		want := f.Conflicts(g)
		fast := f.sig().meets(g.sig()) && sortedConflicts(f.sorted(), g.sorted())
		if fast != want {
			t.Fatalf("Conflicts %v, the fast test %v:\n%v\n%v", want, fast, f, g)
		}
		if !f.sig().meets(g.sig()) && want {
			t.Fatalf("signatures do not meet, but the footprints conflict:\n%v\n%v", f, g)
		}
		agree++
		if want {
			conflicts++
		}
	}
	// Both answers must be common, or the comparison proves little.
	if conflicts < agree/10 || conflicts > agree*9/10 {
		t.Errorf("%d of %d pairs conflict: the generator does not exercise both answers", conflicts, agree)
	}
}
