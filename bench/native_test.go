package bench

import (
	"sync"
	"testing"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

func nativeCell(t testing.TB, workload, fix string, cpus, runs int, params ...string) *Cell {
	t.Helper()
	w, p := cellOf(t, workload, params)
	v, err := fixes.Parse(fix)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(&Config{Workload: w, Params: p, Variant: v, Strategy: "native", Seed: 1, Runs: runs, CPUs: cpus}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNative runs the latency workloads on real goroutines (run it with
// -race: make test does): every lock and every wait completes, nothing
// fails where the model has no race, and every operation is timed.
func TestNative(t *testing.T) {
	for _, fix := range []string{"baseline", "v5.8", "fair-handoff"} {
		c := nativeCell(t, "lock-storm", fix, 4, 2, "tasks=8", "ops=200", "think=2000")
		if c.Failing != 0 {
			t.Errorf("lock-storm under %s: %d failing runs: %v", fix, c.Failing, c.FirstReport)
		}
		if l := c.Latency("lock_page"); l == nil || l.Count != 2*8*200 {
			t.Errorf("lock-storm under %s: lock_page latencies %+v, want %d", fix, l, 2*8*200)
		}
	}
	for _, fix := range []string{"hold-ref+loop-wait", "folio", "wait-to-set"} {
		c := nativeCell(t, "fsync-storm", fix, 4, 2, "waiters=16", "rounds=20", "waits=5")
		if c.Failures[mm.Hang]+c.Failures[mm.Livelock]+c.Failures[mm.BadPage] != 0 {
			t.Errorf("fsync-storm under %s: %v", fix, c.Failures)
		}
		if l := c.Latency("fdatawait"); l == nil || l.Count != 2*16*5 {
			t.Errorf("fsync-storm under %s: fdatawait latencies %+v, want %d", fix, l, 2*16*5)
		}
	}
}

// BenchmarkNativeLock compares, in one run, an uncontended
// lock_page()+unlock_page() of the model on a real goroutine with a
// sync.Mutex Lock+Unlock. Target: within 3x.
func BenchmarkNativeLock(b *testing.B) {
	b.Run("lock_page+unlock_page", func(b *testing.B) {
		n := sim.NewNative(1, wallClock)
		k := mm.NewKernel(mm.DefaultConfig(), n)
		var page *mm.Page
		if err := k.Setup(n, func(t *mm.Thread) {
			inode := k.NewInode()
			mm.GenericPerformWrite(t, inode, 0)
			page = inode.Mapping.Lookup(0)
		}); err != nil {
			b.Fatal(err)
		}
		k.Spawn("locker", "start", func(t *mm.Thread) {
			b.ResetTimer()
			for b.Loop() {
				mm.LockPage(t, page)
				mm.UnlockPage(t, page)
			}
		})
		if res, err := n.Run(nil); err != nil || res.Outcome != sim.Completed {
			b.Fatal(res.Outcome, err)
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		for b.Loop() {
			mu.Lock()
			mu.Unlock() //nolint:staticcheck // the empty critical section is the point
		}
	})
}
