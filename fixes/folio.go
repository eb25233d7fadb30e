package fixes

import (
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// Folio is the modern (v6.7+) design: folio_end_writeback() holds a
// reference across clear and wake (073861ed77b6), clears PG_writeback and
// reads PG_waiters in one atomic XOR (2580d554585c, 0410cd844ed0, after
// "mm: Rearrange page flags" put PG_writeback in the low byte),
// folio_wait_writeback() loops (c2407cf7d22d), and the wait-queue walk has no
// bookmarks ("sched: remove wait bookmarks").
var Folio = &Fix{
	ID:       "folio",
	Ref:      "2580d554585c",
	Desc:     "v6.7 design: hold-ref, fused XOR clear, loop-wait, no bookmarks",
	Replaces: []string{"end_page_writeback", "wait_on_page_writeback", "wake_up_page_bit"},
	Includes: []string{"hold-ref", "loop-wait", "no-waiters-check"},
	Apply: func(ops *mm.Ops) {
		ops.EndPageWriteback = folioEndWriteback
		ops.WaitOnPageWriteback = waitOnPageWritebackLoop // folio_wait_writeback()
		ops.WakeUpPageBit = folioWakeBit
	},
}

// folioEndWriteback is folio_end_writeback() (mm/filemap.c, v6.7):
//
//	VM_BUG_ON_FOLIO(!folio_test_writeback(folio), folio);
//	if (folio_test_reclaim(folio)) { ... }
//	folio_get(folio);
//	if (__folio_end_writeback(folio))
//		folio_wake_bit(folio, PG_writeback);
//	acct_reclaim_writeback(folio);
//	folio_put(folio);
func folioEndWriteback(t *mm.Thread, page *mm.Page) {
	t.Enter("folio_end_writeback")
	defer t.Exit()
	t.Step("folio_end_writeback")
	if !mm.PageWriteback(t, page) && t.K.DebugVM {
		t.Bug(mm.BugEndWriteback, "folio_end_writeback on pfn %d: VM_BUG_ON_FOLIO(!folio_test_writeback(folio))", page.PFN())
	}
	if mm.PageReclaim(t, page) {
		mm.ClearPageReclaim(t, page)
		mm.RotateReclaimablePage(t, page)
	}
	// Writeback does not hold a folio reference of its own, relying on
	// truncation to wait for the clearing of PG_writeback. But here we
	// must make sure that the folio is not freed and reused before the
	// folio_wake_bit().
	t.Step("folio_get")
	mm.GetPage(t, page)
	if folioEndWritebackInner(t, page) {
		folioWakeBit(t, page, mm.PG_writeback)
	}
	t.Step("folio_put")
	mm.PutPage(t, page)
	t.Return()
}

// folioEndWritebackInner is __folio_end_writeback() (mm/page-writeback.c,
// v6.7: 7d0795d098a1 "mm: make __end_folio_writeback() return void" made the
// mark clearing unconditional, 2580d554585c the XOR and the bool):
//
//	struct address_space *mapping = folio_mapping(folio);
//	...
//	if (mapping && mapping_use_writeback_tags(mapping)) {
//		xa_lock_irqsave(&mapping->i_pages, flags);
//		ret = folio_xor_flags_has_waiters(folio, 1 << PG_writeback);
//		__xa_clear_mark(&mapping->i_pages, folio_index(folio),
//					PAGECACHE_TAG_WRITEBACK);
//		...
//	} else {
//		ret = folio_xor_flags_has_waiters(folio, 1 << PG_writeback);
//	}
//
// folio_mapping() is a plain load before the lock (in the caller's step,
// folio_get's); nothing re-checks it under the lock.
func folioEndWritebackInner(t *mm.Thread, page *mm.Page) bool {
	t.Enter("__folio_end_writeback")
	defer t.Exit()
	mapping := mm.ReadMapping(t, page)
	t.Step("__folio_end_writeback")
	if mapping == nil {
		waiters := mm.FolioXorFlagsHasWaiters(t, page, 1<<mm.PG_writeback)
		t.Return(boolVal(waiters))
		return waiters
	}
	mapping.XaLock(t)
	waiters := mm.FolioXorFlagsHasWaiters(t, page, 1<<mm.PG_writeback)
	mapping.XaClearMark(t, mm.ReadIndex(t, page), mm.PAGECACHE_TAG_WRITEBACK)
	mapping.XaUnlock()
	t.Return(boolVal(waiters))
	return waiters
}

// folioWakeBit is folio_wake_bit() (mm/filemap.c, v6.7): wake_up_page_bit()
// without bookmarks — one walk of the whole queue under q->lock.
func folioWakeBit(t *mm.Thread, page *mm.Page, bitNr uint) {
	t.Enter("folio_wake_bit")
	defer t.Exit()
	q := mm.PageWaitqueue(t.K, page)
	key := mm.WaitPageKey{Page: page, BitNr: bitNr}
	mm.BeginWalk(t)
	t.Step("folio_wake_bit")
	q.Lock(t)
	mm.WakeUpCommon(t, q, sim.TaskUninterruptible, 1, &key, nil)
	// It's possible to miss clearing waiters here, when we woke our page
	// waiters, but the hashed waitqueue has waiters for other pages on it.
	if !q.WaitqueueActive(t) || !key.PageMatch {
		mm.ClearPageWaiters(t, page)
	}
	q.Unlock()
	mm.EndWalk(t, bitNr)
	t.Return()
}
