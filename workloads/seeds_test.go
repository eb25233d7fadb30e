package workloads_test

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/replay.golden")

func replay(t *testing.T, sched string, fix string) *bench.Replayed {
	t.Helper()
	s, err := sim.ParseSchedule(sched)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := bench.ReplayConfigFor(s, fix)
	if err != nil {
		t.Fatal(err)
	}
	r, err := bench.Replay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func firedIDs(s mm.FailureSet) []string {
	var ids []string
	for _, f := range s.List() {
		ids = append(ids, f.String())
	}
	return ids
}

// TestSeedsFireUnderBaseline: each seed's interleaving, replayed against
// the baseline, follows its schedule and fires exactly the failure ids its
// seed document describes.
func TestSeedsFireUnderBaseline(t *testing.T) {
	n := 0
	for _, w := range workloads.All() {
		seeds, err := workloads.Seeds(w.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			n++
			t.Run(s.Name, func(t *testing.T) {
				if len(s.Expect) == 0 {
					t.Fatal("seed has no expect line")
				}
				r := replay(t, s.Schedule, "")
				if r.Diverged != nil {
					t.Fatalf("the seed schedule does not apply to the model: %v", r.Diverged)
				}
				got, want := firedIDs(r.Exec.Fired), slices.Clone(s.Expect)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("fired %v, want %v\nreports: %v", got, want, r.Exec.Reports)
				}
			})
		}
	}
	if n < 5 {
		t.Fatalf("found %d seed schedules, want race A and the four race B ones", n)
	}
}

// TestSeedsAcrossFixes replays every seed interleaving under every variant
// of its workload's family and compares what happened with
// testdata/replay.golden (regenerate with -rewrite): where the exact race
// from the mailing list still fails, where the schedule stops applying, and
// what fires instead.
func TestSeedsAcrossFixes(t *testing.T) {
	var b strings.Builder
	for _, w := range workloads.All() {
		seeds, err := workloads.Seeds(w.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range seeds {
			fmt.Fprintf(&b, "# %s (%s)\n", s.Name, w.ID)
			for _, fix := range w.Fixes {
				r := replay(t, s.Schedule, fix)
				ids := firedIDs(r.Exec.Fired)
				if len(ids) == 0 {
					ids = []string{"-"}
				}
				div := "followed"
				if r.Diverged != nil {
					div = r.Diverged.String()
				}
				fmt.Fprintf(&b, "%-20s %-9s %-40s %s\n", fix, r.Exec.Result.Outcome, strings.Join(ids, " "), div)
			}
			b.WriteByte('\n')
		}
	}
	const golden = "testdata/replay.golden"
	if *rewrite {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("replays differ from %s (run with -rewrite if the change is intended):\n%s", golden, b.String())
	}
}
