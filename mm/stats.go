package mm

// Operations whose latency the lab reports, bracketed in the model with
// t.OpBegin/t.OpEnd.
const (
	// OpLockPage is lock_page(): from the call until the caller holds
	// PG_locked.
	OpLockPage = iota
	// OpWaitWriteback is wait_on_page_writeback() (and, under wait-to-set,
	// lock_page_writeback() in write_cache_pages, which replaces it).
	OpWaitWriteback
	// OpWriteCachePages is write_cache_pages() over its range.
	OpWriteCachePages
	// OpFsync is file_write_and_wait_range(): write out, then wait.
	OpFsync
	// OpEndPageWriteback is end_page_writeback(), in the completion.
	OpEndPageWriteback
	// OpFdatawait is __filemap_fdatawait_range() over its range.
	OpFdatawait

	NumOps
)

// OpNames are the operations' names in reports.
var OpNames = [NumOps]string{"lock_page", "wait_on_page_writeback", "write_cache_pages", "fsync", "end_page_writeback", "fdatawait"}

// Count metrics: distributions the lab reports beside the latencies
// (sim.Task.Count), recorded in timed and native runs.
const (
	// CountWakeWalk is, per wake-up of PG_writeback waiters
	// (wake_up_page_bit / folio_wake_bit for PG_writeback), the wait-queue
	// entries the walk visited, over all its bookmark segments: Brian
	// Foster's chase is a walk that never reaches the tail.
	CountWakeWalk = iota
	// CountWaitLocked and CountWaitUnlocked are, per
	// wait_on_page_writeback(), the writeback cycles the waiter waited
	// through (the PG_writeback waits it began: 0 if the bit was clear,
	// 1 for one wait, more when the loop of c2407cf7d22d found the bit set
	// again after a wake-up), for a waiter holding the page lock
	// (write_cache_pages, truncation, collapse) and for one without it
	// (__filemap_fdatawait_range: fsync's and sync_file_range's wait).
	CountWaitLocked
	CountWaitUnlocked
	// CountNonPreempt is, per stretch of non-preemptible kernel code a
	// worker ran (a work item's execution, up to its cond_resched()), its
	// length in the task's clock: the soft-lockup watchdog's measure.
	CountNonPreempt

	NumCounts
)

// CountNames and CountUnits name the count metrics and their units in
// reports.
var (
	CountNames = [NumCounts]string{"wb_wake_walk", "wb_wait_locked", "wb_wait_unlocked", "nonpreempt"}
	CountUnits = [NumCounts]string{"entries", "cycles", "cycles", "ns"}
)

// waitOnPageWriteback calls the installed wait_on_page_writeback(), timed,
// and counts the writeback cycles it waited through; locked says whether
// the caller holds the page lock.
func waitOnPageWriteback(t *Thread, page *Page, locked bool) {
	m := t.OpBegin(OpWaitWriteback)
	before := t.bitWaits
	t.K.Ops.WaitOnPageWriteback(t, page)
	t.OpEnd(m)
	c := CountWaitUnlocked
	if locked {
		c = CountWaitLocked
	}
	t.Count(c, t.bitWaits-before)
}
