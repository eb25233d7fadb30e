package sim

// Footprints: what each step touches.
//
// The reductions behind -strategy dpor (sleep sets, state caching) need to
// know, for every step, which pieces of shared state it read and wrote. The
// model reports them as it runs: every access to state another task can
// observe calls Read, Write or RMW on the running task, naming the object
// (an Obj: a page's flag bit, a refcount, an xarray slot, a wait queue, a
// task's state word, a disk block, ...) and the value read or written, in a
// canonical encoding (pointers as stable ids: a page as its pfn+1, a
// mapping as its inode number+1). Sync names a lock word: dependence only.
//
// The values make the footprint serve a second purpose, sound state
// caching. The Explorer keeps, per execution, the current value of every
// object written since the execution proper began; an object never written
// still holds its value after set-up, which is the same in every execution
// of a cell. So the set of (object, value) pairs written is the global
// state, up to objects written back to their initial value (which only
// costs merging, never soundness). A task's local state (its Go locals, its
// position) is a deterministic function of its spawn and of the sequence of
// values its steps read: the task's observation hash chains those values
// and a marker per step. The state key is the global hash combined with
// every task's observation hash and scheduler status (asleep, finished,
// fatal signal): equal keys mean equal futures, up to a 128-bit hash
// collision (hash compaction, Holzmann, "An analysis of bitstate hashing",
// FMSD 1998; at 1e6 states the chance of one collision is below 1e-26).
//
// A retry loop (goto repeat) makes a task's observation history grow
// without bound although its local state repeats; CutPoint declares the
// loop head's whole local state, so that a spin that changes nothing
// revisits a state and the search sees a cycle instead of an infinite path.
//
// A missing access makes both uses unsound without a visible symptom; the
// completeness tests (package bench) check the footprints against a
// reflection walk of the whole model and by commuting independent steps.

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// Obj names one piece of shared model state. The model chooses the
// encoding (package mm: a kind in the top byte); sim reserves kind 0xff.
type Obj uint64

// AccessOp is how a step touched an object.
type AccessOp uint8

const (
	// OpRead is a load whose value the task uses.
	OpRead AccessOp = 1 << iota
	// OpWrite is a store.
	OpWrite
	// OpRMW is an atomic read-modify-write: a read and a write.
	OpRMW = OpRead | OpWrite
)

func (o AccessOp) String() string {
	switch o {
	case OpRead:
		return "R"
	case OpWrite:
		return "W"
	case OpRMW:
		return "RMW"
	}
	return "?"
}

// Access is one entry of a step's footprint.
type Access struct {
	Obj Obj
	Op  AccessOp
}

// Footprint is what one step touched, in program order (an object may
// appear more than once).
type Footprint []Access

// Conflicts reports whether two footprints are dependent: some object is
// touched by both and written by at least one. Independent steps of
// different tasks commute: either order reaches the same state and each
// step reads the same values.
func (f Footprint) Conflicts(g Footprint) bool {
	for _, a := range f {
		for _, b := range g {
			if a.Obj == b.Obj && (a.Op|b.Op)&OpWrite != 0 {
				return true
			}
		}
	}
	return false
}

// fpSig summarizes a footprint for a quick independence test: bit
// mix64(obj)%64 of every object it touches (all) and of every object it
// writes (wr). Two footprints that conflict set a common bit in one's wr
// and the other's all, so a pair whose signatures do not meet is
// independent without comparing the footprints; a pair that meets is
// decided on the footprints (two objects may share a bit).
type fpSig struct{ all, wr uint64 }

// sig is f's signature.
func (f Footprint) sig() fpSig {
	var s fpSig
	for _, a := range f {
		bit := uint64(1) << (mix64(uint64(a.Obj)) & 63)
		s.all |= bit
		if a.Op&OpWrite != 0 {
			s.wr |= bit
		}
	}
	return s
}

// meets reports whether footprints of signatures s and t may conflict:
// false means they do not.
func (s fpSig) meets(t fpSig) bool { return s.wr&t.all != 0 || s.all&t.wr != 0 }

// sorted is f in a new slice sorted by object, each object once with the
// union of its ops: Conflicts of two such footprints is sortedConflicts,
// linear instead of quadratic. Conflicts depends only on that union (an
// object both touch conflicts when either side writes it at least once).
//
// A step touches a few objects, but a pcp refill with CONFIG_DEBUG_VM off
// checks sixty-three pages' flags (rmqueue_bulk → check_pcp_refill), and
// the source-set DPOR compares every new step with every earlier one on
// the stack: comparing two refills pairwise was half the time of a
// search of race-b-truncate's cell, whose signatures (over a hundred
// objects in 64 bits) always meet.
func (f Footprint) sorted() Footprint { return f.sortedInto(nil) }

// sortedInto is sorted in buf's memory if it is large enough.
func (f Footprint) sortedInto(buf Footprint) Footprint {
	out := append(buf[:0], f...)
	slices.SortFunc(out, func(a, b Access) int { return cmp.Compare(a.Obj, b.Obj) })
	n := 0
	for _, a := range out {
		if n > 0 && out[n-1].Obj == a.Obj {
			out[n-1].Op |= a.Op
			continue
		}
		out[n] = a
		n++
	}
	return out[:n]
}

// sortedConflicts is Conflicts of two footprints made by sorted.
func sortedConflicts(f, g Footprint) bool {
	i, j := 0, 0
	for i < len(f) && j < len(g) {
		switch {
		case f[i].Obj < g[j].Obj:
			i++
		case f[i].Obj > g[j].Obj:
			j++
		default:
			if (f[i].Op|g[j].Op)&OpWrite != 0 {
				return true
			}
			i++
			j++
		}
	}
	return false
}

// Objects reserved by sim (kind 0xff).
const (
	objSim       Obj = 0xff << 56
	objTaskState     = objSim | 1<<48 // | task ID: the task's state word
	objTaskKill      = objSim | 2<<48 // | task ID: its pending fatal signal
	objTaskSpawn     = objSim | 3<<48 // | task ID: its creation
	objRunning       = objSim | 4<<48 // the machine has not oopsed
	objTaskCount     = objSim | 5<<48 // the number of tasks (spawn order)
)

// TaskStateObj is the object of task id's state word (p->__state).
func TaskStateObj(id int) Obj { return objTaskState | Obj(id) }

// footprinter is the Explorer's recording of footprints and state.
type footprinter struct {
	// on: recording (during Run, not during set-up).
	on bool
	// light: only the accesses are kept (EnableAccessLog), not the values
	// and observation hashes of the state key.
	light bool
	// cur is the running step's footprint.
	cur Footprint
	// vals: the current value of every object written this execution.
	vals objTable
	// global is the XOR of mix(obj, value) over vals.
	global Key

	// What lets a search that replays a prefix skip recording it
	// (PrefixReplayer): with logging set, every change to vals goes to
	// log, and every step, when it ends, leaves in snaps the log's length,
	// global and its task's observation hash and stack (in frames); obs0
	// is every task's obs0 by ID. None of it is reset between executions:
	// they stay valid for the steps that the next execution repeats.
	logging bool
	log     []undoEntry
	snaps   []stepSnap
	frames  []obsFrame
	obs0    []Key
	found   []bool
}

// undoEntry is one change to vals: o held old before (had false: nothing).
type undoEntry struct {
	o   Obj
	old uint64
	had bool
}

// stepSnap is what a step left: the log's length, the global hash, and
// its task's observation hash and stack (frames[frame:frame+n]).
type stepSnap struct {
	task   int32
	frame  int32
	n      int32
	mark   int32
	obs    Key
	global Key
}

// Key is a 128-bit state hash.
type Key struct{ A, B uint64 }

func (k Key) xor(o Key) Key { return Key{k.A ^ o.A, k.B ^ o.B} }

// mix64 is the splitmix64 finalizer (Steele, Lea, Flood: "Fast splittable
// pseudorandom number generators", OOPSLA 2014).
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// pairKey hashes an (a, b) pair into 128 bits with two independent mixes.
func pairKey(a, b uint64) Key {
	return Key{
		A: mix64(mix64(a^0x9e3779b97f4a7c15) ^ b),
		B: mix64(mix64(a+0x632be59bd9b4e019) ^ mix64(b^0xd6e8feb86659fd93)),
	}
}

// chain extends an observation hash with one value: each lane absorbs v,
// one by xor and one by addition, and goes through the mixer (a
// bijection). Two histories collide in a lane only when their earlier
// lane values differ by exactly what their new values do, a pseudo-random
// coincidence, and in both lanes at once only if the xor and the sum
// coincide together. One mix per lane: a task chains every value it
// reads (a pcp refill reads 63 pages' flags), and mixing v again in
// each lane made hashing a fifth of a race B search.
func chain(h Key, v uint64) Key {
	return Key{A: mix64(h.A ^ (v + 0x9e3779b97f4a7c15)), B: mix64(h.B + (v ^ 0xa0761d6478bd642f))}
}

// chainAccess extends an observation hash with one access: object o
// seen holding v. It is chain(chain(h, o), v) with one mix per lane: the
// lanes combine o and v differently (o xor an odd multiple of v; o plus
// an odd multiple of v rotated), each a bijection of v for a given o, so
// two different accesses combine to the same word in both lanes only by
// a coincidence of the two. A task chains every access it reads, and a
// pcp refill reads sixty-three pages' flags.
func chainAccess(h Key, o Obj, v uint64) Key {
	return Key{
		A: mix64(h.A ^ (uint64(o) ^ v*0x9e3779b97f4a7c15)),
		B: mix64(h.B + (uint64(o) + bits.RotateLeft64(v, 32)*0xa0761d6478bd642f)),
	}
}

// Footprinting reports whether the task's accesses are recorded: the model
// may skip computing values it reports only then.
func (t *Task) Footprinting() bool { return t.fp != nil }

// FootprintValues reports whether the values reported with the accesses
// are kept (EnableFootprints: the state key); with EnableAccessLog only
// the accesses are, and the model may report 0 for a value that is
// costly to compute.
func (t *Task) FootprintValues() bool { return t.fp != nil && !t.fp.light }

// Read reports that the running step loaded object o and learned v: the
// value, or only the part of it the code goes on to use (the outcome of a
// test, a bit). What the task learns is what its future may depend on, so
// reporting less than it uses is unsound, and reporting more than it uses
// only splits states that are equal (a refcount value where only "was it
// zero" matters makes every count a different state).
func (t *Task) Read(o Obj, v uint64) {
	if t.fp != nil {
		t.read(o, v)
	}
}

// Write reports that the running step stored v into object o (v is the
// object's whole new value in its canonical encoding).
func (t *Task) Write(o Obj, v uint64) {
	if t.fp != nil {
		t.write(o, v)
	}
}

// RMW reports an atomic read-modify-write of o that left new and told the
// task seen: what the operation returns and the code uses (the old bit of
// test_and_set_bit, whether atomic_dec_and_test reached zero; 0 for
// set_bit, atomic_inc and the like, which return nothing), as for Read.
func (t *Task) RMW(o Obj, seen, new uint64) {
	if t.fp != nil {
		t.rmw(o, seen, new)
	}
}

// Sync reports an access to a lock word that leaves no state behind (a
// spinlock taken and released within the step): dependence only. It makes
// every two sections under the same lock dependent, a safety net under the
// accesses to the data the lock protects, which are reported too.
func (t *Task) Sync(o Obj) {
	if t.fp != nil && t.fp.on {
		t.fp.cur = append(t.fp.cur, Access{o, OpRMW})
	}
}

// CutPoint declares a loop head (a retry, a goto repeat) inside the
// innermost function the task has Entered: from here on the task's
// behaviour depends only on what it was when it entered that function, on
// this site, and on vals, the function's locals that are live here (its
// arguments are covered by the entry). The observation history restarts
// from that summary, so that a spin that changes nothing shows up as a
// cycle of states. Declaring too little is unsound: list every local the
// rest of the function reads.
func (t *Task) CutPoint(site string, vals ...uint64) {
	if t.fp == nil || !t.fp.on {
		return
	}
	if t.fp.light {
		t.x.cutPoints++
		return
	}
	h := t.obsEntry()
	h = chain(h, 0xc07c07c07c07c07)
	h = chain(h, strHash(site))
	for _, v := range vals {
		h = chain(h, v)
	}
	t.obs = h
	t.x.cutPoints++
}

func (t *Task) obsEntry() Key {
	if n := len(t.obsStack); n > 0 {
		return t.obsStack[n-1].entry
	}
	return t.obs0
}

// obsFrame is an Entered function's part of the observation history: the
// hash at entry and, once the function declared it (Return), what it
// hands back to its caller.
type obsFrame struct {
	entry    Key
	returned bool
	ret      Key
}

// Return declares, just before the innermost Entered function returns,
// everything its caller can learn from the call: vals are its results (a
// page as its pfn+1, an error as its number; none for a function without
// results). At Exit the task's observation history then forgets what the
// function read and keeps only its entry, its name and vals, so that two
// calls that read different values on the way but hand back the same
// result leave the task in the same state.
//
// Declaring it is a promise: the function changes no task-local memory
// its caller reads later (an output argument, a field of the task's own
// that is not a reported object) other than through vals. Everything it
// changes in shared state is reported and lives in the global state
// anyway. Where the promise cannot be kept, do not call Return: the
// history is then kept whole (sound, only less merging).
func (t *Task) Return(vals ...uint64) {
	if t.fp == nil || !t.fp.on || t.fp.light || len(t.obsStack) == 0 {
		return
	}
	f := &t.obsStack[len(t.obsStack)-1]
	h := Key{A: 0x7e7, B: 0x7e7}
	for _, v := range vals {
		h = chain(h, v)
	}
	f.returned, f.ret = true, h
}

func (t *Task) exitObs(fn string) {
	n := len(t.obsStack) - 1
	f := t.obsStack[n]
	t.obsStack = t.obsStack[:n]
	if f.returned && t.fp.on {
		t.obs = chain(chain(chain(f.entry, strHash(fn)), f.ret.A), f.ret.B)
	}
}

// strHash is FNV-1a.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

//go:noinline
func (t *Task) read(o Obj, v uint64) {
	f := t.fp
	if !f.on {
		return
	}
	f.cur = append(f.cur, Access{o, OpRead})
	if !f.light {
		t.obs = chainAccess(t.obs, o, v)
	}
}

//go:noinline
func (t *Task) write(o Obj, v uint64) {
	f := t.fp
	if !f.on {
		return
	}
	f.cur = append(f.cur, Access{o, OpWrite})
	if !f.light {
		f.set(o, v)
	}
}

//go:noinline
func (t *Task) rmw(o Obj, seen, new uint64) {
	f := t.fp
	if !f.on {
		return
	}
	f.cur = append(f.cur, Access{o, OpRMW})
	if !f.light {
		t.obs = chainAccess(t.obs, o, seen)
		f.set(o, new)
	}
}

func (f *footprinter) set(o Obj, v uint64) {
	old, ok := f.vals.swap(o, v)
	if ok {
		if old == v {
			return
		}
		f.global = f.global.xor(pairKey(uint64(o), old))
	}
	f.global = f.global.xor(pairKey(uint64(o), v))
	if f.logging {
		f.log = append(f.log, undoEntry{o, old, ok})
	}
}

func (f *footprinter) reset() {
	f.vals.reset()
	f.global = Key{}
	f.cur = f.cur[:0]
	f.on = false
	f.log, f.snaps, f.frames = f.log[:0], f.snaps[:0], f.frames[:0]
}

// record keeps what step i, just ended by task t, left. Steps are recorded
// in order from the first one not replayed.
func (f *footprinter) record(i int, t *Task) {
	if i != len(f.snaps) {
		panic(fmt.Sprintf("sim: step %d recorded after %d", i, len(f.snaps)))
	}
	f.snaps = append(f.snaps, stepSnap{
		task: int32(t.ID), frame: int32(len(f.frames)), n: int32(len(t.obsStack)),
		mark: int32(len(f.log)), obs: t.obs, global: f.global,
	})
	f.frames = append(f.frames, t.obsStack...)
}

// setObs0 keeps the obs0 of a task spawned while recording.
func (f *footprinter) setObs0(id int, k Key) {
	for len(f.obs0) <= id {
		f.obs0 = append(f.obs0, Key{})
	}
	f.obs0[id] = k
}

// rewind makes the recording what it was when step r-1 ended, in the
// execution that last ran it: the values the later steps wrote are put
// back (their log undone, newest first), and every task's observation
// hash and stack become what its last step up to r-1 left, or its obs0
// if it has not run. The execution under way has replayed steps 0..r-1
// without recording (the same decisions, so the same steps): the model
// is where that execution was, and now so is its recording.
func (f *footprinter) rewind(r int, tasks []*Task) {
	end := f.snaps[r-1]
	for i := len(f.log) - 1; i >= int(end.mark); i-- {
		u := f.log[i]
		if u.had {
			f.vals.swap(u.o, u.old)
		} else {
			f.vals.del(u.o)
		}
	}
	f.log = f.log[:end.mark]
	f.global = end.global
	f.snaps = f.snaps[:r]
	f.frames = f.frames[:end.frame+end.n]
	if cap(f.found) < len(tasks) {
		f.found = make([]bool, len(tasks))
	}
	f.found = f.found[:len(tasks)]
	clear(f.found)
	left := len(tasks)
	for i := r - 1; i >= 0 && left > 0; i-- {
		s := f.snaps[i]
		if f.found[s.task] {
			continue
		}
		f.found[s.task] = true
		left--
		t := tasks[s.task]
		t.obs = s.obs
		t.obsStack = append(t.obsStack[:0], f.frames[s.frame:s.frame+s.n]...)
	}
	for id, t := range tasks {
		t.fp = f
		t.obs0 = f.obs0[id]
		if !f.found[id] {
			t.obs, t.obsStack = t.obs0, t.obsStack[:0]
		}
	}
}
