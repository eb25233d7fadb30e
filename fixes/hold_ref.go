package fixes

import "github.com/pagelab/pagelab/mm"

// HoldRef is 073861ed77b6 ("mm: fix VM_BUG_ON(PageTail) and
// BUG_ON(PageWriteback)", Hugh Dickins, v5.10-rc6): end_page_writeback()
// takes a reference before clearing PG_writeback and drops it after the
// wake-up, so that the page cannot be freed and reused in between.
var HoldRef = &Fix{
	ID:       "hold-ref",
	Ref:      "073861ed77b6",
	Desc:     "end_page_writeback() holds a page reference across clear and wake",
	Replaces: []string{"end_page_writeback"},
	Apply: func(ops *mm.Ops) {
		ops.EndPageWriteback = endPageWritebackHoldRef
	},
}

// endPageWritebackHoldRef is end_page_writeback() (mm/filemap.c, v5.10-rc6).
func endPageWritebackHoldRef(t *mm.Thread, page *mm.Page) {
	t.Enter("end_page_writeback")
	defer t.Exit()
	t.Step("end_page_writeback")
	if mm.PageReclaim(t, page) {
		mm.ClearPageReclaim(t, page)
		mm.RotateReclaimablePage(t, page)
	}
	// Writeback does not hold a page reference of its own, relying on
	// truncation to wait for the clearing of PG_writeback. But here we
	// must make sure that the page is not freed and reused before the
	// wake_up_page().
	t.Step("get_page")
	mm.GetPage(t, page)
	if !t.K.Ops.TestClearPageWriteback(t, page) {
		t.Bug(mm.BugEndWriteback, "end_page_writeback on pfn %d with PG_writeback already clear: BUG()", page.PFN())
	}
	// smp_mb__after_atomic()
	mm.WakeUpPage(t, page, mm.PG_writeback)
	t.Step("put_page")
	mm.PutPage(t, page)
	t.Return()
}
