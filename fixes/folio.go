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

// folioEndWriteback is folio_end_writeback() (mm/filemap.c, v6.7).
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
// v6.7): the XOR under the i_pages lock, returning "there were waiters".
func folioEndWritebackInner(t *mm.Thread, page *mm.Page) bool {
	t.Enter("__folio_end_writeback")
	defer t.Exit()
	t.Step("__folio_end_writeback")
	mapping := mm.ReadMapping(t, page)
	if mapping == nil {
		waiters := mm.FolioXorFlagsHasWaiters(t, page, 1<<mm.PG_writeback)
		t.Return(boolVal(waiters))
		return waiters
	}
	mapping.XaLock(t)
	waiters := mm.FolioXorFlagsHasWaiters(t, page, 1<<mm.PG_writeback)
	if mm.ReadMapping(t, page) == mapping {
		mapping.XaClearMark(t, mm.ReadIndex(t, page), mm.PAGECACHE_TAG_WRITEBACK)
	}
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
	t.Step("folio_wake_bit")
	q.Lock(t)
	mm.WakeUpCommon(t, q, sim.TaskUninterruptible, 1, &key, nil)
	// It's possible to miss clearing waiters here, when we woke our page
	// waiters, but the hashed waitqueue has waiters for other pages on it.
	if !q.WaitqueueActive(t) || !key.PageMatch {
		mm.ClearPageWaiters(t, page)
	}
	q.Unlock()
	t.Return()
}
