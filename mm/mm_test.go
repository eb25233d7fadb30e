package mm

import (
	"strings"
	"testing"

	"github.com/pagelab/pagelab/sim"
)

// world is a kernel and an explorer to run model functions in tasks.
type world struct {
	k *Kernel
	x *sim.Explorer
}

func newWorld(t *testing.T, cfg Config, segs ...sim.Segment) *world {
	t.Helper()
	x := sim.NewExplorer(sim.NewReplay(segs, sim.Sequential{}), sim.HandoffCoroutine)
	t.Cleanup(x.Close)
	x.MaxSteps = 10000
	x.Reset()
	return &world{k: NewKernel(cfg, x), x: x}
}

func (w *world) run(t *testing.T) sim.Result {
	t.Helper()
	res, err := w.x.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// setup runs fn alone, as a workload's set-up does.
func (w *world) setup(t *testing.T, fn func(*Thread)) {
	t.Helper()
	if err := w.k.Setup(w.x, fn); err != nil {
		t.Fatal(err)
	}
}

func (w *world) newPage(t *testing.T) (page *Page, inode *Inode) {
	w.setup(t, func(th *Thread) {
		inode = w.k.NewInode()
		GenericPerformWrite(th, inode, 0)
		page = inode.Mapping.Lookup(0)
	})
	return page, inode
}

func TestUnlockWakesLockWaiter(t *testing.T) {
	w := newWorld(t, DefaultConfig(),
		sim.Segment{Task: "a", At: "start", Until: "hold"},
		sim.Segment{Task: "b", At: "start"}, // queues and sleeps
		sim.Segment{Task: "a", At: "hold"},
	)
	page, _ := w.newPage(t)
	var bGot bool
	w.k.Spawn("a", "start", func(th *Thread) {
		LockPage(th, page)
		th.Step("hold")
		UnlockPage(th, page)
	})
	w.k.Spawn("b", "start", func(th *Thread) {
		LockPage(th, page)
		bGot = PageLocked(th, page)
		UnlockPage(th, page)
	})
	res := w.run(t)
	if res.Outcome != sim.Completed || !bGot {
		t.Fatalf("outcome %v, b got the lock: %v", res.Outcome, bGot)
	}
	if f := page.Flags(); f&(1<<PG_locked|1<<PG_waiters) != 0 {
		t.Fatalf("flags %s after both unlocked: want neither locked nor waiters", FlagNames(f))
	}
}

// TestUnfairnessBudget: with sysctl_page_lock_unfairness 5 a woken waiter
// has to take the lock itself and a fast-path locker can steal it first;
// with 0 the waiter's first queueing asks for hand-off (WQ_FLAG_CUSTOM) and
// the waker takes the lock for it, so the stealer's trylock fails.
func TestUnfairnessBudget(t *testing.T) {
	for _, tc := range []struct {
		unfairness int
		stolen     bool
	}{{5, true}, {0, false}} {
		cfg := DefaultConfig()
		cfg.PageLockUnfairness = tc.unfairness
		w := newWorld(t, cfg,
			sim.Segment{Task: "owner", At: "start", Until: "hold"},
			sim.Segment{Task: "waiter", At: "start"}, // sleeps in __lock_page
			sim.Segment{Task: "owner", At: "hold"},   // unlock: wakes the waiter
			sim.Segment{Task: "stealer", At: "start"},
		)
		page, _ := w.newPage(t)
		w.k.Spawn("owner", "start", func(th *Thread) {
			LockPage(th, page)
			th.Step("hold")
			UnlockPage(th, page)
		})
		w.k.Spawn("waiter", "start", func(th *Thread) {
			LockPage(th, page)
			UnlockPage(th, page)
		})
		stolen := false
		w.k.Spawn("stealer", "start", func(th *Thread) {
			th.Step("trylock_page")
			if TrylockPage(th, page) {
				stolen = true
				UnlockPage(th, page)
			}
		})
		if res := w.run(t); res.Outcome != sim.Completed {
			t.Fatalf("unfairness %d: %v", tc.unfairness, res.Outcome)
		}
		if stolen != tc.stolen {
			t.Errorf("unfairness %d: stolen = %v, want %v", tc.unfairness, stolen, tc.stolen)
		}
	}
}

// TestSharedWaiterReturnsWithBitSet is race A in miniature: the waker's
// clear and wake are separate steps, the bit is set again in between, and
// the SHARED waiter (v5.9+) returns with it set.
func TestSharedWaiterReturnsWithBitSet(t *testing.T) {
	w := newWorld(t, DefaultConfig(),
		sim.Segment{Task: "io", At: "start", Until: "wake_up_page"},
		sim.Segment{Task: "setter", At: "start"},
		sim.Segment{Task: "waiter", At: "start"},
		sim.Segment{Task: "io", At: "wake_up_page"},
	)
	page, _ := w.newPage(t)
	page.setBit(PG_writeback)
	w.k.Spawn("io", "start", func(th *Thread) { EndPageWriteback(th, page) })
	w.k.Spawn("setter", "start", func(th *Thread) {
		LockPage(th, page)
		SetPageWriteback(th, page)
		UnlockPage(th, page)
	})
	var after bool
	w.k.Spawn("waiter", "start", func(th *Thread) {
		WaitOnPageWriteback(th, page)
		after = PageWriteback(th, page)
	})
	if res := w.run(t); res.Outcome != sim.Completed {
		t.Fatalf("outcome %v", res.Outcome)
	}
	if !after {
		t.Fatal("the waiter returned with PG_writeback clear; want it woken by the stale wake-up with the bit set again")
	}
}

// TestHashCollision: with one bucket, waking page B passes page A's waiter
// (no match) and clears B's PG_waiters, but leaves A's waiter queued and
// A's PG_waiters set.
func TestHashCollision(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WaitTableBits = 0
	w := newWorld(t, cfg,
		sim.Segment{Task: "waiter", At: "start"},
		sim.Segment{Task: "waker", At: "start"},
		sim.Segment{Task: "releaser", At: "start"},
	)
	var a, b *Page
	w.setup(t, func(th *Thread) {
		ia, ib := w.k.NewInode(), w.k.NewInode()
		GenericPerformWrite(th, ia, 0)
		GenericPerformWrite(th, ib, 0)
		a, b = ia.Mapping.Lookup(0), ib.Mapping.Lookup(0)
		a.setBit(PG_writeback)
		b.setBit(PG_waiters) // stale, as a waiter that did not need to sleep leaves it
	})
	if PageWaitqueue(w.k, a) != PageWaitqueue(w.k, b) {
		t.Fatal("one bucket, two queues")
	}
	w.k.Spawn("waiter", "start", func(th *Thread) { WaitOnPageWriteback(th, a) })
	w.k.Spawn("waker", "start", func(th *Thread) { WakeUpPageBit(th, b, PG_writeback) })
	w.k.Spawn("releaser", "start", func(th *Thread) { EndPageWriteback(th, a) })
	var afterWaker uint64
	var queued int
	w.x.Trace = func(t *sim.Task, step int) {
		if t.Name == "releaser" && afterWaker == 0 {
			afterWaker = a.Flags() | 1<<63
			queued = PageWaitqueue(w.k, a).Len()
		}
	}
	if res := w.run(t); res.Outcome != sim.Completed {
		t.Fatalf("outcome %v", res.Outcome)
	}
	if b.Flags()&(1<<PG_waiters) != 0 {
		t.Error("waking B left B's PG_waiters set although no entry for B was queued")
	}
	if afterWaker&(1<<PG_waiters) == 0 || queued != 1 {
		t.Errorf("after waking B: A's flags %s, %d entries queued; want A's waiter untouched", FlagNames(afterWaker&^(1<<63)), queued)
	}
}

// TestBookmarkWalk: with WAITQUEUE_WALK_BREAK_CNT 2, waking 7 shared
// waiters takes several walk segments with q->lock dropped between them,
// and wakes every one.
func TestBookmarkWalk(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WalkBreakCnt = 2
	var segs []sim.Segment
	for i := 1; i <= 7; i++ {
		segs = append(segs, sim.Segment{Task: TaskName("w", i), At: "start"})
	}
	segs = append(segs, sim.Segment{Task: "io", At: "start"})
	w := newWorld(t, cfg, segs...)
	page, _ := w.newPage(t)
	page.setBit(PG_writeback)
	for i := 1; i <= 7; i++ {
		w.k.Spawn(TaskName("w", i), "start", func(th *Thread) { WaitOnPageWriteback(th, page) })
	}
	w.k.Spawn("io", "start", func(th *Thread) { EndPageWriteback(th, page) })
	relax := 0
	w.x.Trace = func(t *sim.Task, step int) {
		if t.Label() == "wake_up_page_bit:cpu_relax" {
			relax++
		}
	}
	if res := w.run(t); res.Outcome != sim.Completed {
		t.Fatalf("outcome %v (a waiter was never woken?)", res.Outcome)
	}
	// Segments of 3 entries (the break comes once more than 2 were seen).
	if relax != 2 {
		t.Errorf("%d bookmark breaks, want 2 for 7 waiters with break count 2", relax)
	}
}

func TestFreeUnderWriteback(t *testing.T) {
	for _, debug := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.DebugVM, cfg.DebugVMPgflags = debug, debug
		w := newWorld(t, cfg)
		var page *Page
		w.setup(t, func(th *Thread) {
			page = AllocPage(th)
			page.setBit(PG_writeback)
			page.setBit(PG_waiters)
			PutPage(th, page)
		})
		bad := w.k.Fired().Has(BadPage)
		if bad != debug {
			t.Errorf("debug_vm=%v: bad-page fired = %v", debug, bad)
		}
		if page.IsFree() == debug {
			t.Errorf("debug_vm=%v: page free = %v; want leaked with the check, freed without", debug, page.IsFree())
		}
		if !debug && page.Flags() != 0 {
			t.Errorf("free_pages_prepare left flags %s", FlagNames(page.Flags()))
		}
		if debug && !strings.Contains(w.k.Reports()[0].Msg, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: writeback") {
			t.Errorf("report %q does not name the flag", w.k.Reports()[0].Msg)
		}
	}
}

func TestAllocatorReuse(t *testing.T) {
	for _, pcp := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.PCP = pcp
		if !pcp {
			cfg.NrPages = 64
		}
		w := newWorld(t, cfg)
		w.setup(t, func(th *Thread) {
			a := AllocPage(th)
			b := AllocPage(th) // a's buddy
			gen := b.Gen()
			PutPage(th, a)
			PutPage(th, b)
			// Both the global list (pcp=0) and this CPU's pcp list
			// (pcp=1) hand out the last freed page first.
			if c := AllocPage(th); c != b || c.Gen() != gen+1 {
				t.Errorf("pcp=%v: order-0 allocation got pfn %d gen %d, want the last freed pfn %d with gen %d", pcp, c.PFN(), c.Gen(), b.PFN(), gen+1)
			}
			PutPage(th, b)
			if pcp {
				// On the pcp list, the pair is not in the buddy: an
				// order-1 allocation gets another block...
				other := AllocCompoundPage(th, 1)
				if other == a || PageTail(b) {
					t.Errorf("pcp=1: order-1 allocation got the pair while it is on the pcp list")
				}
				PutPage(th, other)
				// ...until drain_local_pages() gives it back to the
				// buddy, where a and b merge.
				drainPagesZone(th, th.cpu)
			}
			head := AllocCompoundPage(th, 1)
			if head != a || !PageTail(b) || CompoundHead(b) != a {
				t.Errorf("pcp=%v: order-1 allocation: head pfn %d, pfn %d tail %v; want the freed pair with the last freed page as tail", pcp, head.PFN(), b.PFN(), PageTail(b))
			}
			PutPage(th, head)
			if PageTail(b) || !b.IsFree() || !a.IsFree() {
				t.Errorf("pcp=%v: freeing the compound page did not free and untail its pages", pcp)
			}
		})
		if !w.k.Fired().Empty() {
			t.Fatalf("pcp=%v: unexpected failures: %v", pcp, w.k.Reports())
		}
	}
}
