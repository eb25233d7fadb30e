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

// chunkBits sizes a chunked list's chunks: 2^16 elements (3 MiB of
// states, 768 KiB of edges).
const chunkBits = 16

// chunked is a list filled in chunks that never move and are never copied:
// a *T into one stays valid, and growing it does not hold two copies of
// everything at once, as a slice doubled by append would.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

// push appends v and returns a pointer to it.
func (l *chunked[T]) push(v T) *T {
	if l.n>>chunkBits == len(l.chunks) {
		l.chunks = append(l.chunks, make([]T, 0, 1<<chunkBits))
	}
	c := &l.chunks[l.n>>chunkBits]
	*c = append(*c, v)
	l.n++
	return &(*c)[len(*c)-1]
}

// at is element i.
func (l *chunked[T]) at(i int) *T { return &l.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

// clear empties the list, keeping its chunks.
func (l *chunked[T]) clear() {
	for i := range l.chunks {
		l.chunks[i] = l.chunks[i][:0]
	}
	l.n = 0
}

// each calls f for every element in order.
func (l *chunked[T]) each(f func(T)) {
	for _, c := range l.chunks {
		for _, v := range c {
			f(v)
		}
	}
}

// stateStore holds the states by id, in discovery order, and finds them
// by key.
type stateStore struct {
	states chunked[dporState]
	// slots: open addressing with linear probing, a power of two long,
	// at most 3/4 full. A slot is 0 (empty) or the state's id+1 in its
	// low 32 bits and the top 32 bits of its key's B in its high 32: a
	// probe compares those before it reads the state.
	slots []uint64
}

// len is the number of states.
func (s *stateStore) len() int { return s.states.n }

// at is the state with the given id.
func (s *stateStore) at(id int32) *dporState { return s.states.at(int(id)) }

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
	if 4*(s.states.n+1) > 3*len(s.slots) {
		s.grow()
	}
	st.id = int32(s.states.n)
	p := s.states.push(st)
	s.index(p.key, p.id)
	return p
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
	for id := range int32(s.states.n) {
		s.index(s.at(id).key, id)
	}
}

// clear drops every state, keeping the table's memory.
func (s *stateStore) clear() {
	clear(s.slots)
	s.states.clear()
}
