package fixes

import "github.com/pagelab/pagelab/mm"

// NoWaitersCheck is patches 09/11 and 10/11 of Matthew Wilcox's "Make
// PageWriteback use the PageLocked optimisation"
// (20200416220130.13343-1-willy@infradead.org, v3, April 2020; 08/11 moves
// PG_writeback to bit 1, into PG_waiters' byte):
//
//   - 09/11 "mm: Convert writeback BUG to WARN_ON"
//     (20200416220130.13343-10): end_page_writeback() no longer BUG()s when
//     PG_writeback was already clear; test_clear_page_writeback() starts
//     with "if (WARN_ON(!PageWriteback(page))) { dump_page(page,
//     "!writeback"); return false; }" — "I think it's safe for us to just
//     continue if we try to clear the writeback bit on a page which already
//     has the writeback bit clear" (warn-writeback, not fatal).
//   - 10/11 "mm: Use clear_bit_unlock_is_negative_byte for PageWriteback"
//     (20200416220130.13343-11): test_clear_page_writeback() becomes
//     __clear_page_writeback(), which clears PG_writeback and reads
//     PG_waiters in one atomic operation, as unlock_page() does for
//     PG_locked, and returns "whether there are waiters pending, not whether
//     the flag was set"; end_page_writeback() calls wake_up_page_bit() when
//     it says so; wake_up_page() and its separate PageWaiters() read after
//     the clear are gone. (11/11 only removes TestClearPageWriteback.)
//
// The PG_waiters bit the fused operation reads is the page's, shared by
// PG_locked and PG_writeback waiters: a task waiting for the page lock at
// that instant makes the completion walk the queue for PG_writeback, and
// the walk can meet a PG_writeback waiter that queued after the clear.
//
// It does not take a page reference (with hold-ref, composed, it does):
// after the fused clear the page may still be freed and reused before
// wake_up_page_bit() walks the queue.
var NoWaitersCheck = &Fix{
	ID:       "no-waiters-check",
	Ref:      "20200416220130.13343-11-willy@infradead.org",
	Desc:     "clear PG_writeback and test PG_waiters in one atomic op",
	Replaces: []string{"end_page_writeback"},
	Apply: func(ops *mm.Ops) {
		ops.EndPageWriteback = endPageWritebackNoWaitersCheck
	},
}

// endPageWritebackNoWaitersCheck is end_page_writeback() (mm/filemap.c) with
// patches 09/11 and 10/11:
//
//	if (__clear_page_writeback(page))
//		wake_up_page_bit(page, PG_writeback);
//
// With hold-ref (mm.Ops.EndWritebackHoldsRef) composed, get_page() and
// put_page() of 073861ed77b6 surround those lines.
func endPageWritebackNoWaitersCheck(t *mm.Thread, page *mm.Page) {
	t.Enter("end_page_writeback")
	defer t.Exit()
	t.Step("end_page_writeback")
	if mm.PageReclaim(t, page) {
		mm.ClearPageReclaim(t, page)
		mm.RotateReclaimablePage(t, page)
	}
	holdRef := t.K.Ops.EndWritebackHoldsRef
	if holdRef {
		t.Step("get_page")
		mm.GetPage(t, page)
	}
	if clearPageWriteback(t, page) {
		t.K.Ops.WakeUpPageBit(t, page, mm.PG_writeback)
	}
	if holdRef {
		t.Step("put_page")
		mm.PutPage(t, page)
	}
	t.Return()
}

// clearPageWriteback is __clear_page_writeback() (mm/page-writeback.c) of
// patches 09/11 and 10/11, replacing test_clear_page_writeback():
//
//	struct address_space *mapping = page_mapping(page);
//	...
//	if (WARN_ON(!PageWriteback(page))) {
//		dump_page(page, "!writeback");
//		return false;
//	}
//	memcg = lock_page_memcg(page);
//	...
//	if (mapping && mapping_use_writeback_tags(mapping)) {
//		xa_lock_irqsave(&mapping->i_pages, flags);
//		ret = clear_writeback_bit(page);
//		__xa_clear_mark(&mapping->i_pages, page_index(page),
//					PAGECACHE_TAG_WRITEBACK);
//		...
//	} else {
//		ret = clear_writeback_bit(page);
//	}
//
// clear_writeback_bit() is clear_bit_unlock_is_negative_byte(PG_writeback).
// The mark is cleared unconditionally (10/11 drops the "if (ret)"), at the
// index of whoever owns the page by then, in the mapping read before the
// lock. The two plain loads (page->mapping, then PG_writeback for the
// WARN_ON) are in the caller's step; the scheduling point is at the lock
// and the fused clear. The WARN_ON's test and the clear are not atomic
// together: the bit can only be cleared by this completion, but a page
// freed under writeback and reused may have it set by its new owner.
func clearPageWriteback(t *mm.Thread, page *mm.Page) bool {
	t.Enter("__clear_page_writeback")
	defer t.Exit()
	mapping := mm.ReadMapping(t, page)
	if !mm.PageWriteback(t, page) {
		t.Raise(mm.WarnWriteback, "__clear_page_writeback on pfn %d: WARN_ON(!PageWriteback(page)); dump_page(page, \"!writeback\"); return false", page.PFN())
		t.Return(boolVal(false))
		return false
	}
	t.Step("__clear_page_writeback")
	if mapping == nil {
		waiters := mm.ClearBitUnlockIsNegativeByte(t, page, mm.PG_writeback)
		t.Return(boolVal(waiters))
		return waiters
	}
	mapping.XaLock(t)
	waiters := mm.ClearBitUnlockIsNegativeByte(t, page, mm.PG_writeback)
	mapping.XaClearMark(t, mm.ReadIndex(t, page), mm.PAGECACHE_TAG_WRITEBACK)
	mapping.XaUnlock()
	t.Return(boolVal(waiters))
	return waiters
}
