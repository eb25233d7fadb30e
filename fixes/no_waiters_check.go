package fixes

import "github.com/pagelab/pagelab/mm"

// NoWaitersCheck is Matthew Wilcox's "mm: Use
// clear_bit_unlock_is_negative_byte for PageWriteback"
// (20200416220130.13343-11-willy@infradead.org, patch 10/11 of "Make
// PageWriteback use the PageLocked optimisation", with 08/11 moving
// PG_writeback to bit 1, into PG_waiters' byte). Clearing PG_writeback and
// reading PG_waiters become one atomic operation, as for PG_locked in
// unlock_page(); wake_up_page() and its separate PageWaiters() read after
// the clear are gone. The fused operation reports the waiters, not whether
// PG_writeback was set, so the BUG() for an already-clear bit goes too.
//
// It does not take a page reference: after the fused clear the page may
// still be freed and reused before wake_up_page_bit() walks the queue.
var NoWaitersCheck = &Fix{
	ID:       "no-waiters-check",
	Ref:      "20200416220130.13343-11-willy@infradead.org",
	Desc:     "clear PG_writeback and test PG_waiters in one atomic op; no PageWaiters read",
	Replaces: []string{"end_page_writeback"},
	Apply: func(ops *mm.Ops) {
		ops.EndPageWriteback = endPageWritebackNoWaitersCheck
	},
}

// endPageWritebackNoWaitersCheck is end_page_writeback() with patch 10/11.
func endPageWritebackNoWaitersCheck(t *mm.Thread, page *mm.Page) {
	t.Enter("end_page_writeback")
	defer t.Exit()
	t.Step("end_page_writeback")
	if mm.PageReclaim(t, page) {
		mm.ClearPageReclaim(t, page)
		mm.RotateReclaimablePage(t, page)
	}
	if clearPageWriteback(t, page) {
		t.K.Ops.WakeUpPageBit(t, page, mm.PG_writeback)
	}
	t.Return()
}

// clearPageWriteback is __clear_page_writeback() of patch 10/11, replacing
// test_clear_page_writeback(): under the i_pages lock, clear PG_writeback
// with the unlock byte operation and return whether there are waiters.
func clearPageWriteback(t *mm.Thread, page *mm.Page) bool {
	t.Enter("__clear_page_writeback")
	defer t.Exit()
	t.Step("__clear_page_writeback")
	mapping := mm.ReadMapping(t, page)
	if mapping == nil {
		waiters := mm.ClearBitUnlockIsNegativeByte(t, page, mm.PG_writeback)
		t.Return(boolVal(waiters))
		return waiters
	}
	mapping.XaLock(t)
	waiters := mm.ClearBitUnlockIsNegativeByte(t, page, mm.PG_writeback)
	if mm.ReadMapping(t, page) == mapping {
		mapping.XaClearMark(t, mm.ReadIndex(t, page), mm.PAGECACHE_TAG_WRITEBACK)
	}
	mapping.XaUnlock()
	t.Return(boolVal(waiters))
	return waiters
}
