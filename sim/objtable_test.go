package sim

import (
	"math/rand/v2"
	"testing"
)

// TestObjTable: random swaps and deletions against a Go map, over resets (each one an
// empty table again, whatever the slots held) and growth, with objects
// that share their low bits and object 0, and across a generation that
// wraps (round 102 must not see round 0's slots).
func TestObjTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tb objTable
	for round := range 200 {
		want := map[Obj]uint64{}
		n := rng.IntN(2000)
		for range n {
			o := Obj(rng.IntN(n/2+1)) << (rng.IntN(3) * 20) // 0 included, low bits shared
			v := rng.Uint64() % 4
			if rng.IntN(4) == 0 {
				// The undo of a first write (footprinter.rewind).
				tb.del(o)
				delete(want, o)
				continue
			}
			old, ok := tb.swap(o, v)
			wold, wok := want[o]
			if ok != wok || old != wold {
				t.Fatalf("round %d: swap(%#x, %d) = %d, %v; want %d, %v", round, o, v, old, ok, wold, wok)
			}
			want[o] = v
		}
		if tb.n != len(want) {
			t.Fatalf("round %d: %d objects, want %d", round, tb.n, len(want))
		}
		// Every object left is found with its value: a deletion that
		// broke a probe run would hide one.
		for o, v := range want {
			if s := tb.find(o); s.gen != tb.gen || s.v != v {
				t.Fatalf("round %d: %#x lost after deletions", round, o)
			}
		}
		tb.reset()
		if round == 100 {
			tb.gen = ^uint32(0) // the reset after round 101 wraps to 1, which round 0 used
		}
	}
}
