package sim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestGreyboxReachesEveryOutcome: on every toy program a campaign reaches
// every final state and oops brute force reaches, and nothing else (the
// genome is PCT's choices, which can express every schedule; the
// feedback only decides which are drawn).
func TestGreyboxReachesEveryOutcome(t *testing.T) {
	for _, p := range testPrograms() {
		t.Run(p.name, func(t *testing.T) {
			want := bruteForceSampler(t, p)
			x := NewExplorer(NewGreybox(1, profileToy(t, p, 64)), HandoffCoroutine)
			defer x.Close()
			x.EnableAccessLog()
			got := map[string]bool{}
			for range 20000 {
				got[samplerFinal(runProgram(t, x, p))] = true
				if len(got) == len(want) {
					break
				}
			}
			for f := range want {
				if !got[f] {
					t.Errorf("never reached %s (reached %v)", f, slices.Sorted(maps.Keys(got)))
				}
			}
			for f := range got {
				if !want[f] {
					t.Errorf("reached %s, which brute force does not", f)
				}
			}
		})
	}
}

// TestGreyboxDeterministic: a campaign is a function of its seed.
func TestGreyboxDeterministic(t *testing.T) {
	p := toyPrograms[0]
	prof := profileToy(t, p, 64)
	seg := func(res Result, m *toyMem) string { return toyFinal(res, m) }
	run := func(seed uint64) []string {
		x := NewExplorer(NewGreybox(seed, prof), HandoffCoroutine)
		defer x.Close()
		x.EnableAccessLog()
		x.Record = true
		var out []string
		for range 200 {
			out = append(out, seg(runProgram(t, x, p))+fmt.Sprint(x.Segments()))
		}
		return out
	}
	a, b := run(9), run(9)
	if !slices.Equal(a, b) {
		t.Error("two campaigns with seed 9 differ")
	}
	if slices.Equal(a, run(10)) {
		t.Error("seeds 9 and 10 give the same campaign")
	}
}

// relayChain is a deep ordering bug: relay i passes the baton (cell i to cell
// i+1) only if relay i-1 passed it before, so the last cell is set only
// when the relays run in order, one interleaving's worth of orderings
// among many (each relay also writes a noise cell of its own, which the
// others read, so that most orders are distinguishable). Random draws
// find it with probability about 1/n!; a fuzzer that keeps a schedule
// that got the baton further should find it sooner.
func relayChain(n int) toyProgram {
	return toyProgram{fmt.Sprintf("chain-%d", n), 2*n + 1, func(x *Explorer, m *toyMem) {
		m.v[0] = 1
		for i := range n {
			x.Spawn(fmt.Sprint("relay", i), "start", func(t *Task) {
				m.store(t, n+1+i, 1)
				if m.load(t, i) == 1 {
					m.store(t, i+1, 1)
				}
			})
		}
	}}
}

// TestGreyboxFeedback: the feedback pays. On an eight-relay chain (1/8!
// for a uniform order of the relays), over 20 seeds, a campaign finds the
// full relay in at least three times fewer executions (median) than the
// same sampler with the corpus off (every genome fresh: FreshProb 1).
// Both run without change points (MaxChanges 0): the relay needs no task
// to lose the CPU mid-way, and the comparison is of the corpus alone.
// (Measured: medians 1,792 and 18,384.)
func TestGreyboxFeedback(t *testing.T) {
	if raceEnabled {
		// Forty campaigns of up to 50,000 executions on one goroutine:
		// two minutes under the race detector for a statistic the plain
		// pass checks; TestGreyboxDeterministic and
		// TestGreyboxReachesEveryOutcome run greybox under it.
		t.Skip("a statistic of single-goroutine campaigns, checked by the plain pass; ten times slower under the race detector")
	}
	const n = 8
	p := relayChain(n)
	prof := profileToy(t, p, 64)
	first := func(fresh float64, seed uint64) int {
		g := NewGreybox(seed, prof)
		g.FreshProb, g.MaxChanges = fresh, 0
		x := NewExplorer(g, HandoffCoroutine)
		defer x.Close()
		x.EnableAccessLog()
		for i := range 50000 {
			x.Reset()
			m := &toyMem{v: make([]int, p.mem)}
			p.spawn(x, m)
			if _, err := x.Run(); err != nil {
				t.Fatal(err)
			}
			if m.v[n] == 1 {
				return i + 1
			}
		}
		return 50001
	}
	var with, without []int
	for seed := range uint64(20) {
		with = append(with, first(0.1, seed))
		without = append(without, first(1, seed))
	}
	slices.Sort(with)
	slices.Sort(without)
	mw, mo := with[len(with)/2], without[len(without)/2]
	t.Logf("median executions to the full relay: %d with feedback, %d without", mw, mo)
	if 3*mw > mo {
		t.Errorf("feedback did not pay: median %d executions with it, %d without", mw, mo)
	}
}

// TestGreyboxDepth: SetDepth(d) bounds every genome of a campaign, fresh
// or bred, to d-1 change points and its mutations to d edits; at depth 1
// no task is ever held back.
func TestGreyboxDepth(t *testing.T) {
	p := relayChain(4)
	prof := profileToy(t, p, 64)
	for _, d := range []int{1, 2, 3} {
		g := NewGreybox(7, prof)
		g.SetDepth(d)
		if g.MaxChanges != d-1 || g.MaxEdits != d {
			t.Fatalf("SetDepth(%d): MaxChanges %d, MaxEdits %d", d, g.MaxChanges, g.MaxEdits)
		}
		x := NewExplorer(g, HandoffCoroutine)
		x.EnableAccessLog()
		most := 0
		for range 2000 {
			x.Reset()
			m := &toyMem{v: make([]int, p.mem)}
			p.spawn(x, m)
			if _, err := x.Run(); err != nil {
				t.Fatal(err)
			}
			most = max(most, len(g.cur.Changes))
		}
		x.Close()
		if most > d-1 || (d > 1 && most == 0) || g.Corpus() == 0 {
			t.Errorf("depth %d: genomes of up to %d change points, corpus %d; want up to %d, and some", d, most, g.Corpus(), d-1)
		}
	}
}

// TestGreyboxWriterTable: the last-writer table keeps every object of an
// execution however many there are (it grows), forgets them all at the
// next execution, and stays at most half full.
func TestGreyboxWriterTable(t *testing.T) {
	g := NewGreybox(1, &Profile{points: map[string]*Point{}, racyByTask: map[string]int{}})
	for exec := range 3 {
		g.Begin(exec)
		n := 10000 * (exec + 1)
		for i := range n {
			g.writer(Obj(i)<<24 | 7).site = uint64(i + 1)
		}
		for i := range n {
			if w, ok := g.probe(Obj(i)<<24 | 7); !ok || w.site != uint64(i+1) {
				t.Fatalf("execution %d: object %d lost (found %v, site %d)", exec, i, ok, w.site)
			}
		}
		if g.nW != n || 2*g.nW > len(g.lastW) {
			t.Errorf("execution %d: %d entries counted for %d objects in %d slots", exec, g.nW, n, len(g.lastW))
		}
	}
	g.Begin(3)
	if _, ok := g.probe(Obj(5)<<24 | 7); ok {
		t.Error("an object written in an earlier execution is still in the table")
	}
}

// TestGreyboxIRQ: greybox-irq draws its change points among the profiled
// I/O completions only, as pct-irq does. On "cpu-and-irq" a campaign
// reaches the task's update lost (object 0 ends at 10: the completion
// held between its load and its store) and never the completion's (1: the
// task held), which plain greybox reaches; no genome it runs holds the
// task. On "completions" it reaches every final state brute force reaches
// in which a completion's update was lost (the counter below 3). A
// profile in which no completion races is refused.
func TestGreyboxIRQ(t *testing.T) {
	if _, err := NewGreyboxIRQ(1, profileToy(t, toyPrograms[0], 64)); err != ErrNoCompletions {
		t.Errorf("a profile without completions: error %v, want ErrNoCompletions", err)
	}
	// finals runs a campaign of n executions and counts their final
	// states; stop, if set, ends it early once it holds.
	finals := func(p toyProgram, g *Greybox, n int, final func(Result, *toyMem) string, stop func(map[string]int) bool) map[string]int {
		t.Helper()
		x := NewExplorer(g, HandoffCoroutine)
		defer x.Close()
		x.EnableAccessLog()
		count := map[string]int{}
		for range n {
			count[final(runProgram(t, x, p))]++
			for _, c := range g.cur.Changes {
				if g.completions != nil && !slices.Contains(g.completions, c.Name) {
					t.Fatalf("greybox-irq's genome holds %s, not a completion (%q)", c.Name, g.completions)
				}
			}
			if stop != nil && stop(count) {
				break
			}
		}
		return count
	}
	counter := func(_ Result, m *toyMem) string { return fmt.Sprint(m.v[0]) }

	p := completionPrograms[1]
	prof := profileToy(t, p, 64)
	irq, err := NewGreyboxIRQ(3, prof)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	count := finals(p, irq, n, counter, nil)
	if count["10"] == 0 || count["1"] != 0 {
		t.Errorf("cpu-and-irq: final counters %v, want 10 (the completion held) and never 1 (the task held)", count)
	}
	if plain := finals(p, NewGreybox(3, prof), n, counter, nil); plain["1"] == 0 {
		t.Errorf("plain greybox never held the task either (%v): the test cannot tell", plain)
	}

	p = completionPrograms[0]
	prof = profileToy(t, p, 64)
	want := map[string]bool{}
	for f := range bruteForceSampler(t, p) {
		if !strings.HasPrefix(f, "completed [3 ") {
			want[f] = true
		}
	}
	if irq, err = NewGreyboxIRQ(5, prof); err != nil {
		t.Fatal(err)
	}
	reached := func(count map[string]int) bool {
		for f := range want {
			if count[f] == 0 {
				return false
			}
		}
		return true
	}
	count = finals(p, irq, 20000, samplerFinal, reached)
	for f := range want {
		if count[f] == 0 {
			t.Errorf("completions: %s never reached", f)
		}
	}
}
