package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// Greybox is coverage-guided greybox fuzzing of schedules: the loop of AFL
// (Zalewski, "american fuzzy lop", technical details) with the power
// schedule of AFLFast (Böhme, Pham, Roychoudhury: "Coverage-based Greybox
// Fuzzing as Markov Chain", CCS 2016), over the schedules of per-task PCT,
// with reads-from pairs as coverage as in RFF (Wolff, Shi, Zheng,
// Roychoudhury: "Greybox Fuzzing for Concurrency Testing", ASPLOS 2024).
//
// The random samplers draw every execution afresh: a race that needs six
// ordering constraints needs all six drawn right at once. A fuzzer keeps
// what got part of the way. An execution is a genome, the choices of
// PCTRacy with PerTask made explicit: a priority per task name, and change
// points, each a task name and the number of that task's racy step before
// which it drops below every other task (so a genome can hold a completion
// just before its wake-up while six other tasks run). The execution's
// coverage is its reads-from pairs: a step that read an object paired
// with the step that last wrote it, each step named by its task and
// scheduling point, and the object by its kind, not by itself ("cpu2's
// allocation read the free list kw2's drain wrote" is the behaviour,
// whichever page it was: naming the page split the coverage so finely
// that race B took twice the executions). A genome whose
// execution produced a pair no execution of the campaign produced before
// joins the corpus. The next genome is, with probability FreshProb, a fresh
// one (a pct-task execution of random depth up to MaxChanges+1), else a
// corpus entry mutated by one to MaxEdits edits (two tasks' priorities
// swapped, one redrawn, a change point added, removed or moved by a racy
// step). The entry is drawn with weight 1/f, f the executions that
// produced the rarest pair it added: AFLFast's FAST schedule, which gives
// the energy to the entries that reach rare behaviour. A partial race (a
// page freed while its completion is held; the freed page allocated again)
// is a new pair, so a deep race is built one ordering at a time instead of
// all at once.
//
// Coverage is AFL's: a table of 2^16 counters indexed by the pair's hash
// (a collision merges two pairs; with a few thousand pairs per cell that
// rarely hides one). The last writer of each object is kept in an
// open-addressed table stamped with the execution number and kept half
// empty, so that the per-step work is a few probes and no allocation once
// the table has grown to the cell's objects.
//
// In greybox-irq (NewGreyboxIRQ), every change point a genome draws falls
// on a profiled I/O completion (Profile.CompletionNames), as pct-irq's
// do: greybox over pct-irq's schedules. Races A and B hold a writeback
// completion between clearing PG_writeback and its wake-up while other
// tasks free and reuse the page; race B has 14 task names and 3
// completions, so a change point lands on the completion that must be
// held 14/3 times as often, and the corpus builds the order of the
// others from there. A race that needs any other task held (race E's
// btrfs; C1, none of whose chain is a completion) is then out of its
// reach, as it is of pct-irq's.
//
// An execution follows from those before it, so a Greybox cell cannot be
// split over goroutines or shards: the campaign is deterministic for its
// seed and every failure it finds is a recorded schedule that replays
// without it. It has no probability bound: its executions are not
// independent draws (pagelab hunt measures it over independent
// campaigns).
type Greybox struct {
	// MaxChanges bounds a genome's change points; MaxEdits the edits of
	// one mutation; FreshProb is the probability of a fresh genome.
	MaxChanges, MaxEdits int
	FreshProb            float64

	prof *Profile
	pc   *pointCache
	// completions, when set (NewGreyboxIRQ), are the names a change point
	// is drawn among: the profiled I/O completions.
	completions []string
	pcg         rand.PCG
	rng         *rand.Rand
	names       []string       // the task names: the profile's, then those met since
	index       map[string]int // name -> index in names

	corpus []gbEntry
	// hits counts, per coverage slot, the executions that produced it.
	hits []uint32
	// cum is the corpus's cumulative selection weights, recomputed every
	// reweighEvery executions.
	cum     []float64
	reweigh int

	// The execution in progress.
	running bool
	cur     gbGenome
	prio    []uint64 // by task ID
	local   []int    // racy steps taken, by task ID
	tname   []uint64 // hash of the task's name, by task ID
	// cp are the genome's change points, each of a task name by its
	// index (g.index); by task ID, the name index of every task and the
	// racy-step number of its next change point not yet taken, or -1
	// (see PCTRacy.next).
	cp   changePoints
	tidx []int
	next []int
	highest
	ranTask int
	ranSite uint64
	// trace is this execution's coverage slots; seen marks them.
	trace []uint32
	seen  []uint32 // epoch of the execution that last marked the slot
	// lastW: open-addressed (object, writer site), valid for this epoch.
	lastW []gbWriter
	wBits uint // log2 len(lastW)
	nW    int  // entries of this epoch in lastW
	epoch uint32
}

const (
	gbMapBits    = 16
	gbWriterBits = 12
	reweighEvery = 32
)

type gbWriter struct {
	obj   Obj
	site  uint64
	epoch uint32
}

// gbChange is a change point: the task of that name drops below every
// other task just before its racy step number Step.
type gbChange struct {
	Name string
	Step int
}

// gbGenome is one execution's choices: priorities by task-name index
// (higher runs first; see prio for a name met after the genome was
// drawn), and change points (the i-th taken drops its task to priority
// MaxChanges-i).
type gbGenome struct {
	Prio    []uint32
	Salt    uint64
	Changes []gbChange
}

// prio is the priority of task name i: its own, or for a name the
// campaign met after the genome was drawn, one hashed from Salt.
func (g gbGenome) prio(i int, names []string) uint32 {
	if i < len(g.Prio) {
		return g.Prio[i]
	}
	return uint32(mix64(g.Salt ^ strHash(names[i])))
}

type gbEntry struct {
	g gbGenome
	// rare are the coverage slots the entry's execution produced first.
	rare []uint32
}

// SetDepth bounds the genomes as a PCT bug depth d does: at most d-1
// change points, and at most d edits per mutation. The defaults (8 and 8)
// build the deep races a change point at a time; a race whose constraints
// are mostly an order of priorities, with one task held at one step (race
// C1), is found more often by small genomes and small mutations: eight
// edits of a genome of one change point and a dozen priorities are nearly
// a fresh draw, and lose the order the corpus kept.
func (g *Greybox) SetDepth(d int) {
	g.MaxChanges, g.MaxEdits = d-1, d
}

// NewGreybox returns the greybox fuzzer over a profile; its campaign is
// seeded once, by seed.
func NewGreybox(seed uint64, prof *Profile) *Greybox {
	g := &Greybox{MaxChanges: 8, MaxEdits: 8, FreshProb: 0.1, prof: prof, pc: newPointCache(prof),
		hits: make([]uint32, 1<<gbMapBits), seen: make([]uint32, 1<<gbMapBits),
		lastW: make([]gbWriter, 1<<gbWriterBits), wBits: gbWriterBits}
	g.rng = rand.New(&g.pcg)
	g.pcg.Seed(runSeed(seed, 0))
	g.names = prof.TaskNames()
	g.index = map[string]int{}
	for i, n := range g.names {
		g.index[n] = i
	}
	return g
}

// NewGreyboxIRQ returns greybox-irq: the greybox fuzzer whose genomes'
// change points fall only on the profile's I/O completions
// (Profile.CompletionNames), or an error if no completion took a racy
// step there (its change points would have nowhere to fall).
func NewGreyboxIRQ(seed uint64, prof *Profile) (*Greybox, error) {
	c := prof.CompletionNames()
	if len(c) == 0 {
		return nil, ErrNoCompletions
	}
	g := NewGreybox(seed, prof)
	g.completions = c
	return g, nil
}

// ErrNoCompletions is NewGreyboxIRQ's error for a profile in which no I/O
// completion took a racy step.
var ErrNoCompletions = errors.New("no profiled I/O completion takes a racy step")

// Corpus is the number of genomes kept; Coverage the coverage slots hit.
func (g *Greybox) Corpus() int { return len(g.corpus) }
func (g *Greybox) Coverage() int {
	n := 0
	for _, h := range g.hits {
		if h > 0 {
			n++
		}
	}
	return n
}

// Begin ends the previous execution (its coverage, the corpus) and draws
// the next genome. The execution number is not used: a campaign's
// executions follow one another.
func (g *Greybox) Begin(run int) {
	g.finish()
	if len(g.corpus) == 0 || g.rng.Float64() < g.FreshProb {
		g.cur = g.fresh()
	} else {
		g.cur = g.mutate(g.pick().g)
	}
	g.prio, g.local, g.tname = g.prio[:0], g.local[:0], g.tname[:0]
	g.tidx, g.next, g.bestOK = g.tidx[:0], g.next[:0], false
	g.cp.reset()
	for _, c := range g.cur.Changes {
		// Every change point's name was drawn from g.names.
		g.cp.add(g.index[c.Name], c.Step)
	}
	g.trace = g.trace[:0]
	g.nW = 0
	g.epoch++
	if g.epoch == 0 { // wrapped: stale stamps could look current
		clear(g.seen)
		clear(g.lastW)
		g.epoch = 1
	}
	g.ranTask = -1
	g.running = true
}

func (g *Greybox) fresh() gbGenome {
	gen := gbGenome{Prio: make([]uint32, len(g.names)), Salt: g.rng.Uint64()}
	for i := range gen.Prio {
		gen.Prio[i] = g.rng.Uint32()
	}
	for range g.rng.IntN(g.MaxChanges + 1) {
		gen.Changes = append(gen.Changes, g.change())
	}
	return gen
}

// change draws a change point as PCTRacy's PerTask does: a task name, and
// one of the racy steps the most a task of that name took; the name among
// the completions only in greybox-irq, as pct-irq draws it.
func (g *Greybox) change() gbChange {
	names := g.names
	if g.completions != nil {
		names = g.completions
	}
	if len(names) == 0 {
		return gbChange{}
	}
	name := names[g.rng.IntN(len(names))]
	return gbChange{Name: name, Step: g.rng.IntN(max(g.prof.RacyTaskSteps(name), 1))}
}

// mutate applies one to MaxEdits random edits to a copy of a genome.
func (g *Greybox) mutate(parent gbGenome) gbGenome {
	gen := gbGenome{Prio: make([]uint32, len(g.names)), Salt: parent.Salt, Changes: slices.Clone(parent.Changes)}
	for i := range gen.Prio {
		gen.Prio[i] = parent.prio(i, g.names)
	}
	n := len(gen.Prio)
	for range 1 + g.rng.IntN(g.MaxEdits) {
		switch g.rng.IntN(5) {
		case 0: // swap two tasks' priorities
			if n > 1 {
				i, j := g.rng.IntN(n), g.rng.IntN(n)
				gen.Prio[i], gen.Prio[j] = gen.Prio[j], gen.Prio[i]
			}
		case 1: // redraw one task's priority
			if n > 0 {
				gen.Prio[g.rng.IntN(n)] = g.rng.Uint32()
			}
		case 2: // add a change point
			if len(gen.Changes) < g.MaxChanges {
				gen.Changes = append(gen.Changes, g.change())
			}
		case 3: // remove one
			if c := len(gen.Changes); c > 0 {
				i := g.rng.IntN(c)
				gen.Changes = slices.Delete(gen.Changes, i, i+1)
			}
		case 4: // move one a racy step earlier or later
			if c := len(gen.Changes); c > 0 {
				i := g.rng.IntN(c)
				gen.Changes[i].Step = max(gen.Changes[i].Step+2*g.rng.IntN(2)-1, 0)
			}
		}
	}
	return gen
}

// pick draws a corpus entry with weight 1/f, f the executions that
// produced its rarest slot (AFLFast's FAST).
func (g *Greybox) pick() *gbEntry {
	if len(g.cum) != len(g.corpus) || g.reweigh <= 0 {
		g.cum = g.cum[:0]
		total := 0.0
		for i := range g.corpus {
			f := uint32(math.MaxUint32)
			for _, s := range g.corpus[i].rare {
				f = min(f, g.hits[s])
			}
			total += 1 / float64(max(f, 1))
			g.cum = append(g.cum, total)
		}
		g.reweigh = reweighEvery
	}
	g.reweigh--
	x := g.rng.Float64() * g.cum[len(g.cum)-1]
	i, _ := slices.BinarySearch(g.cum, x)
	return &g.corpus[min(i, len(g.corpus)-1)]
}

// finish adds the execution that just ran to the coverage and, if it
// produced a slot no execution before it did, its genome to the corpus.
func (g *Greybox) finish() {
	if !g.running {
		return
	}
	g.running = false
	var rare []uint32
	for _, s := range g.trace {
		if g.hits[s] == 0 {
			rare = append(rare, s)
		}
		g.hits[s]++
	}
	if len(rare) > 0 {
		g.corpus = append(g.corpus, gbEntry{g: g.cur, rare: rare})
	}
}

func (g *Greybox) Spawned(t *Task) {
	i, ok := g.index[t.Name]
	if !ok {
		// A name the profile did not see (a task only a rare schedule
		// creates, or one that took no racy step there): from now on
		// the campaign's genomes mutate its priority too.
		i = len(g.names)
		g.names = append(g.names, t.Name)
		g.index[t.Name] = i
	}
	// Initial priorities lie above every change point's (1..MaxChanges).
	g.prio = append(g.prio, uint64(g.MaxChanges)+1+uint64(g.cur.prio(i, g.names)))
	g.local = append(g.local, 0)
	g.tname = append(g.tname, strHash(t.Name))
	g.tidx = append(g.tidx, i)
	g.next = append(g.next, g.cp.next(i, 0))
	g.bestOK = false
}

// Pick is PCTRacy's with the genome's priorities and change points (ties,
// which only a name outside the profile can cause, go to the lower ID).
func (g *Greybox) Pick(runnable []*Task, last *Task, step int) *Task {
	for {
		best := g.get(runnable, g.prio)
		pt := g.pc.point(best.label)
		if !pt.racy() {
			g.ran(best, pt)
			return best
		}
		n, name := g.local[best.ID], g.tidx[best.ID]
		if n != g.next[best.ID] {
			g.local[best.ID]++
			g.ran(best, pt)
			return best
		}
		i := g.cp.take(name, n)
		if i < 0 {
			// next said there was one: looping would not end.
			panic("sim: Greybox's next change point is stale")
		}
		g.prio[best.ID] = uint64(g.MaxChanges - i)
		// A priority dropped: find the best task again; the next change
		// points of the tasks of best's name are past the ones taken.
		g.bestOK = false
		g.cp.renext(g.next, g.tidx, g.local, name)
	}
}

// ran notes the step about to be taken: its task and site (the task's
// name and the point, hashed; pt is the point's profile, nil when the
// profile never saw it).
func (g *Greybox) ran(t *Task, pt *Point) {
	h := uint64(0)
	if pt != nil {
		h = pt.hash
	} else {
		h = strHash(t.label)
	}
	g.ranTask = t.ID
	g.ranSite = mix64(g.tname[t.ID] ^ h)
}

// Stepped records the reads-from pairs of the step just taken.
func (g *Greybox) Stepped(t *Task, fp Footprint) {
	if t.ID != g.ranTask {
		return
	}
	site := g.ranSite
	for _, a := range fp {
		if a.Obj == objRunning {
			continue
		}
		w := g.writer(a.Obj)
		if a.Op&OpRead != 0 {
			// Sites are mixed hashes: a multiply spreads the pair.
			s := uint32((w.site*3 + site + uint64(a.Obj)>>56*0x51ed27) * 0x9e3779b97f4a7c15 >> (64 - gbMapBits))
			if g.seen[s] != g.epoch {
				g.seen[s] = g.epoch
				g.trace = append(g.trace, s)
			}
		}
		if a.Op&OpWrite != 0 {
			w.site = site
		}
	}
}

// writer is o's entry in the last-writer table (site 0: none this
// execution). The table is open-addressed with linear probing and kept at
// most half full, doubling when it would not be; entries of earlier
// executions count as empty.
func (g *Greybox) writer(o Obj) *gbWriter {
	if 2*(g.nW+1) > len(g.lastW) {
		g.growWriters()
	}
	w, found := g.probe(o)
	if !found {
		*w = gbWriter{obj: o, epoch: g.epoch}
		g.nW++
	}
	return w
}

// probe finds o's slot, or the empty slot where it belongs.
func (g *Greybox) probe(o Obj) (*gbWriter, bool) {
	mask := uint64(len(g.lastW) - 1)
	for h := uint64(o) * 0x9e3779b97f4a7c15 >> (64 - g.wBits); ; h = (h + 1) & mask {
		w := &g.lastW[h]
		if w.epoch != g.epoch {
			return w, false
		}
		if w.obj == o {
			return w, true
		}
	}
}

func (g *Greybox) growWriters() {
	old := g.lastW
	g.lastW = make([]gbWriter, 2*len(old))
	g.wBits++
	for _, e := range old {
		if e.epoch == g.epoch {
			w, _ := g.probe(e.obj)
			*w = e
		}
	}
}
