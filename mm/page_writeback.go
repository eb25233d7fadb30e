package mm

import "github.com/pagelab/pagelab/sim"

// Writeback: mm/page-writeback.c (v5.10) and the writeback parts of
// mm/filemap.c.

// SyncMode is enum writeback_sync_modes.
type SyncMode uint8

const (
	// WB_SYNC_NONE: background writeback; pages under writeback are skipped.
	WB_SYNC_NONE SyncMode = iota
	// WB_SYNC_ALL: data integrity (fsync); pages under writeback are waited on.
	WB_SYNC_ALL
)

// WritebackControl is struct writeback_control, reduced.
type WritebackControl struct {
	SyncMode SyncMode
	// NrToWrite is counted down by write_cache_pages(); nothing reads it
	// after the call (WriteCachePages declares no result: see there).
	NrToWrite   int
	RangeStart  uint64 // page index, inclusive
	RangeEnd    uint64 // page index, inclusive
	RangeCyclic bool
}

// onStackWbc is a writeback caller's struct writeback_control, on its
// stack in the kernel: here the task's one (Thread.wbc), so that a
// writeback allocates nothing. The model's writeback callers (fsync,
// the flusher, filemap_fdatawrite, filemap_write_and_wait_range) never
// nest; if one ever did, the second would overwrite the first's, so that
// is a panic. dropWbc ends the use.
func (t *Thread) onStackWbc(w WritebackControl) *WritebackControl {
	if t.wbcBusy {
		panic("mm: a writeback started inside another of the same task: Thread.wbc holds one writeback_control")
	}
	t.wbc, t.wbcBusy = w, true
	return &t.wbc
}

func (t *Thread) dropWbc() { t.wbcBusy = false }

// MaxIndex is the largest page index (LLONG_MAX >> PAGE_SHIFT).
const MaxIndex = ^uint64(0) >> 13

// SetPageDirty is set_page_dirty() → __set_page_dirty_nobuffers()
// (mm/page-writeback.c, v5.10): TestSetPageDirty, and if the page was clean,
// the DIRTY mark under the i_pages lock.
func SetPageDirty(t *Thread, page *Page) bool {
	t.Enter("set_page_dirty")
	defer t.Exit()
	t.Step("set_page_dirty")
	if TestSetPageDirty(t, page) {
		t.Return(0)
		return false
	}
	mapping := t.pageMapping(page)
	if mapping == nil {
		t.Return(1)
		return true
	}
	t.Step("set_page_dirty:xa_lock")
	mapping.iPages.Lock(t)
	if t.pageMapping(page) == mapping {
		t.xaSetMark(mapping, t.pageIndex(page), PAGECACHE_TAG_DIRTY)
	}
	mapping.iPages.Unlock()
	t.Return(1)
	return true
}

// ClearPageDirtyForIO is clear_page_dirty_for_io() (mm/page-writeback.c,
// v5.10): with the page locked, write-protect its PTEs (page_mkclean: no
// mappings in this model) and clear PG_dirty, leaving the DIRTY mark for
// __test_set_page_writeback() to clear. Returns whether the page was dirty.
//
// wbc is bounce-pinned's (Jan Kara's RFC 3/5, 20230209123206.3548-3-jack):
// the callers that write for memory cleaning pass theirs
// (write_cache_pages), the others NULL (pageout, after 1/5 made reclaim
// skip pinned pages first; btrfs's range clear). After page_mkclean:
//
//	if (wbc && wbc->sync_mode == WB_SYNC_NONE &&
//	    folio_maybe_dma_pinned(folio))
//		return false;
//
// so a pinned page stays dirty and is not written by background writeback.
// Its WARN_ON_ONCE(!wbc && folio_maybe_dma_pinned(folio)) has no failure
// id and is not modelled.
//
// The lock check follows the modelled version (Kernel.Version). Up to v5.6
// it is unconditional — v5.2.1 mm/page-writeback.c:2655
// "BUG_ON(!PageLocked(page));", the BUG Josef Bacik's production kernels
// hit (seed 004) — and from v5.7 on (Matthew Wilcox, "mm: Use
// VM_BUG_ON_PAGE in clear_page_dirty_for_io", lore
// 20200212041845.25879-4-willy@infradead.org; v5.7.14
// mm/page-writeback.c:2658, and v5.10) it is
// "VM_BUG_ON_PAGE(!PageLocked(page), page);", live only with
// CONFIG_DEBUG_VM.
func ClearPageDirtyForIO(t *Thread, wbc *WritebackControl, page *Page) bool {
	t.Enter("clear_page_dirty_for_io")
	defer t.Exit()
	t.Step("clear_page_dirty_for_io")
	if !PageLocked(t, page) {
		switch {
		case t.K.Version < KERNEL_VERSION(5, 7, 0):
			t.Bug(BugNotLocked, "clear_page_dirty_for_io of unlocked pfn %d: BUG_ON(!PageLocked(page)) (%s)", page.pfn, t.K.Version)
		case t.K.DebugVM:
			t.Bug(BugNotLocked, "clear_page_dirty_for_io of unlocked pfn %d: VM_BUG_ON_PAGE(!PageLocked(page))", page.pfn)
		}
	}
	// Write-protect the PTEs first, so that a store through the mapping
	// faults (and ->page_mkwrite runs) before it can dirty the page again.
	if pageMkclean(t, page) {
		SetPageDirty(t, page)
	}
	if t.K.Ops.BouncePinned && wbc != nil && wbc.SyncMode == WB_SYNC_NONE {
		t.Step("clear_page_dirty_for_io:pinned")
		if PageMaybeDMAPinned(t, page) {
			t.Return(0)
			return false
		}
	}
	ret := TestClearPageDirty(t, page)
	t.Return(boolID(ret))
	return ret
}

// SetPageWriteback is set_page_writeback() → __test_set_page_writeback(page,
// false) (mm/page-writeback.c, v5.10): under the i_pages lock, test-and-set
// PG_writeback and, if it was clear, set the WRITEBACK mark; clear the DIRTY
// mark if the page is clean now and the TOWRITE mark. No reference is taken
// and nothing is woken. Called with the page locked, by convention only.
func SetPageWriteback(t *Thread, page *Page) bool {
	t.Enter("set_page_writeback")
	defer t.Exit()
	ret := testSetPageWritebackLocked(t, page, true)
	t.Return(boolID(ret))
	return ret
}

// testSetPageWritebackLocked is the body of __test_set_page_writeback() as
// one step; set says whether to set PG_writeback (false when the caller
// already owns the bit and only the tags and accounting are left).
func testSetPageWritebackLocked(t *Thread, page *Page, set bool) bool {
	mapping := t.pageMapping(page)
	old := true
	if set {
		old = t.testAndSetBitAt(t.touch(page, pfNoTail, "TestSetPageWriteback", sim.AccessRMW, PG_writeback), PG_writeback)
	}
	if mapping == nil {
		return old
	}
	mapping.iPages.Lock(t)
	index := t.pageIndex(page)
	if !old || !set {
		t.xaSetMark(mapping, index, PAGECACHE_TAG_WRITEBACK)
	}
	if !t.testFlag(page, PG_dirty) {
		t.xaClearMark(mapping, index, PAGECACHE_TAG_DIRTY)
	}
	t.xaClearMark(mapping, index, PAGECACHE_TAG_TOWRITE)
	mapping.iPages.Unlock()
	return old
}

// StartPageWriteback is the filesystem side of starting writeback in
// ->writepage, as __mpage_writepage() (fs/mpage.c, v5.10) and many others
// do it: "BUG_ON(PageWriteback(page)); set_page_writeback(page);". The check
// and the set are one step: only page-lock holders set the bit, and this
// task holds the lock, so nothing can set it in between.
func StartPageWriteback(t *Thread, page *Page) {
	t.Step("set_page_writeback")
	if PageWriteback(t, page) {
		t.Bug(BugWriteback, "__mpage_writepage: BUG_ON(PageWriteback(page)) on pfn %d", page.pfn)
	}
	SetPageWriteback(t, page)
}

// TestClearPageWriteback is test_clear_page_writeback() (mm/page-writeback.c,
// v5.10): read page_mapping() — before taking any lock — then, under that
// mapping's i_pages lock, test-and-clear PG_writeback and, if it was set,
// clear the WRITEBACK mark at page_index(page):
//
//	struct address_space *mapping = page_mapping(page);
//	...
//	memcg = lock_page_memcg(page);
//	if (mapping && mapping_use_writeback_tags(mapping)) {
//		xa_lock_irqsave(&mapping->i_pages, flags);
//		ret = TestClearPageWriteback(page);
//		if (ret) {
//			__xa_clear_mark(&mapping->i_pages, page_index(page),
//					PAGECACHE_TAG_WRITEBACK);
//		...
//	} else {
//		ret = TestClearPageWriteback(page);
//	}
//
// Nothing re-checks page->mapping under the lock: the completion relies on
// PG_writeback keeping the page in its mapping. When a stale wake-up has let
// a truncation delete and free the page under writeback and the page was
// reused (race B's silent variant), the mapping read here and the index read
// under the lock can belong to different owners, and the mark cleared is
// whatever the old mapping holds at the new owner's index. The load of
// page->mapping and the lock are in separate steps (the load in the
// caller's): another CPU can run between them. From the clear on, truncation's wait_on_page_writeback() may return
// and the page may be deleted and freed: up to v5.10-rc5 the comment said
// "page might be free now".
func TestClearPageWriteback(t *Thread, page *Page) bool {
	t.Enter("test_clear_page_writeback")
	defer t.Exit()
	// A plain load, in the caller's step (end_page_writeback's, or
	// get_page's with 073861ed77b6).
	mapping := t.pageMapping(page)
	// lock_page_memcg(): no memcg in the model. The scheduling point is at
	// the lock and the atomic test-and-clear.
	t.Step("test_clear_page_writeback")
	if mapping == nil {
		ret := t.testAndClearBitAt(t.touch(page, pfNoTail, "TestClearPageWriteback", sim.AccessRMW, PG_writeback), PG_writeback)
		t.Return(boolID(ret))
		return ret
	}
	mapping.iPages.Lock(t)
	ret := t.testAndClearBitAt(t.touch(page, pfNoTail, "TestClearPageWriteback", sim.AccessRMW, PG_writeback), PG_writeback)
	if ret {
		t.xaClearMark(mapping, t.pageIndex(page), PAGECACHE_TAG_WRITEBACK)
	}
	mapping.iPages.Unlock()
	t.Return(boolID(ret))
	return ret
}

// WaitOnPageWriteback is wait_on_page_writeback() (mm/page-writeback.c,
// v5.10 up to 5.10.6): one SHARED wait if PG_writeback is set. With the
// v5.9+ wait logic the waiter returns after the first wake-up for this page
// and bit, even if PG_writeback has been set again since: "the writeback bit
// was clear at one point, so I've waited enough" (race A).
func WaitOnPageWriteback(t *Thread, page *Page) {
	t.Enter("wait_on_page_writeback")
	defer t.Exit()
	t.Step("wait_on_page_writeback")
	if PageWriteback(t, page) {
		WaitOnPageBit(t, page, PG_writeback)
	}
	t.Return()
}

// WriteCachePagesWriteback is the PG_writeback handling of
// write_cache_pages() (mm/page-writeback.c, v5.10) for a locked, dirty page:
//
//	if (PageWriteback(page)) {
//		if (wbc->sync_mode != WB_SYNC_NONE)
//			wait_on_page_writeback(page);
//		else
//			goto continue_unlock;
//	}
//	BUG_ON(PageWriteback(page));
//
// The wait and the later set_page_writeback() in ->writepage are separate;
// only the page lock keeps other setters out, and the clearer never takes it.
func WriteCachePagesWriteback(t *Thread, page *Page, wbc *WritebackControl) bool {
	t.Step("write_cache_pages:PageWriteback")
	if PageWriteback(t, page) {
		if wbc.SyncMode == WB_SYNC_NONE {
			return false
		}
		waitOnPageWriteback(t, page, true)
	}
	t.Step("write_cache_pages:BUG_ON")
	if PageWriteback(t, page) {
		t.Bug(BugWriteback, "write_cache_pages: BUG_ON(PageWriteback(page)) on pfn %d after wait_on_page_writeback", page.pfn)
	}
	return true
}

// Writepage is a filesystem's ->writepage: entered with the page locked and
// its dirty bit cleared, it starts writeback and unlocks the page, and
// submits the write after the unlock (mpage_writepage(), fs/mpage.c, v5.10:
// MpageWritepage) or before it (__block_write_full_page(), fs/buffer.c).
type Writepage func(t *Thread, page *Page, wbc *WritebackControl)

// WriteCachePages is write_cache_pages() (mm/page-writeback.c, v5.10).
//
// It declares no result (Return) although it counts wbc->nr_to_write
// down: every wbc is its caller's local, not read again after the call.
// A page that passed its checks is a CutPoint (not a loop head: what the
// task read on its way there is summarized by the locals it left, so that
// waiting for writeback or not before writing the page are one state).
func WriteCachePages(t *Thread, mapping *AddressSpace, wbc *WritebackControl, writepage Writepage) {
	t.Enter("write_cache_pages")
	defer t.Exit()
	defer t.OpEnd(t.OpBegin(OpWriteCachePages))
	var index, end uint64
	if wbc.RangeCyclic {
		index, end = t.writebackIndex(mapping), MaxIndex
	} else {
		index, end = wbc.RangeStart, wbc.RangeEnd
	}
	tag := uint8(PAGECACHE_TAG_DIRTY)
	if wbc.SyncMode == WB_SYNC_ALL {
		tagPagesForWriteback(t, mapping, index, end)
		tag = PAGECACHE_TAG_TOWRITE
	}
	doneIndex := index
	done := false
	var pvec [PAGEVEC_SIZE]*Page
	for !done && index <= end {
		pv := pagevecLookupRangeTag(t, pvec[:0], mapping, &index, end, tag)
		if len(pv) == 0 {
			break
		}
		for i, page := range pv {
			doneIndex = t.pageIndex(page)
			LockPage(t, page)
			// Page truncated or invalidated: we can freely skip it, even
			// for data integrity operations.
			t.Step("write_cache_pages:mapping")
			if t.pageMapping(page) != mapping {
				UnlockPage(t, page)
				continue
			}
			if !PageDirty(t, page) {
				// Someone wrote it for us.
				UnlockPage(t, page)
				continue
			}
			if !t.K.Ops.WriteCachePagesWriteback(t, page, wbc) {
				UnlockPage(t, page)
				continue
			}
			// The page is to be written, however the checks above got
			// here (waiting for writeback or not): a CutPoint, with the
			// locals live from here on.
			t.CutPoint("write_cache_pages:write", writeCachePagesLive(t, index, end, doneIndex, wbc, pv, i)...)
			if !ClearPageDirtyForIO(t, wbc, page) {
				UnlockPage(t, page)
				continue
			}
			writepage(t, page, wbc)
			wbc.NrToWrite--
			if wbc.NrToWrite <= 0 && wbc.SyncMode == WB_SYNC_NONE {
				done = true
				break
			}
		}
		pagevecRelease(t, pv)
	}
	if wbc.RangeCyclic && !done {
		doneIndex = 0
	}
	if wbc.RangeCyclic {
		t.setWritebackIndex(mapping, doneIndex)
	}
	t.Return()
}

// writeCachePagesLive are write_cache_pages()' locals live after a page
// passed its checks (the CutPoint before clear_page_dirty_for_io): the
// lookup's next index, the range's end, done_index, wbc->nr_to_write (the
// only field of wbc that changes), the pagevec and the position in it.
// done is false there, and tag is fixed by the arguments.
func writeCachePagesLive(t *Thread, index, end, doneIndex uint64, wbc *WritebackControl, pv []*Page, i int) []uint64 {
	if !t.Footprinting() {
		return nil
	}
	vals := make([]uint64, 0, 6+len(pv))
	vals = append(vals, index, end, doneIndex, uint64(wbc.NrToWrite), uint64(i), uint64(len(pv)))
	for _, p := range pv {
		vals = append(vals, pageID(p))
	}
	return vals
}

// writebackIndex is a task's load of mapping->writeback_index, reported.
func (t *Thread) writebackIndex(m *AddressSpace) uint64 {
	v := m.writebackIndex.Load()
	if t.Footprinting() {
		t.fpRead(xaObj(objWbIndex, m, 0), v)
	}
	return v
}

// setWritebackIndex is a task's store of mapping->writeback_index, reported.
func (t *Thread) setWritebackIndex(m *AddressSpace, v uint64) {
	m.writebackIndex.Store(v)
	if t.Footprinting() {
		t.fpWrite(xaObj(objWbIndex, m, 0), v)
	}
}

// FilemapFdatawaitRange is __filemap_fdatawait_range() (mm/filemap.c,
// v5.10): wait for every page carrying the WRITEBACK mark in the range —
// without the page lock, so writeback may start again right after.
func FilemapFdatawaitRange(t *Thread, mapping *AddressSpace, start, end uint64) {
	t.Enter("__filemap_fdatawait_range")
	defer t.Exit()
	defer t.OpEnd(t.OpBegin(OpFdatawait))
	index := start
	var pvec [PAGEVEC_SIZE]*Page
	for index <= end {
		pv := pagevecLookupRangeTag(t, pvec[:0], mapping, &index, end, PAGECACHE_TAG_WRITEBACK)
		if len(pv) == 0 {
			break
		}
		for _, page := range pv {
			waitOnPageWriteback(t, page, false)
		}
		pagevecRelease(t, pv)
	}
	t.Return()
}
