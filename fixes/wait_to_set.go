package fixes

import (
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// WaitToSet is the "nice proper fix" named in c2407cf7d22d and never built
// upstream: PG_writeback acquired like PG_locked, with an atomic
// wait-then-set instead of "wait for writeback to clear, and then set it".
//
// Design, following the lock_page() machinery of v5.10:
//
//   - lock_page_writeback(page) is lock_page() for PG_writeback: a
//     test_and_set_bit fast path, then wait_on_page_bit_common(q, page,
//     PG_writeback, TASK_UNINTERRUPTIBLE, EXCLUSIVE). The waker is the
//     unchanged end_page_writeback(): its wake_up_page_bit() walk wakes at
//     most one exclusive PG_writeback waiter, and only while the bit is
//     clear (wake_page_function's test_bit → -1), and takes the bit for it
//     once it has been passed over unfairness-budget times (CUSTOM → DONE),
//     exactly as unlock_page() hands over PG_locked. A stale wake-up for an
//     earlier writeback therefore cannot wake a waiter whose bit is set.
//   - write_cache_pages() takes the bit, under the page lock, where it used
//     to wait: WB_SYNC_ALL with lock_page_writeback(), WB_SYNC_NONE with a
//     trylock that skips the page when writeback is in flight (as before).
//     Its BUG_ON(PageWriteback) goes: holding the bit is now the invariant.
//     The page stays locked from the wait to ->writepage, so the dirty bit
//     found before cannot be cleared meanwhile (clear_page_dirty_for_io and
//     cancel_dirty_page both need the lock), and clear_page_dirty_for_io()
//     then succeeds: no path gives the bit back without I/O.
//   - ->writepage is entered with the bit held. The filesystems'
//     "BUG_ON(PageWriteback(page)); set_page_writeback(page);" becomes
//     "VM_BUG_ON_PAGE(!PageWriteback(page)); account_page_writeback(page)"
//     — the WRITEBACK mark and the DIRTY/TOWRITE clean-up that
//     __test_set_page_writeback() did after a successful test-and-set.
//   - Waiters that only want "no writeback in flight" (truncation pass 2,
//     __filemap_fdatawait_range) keep their SHARED wait_on_page_writeback(),
//     unchanged.
//
// The cost Linus named is the ~50 ->writepage implementations that would
// change; in the model there is one.
var WaitToSet = &Fix{
	ID:       "wait-to-set",
	Ref:      "c2407cf7d22d (proposed)",
	Desc:     "PG_writeback taken like PG_locked: exclusive wait-then-set, ->writepage holds it",
	Replaces: []string{"write_cache_pages:writeback", "set_page_writeback"},
	Apply: func(ops *mm.Ops) {
		ops.WriteCachePagesWriteback = writeCachePagesLockWriteback
		ops.StartPageWriteback = startPageWritebackHeld
	},
}

// writeCachePagesLockWriteback replaces the PG_writeback handling of
// write_cache_pages() for a locked, dirty page.
func writeCachePagesLockWriteback(t *mm.Thread, page *mm.Page, wbc *mm.WritebackControl) bool {
	if wbc.SyncMode == mm.WB_SYNC_NONE {
		t.Step("trylock_page_writeback")
		return !mm.TestAndSetBit(t, page, mm.PG_writeback)
	}
	defer t.OpEnd(t.OpBegin(mm.OpWaitWriteback))
	lockPageWriteback(t, page)
	return true
}

// lockPageWriteback is the new lock_page_writeback(): lock_page() for
// PG_writeback.
func lockPageWriteback(t *mm.Thread, page *mm.Page) {
	t.Enter("lock_page_writeback")
	defer t.Exit()
	t.Step("lock_page_writeback")
	if !mm.TestAndSetBit(t, page, mm.PG_writeback) {
		t.Return()
		return
	}
	q := mm.PageWaitqueue(t.K, page)
	t.K.Ops.WaitOnPageBitCommon(t, q, page, mm.PG_writeback, sim.TaskUninterruptible, mm.Exclusive)
	t.Return()
}

// startPageWritebackHeld is ->writepage's start of writeback when the caller
// already holds PG_writeback.
func startPageWritebackHeld(t *mm.Thread, page *mm.Page) {
	t.Step("set_page_writeback")
	if !mm.PageWriteback(t, page) && t.K.DebugVM {
		t.Bug(mm.BugWriteback, "->writepage entered without PG_writeback held: VM_BUG_ON_PAGE(!PageWriteback(page)) on pfn %d", page.PFN())
	}
	mm.AccountPageWriteback(t, page)
}
