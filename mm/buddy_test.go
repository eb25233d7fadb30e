package mm

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refZone is the buddy allocator's free_area as plain slices, head first:
// the reference the linked free lists (zoneState.lru) are checked against.
type refZone struct {
	area  [MAX_ORDER][]int32
	order []int8 // buddy order of a free block's head, else -1
}

func (r *refZone) add(pfn int32, order uint8, tail bool) {
	if tail {
		r.area[order] = append(r.area[order], pfn)
	} else {
		r.area[order] = slices.Insert(r.area[order], 0, pfn)
	}
	r.order[pfn] = int8(order)
}

func (r *refZone) del(pfn int32, order uint8) {
	i := slices.Index(r.area[order], pfn)
	r.area[order] = slices.Delete(r.area[order], i, i+1)
	r.order[pfn] = -1
}

func (r *refZone) isBuddy(pfn int32, order uint8) bool {
	return pfn >= 0 && int(pfn) < len(r.order) && r.order[pfn] == int8(order)
}

// rmqueueSmallest and free are __rmqueue_smallest() and __free_one_page()
// written over the slices, independently of zoneState's.
func (r *refZone) rmqueueSmallest(order uint8) int32 {
	for cur := order; cur < MAX_ORDER; cur++ {
		if len(r.area[cur]) == 0 {
			continue
		}
		pfn := r.area[cur][0]
		r.del(pfn, cur)
		for high := cur; high > order; {
			high--
			r.add(pfn+1<<high, high, false)
		}
		return pfn
	}
	return -1
}

func (r *refZone) free(pfn int32, order uint8, toTail bool) {
	var buddy int32
	for order < MAX_ORDER-1 {
		buddy = pfn ^ 1<<order
		if !r.isBuddy(buddy, order) {
			break
		}
		r.del(buddy, order)
		pfn &= buddy
		order++
	}
	if !toTail && order < MAX_ORDER-2 {
		toTail = r.isBuddy((buddy&pfn)^1<<(order+1), order+1)
	}
	r.add(pfn, order, toTail)
}

// checkZone fails unless z's lists are ref's, element by element and in
// order, with nr_free their length, every link's back link, and no links
// on a page that is on no list.
func checkZone(t *testing.T, z *zoneState, ref *refZone, when string) {
	t.Helper()
	on := make([]bool, len(z.lru))
	for o := range z.freeArea {
		a := &z.freeArea[o]
		var got []int32
		prev := int32(-1)
		for pfn := a.head; pfn >= 0; pfn = z.lru[pfn].next {
			if z.lru[pfn].prev != prev {
				t.Fatalf("%s: order %d: pfn %d's prev is %d, want %d", when, o, pfn, z.lru[pfn].prev, prev)
			}
			if len(got) > len(z.lru) {
				t.Fatalf("%s: order %d: the list loops", when, o)
			}
			got, prev, on[pfn] = append(got, pfn), pfn, true
		}
		if a.tail != prev {
			t.Fatalf("%s: order %d: tail %d, want %d", when, o, a.tail, prev)
		}
		if !slices.Equal(got, ref.area[o]) && len(got)+len(ref.area[o]) > 0 {
			t.Fatalf("%s: order %d: list %v, want %v", when, o, got, ref.area[o])
		}
		if int(a.nrFree) != len(got) {
			t.Fatalf("%s: order %d: nr_free %d, list of %d", when, o, a.nrFree, len(got))
		}
	}
	for pfn, l := range z.lru {
		if !on[pfn] && l != noLink {
			t.Fatalf("%s: pfn %d is on no list but links %v", when, pfn, l)
		}
	}
	if !slices.Equal(z.buddyOrder, ref.order) {
		t.Fatalf("%s: buddy orders differ from the reference", when)
	}
}

// TestFreeListsMatchSlices drives the zone's linked free_area lists and
// the slice reference through the same random allocations and frees of
// blocks of orders 0 to 3, then a reset to a fresh boot, and compares them
// after every operation.
func TestFreeListsMatchSlices(t *testing.T) {
	for seed := range uint64(20) {
		cfg := DefaultConfig()
		cfg.PCP = true
		cfg.NrPages = 256 + int(seed%3)*40 // not always a power of two
		w := newWorld(t, cfg)
		z := &w.k.zone
		rng := rand.New(rand.NewPCG(seed, 1))
		for round := range 3 {
			w.k.resetZone()
			ref := &refZone{order: make([]int8, cfg.NrPages)}
			for i := range ref.order {
				ref.order[i] = -1
			}
			for pfn := int32(0); pfn < int32(cfg.NrPages); {
				o := uint8(z.buddyOrder[pfn])
				ref.add(pfn, o, true)
				pfn += 1 << o
			}
			checkZone(t, z, ref, "fresh boot")
			type block struct {
				pfn   int32
				order uint8
			}
			var held []block
			for range 400 {
				if len(held) > 0 && rng.IntN(5) < 2 {
					i := rng.IntN(len(held))
					b := held[i]
					held = slices.Delete(held, i, i+1)
					toTail := rng.IntN(4) == 0
					z.freeOnePage(b.pfn, b.order, toTail)
					ref.free(b.pfn, b.order, toTail)
				} else {
					order := uint8(rng.IntN(4))
					got, want := z.rmqueueSmallest(order), ref.rmqueueSmallest(order)
					if got != want {
						t.Fatalf("seed %d round %d: rmqueue_smallest(%d) = %d, want %d", seed, round, order, got, want)
					}
					if got >= 0 {
						held = append(held, block{got, order})
					}
				}
				checkZone(t, z, ref, "after an operation")
			}
		}
	}
}
