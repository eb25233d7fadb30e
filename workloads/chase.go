package workloads

import "github.com/pagelab/pagelab/mm"

// WritebackChase is Brian Foster's soft lockup (linux-mm, March 2022, lore
// YjDj3lvlNJK/IPiU@bfoster: "watchdog: BUG: soft lockup - CPU#42 stuck for
// 208s!" in folio_wake_bit ← folio_end_writeback ← iomap_finish_ioend ←
// xfs_end_io, on 5.17-rc8 with 96 CPUs, LTP diotest3: 100 tasks doing
// buffered write → fsync → direct-I/O read of one file).
//
// What it needs, and what the model has for each:
//   - wait_on_page_writeback()'s loop (c2407cf7d22d, fix loop-wait): a
//     woken waiter that finds PG_writeback set again queues itself again,
//     at the tail of the hashed wait queue;
//   - the wake-up walk's bookmarks (wake_up_page_bit, WAITQUEUE_WALK_BREAK_CNT
//     = 64): the walker drops q->lock every 65 entries and goes on after
//     its bookmark, so waiters it woke a moment ago, queued again behind
//     it, are in front of it again;
//   - a writer setting PG_writeback again right after the clear: fsync's
//     and the direct-I/O read's write_cache_pages(), waiting (page locked)
//     for the writeback in flight, are woken by the same walk, put the
//     re-dirtied page under writeback again and add it to an XFS ioend
//     whose bio goes out only when the batch closes (iomap.go);
//   - completion in a workqueue (xfs_end_io, one work item per inode): the
//     I/O of that new writeback completes, but its completion cannot run
//     while the walking completion has not returned, so the walk is the
//     only thing that could end the chase, and it chases its own tail.
//
// Each of `tasks` tasks, `rounds` times: a buffered write(2) of one page
// of the `pages`-page file, fsync(2) (file_write_and_wait_range), a
// direct-I/O read of the file (iomap_dio_rw's filemap_write_and_wait_range),
// and `think` ns of user work. The file is on XFS; with `wq`=1 its ioends
// complete in the workqueue (xfs_prepare_ioend sends extending writes and
// unwritten extents there), with 0 in the interrupt.
//
// WAITQUEUE_WALK_BREAK_CNT is 16 here, not the kernel's 64 (kernel
// parameter walk_break; -param walk_break=64 restores it). The chase can
// last only while more waiters re-queue on the page than one walk segment
// holds (walk_break + 1): each segment wakes that many, and the walk ends
// when it reaches the tail. In the model most of the tasks queue on the
// page lock held by a write_cache_pages() that waits for writeback, and
// the crowd re-waiting on one page's writeback stays at a few dozen
// (measured: soft lockups at walk_break 16 and 24, none at 32, 48 or 64,
// 100 tasks, 96 CPUs); on Foster's machine it outgrew 64. The default
// scales the break count to the model's crowd, so that the variants that
// remove the bookmarks or raise the count are compared where it matters.
//
// The soft-lockup watchdog is the kernel parameter softlockup_us (20 ms of
// virtual time by default: the kernel's 20 s, 2 × watchdog_thresh, scaled
// down a thousand times so that a default run takes seconds; the stretch a
// healthy completion keeps its CPU is tens of microseconds, see the
// nonpreempt count). A longer run: rounds=20,softlockup_us=1000000 at
// -cpus 96.
var WritebackChase = &Workload{
	ID:   "writeback-chase",
	Desc: "re-queued writeback waiters against a bookmarked walk: the 2022 soft lockup",
	Params: []Param{
		{Name: "tasks", Default: 100, Min: 1, Max: 1024, Desc: "tasks doing write → fsync → direct-I/O read (diotest3)"},
		{Name: "pages", Default: 4, Min: 1, Max: 64, Desc: "pages of the file"},
		{Name: "rounds", Default: 3, Min: 1, Max: 100000, Desc: "write + fsync + read rounds per task"},
		{Name: "think", Default: 5000, Min: 0, Max: 1e9, Desc: "ns of user work between two rounds"},
		{Name: "wq", Default: 1, Min: 0, Max: 1, Desc: "ioends complete in the inode's workqueue item (1) or in the interrupt (0)"},
	},
	KernelDefaults: Values{"walk_break": 16},
	Fixes:          []string{"baseline", "hold-ref+loop-wait", "hold-ref+loop-wait+no-bookmarks", "hold-ref+loop-wait+walk-break-128", "folio"},
	StepsEstimate:  200000,
	Latency:        true,
	PrimaryOp:      mm.OpFsync,
	TimedMaxSteps:  20_000_000,
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			inode := k.NewXFSInode(p["wq"] != 0)
			pages := uint64(p["pages"])
			for i := range pages {
				mm.GenericPerformWrite(t, inode, i)
			}
			for i := range p["tasks"] {
				k.Spawn(mm.TaskName("dio", i+1), "write", func(t *mm.Thread) {
					for r := range p["rounds"] {
						mm.GenericPerformWrite(t, inode, uint64(i+r)%pages)
						mm.Fsync(t, inode)
						mm.IomapDioRead(t, inode, 0, pages-1)
						t.Work("think", int64(p["think"]))
					}
				})
			}
		}
	},
}
