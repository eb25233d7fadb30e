package bench

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// batchCfgs is a small batch of every splittable kind: random and pct
// cells of a race, a timed cell of a latency workload.
func batchCfgs(t *testing.T) []*Config {
	t.Helper()
	var cfgs []*Config
	add := func(workload, fix, strategy string, runs, cpus int) {
		w, p := cellOf(t, workload, nil)
		v, err := fixes.Parse(fix)
		if err != nil {
			t.Fatal(err)
		}
		cfg := &Config{Workload: w, Params: p, Variant: v, Strategy: strategy,
			Depth: 3, Preempt: DefaultPreempt, Seed: 7, Runs: runs, CPUs: cpus}
		if strategy == "timed" {
			cfg.Params = w.Defaults()
			cfg.Params["pages"] = 2
			cfg.Costs = sim.DefaultCosts()
			cfg.MaxSteps = TimedMaxSteps(w)
		}
		cfgs = append(cfgs, cfg)
	}
	add("writeback-reuse", "baseline", "random", 2003, 0)
	add("writeback-reuse", "baseline", "pct", 1500, 0)
	add("lock-storm", "baseline", "timed", 5, 4)
	return cfgs
}

func recordsOf(t *testing.T, cells []*Cell) string {
	t.Helper()
	var b bytes.Buffer
	for _, c := range cells {
		if err := NewRecord(c).WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestBatchIsRun: a batch on any number of goroutines gives the records
// of Run, cell by cell, on one: parts merge exactly, first failures are
// those of the lowest execution number.
func TestBatchIsRun(t *testing.T) {
	t.Parallel()
	var want []*Cell
	for _, cfg := range batchCfgs(t) {
		c, err := Run(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
	}
	wantRecs := recordsOf(t, want)
	if want[0].Failing == 0 || want[1].Failing == 0 {
		t.Fatalf("the race cells never failed: the test would not see a wrong first failure")
	}
	for _, jobs := range []int{1, 2, 5} {
		var order []int
		b := &Batch{Cfgs: batchCfgs(t), Jobs: jobs, CellDone: func(i int, c *Cell) error {
			order = append(order, i)
			return nil
		}}
		got, err := b.Run()
		if err != nil {
			t.Fatal(err)
		}
		if g := recordsOf(t, got); g != wantRecs {
			t.Errorf("-j %d: records differ from Run's:\n%s\nwant\n%s", jobs, g, wantRecs)
		}
		for i, c := range got {
			if c.FirstRun != want[i].FirstRun {
				t.Errorf("-j %d: cell %d: first failing executions %v, want %v", jobs, i, c.FirstRun, want[i].FirstRun)
			}
		}
		if len(order) != 3 || order[0] != 0 || order[1] != 1 || order[2] != 2 {
			t.Errorf("-j %d: cells done in order %v, want 0 1 2", jobs, order)
		}
	}
}

// TestShardsMergeToRun: the cells of shards i/n (ShardRange), merged in
// shard order, are the cells of the whole run.
func TestShardsMergeToRun(t *testing.T) {
	t.Parallel()
	for i, cfg := range batchCfgs(t) {
		whole, err := Run(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{2, 4} {
			var merged *Cell
			for s := range n {
				c := *cfg
				c.First, c.Runs = ShardRange(cfg.Runs, s, n)
				part, err := Run(&c, nil)
				if err != nil {
					t.Fatal(err)
				}
				// Through the shard's record, as pagelab merge reads it.
				part = throughPartRecord(t, part, ShardID{Index: s, Count: n})
				if merged == nil {
					merged = part
				} else if err := merged.Merge(part); err != nil {
					t.Fatal(err)
				}
			}
			if g, w := recordsOf(t, []*Cell{merged}), recordsOf(t, []*Cell{whole}); g != w {
				t.Errorf("cell %d, %d shards: merged record differs:\n%s\nwant\n%s", i, n, g, w)
			}
		}
	}
}

func TestShardRange(t *testing.T) {
	for _, n := range []int{4, 5, 6, 100001} {
		for _, count := range []int{1, 2, 3, 4} {
			next := 0
			for i := range count {
				first, runs := ShardRange(n, i, count)
				if first != next || runs < n/count || runs > n/count+1 {
					t.Fatalf("ShardRange(%d, %d, %d) = %d, %d after %d", n, i, count, first, runs, next)
				}
				next = first + runs
			}
			if next != n {
				t.Fatalf("%d shards of %d cover %d", count, n, next)
			}
		}
	}
}

// TestBatchInterrupted: an interrupt keeps the finished cells and, of the
// cell cut short, its executions from number 0 on, marked partial.
func TestBatchInterrupted(t *testing.T) {
	var stop atomic.Bool
	cfgs := batchCfgs(t)
	first := false // cell 0 has run all its executions
	b := &Batch{Cfgs: cfgs, Jobs: 2, Stop: stop.Load, Progress: func(i, done int) {
		// With two jobs, cell 1's first part can start while cell 0's
		// last is still running: stop only once cell 0 is all in, or
		// the interrupt would cut cell 0 short instead (a CI failure).
		if i == 0 && done == cfgs[0].Runs {
			first = true
		}
		if i == 1 && done > 300 && first {
			stop.Store(true)
		}
	}}
	got, err := b.Run()
	if err != ErrInterrupted {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	if len(got) != 2 || got[0].Partial || !got[1].Partial || got[1].Runs >= got[1].Planned || got[1].From != 0 {
		t.Fatalf("got %d cells (last partial %v, %d of %d runs)", len(got), got[len(got)-1].Partial, got[len(got)-1].Runs, got[len(got)-1].Planned)
	}
	// The partial cell is the first Runs executions of the whole.
	cfg := batchCfgs(t)[1]
	cfg.Runs = got[1].Runs
	want, err := Run(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want.Partial = true
	if g, w := recordsOf(t, got[1:]), recordsOf(t, []*Cell{want}); g != w {
		t.Errorf("partial cell differs from the first %d executions:\n%s\nwant\n%s", cfg.Runs, g, w)
	}
}

// TestDFSPartsMergeToWhole: a dfs enumeration split into n parts
// (sim.DFS.Split), each part's record through its JSON as pagelab merge
// reads it, merged, is the enumeration in one piece: the same executions
// counted once each, the same first failures (the least in the
// enumeration's order), exhausted. Batch at -j 3 gives the same; so it
// does when the executions' bound stops the enumeration before its end
// (the parts then give way to one run in one piece).
func TestDFSPartsMergeToWhole(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		workload string
		bound    int
		runs     int
	}{
		{"writeback-restart", 1, 100000},
		{"writeback-restart", 2, 100000},
		{"gup-dio-wrprotect", 0, 100000},
		{"gup-dio-wrprotect", 2, 100000},
		{"isize-compress", 0, 3000}, // stopped by the bound
	} {
		w, err := workloads.Lookup(c.workload)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := fixes.Parse("baseline")
		cfg := func() *Config {
			return &Config{Workload: w, Params: w.Defaults(), Variant: v, Strategy: "dfs", Depth: c.bound, Seed: 1, Runs: c.runs}
		}
		whole, err := Run(cfg(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := recordsOf(t, []*Cell{whole})
		got, err := (&Batch{Cfgs: []*Config{cfg()}, Jobs: 3}).Run()
		if err != nil {
			t.Fatal(err)
		}
		if g := recordsOf(t, got); g != want {
			t.Errorf("%s bound %d: -j 3 differs:\n%s\nwant\n%s", c.workload, c.bound, g, want)
		}
		if !whole.Exhausted {
			continue // parts of an unfinished enumeration do not merge
		}
		if raceEnabled {
			// The parts below run one after another on this
			// goroutine (the plain pass checks them); the race
			// detector's part is -j 3's goroutines, above.
			continue
		}
		for _, n := range []int{2, 3, 5} {
			var merged *Cell
			for i := range n {
				pc := cfg()
				pc.Part, pc.Parts = i, n
				part, err := Run(pc, nil)
				if err != nil {
					t.Fatal(err)
				}
				part = throughPartRecord(t, part, ShardID{Index: i, Count: n})
				if merged == nil {
					merged = part
				} else if err := merged.MergeDFS(part); err != nil {
					t.Fatal(err)
				}
			}
			if g := recordsOf(t, []*Cell{merged}); g != want {
				t.Errorf("%s bound %d, %d parts: merged differs:\n%s\nwant\n%s", c.workload, c.bound, n, g, want)
			}
		}
	}
}

// throughPartRecord is the cell a shard's record of part gives back after
// its JSON round trip, as pagelab merge reads it.
func throughPartRecord(t *testing.T, part *Cell, s ShardID) *Cell {
	t.Helper()
	rec, err := NewPartRecord(part, s)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rec.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(&buf, "shard")
	if err != nil {
		t.Fatal(err)
	}
	c, err := PartCell(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBatchAfter: a cell's After tasks run once all its executions are
// in, ahead of the parts not yet started (on one goroutine, cell 0's
// task comes before cell 2 starts), and every task runs; an
// interrupt from a task keeps whole the cells its tasks ran after.
func TestBatchAfter(t *testing.T) {
	t.Parallel()
	for _, jobs := range []int{1, 2} {
		for _, interrupt := range []bool{false, true} {
			var mu sync.Mutex
			var stop atomic.Bool
			cfgs := batchCfgs(t)
			done := make([]int, len(cfgs))
			var log []string
			var ran []int
			b := &Batch{Cfgs: cfgs, Jobs: jobs, Stop: stop.Load,
				Progress: func(i, n int) { done[i] = n }, // called one at a time, under the batch's lock
				Started:  func(i int) { mu.Lock(); log = append(log, fmt.Sprint("start ", i)); mu.Unlock() }}
			for _, cell := range []int{0, 1} {
				b.After = append(b.After, AfterCell{Cell: cell, Run: func() {
					mu.Lock()
					defer mu.Unlock()
					log = append(log, fmt.Sprint("task ", cell))
					ran = append(ran, cell)
					if interrupt {
						stop.Store(true)
					}
				}})
			}
			got, err := b.Run()
			for _, cell := range ran {
				if cell >= len(got) || got[cell].Partial || got[cell].Runs != cfgs[cell].Runs {
					t.Errorf("-j %d, interrupt %v: cell %d's task ran, but the cell is not kept whole (%d cells)", jobs, interrupt, cell, len(got))
				} else if done[cell] != cfgs[cell].Runs {
					t.Errorf("-j %d: cell %d's task ran after %d of its %d executions", jobs, cell, done[cell], cfgs[cell].Runs)
				}
			}
			if interrupt {
				// With -j 2 the other goroutine may finish every part
				// before a task sets the stop: then nothing was cut
				// short, and the batch says so (nil, every cell whole).
				whole := err == nil && len(got) == len(cfgs) && !slices.ContainsFunc(got, func(c *Cell) bool { return c.Partial })
				if err != ErrInterrupted && !whole || len(ran) == 0 || slices.Contains(ran, 1) && len(got) < 2 {
					t.Errorf("-j %d interrupted: err %v, tasks of cells %v ran, %d cells kept", jobs, err, ran, len(got))
				}
				continue
			}
			if err != nil || len(got) != len(cfgs) || len(ran) != 2 {
				t.Fatalf("-j %d: err %v, %d cells, tasks of cells %v ran", jobs, err, len(got), ran)
			}
			if jobs == 1 && slices.Index(log, "task 0") > slices.Index(log, "start 2") {
				t.Errorf("-j 1: cell 0's task waited for the parts after it: %v", log)
			}
		}
	}
}

// TestBatchAfterError: a cell that fails (a model error, here an unknown
// strategy) while the batch waits to run its After task ends the batch
// with the error; the task never runs, and nothing waits forever.
func TestBatchAfterError(t *testing.T) {
	cfgs := batchCfgs(t)[:1] // no other part to wake the dispatcher
	cfgs[0].Strategy = "no-such-strategy"
	ran := false
	b := &Batch{Cfgs: cfgs, Jobs: 2, After: []AfterCell{{Cell: 0, Run: func() { ran = true }}}}
	done := make(chan error)
	go func() {
		_, err := b.Run()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unknown strategy") || ran {
			t.Errorf("err %v, task ran %v; want the cell's error and no task", err, ran)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the batch is still waiting 20 s after its cell failed")
	}
}
