package workloads

import "github.com/pagelab/pagelab/mm"

// writebackFamily are the variants that race A and B are run under.
var writebackFamily = []string{
	"baseline", "v5.8", "fair-handoff", "loop-wait", "wait-to-set",
	"no-waiters-check", "hold-ref", "hold-ref+loop-wait", "hold-ref+no-waiters-check",
	"folio-no-loop", "folio",
}

// WritebackRestart is race A (seed 000, c2407cf7d22d): a stale
// PG_writeback wake-up without page reuse.
//
// One page of one file. Before the race, the page was written, written back
// (the I/O, io1, is in flight) and written again. Then:
//
//	io1   the completion of that writeback: end_page_writeback()
//	cpu2  background writeback of the file, then another write(2), `rounds` times
//	cpu3  fsync(2) (write_cache_pages WB_SYNC_ALL, then fdatawait), `fsyncs` times
//	cpu4… more fsync(2) callers waiting on the same page (`waiters`)
//	rd1…  readers that lock the page like filemap_fault (`readers`)
//
// Every setter of PG_writeback holds the page lock; the clearer, io1, does
// not, and its clear and its wake-up are separate steps.
var WritebackRestart = &Workload{
	ID:   "writeback-restart",
	Race: "A",
	Desc: "race A: stale PG_writeback wake-up after writeback restarts (c2407cf7d22d)",
	Params: []Param{
		{Name: "rounds", Default: 1, Min: 1, Max: 100, Desc: "writeback + rewrite rounds of cpu2"},
		{Name: "fsyncs", Default: 1, Min: 1, Max: 100, Desc: "fsync calls by cpu3"},
		{Name: "waiters", Default: 0, Min: 0, Max: 64, Desc: "more fsync callers on the same page"},
		{Name: "readers", Default: 0, Min: 0, Max: 64, Desc: "readers taking the page lock"},
	},
	Fixes:         writebackFamily,
	StepsEstimate: 80,
	Sampler:       "pct-irq",
	SamplerDepth:  6,
	SamplerWhy:    "race A holds a writeback completion before its wake-up: at depth 6 it fires bug-writeback 25x as often per execution as the random walk (pct-task 7.2x), first failure in a median 0.7 ms on one core, and under every fix the failures pct-task does; greybox-irq's campaigns fire it 104x and greybox's 36x, but their executions are not independent draws (README, pagelab hunt)",
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			inode := k.NewInode()
			mm.GenericPerformWrite(t, inode, 0)
			mm.WritebackSingleInode(t, inode) // io1: in flight
			mm.GenericPerformWrite(t, inode, 0)
			k.Spawn("cpu2", "writeback", func(t *mm.Thread) {
				for range p["rounds"] {
					mm.WritebackSingleInode(t, inode)
					mm.GenericPerformWrite(t, inode, 0)
				}
			})
			for i := range 1 + p["waiters"] {
				k.Spawn(mm.TaskName("cpu", 3+i), "fsync", func(t *mm.Thread) {
					for range p["fsyncs"] {
						mm.Fsync(t, inode)
					}
				})
			}
			for i := range p["readers"] {
				k.Spawn(mm.TaskName("rd", 1+i), "read", func(t *mm.Thread) {
					mm.ReadPageLocked(t, inode, 0)
				})
			}
		}
	},
}

// WritebackReuse is race B (seed 001, 073861ed77b6): a stale PG_writeback
// wake-up after the page was freed and reused.
//
// File 1 has one page, written and under writeback (io1 in flight), clean.
// The page's buddy is free, so the page can come back inside a compound
// page. With the v5.10 allocator (pcp=1) the set-up CPU's refill took pfns
// 0-62 from the buddy onto its per-CPU list, file 1 has pfn 1, and the
// buddy, pfn 0, was freed back onto that list. A page freed by one CPU
// comes back to another, or inside a compound page, only through the buddy:
// after a drain of the freeing CPU's list (and, for the compound page, of
// the set-up CPU's, so that pfn 0 and 1 merge). Then:
//
//	io1   the completion of file 1's writeback: end_page_writeback()
//	trunc ftruncate(file 1, 0): deletes the page once it sees no
//	      writeback, and frees it when its pagevec lets go
//	thp…  tasks allocating an order-1 compound page (a shmem THP), which may
//	      get the freed page as its tail (`thp`)
//	cpu2  write(2) to file 2 (a new page: maybe the freed one), background
//	      writeback of file 2 (io2), and another write(2) (`write2`)
//	cpu3… fsync(2) of file 2, the waiter of the BUG_ON flavour (`fsync2`)
//	cpu11… ftruncate(file 2, 0), the waiter of the truncation flavour
//	      (`truncate2`); after it, cpu21… write file 3 (cpu21+i its page
//	      i) and may get the page again while file 2's write is in flight
//	      (`write3`)
//	drain a bystander calling drain_all_pages() `drain` times, as direct
//	      reclaim does before it retries a failed allocation and as
//	      alloc_contig_range() and memory offlining do (pcp=1 only): a
//	      kworker per CPU with pcp pages (kw<cpu>) gives them back to the
//	      buddy. lru_add_drain_all() drains only the LRU pagevecs, and
//	      compaction's lru_add_drain_cpu_zone() only its own CPU's list.
var WritebackReuse = &Workload{
	ID:   "writeback-reuse",
	Race: "B",
	Desc: "race B: stale PG_writeback wake-up after the page is freed and reused (073861ed77b6)",
	Params: []Param{
		{Name: "thp", Default: 1, Min: 0, Max: 8, Desc: "THP allocators that may reuse the page as a tail"},
		{Name: "write2", Default: 1, Min: 0, Max: 1, Desc: "file-2 writer that may reuse it as an order-0 page"},
		{Name: "fsync2", Default: 1, Min: 0, Max: 8, Desc: "fsync callers on file 2"},
		{Name: "truncate2", Default: 1, Min: 0, Max: 8, Desc: "truncations of file 2"},
		{Name: "write3", Default: 1, Min: 0, Max: 8, Desc: "file-3 writers after truncation of file 2"},
		{Name: "drain", Default: 1, Min: 0, Max: 4, Desc: "drain_all_pages() calls by a bystander (direct reclaim's retry): pcp lists back to the buddy"},
	},
	Fixes:         writebackFamily,
	StepsEstimate: 150,
	Sampler:       "pct-task",
	SamplerDepth:  14,
	SamplerWhy:    "at depth 14 it fires race B's bad-page 15x as often per execution as the random walk, first failure in a median 10 ms on one core, and under every fix every failure id pct-irq does and more: pct-irq fires bad-page 81x, but never vm-bug-tail, nor under no-waiters-check the bad page and stale page; greybox-irq finds race-b-page soonest, but its executions are not independent draws, and pct-point focused on PG_waiters race-b-thp, but never bug-writeback (README, pagelab hunt)",
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			f1, f2, f3 := k.NewInode(), k.NewInode(), k.NewInode()
			// Take the first free page, so that file 1's page is its odd
			// buddy; free it again right away: it is the free buddy that
			// lets the page come back as the tail of an order-1 page.
			t.Step("alloc_page")
			buddy := mm.AllocPage(t)
			mm.GenericPerformWrite(t, f1, 0)
			t.Step("put_page")
			mm.PutPage(t, buddy)
			mm.WritebackSingleInode(t, f1) // io1: in flight

			k.Spawn("trunc", "truncate", func(t *mm.Thread) {
				mm.TruncatePagecache(t, f1)
			})
			for i := range p["thp"] {
				k.Spawn(mm.TaskName("thp", 1+i), "alloc_pages", func(t *mm.Thread) {
					t.Enter("shmem_alloc_hugepage")
					defer t.Exit()
					t.Step("alloc_pages")
					head := mm.AllocCompoundPage(t, 1)
					if head == nil {
						return
					}
					t.Step("put_page")
					mm.PutPage(t, head)
				})
			}
			if p["write2"] > 0 {
				k.Spawn("cpu2", "write", func(t *mm.Thread) {
					mm.GenericPerformWrite(t, f2, 0)
					mm.WritebackSingleInode(t, f2)
					mm.GenericPerformWrite(t, f2, 0)
				})
			}
			for i := range p["fsync2"] {
				k.Spawn(mm.TaskName("cpu", 3+i), "fsync", func(t *mm.Thread) {
					mm.Fsync(t, f2)
				})
			}
			for i := range p["truncate2"] {
				k.Spawn(mm.TaskName("cpu", 11+i), "truncate", func(t *mm.Thread) {
					mm.TruncatePagecache(t, f2)
				})
			}
			for i := range p["write3"] {
				k.Spawn(mm.TaskName("cpu", 21+i), "write", func(t *mm.Thread) {
					mm.GenericPerformWrite(t, f3, uint64(i))
				})
			}
			if p["drain"] > 0 && k.PCP {
				k.Spawn("drain", "drain_all_pages", func(t *mm.Thread) {
					for i := range p["drain"] {
						if i > 0 {
							t.Step("drain_all_pages")
						}
						mm.DrainAllPages(t)
					}
				})
			}
		}
	},
}
