package sim

// objTable is the footprinter's map from object to current value: open
// addressing with linear probing over one array, and a generation per slot
// so that the reset between executions is one increment, not a sweep. A
// verify search writes it at every step of every execution, replays
// included; as a Go map it was a seventh of a search's time (race D at two
// opens).
type objTable struct {
	slots []objSlot
	gen   uint32 // a slot is in use iff its gen is this
	n     int
}

type objSlot struct {
	o   Obj
	v   uint64
	gen uint32
}

// find is the slot of o, or the empty slot where it would go.
func (t *objTable) find(o Obj) *objSlot { return &t.slots[t.index(o)] }

// index is find's slot number.
func (t *objTable) index(o Obj) uint64 {
	mask := uint64(len(t.slots) - 1)
	for i := mix64(uint64(o)) & mask; ; i = (i + 1) & mask {
		if s := &t.slots[i]; s.gen != t.gen || s.o == o {
			return i
		}
	}
}

// swap stores v for o and returns the value it replaces (ok false if o
// had none).
func (t *objTable) swap(o Obj, v uint64) (old uint64, ok bool) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	s := t.find(o)
	if s.gen == t.gen {
		old, s.v = s.v, v
		return old, true
	}
	*s = objSlot{o: o, v: v, gen: t.gen}
	t.n++
	return 0, false
}

func (t *objTable) grow() {
	old, gen := t.slots, t.gen
	t.slots, t.gen, t.n = make([]objSlot, max(2*len(old), 256)), 1, 0
	for _, s := range old {
		if s.gen == gen {
			*t.find(s.o) = objSlot{o: s.o, v: s.v, gen: 1}
			t.n++
		}
	}
}

// reset empties the table, keeping its memory.
func (t *objTable) reset() {
	t.n = 0
	t.gen++
	if t.gen == 0 {
		// Wrapped: a stale slot could carry the new generation.
		clear(t.slots)
		t.gen = 1
	}
}

// del removes o, if present: the undo of its first write this execution
// (footprinter.rewind). Backward-shift deletion (Knuth, TAOCP vol. 3,
// 6.4, Algorithm R): the entries after o's slot in its run move back
// into the hole unless their home slot lies cyclically after it, so that
// every entry stays reachable from its home without tombstones.
func (t *objTable) del(o Obj) {
	if len(t.slots) == 0 {
		return
	}
	i := t.index(o)
	if t.slots[i].gen != t.gen {
		return
	}
	mask := uint64(len(t.slots) - 1)
	for j := (i + 1) & mask; t.slots[j].gen == t.gen; j = (j + 1) & mask {
		home := mix64(uint64(t.slots[j].o)) & mask
		// j stays where it is if its home is in the cyclic range (i, j].
		if (i < j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i].gen = 0 // never a current generation: grow starts at 1
	t.n--
}
