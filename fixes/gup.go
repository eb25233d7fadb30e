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
// data from pinned page"): reclaim sees that the page is maybe DMA-pinned
// and keeps it with its buffers.
var PinAwareReclaim = &Fix{
	ID:      "pin-aware-reclaim",
	Ref:     "d824ec2a1546",
	Desc:    "DIO pins pages (FOLL_PIN); reclaim keeps a pinned page's buffers",
	Enables: []string{"dio:foll_pin", "reclaim:keep_pinned"},
	Apply: func(ops *mm.Ops) {
		ops.DIOPin = true
		ops.ReclaimKeepsPinned = true
	},
}

// BouncePinned is Jan Kara's RFC "Writeback handling of pinned pages"
// (20230209121046.25360-1-jack@suse.cz), with direct I/O on FOLL_PIN:
// writeback of a maybe-DMA-pinned page writes a bounce copy, so the device
// never reads a page a pinner can still modify.
var BouncePinned = &Fix{
	ID:      "bounce-pinned",
	Ref:     "20230209121046.25360-1-jack@suse.cz",
	Desc:    "DIO pins pages; writeback of a pinned page writes a stable copy",
	Enables: []string{"dio:foll_pin", "writeback:bounce_pinned"},
	Apply: func(ops *mm.Ops) {
		ops.DIOPin = true
		ops.BouncePinned = true
	},
}
