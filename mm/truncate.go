package mm

// Truncation: mm/truncate.c (v5.10).

// TruncateInodePage is truncate_inode_page() (mm/truncate.c, v5.10): for a
// locked page, VM_BUG_ON_PAGE(PageTail), skip a page that left the mapping,
// cancel its dirty state and delete it from the page cache. It does not look
// at PG_writeback: the caller waited for it.
func TruncateInodePage(t *Thread, mapping *AddressSpace, page *Page) int {
	t.Enter("truncate_inode_page")
	defer t.Exit()
	t.Step("truncate_inode_page")
	if t.pageTail(page) && t.K.DebugVM {
		t.Bug(VMBugTail, "truncate_inode_page on tail pfn %d: VM_BUG_ON_PAGE(PageTail(page))", page.pfn)
	}
	if t.pageMapping(page) != mapping {
		t.Return(errID(-5))
		return -5 // -EIO
	}
	truncateCleanupPage(t, page)
	DeleteFromPageCache(t, page)
	t.Return(errID(0))
	return 0
}

// truncateCleanupPage is truncate_cleanup_page() (mm/truncate.c, v5.10): no
// mappings or buffers in this model, so it is cancel_dirty_page(): the dirty
// bit and the dirty accounting go (the data is being thrown away).
func truncateCleanupPage(t *Thread, page *Page) {
	t.Step("cancel_dirty_page")
	TestClearPageDirty(t, page)
	t.clearFlag(page, PG_mappedtodisk)
}

// TruncateInodePagesRange is truncate_inode_pages_range() (mm/truncate.c,
// v5.10) for whole pages [start, end] (indices, inclusive).
//
// Pass 1 is non-blocking: trylock each page, skip those under writeback or
// no longer in the mapping, delete the rest. Pass 2 loops until the range is
// empty: lock_page, wait_on_page_writeback, truncate_inode_page. Pass 2
// trusts wait_on_page_writeback(): there is no re-check of PG_writeback
// before the page is deleted and, once the pagevec lets go, freed.
//
// Pass 2's loop head is a CutPoint: index is the only local live there.
func TruncateInodePagesRange(t *Thread, mapping *AddressSpace, start, end uint64) {
	t.Enter("truncate_inode_pages_range")
	defer t.Exit()
	defer t.Return() // void, on every path
	if t.readNrPages(mapping) == 0 {
		return
	}
	var pvec, locked [PAGEVEC_SIZE]*Page
	var idx [PAGEVEC_SIZE]uint64

	// Pass 1.
	index := start
	for index <= end {
		n := int(min(end-index+1, PAGEVEC_SIZE))
		pv, indices := pagevecLookupEntries(t, pvec[:0], idx[:0], mapping, index, n)
		if len(pv) == 0 {
			break
		}
		lpv := locked[:0]
		for i, page := range pv {
			index = indices[i]
			if index > end {
				break
			}
			t.Step("trylock_page")
			if !TrylockPage(t, page) {
				continue
			}
			t.Step("truncate:PageWriteback")
			if PageWriteback(t, page) {
				UnlockPage(t, page)
				continue
			}
			if t.pageMapping(page) != mapping {
				UnlockPage(t, page)
				continue
			}
			lpv = append(lpv, page)
		}
		for _, page := range lpv {
			truncateCleanupPage(t, page)
		}
		for _, page := range lpv {
			// delete_from_page_cache_batch() takes the i_pages lock once
			// for the batch; per page here, which adds no interleaving
			// the race needs.
			DeleteFromPageCache(t, page)
		}
		for _, page := range lpv {
			UnlockPage(t, page)
		}
		pagevecRelease(t, pv)
		index++
	}

	// Pass 2.
	index = start
	for {
		t.CutPoint("truncate_inode_pages_range:pass2", index)
		n := int(min(end-index+1, PAGEVEC_SIZE))
		pv, indices := pagevecLookupEntries(t, pvec[:0], idx[:0], mapping, index, n)
		if len(pv) == 0 {
			// If all gone from start onwards, we're done.
			if index == start {
				break
			}
			// Otherwise restart to make sure all gone.
			index = start
			continue
		}
		if index == start && indices[0] > end {
			pagevecRelease(t, pv)
			break
		}
		restart := false
		for i, page := range pv {
			index = indices[i]
			if index > end {
				restart = true
				break
			}
			LockPage(t, page)
			waitOnPageWriteback(t, page, true)
			TruncateInodePage(t, mapping, page)
			UnlockPage(t, page)
		}
		pagevecRelease(t, pv)
		if restart {
			index = start
			continue
		}
		index++
	}
}
