package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestStateStore: every state added is found by its key and its id, across
// the table's growth and the chunks' boundaries, including keys that share
// their probe's start or their tag; a key never added is not found; a
// cleared store is empty and fills again.
func TestStateStore(t *testing.T) {
	const n = 3<<chunkBits + 123
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

// TestChunked: elements come back in the order added, by index and by
// each, across chunks and after clear, and the pointer push returned for
// the first stays valid as later chunks are added.
func TestChunked(t *testing.T) {
	var l chunked[dporEdge]
	for round := range 2 {
		n := 2<<chunkBits + 9
		first := l.push(dporEdge{from: 0, to: int32(round)})
		for i := 1; i < n; i++ {
			l.push(dporEdge{from: int32(i), to: int32(i + round)})
		}
		if l.n != n || first != l.at(0) || first.to != int32(round) {
			t.Fatalf("round %d: %d elements, first %p %+v, at(0) %p", round, l.n, first, *first, l.at(0))
		}
		i := 0
		l.each(func(e dporEdge) {
			if e.from != int32(i) || e.to != int32(i+round) || *l.at(i) != e {
				t.Fatalf("round %d: edge %d is %+v, at(%d) %+v", round, i, e, i, *l.at(i))
			}
			i++
		})
		if i != n {
			t.Fatalf("round %d: %d edges, want %d", round, i, n)
		}
		l.clear()
	}
}

// TestTarjan: on random graphs, the components tarjan reports are the
// classes of mutual reachability (brute force: a transitive closure), each
// state in exactly one, completed in an order where no later component
// reaches back into an earlier one; the compressed rows hold each
// state's edges in discovery order; and visit's true stops the walk.
func TestTarjan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := 1 + rng.IntN(12)
		var d DPOR
		var added []dporEdge
		for range rng.IntN(3 * n) {
			e := dporEdge{from: int32(rng.IntN(n)), to: int32(rng.IntN(n)), task: int32(rng.IntN(4))}
			d.edges.push(e)
			added = append(added, e)
		}
		for i := range n {
			d.states.add(dporState{key: Key{A: uint64(i), B: uint64(i)}})
		}
		g := d.graph()
		for v := range int32(n) {
			var want []dporEdge
			for _, e := range added {
				if e.from == v {
					want = append(want, e)
				}
			}
			if got := g.out(v); !slices.Equal(got, want) {
				t.Fatalf("trial %d: state %d's edges %v, want %v", trial, v, got, want)
			}
		}
		reach := make([][]bool, n)
		for i := range reach {
			reach[i] = make([]bool, n)
			reach[i][i] = true
		}
		for _, e := range added {
			reach[e.from][e.to] = true
		}
		for k := range n {
			for i := range n {
				for j := range n {
					reach[i][j] = reach[i][j] || reach[i][k] && reach[k][j]
				}
			}
		}
		compOf := make([]int, n)
		for i := range compOf {
			compOf[i] = -1
		}
		var comps [][]int32
		tarjan(g, func(comp []int32) bool {
			comps = append(comps, slices.Clone(comp))
			return false
		})
		for c, comp := range comps {
			for _, v := range comp {
				if compOf[v] >= 0 {
					t.Fatalf("trial %d: state %d in two components", trial, v)
				}
				compOf[v] = c
			}
		}
		for i := range n {
			if compOf[i] < 0 {
				t.Fatalf("trial %d: state %d in no component", trial, i)
			}
			for j := range n {
				same := reach[i][j] && reach[j][i]
				if same != (compOf[i] == compOf[j]) {
					t.Fatalf("trial %d: states %d and %d: mutually reachable %v, same component %v", trial, i, j, same, compOf[i] == compOf[j])
				}
				if reach[i][j] && compOf[i] < compOf[j] {
					t.Fatalf("trial %d: component %d reaches the later %d", trial, compOf[i], compOf[j])
				}
			}
		}
		calls := 0
		tarjan(g, func([]int32) bool { calls++; return true })
		if calls != 1 {
			t.Fatalf("trial %d: %d visits after one returned true", trial, calls)
		}
	}
}
