package bench

import (
	"bytes"
	"slices"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// chaseCell runs writeback-chase timed at its defaults on cpus CPUs.
func chaseCell(t *testing.T, fix string, cpus, runs int, pairs ...string) *Cell {
	t.Helper()
	wl, p := cellOf(t, "writeback-chase", pairs)
	v, err := fixes.Parse(fix)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(&Config{Workload: wl, Params: p, Variant: v, Strategy: "timed", Seed: 1, Runs: runs,
		CPUs: cpus, Costs: sim.DefaultCosts(), MaxSteps: TimedMaxSteps(wl)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWritebackChase is Brian Foster's soft lockup and the three ways out
// of it, as they emerge from the model: the 5.17 state (the loop and the
// bookmarks) locks up a CPU in the completion's wake-up walk at 64 CPUs;
// without bookmarks, with the break count at 128, or in the v6.7 design,
// no stretch comes near the watchdog; with 4 CPUs there are not enough
// woken waiters running at once to outpace the walk.
func TestWritebackChase(t *testing.T) {
	t.Parallel()
	if raceEnabled {
		// Timed executions of 64 simulated CPUs on this goroutine.
		t.Skip("one goroutine's timed executions: checked by the plain pass; ten times slower under the race detector")
	}
	c := chaseCell(t, "hold-ref+loop-wait", 64, 6)
	if c.Failures[mm.SoftLockup] == 0 {
		t.Fatalf("hold-ref+loop-wait at 64 CPUs: no soft lockup in %d runs", c.Runs)
	}
	r := c.FirstReport[mm.SoftLockup]
	if !slices.Contains(r.Stack, "wake_up_page_bit") || !slices.Contains(r.Stack, "xfs_end_io") {
		t.Errorf("soft lockup stack %v: want the completion's walk (xfs_end_io … wake_up_page_bit)", r.Stack)
	}
	walk := c.Count("wb_wake_walk")
	if walk == nil || walk.Max <= 100 {
		t.Errorf("hold-ref+loop-wait: longest walk %v, want past the 100 tasks (the chase)", walk)
	}
	for _, fix := range []string{"hold-ref+loop-wait+no-bookmarks", "hold-ref+loop-wait+walk-break-128", "folio"} {
		c := chaseCell(t, fix, 64, 6)
		if c.Failing != 0 {
			t.Errorf("%s at 64 CPUs: %d failing runs, want none", fix, c.Failing)
		}
		np := c.Count("nonpreempt")
		if np == nil || np.Max > 20_000_000/10 {
			t.Errorf("%s: longest non-preemptible stretch %v, want far below the 20ms watchdog", fix, np)
		}
		if w := c.Count("wb_wake_walk"); w == nil || w.Max > 100 {
			t.Errorf("%s: longest walk %v entries, want at most the 100 tasks", fix, w)
		}
	}
	if c := chaseCell(t, "hold-ref+loop-wait", 4, 6); c.Failures[mm.SoftLockup] != 0 {
		t.Errorf("hold-ref+loop-wait at 4 CPUs: soft lockup in %d runs, want none", c.Failures[mm.SoftLockup])
	}
	// The interrupt completion (wq=0) is not held up behind the walk: the
	// new writeback ends and the chase with it.
	if c := chaseCell(t, "hold-ref+loop-wait", 64, 6, "wq=0"); c.Failures[mm.SoftLockup] != 0 {
		t.Errorf("wq=0: soft lockup in %d runs, want none", c.Failures[mm.SoftLockup])
	}
}

// TestCountsRecords: the count metrics survive a record's round trip and
// a shard's part, exactly.
func TestCountsRecords(t *testing.T) {
	c := chaseCell(t, "folio", 16, 3)
	if len(c.Counts) == 0 {
		t.Fatal("no count metrics recorded")
	}
	r, err := NewPartRecord(c, ShardID{Index: 0, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(&b, "test")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := PartCell(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Counts {
		pl := pc.Count(l.Op)
		if pl == nil || pl.Count != l.Count || pl.Max != l.Max || pl.Min != l.Min || pl.P99 != l.P99 || !slices.Equal(pl.RunMax, l.RunMax) {
			t.Errorf("%s: %+v after the round trip, want %+v", l.Op, pl, l)
		}
		if u := recs[0].Counts[l.Op].Unit; u != CountUnit(l.Op) || u == "" {
			t.Errorf("%s: unit %q", l.Op, u)
		}
	}
	bad := *recs[0]
	bad.Counts = map[string]*CountRecord{"no_such_count": recs[0].Counts["nonpreempt"]}
	bad.Part = nil
	if err := bad.validate(); err == nil {
		t.Error("a record with an unknown count metric validated")
	}
}
