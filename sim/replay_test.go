package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// nestedProgram builds a program of 2 or 3 tasks over 3 words that uses
// everything a replay without recording must give back exactly: stores
// of the initial value 0 and of a word's current value (first writes,
// undone by deletion; writes that change nothing, never logged), nested
// functions that declare their results (observation stacks), retry loops
// with cut points, tasks spawned in the middle of a run (their obs0), a
// sleep and a wake-up, and an oops.
func nestedProgram(seed uint64) toyProgram {
	r := rand.New(rand.NewPCG(seed, 11))
	type op struct {
		kind      int
		word, val int
	}
	gen := func(n int) []op {
		var ops []op
		for range n {
			ops = append(ops, op{kind: r.IntN(7), word: r.IntN(3), val: r.IntN(3)})
		}
		return ops
	}
	ntasks := 2 + r.IntN(2)
	progs := make([][]op, ntasks)
	for i := range progs {
		progs[i] = gen(1 + r.IntN(4))
	}
	child := gen(1 + r.IntN(2))
	return toyProgram{fmt.Sprint("nested", seed), 3, func(x *Explorer, m *toyMem) {
		var run func(t *Task, ops []op, depth int) int
		run = func(t *Task, ops []op, depth int) int {
			acc := 0
			for _, o := range ops {
				switch o.kind {
				case 0:
					m.store(t, o.word, o.val)
				case 1:
					acc += m.load(t, o.word)
				case 2:
					// A function that reads, stores what it read, and
					// declares only whether it was zero.
					t.Enter("fn")
					v := m.load(t, o.word)
					m.store(t, (o.word+1)%3, v)
					if depth < 2 {
						v += run(t, ops[:1], depth+1)
					}
					t.Return(b2u(v == 0))
					t.Exit()
					acc += int(b2u(v == 0))
				case 3:
					// A bounded retry loop.
					t.Enter("retry")
					for try := range 2 {
						t.CutPoint("retry", uint64(try))
						if m.load(t, o.word) == o.val {
							break
						}
					}
					t.Return()
					t.Exit()
				case 4:
					if depth == 0 {
						x := t.x
						x.cur.SpawnKind(fmt.Sprint(t.Name, "c"), "start", TaskCPU, func(c *Task) { run(c, child, 1) })
					}
				case 5:
					if m.load(t, o.word) == 2 && o.val == 2 {
						t.Halt("BUG")
					}
				case 6:
					// Sleep until word 2 is set, or woken by anyone.
					t.SetState(TaskUninterruptible)
					if m.load(t, 2) == 0 {
						t.Schedule("schedule")
					}
					t.SetState(TaskRunning)
					for _, u := range x.Tasks() {
						if u != t && !u.done {
							t.Step("wake")
							u.WakeUp()
							break
						}
					}
				}
			}
			return acc
		}
		for i, prog := range progs {
			x.Spawn(fmt.Sprint("t", i), "start", func(t *Task) { run(t, prog, 0) })
		}
	}}
}

// replaySearch runs the search d (new) on p to its end, with or without
// recording the replayed prefixes, and returns every state key the search
// computed, in order, its final states and the steps replayed without
// recording.
func replaySearch(t *testing.T, p toyProgram, d *DPOR, full bool) ([]Key, map[string]bool, int) {
	var keys []Key
	d.onKey = func(k Key) { keys = append(keys, k) }
	x := NewExplorer(d, HandoffCoroutine)
	x.EnableFootprints()
	x.FullReplay = full
	d.Attach(x)
	defer x.Close()
	finals := searchOn(t, p, x, d)
	return keys, finals, x.replayed
}

// TestReplayWithoutRecording: a search whose executions replay their
// prefix without recording it (rewinding the recording to the end of
// that prefix instead) computes exactly the state keys, in the same
// order, of the search that records every step, and so takes the same
// decisions, reaches the same final states and counts the same states,
// in every reduction, on the toy programs and 200 nested random ones; and
// it does replay without recording.
func TestReplayWithoutRecording(t *testing.T) {
	progs := withGenerated(200, nestedProgram)
	replayed := 0
	for _, p := range progs {
		for _, mode := range []DPORMode{Full, SleepSets, SourceSets} {
			df, dr := NewDPOR(mode, 1000), NewDPOR(mode, 1000)
			kf, ff, nf := replaySearch(t, p, df, true)
			kr, fr, nr := replaySearch(t, p, dr, false)
			if nf != 0 {
				t.Fatalf("%s, %v: %d steps replayed without recording under FullReplay", p.name, mode, nf)
			}
			replayed += nr
			if i := firstDiff(kf, kr); i >= 0 {
				t.Fatalf("%s, %v: state key %d of %d (%d replaying) differs from the recorded replay's (%d)", p.name, mode, i, len(kr), nr, len(kf))
			}
			if !maps.Equal(ff, fr) {
				t.Errorf("%s, %v: final states %v, recorded replay %v", p.name, mode, fr, ff)
			}
			if sf, sr := df.Stats(), dr.Stats(); sf != sr {
				t.Errorf("%s, %v: stats %+v, recorded replay %+v", p.name, mode, sr, sf)
			}
		}
	}
	if replayed == 0 {
		t.Error("no step was replayed without recording")
	}
	t.Logf("%d steps replayed without recording", replayed)
}

func firstDiff(a, b []Key) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// cutReplay is a DPOR that stops one execution in seven halfway through
// its replayed prefix, without telling the search (whose new transition
// there is then never taken): the execution ends while the Explorer is
// still replaying without recording.
type cutReplay struct {
	*DPOR
	run, cuts int
}

func (c *cutReplay) Begin(run int) { c.run = run; c.DPOR.Begin(run) }

func (c *cutReplay) Pick(runnable []*Task, last *Task, step int) *Task {
	if r := c.DPOR.ReplayLen(); c.run%7 == 3 && r >= 2 && step == r/2 {
		c.cuts++
		return nil
	}
	return c.DPOR.Pick(runnable, last, step)
}

// TestReplayCutShort: an execution that ends inside its replayed prefix
// records nothing, and the next one rewinds what the last whole one
// recorded: the search computes the state keys, in order, of the search
// that records every step.
func TestReplayCutShort(t *testing.T) {
	progs := slices.Clone(testPrograms())
	for seed := range uint64(20) {
		progs = append(progs, nestedProgram(seed))
	}
	cuts := 0
	for _, p := range progs {
		var keys [2][]Key
		for i, full := range []bool{true, false} {
			d := NewDPOR(SourceSets, 1000)
			d.onKey = func(k Key) { keys[i] = append(keys[i], k) }
			c := &cutReplay{DPOR: d}
			x := NewExplorer(c, HandoffCoroutine)
			x.EnableFootprints()
			x.FullReplay = full
			d.Attach(x)
			searchOn(t, p, x, d)
			x.Close()
			if !full {
				cuts += c.cuts
			}
		}
		if i := firstDiff(keys[0], keys[1]); i >= 0 {
			t.Fatalf("%s: state key %d of %d differs from the recorded replay's (%d)", p.name, i, len(keys[1]), len(keys[0]))
		}
	}
	if cuts == 0 {
		t.Fatal("no execution was cut short while replaying")
	}
	t.Logf("%d executions cut short while replaying", cuts)
}
