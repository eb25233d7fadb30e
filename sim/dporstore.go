package sim

// The DPOR search's memory is its states: every distinct state it reaches
// stays cached to the end (that is what makes it a proof), so a search of
// tens of millions of states is bounded by bytes per state, not by time
// (race D at its seed's two opens: 40 million states in five minutes on
// one core, 173 bytes each when they were Go objects behind a Go map).
// The store keeps them in pointer-free chunks, indexed by an
// open-addressing table of ids, so that a state costs its 48 bytes, 11 to
// 21 of index (8-byte slots, 3/8 to 3/4 full) and 12 per edge, and the
// collector has nothing in them to scan.

// stateChunkBits sizes the store's chunks: 2^16 states of 48 bytes (3
// MiB) each. A chunk never moves, so a *dporState into it stays valid.
const stateChunkBits = 16

// stateStore holds the states by id, in discovery order, and finds them
// by key.
type stateStore struct {
	chunks [][]dporState
	n      int32
	// slots: open addressing with linear probing, a power of two long,
	// at most 3/4 full. A slot is 0 (empty) or the state's id+1 in its
	// low 32 bits and the top 32 bits of its key's B in its high 32: a
	// probe compares those before it reads the state.
	slots []uint64
}

// len is the number of states.
func (s *stateStore) len() int { return int(s.n) }

// at is the state with the given id.
func (s *stateStore) at(id int32) *dporState {
	return &s.chunks[id>>stateChunkBits][id&(1<<stateChunkBits-1)]
}

// slot is where a key's probe starts (its A is an XOR of mixed hashes,
// mixed once more so that any of its bits may serve as the index).
func (s *stateStore) slot(k Key) uint64 { return mix64(k.A) & uint64(len(s.slots)-1) }

// get is the state with key k, or nil.
func (s *stateStore) get(k Key) *dporState {
	if len(s.slots) == 0 {
		return nil
	}
	tag := k.B >> 32 << 32
	mask := uint64(len(s.slots) - 1)
	for i := s.slot(k); ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			return nil
		}
		if v&^(1<<32-1) == tag {
			if st := s.at(int32(uint32(v)) - 1); st.key == k {
				return st
			}
		}
	}
}

// add stores a new state (st.key not yet present) with the next id and
// returns it.
func (s *stateStore) add(st dporState) *dporState {
	if 4*(int(s.n)+1) > 3*len(s.slots) {
		s.grow()
	}
	st.id = s.n
	if int(s.n>>stateChunkBits) == len(s.chunks) {
		s.chunks = append(s.chunks, make([]dporState, 0, 1<<stateChunkBits))
	}
	c := &s.chunks[s.n>>stateChunkBits]
	*c = append(*c, st)
	s.n++
	s.index(st.key, st.id)
	return &(*c)[len(*c)-1]
}

func (s *stateStore) index(k Key, id int32) {
	mask := uint64(len(s.slots) - 1)
	i := s.slot(k)
	for s.slots[i] != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = k.B>>32<<32 | uint64(uint32(id+1))
}

// grow doubles the table and indexes every state again.
func (s *stateStore) grow() {
	s.slots = make([]uint64, max(2*len(s.slots), 1024))
	for id := range s.n {
		s.index(s.at(id).key, id)
	}
}

// clear drops every state, keeping the table's memory.
func (s *stateStore) clear() {
	clear(s.slots)
	for i := range s.chunks {
		s.chunks[i] = s.chunks[i][:0]
	}
	s.n = 0
}

// edgeChunkBits sizes the edge list's chunks: 2^16 edges of 12 bytes.
const edgeChunkBits = 16

// edgeList is the explored edges in discovery order, in chunks that are
// filled and never copied (a slice doubled by append would copy them all
// and hold both copies at once).
type edgeList struct {
	chunks [][]dporEdge
	n      int
}

func (l *edgeList) add(e dporEdge) {
	if l.n>>edgeChunkBits == len(l.chunks) {
		l.chunks = append(l.chunks, make([]dporEdge, 0, 1<<edgeChunkBits))
	}
	c := &l.chunks[l.n>>edgeChunkBits]
	*c = append(*c, e)
	l.n++
}

func (l *edgeList) clear() {
	for i := range l.chunks {
		l.chunks[i] = l.chunks[i][:0]
	}
	l.n = 0
}

// each calls f for every edge in discovery order.
func (l *edgeList) each(f func(dporEdge)) {
	for _, c := range l.chunks {
		for _, e := range c {
			f(e)
		}
	}
}
