package sim

import "testing"

// TestStateStore: every state added is found by its key and its id, across
// the table's growth and the chunks' boundaries, including keys that share
// their probe's start or their tag; a key never added is not found; a
// cleared store is empty and fills again.
func TestStateStore(t *testing.T) {
	const n = 3<<stateChunkBits + 123
	keys := func(i int) Key {
		switch {
		case i < 200: // the same A: one probe start
			return Key{A: 7, B: uint64(i)}
		case i%2 == 0: // the same tag (B's top half) for all of these
			return Key{A: mix64(uint64(i)), B: 0xabcd<<32 | uint64(i)}
		}
		return Key{A: mix64(uint64(i) ^ 0x55), B: mix64(uint64(i))}
	}
	var s stateStore
	for round := range 2 {
		m := n
		if round == 1 {
			m = 5000 // after clear: fewer, in the kept memory
		}
		for i := range m {
			if s.get(keys(i)) != nil {
				t.Fatalf("round %d: key %d found before it was added", round, i)
			}
			st := s.add(dporState{key: keys(i), sleep: uint64(i), parent: int32(i) - 1})
			if st.id != int32(i) || st.key != keys(i) {
				t.Fatalf("round %d: add %d: id %d key %v", round, i, st.id, st.key)
			}
		}
		if s.len() != m {
			t.Fatalf("round %d: len %d, want %d", round, s.len(), m)
		}
		for i := range m {
			st := s.get(keys(i))
			if st == nil || st != s.at(int32(i)) || st.sleep != uint64(i) || st.parent != int32(i)-1 {
				t.Fatalf("round %d: key %d: got %+v", round, i, st)
			}
		}
		if s.get(Key{A: 7, B: 1 << 62}) != nil || s.get(Key{A: 1, B: 0xabcd << 32}) != nil {
			t.Fatalf("round %d: found a key never added", round)
		}
		s.clear()
		if s.len() != 0 || s.get(keys(0)) != nil {
			t.Fatalf("round %d: clear left states", round)
		}
	}
}

// TestEdgeList: edges come back in the order added, across chunks.
func TestEdgeList(t *testing.T) {
	var l edgeList
	for round := range 2 {
		n := 2<<edgeChunkBits + 9
		for i := range n {
			l.add(dporEdge{from: int32(i), to: int32(i + round)})
		}
		i := 0
		l.each(func(e dporEdge) {
			if e.from != int32(i) || e.to != int32(i+round) {
				t.Fatalf("round %d: edge %d is %+v", round, i, e)
			}
			i++
		})
		if i != n {
			t.Fatalf("round %d: %d edges, want %d", round, i, n)
		}
		l.clear()
	}
}
