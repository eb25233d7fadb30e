package fixes

import "github.com/pagelab/pagelab/mm"

// MkwriteOnDirty is Jan Kara's 2018 proposal (20180103100430.GE4911): make
// set_page_dirty_lock() of a page dirtied through GUP behave like a write
// fault — re-run the filesystem's preparation (->page_mkwrite: attach
// buffers, allocate blocks) — so that the page cannot become dirty
// without what the filesystem needs to write it.
var MkwriteOnDirty = &Fix{
	ID:       "mkwrite-on-dirty",
	Ref:      "20180103100430.GE4911@quack2.suse.cz",
	Desc:     "set_page_dirty_lock re-runs ->page_mkwrite's preparation for GUP pages",
	Replaces: []string{"set_page_dirty_lock"},
	Apply: func(ops *mm.Ops) {
		ops.SetPageDirtyLock = setPageDirtyLockMkwrite
	},
}

func setPageDirtyLockMkwrite(t *mm.Thread, page *mm.Page) {
	t.Enter("set_page_dirty_lock")
	defer t.Exit()
	mm.LockPage(t, page)
	t.Step("page_mkwrite")
	if mm.ReadMapping(t, page) != nil && !mm.PagePrivate(t, page) {
		mm.AttachPageBuffers(t, page)
	}
	mm.SetPageDirty(t, page)
	mm.UnlockPage(t, page)
	t.Return()
}

// FsTolerant is cc5095747edf ("ext4: don't BUG if someone dirty pages
// without asking ext4 first", 2022): ->writepage of a dirty page without
// buffers warns, leaves the page clean and unlocks it, instead of
// crashing. The data in that page is then not written.
var FsTolerant = &Fix{
	ID:       "fs-tolerant",
	Ref:      "cc5095747edf",
	Desc:     "->writepage of a page without buffers warns and skips it instead of BUG",
	Replaces: []string{"writepage:no_buffers"},
	Apply: func(ops *mm.Ops) {
		ops.WritepageNoBuffers = writepageNoBuffersWarn
	},
}

func writepageNoBuffersWarn(t *mm.Thread, page *mm.Page) bool {
	// WARN_ON(!page_has_buffers(page)); ext4_warning_inode(...);
	// the dirty bit went in clear_page_dirty_for_io().
	mm.UnlockPage(t, page)
	return false
}

// PinAwareReclaim is direct I/O on FOLL_PIN (eddb1c228f79, 3faa52c03f44;
// a7e689dd1c06 in v6.5) with d824ec2a1546 ("mm: do not reclaim private
// data from pinned page", v6.4; 1/5 of Jan Kara's RFC below, merged on its
// own): shrink_folio_list() tests folio_maybe_dma_pinned() once the folio
// is unmapped ("it cannot be newly pinned anymore"), before the dirty
// folio's write-out, and keeps a pinned folio (goto activate_locked): it is
// neither written by reclaim nor stripped of its buffers. The test is
// mm.ShrinkPage's, behind the switch.
var PinAwareReclaim = &Fix{
	ID:      "pin-aware-reclaim",
	Ref:     "d824ec2a1546",
	Desc:    "DIO pins pages (FOLL_PIN); reclaim keeps a pinned page before pageout",
	Enables: []string{"dio:foll_pin", "reclaim:keep_pinned"},
	Apply: func(ops *mm.Ops) {
		ops.DIOPin = true
		ops.ReclaimKeepsPinned = true
	},
}

// BouncePinned is Jan Kara's RFC "Writeback handling of pinned pages"
// (20230209121046.25360-1-jack@suse.cz, five patches), with direct I/O on
// FOLL_PIN:
//
//   - 1/5 "mm: Do not reclaim private data from pinned page": reclaim keeps
//     a pinned page (merged as d824ec2a1546: pin-aware-reclaim's switch);
//   - 2/5 "ext4: Drop workaround for mm reclaiming fs private page data"
//     removes cc5095747edf's warning (fs-tolerant), which the v5.10
//     baseline does not have: nothing to model;
//   - 3/5 "mm: Do not try to write pinned folio during memory cleaning
//     writeback": clear_page_dirty_for_io(wbc, page) returns false for a
//     maybe-DMA-pinned page under WB_SYNC_NONE writeback, which leaves it
//     dirty (mm.ClearPageDirtyForIO);
//   - 4/5 "block: Add support for bouncing pinned pages" and 5/5 "iomap:
//     Bounce pinned pages during writeback": on a stable-writes device
//     (SB_I_STABLE_WRITES) a pinned page's write is bounced, so the device
//     reads a copy taken at submission (mm.BlockWritepage; 5/5 is written
//     for iomap, the model applies its test where the buffer path builds
//     the bio).
//
// On a device without stable writes (the default) nothing is bounced: a
// pinned page is then only ever written by data-integrity writeback
// (WB_SYNC_ALL), as in the series.
var BouncePinned = &Fix{
	ID:       "bounce-pinned",
	Ref:      "20230209121046.25360-1-jack@suse.cz",
	Desc:     "DIO pins pages; RFC 1-5/5: reclaim and background writeback skip pinned pages, stable-writes devices bounce them",
	Enables:  []string{"dio:foll_pin", "reclaim:keep_pinned", "writeback:bounce_pinned"},
	Includes: []string{"pin-aware-reclaim"},
	Apply: func(ops *mm.Ops) {
		ops.DIOPin = true
		ops.ReclaimKeepsPinned = true
		ops.BouncePinned = true
	},
}
