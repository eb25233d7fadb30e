package fixes

import "github.com/pagelab/pagelab/mm"

// HoldRef is 073861ed77b6 ("mm: fix VM_BUG_ON(PageTail) and
// BUG_ON(PageWriteback)", Hugh Dickins, v5.10-rc6): end_page_writeback()
// takes a reference before clearing PG_writeback and drops it after the
// wake-up, so that the page cannot be freed and reused in between.
//
// The patch adds two lines to end_page_writeback() (get_page() before
// test_clear_page_writeback(), put_page() after wake_up_page()) and touches
// nothing else, so it is a switch that every end_page_writeback() in the
// model honours (mm.EndPageWriteback's and no-waiters-check's), rather than a
// replacement of the function: that way it composes with
// no-waiters-check, whose patches rewrite the lines between the two, as the
// kernel patches compose (folio_end_writeback() of v6.7 is the two
// together).
var HoldRef = &Fix{
	ID:      "hold-ref",
	Ref:     "073861ed77b6",
	Desc:    "end_page_writeback() holds a page reference across clear and wake",
	Enables: []string{"end_page_writeback:hold_ref"},
	Apply: func(ops *mm.Ops) {
		ops.EndWritebackHoldsRef = true
	},
}
