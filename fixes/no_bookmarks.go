package fixes

import "github.com/pagelab/pagelab/mm"

// NoBookmarks is Matthew Wilcox's removal of the wait-queue bookmarks
// ("filemap: remove use of wait bookmarks" and "sched: remove wait
// bookmarks", lore 20231010035829.544242-1-willy@infradead.org, merged for
// v6.7) on its own: wake_up_page_bit() walks the whole hashed queue in one
// hold of q->lock, as folio_wake_bit() does since, instead of dropping it
// every WAITQUEUE_WALK_BREAK_CNT entries. The bookmarks were added (v4.14,
// Tim Chen) so that a walk over thousands of waiters would not keep
// interrupts off that long; their removal is what ended Brian Foster's
// chase (writeback-chase): with q->lock held across the walk, no woken
// waiter can queue itself again behind the walker before it reaches the
// tail.
var NoBookmarks = &Fix{
	ID:       "no-bookmarks",
	Ref:      "20231010035829.544242-1-willy@infradead.org",
	Desc:     "wake_up_page_bit() walks the queue in one hold of q->lock (v6.7)",
	Replaces: []string{"wake_up_page_bit"},
	Apply: func(ops *mm.Ops) {
		ops.WakeUpPageBit = folioWakeBit
	},
}

// WalkBreak128 is the experiment Brian Foster reported in the same thread
// (lore YjDj3lvlNJK/IPiU@bfoster, March 2022): WAITQUEUE_WALK_BREAK_CNT
// (include/linux/wait.h, a #define, 64) raised to 128, so that a walk
// drops q->lock only after 128 entries. With fewer waiters than that on a
// queue, the walk never lets a woken waiter back in before it ends.
var WalkBreak128 = &Fix{
	ID:      "walk-break-128",
	Ref:     "YjDj3lvlNJK/IPiU@bfoster",
	Desc:    "WAITQUEUE_WALK_BREAK_CNT raised from 64 to 128",
	Enables: []string{"walk_break=128"},
	Apply: func(ops *mm.Ops) {
		ops.WalkBreakCnt = 128
	},
}
