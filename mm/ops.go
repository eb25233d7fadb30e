package mm

import "github.com/pagelab/pagelab/sim"

// Ops are the functions fix variants patch. The baseline (v5.10-rc5)
// installs the functions of this package; a fix in package fixes replaces
// some of them with its own versions, written the same way. Every call site
// in the model goes through Ops for these functions, exactly as the kernel
// would run the patched code.
type Ops struct {
	// WakePageFunction is wake_page_function().
	WakePageFunction func(t *Thread, e *WaitQueueEntry, mode sim.TaskState, key *WaitPageKey) int
	// WaitOnPageBitCommon is wait_on_page_bit_common().
	WaitOnPageBitCommon func(t *Thread, q *WaitQueueHead, page *Page, bitNr uint, state sim.TaskState, behavior WaitBehavior) int
	// WakeUpPageBit is wake_up_page_bit().
	WakeUpPageBit func(t *Thread, page *Page, bitNr uint)
	// EndPageWriteback is end_page_writeback().
	EndPageWriteback func(t *Thread, page *Page)
	// TestClearPageWriteback is test_clear_page_writeback().
	TestClearPageWriteback func(t *Thread, page *Page) bool
	// WaitOnPageWriteback is wait_on_page_writeback().
	WaitOnPageWriteback func(t *Thread, page *Page)
	// WriteCachePagesWriteback is the PG_writeback handling of
	// write_cache_pages() for a locked, dirty page: wait for (or skip) a
	// writeback in flight, then BUG_ON(PageWriteback). It reports whether
	// the page is to be written.
	WriteCachePagesWriteback func(t *Thread, page *Page, wbc *WritebackControl) bool
	// StartPageWriteback is what a filesystem's ->writepage does to start
	// writeback on the locked page: "BUG_ON(PageWriteback(page));
	// set_page_writeback(page);" (__mpage_writepage, and ~50 others).
	StartPageWriteback func(t *Thread, page *Page)
	// ActualEnd is compress_file_range()'s min(i_size, end + 1).
	ActualEnd func(t *Thread, inode *Inode, end int64) int64
	// SetPageDirtyLock is set_page_dirty_lock(), as GUP users call it.
	SetPageDirtyLock func(t *Thread, page *Page)
	// WritepageNoBuffers is what ->writepage does with a page without
	// buffers; it reports whether the write may go on.
	WritepageNoBuffers func(t *Thread, page *Page) bool

	// EndWritebackHoldsRef: end_page_writeback() takes get_page() before
	// clearing PG_writeback and put_page() after the wake-up (073861ed77b6,
	// v5.10-rc6). A switch, not a replacement: the patch adds two lines to
	// end_page_writeback() and composes with patches that change the
	// clear-and-wake lines between them (20200416220130.13343-10/-11), so
	// every end_page_writeback() of those patches honours it.
	EndWritebackHoldsRef bool

	// WalkBreakCnt, if positive, is WAITQUEUE_WALK_BREAK_CNT as a fix
	// patched it (include/linux/wait.h: a #define), over the kernel
	// parameter walk_break.
	WalkBreakCnt int

	// Switches of the race C fixes.
	// DIOPin: direct I/O takes FOLL_PIN pins rather than FOLL_GET
	// references (a7e689dd1c06, v6.5).
	DIOPin bool
	// ReclaimKeepsPinned: shrink_page_list keeps a maybe-DMA-pinned page
	// once it is unmapped, before pageout (d824ec2a1546).
	ReclaimKeepsPinned bool
	// BouncePinned: Jan Kara's RFC 3/5 to 5/5 (20230209121046.25360-1):
	// WB_SYNC_NONE writeback skips a maybe-DMA-pinned page
	// (clear_page_dirty_for_io with wbc), and on a stable-writes device
	// a pinned page's write is bounced.
	BouncePinned bool

	// Switches of the race D fixes.
	// SkipIndexVMBug drops find_lock_entries' VM_BUG_ON_PAGE(page->index
	// != xas.xa_index) (d417b49fff3e); SkipTailVMBug drops
	// truncate_inode_page's VM_BUG_ON_PAGE(PageTail(page)) (seed 003).
	SkipIndexVMBug, SkipTailVMBug bool
	// OpenTruncateInvalidateLock: do_dentry_open truncates under
	// filemap_invalidate_lock (55fc0d917467).
	OpenTruncateInvalidateLock bool
}

// BaselineOps are the v5.10-rc5 functions.
func BaselineOps() Ops {
	return Ops{
		WakePageFunction:         WakePageFunction,
		WaitOnPageBitCommon:      WaitOnPageBitCommon,
		WakeUpPageBit:            WakeUpPageBit,
		EndPageWriteback:         EndPageWriteback,
		TestClearPageWriteback:   TestClearPageWriteback,
		WaitOnPageWriteback:      WaitOnPageWriteback,
		WriteCachePagesWriteback: WriteCachePagesWriteback,
		StartPageWriteback:       StartPageWriteback,
		ActualEnd:                ActualEnd,
		SetPageDirtyLock:         SetPageDirtyLock,
		WritepageNoBuffers:       WritepageNoBuffers,
	}
}
