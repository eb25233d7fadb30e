package fixes

import "github.com/pagelab/pagelab/mm"

// LoopWait is c2407cf7d22d ("mm: make wait_on_page_writeback() wait for
// multiple pending writebacks", Linus Torvalds, v5.11-rc3; 5.10.7 and
// 5.4.249): s/if/while/ in wait_on_page_writeback(). A waiter woken for an
// earlier writeback that finds PG_writeback set again simply waits again,
// "basically re-instating the old behavior".
var LoopWait = &Fix{
	ID:       "loop-wait",
	Ref:      "c2407cf7d22d",
	Desc:     "wait_on_page_writeback() loops while PG_writeback is set",
	Replaces: []string{"wait_on_page_writeback"},
	Apply: func(ops *mm.Ops) {
		ops.WaitOnPageWriteback = waitOnPageWritebackLoop
	},
}

// waitOnPageWritebackLoop is wait_on_page_writeback() (mm/page-writeback.c,
// v5.11-rc3). The loop's head is a CutPoint (no local is live there).
func waitOnPageWritebackLoop(t *mm.Thread, page *mm.Page) {
	t.Enter("wait_on_page_writeback")
	defer t.Exit()
	for {
		t.CutPoint("wait_on_page_writeback")
		t.Step("wait_on_page_writeback")
		if !mm.PageWriteback(t, page) {
			t.Return()
			return
		}
		mm.WaitOnPageBit(t, page, mm.PG_writeback)
	}
}
