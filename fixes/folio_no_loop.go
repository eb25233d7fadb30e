package fixes

import "github.com/pagelab/pagelab/mm"

// FolioNoLoop is the v6.7 design (folio) without folio_wait_writeback()'s
// loop: folio_end_writeback() holds a reference across clear and wake, the
// clear and the PG_waiters test are one XOR, the wake-up walks the queue
// without bookmarks — but a woken waiter returns without re-testing
// PG_writeback, as wait_on_page_writeback() did before c2407cf7d22d
// ("while" back to "if").
//
// It asks the question Linus Torvalds raised on 30 September 2024, in the
// thread "Known and unfixed active data loss bug in MM + XFS with large
// folios since Dec 2021" (CAHk-=wire4EQTQAwggte-MJPC1Wy-RB8egx8wjxi7dApGaiGFw
// @mail.gmail.com), when a waiter starved in that loop: "the basic reason
// for that loop (unless there is some other hidden one) is that the folio
// writeback bit is not atomic wrt the wakeup", because in
//
//	if (__folio_end_writeback(folio))
//		folio_wake_bit(folio, PG_writeback);
//
// "__folio_end_writeback() will clear the bit, and return the 'did we have
// waiters', and then folio_wake_bit() will get the waitqueue lock and wake
// people up". What the reference and the fused XOR do without the loop is
// what this variant measures.
var FolioNoLoop = &Fix{
	ID:       "folio-no-loop",
	Ref:      "CAHk-=wire4EQTQAwggte-MJPC1Wy-RB8egx8wjxi7dApGaiGFw",
	Desc:     "folio minus loop-wait: hold-ref, XOR clear, no bookmarks",
	Replaces: []string{"end_page_writeback", "wake_up_page_bit"},
	Includes: []string{"hold-ref", "no-waiters-check"},
	Apply: func(ops *mm.Ops) {
		ops.EndPageWriteback = folioEndWriteback
		ops.WakeUpPageBit = folioWakeBit
	},
}
