package mm

import (
	"fmt"
)

// Race D's model pieces, from the v5.14 kernel of seed 003 (find_lock_entries
// arrived in v5.12): a page cache whose file THP occupies one slot per
// subpage, each holding the head page (the multi-index entry), the lockless
// lookups find_get_entry / find_lock_entries / find_get_entries
// (mm/filemap.c), truncation built on them (mm/truncate.c), and
// khugepaged's collapse_file() with its rollback (mm/khugepaged.c). The THP
// is order ThpOrder (4 subpages) rather than HPAGE_PMD_ORDER (512): the race
// is in how lookups meet a compound page part-way, not in its size.

// ThpOrder is the order of the file THPs of the model.
const ThpOrder = 2

// thpNrPages is thp_nr_pages().
func thpNrPages(t *Thread, page *Page) uint64 {
	if t.pageHead(page) {
		return 1 << t.compoundOrder(page)
	}
	return 1
}

// findSubpage is find_subpage(head, index).
func (t *Thread) findSubpage(head *Page, index uint64) *Page {
	if !t.pageHead(head) {
		return head
	}
	return t.K.page(head.pfn + int32(index-t.pageIndex(head)))
}

// findGetEntry is find_get_entry() (mm/filemap.c, v5.14) on an xas walk
// from *index up to end, under RCU:
//
//	retry:
//		page = xas_find(xas, max);
//		if (xas_retry(xas, page))
//			goto retry;
//		if (!page || xa_is_value(page))
//			return page;
//		if (!page_cache_get_speculative(page))
//			goto reset;
//		/* Has the page moved or been split? */
//		if (unlikely(page != xas_reload(xas))) {
//			put_page(page);
//			goto reset;
//		}
//		return page;
//	reset:
//		xas_reset(xas);
//		goto retry;
//
// xas_find loads one slot at a time, so each slot's load is a scheduling
// point of its own (the first is the function's), as are the speculative
// reference and the reload; a failed reference or reload retries the same
// index (xas_reset). It returns the entry as stored — a THP's head, whatever
// subpage's slot it was found in — and sets *index to the slot.
func findGetEntry(t *Thread, m *AddressSpace, index *uint64, end uint64) *Page {
	t.Step("find_get_entry")
	i := *index
	for i <= end {
		sl := m.slotList()
		if i >= uint64(len(sl)) {
			t.xaExtent(m, len(sl))
			break
		}
		page := t.xaLoadSlot(m, i, sl[i])
		if page == nil {
			i++
			if i > end {
				break
			}
			// The next slot: live here, its index (index and end are
			// fixed).
			t.CutPoint("xas_find", i)
			t.Step("xas_find")
			continue
		}
		t.Step("page_cache_get_speculative")
		if !t.getPageUnlessZero(page) {
			// xas_reset: the same slot again; live here, its index.
			t.CutPoint("xas_reset", i)
			t.Step("xas_reset")
			continue
		}
		t.Step("xas_reload")
		if t.xaLoadSlot(m, i, m.slot(i)) != page {
			PutPage(t, page)
			t.CutPoint("xas_reset", i)
			t.Step("xas_reset")
			continue
		}
		*index = i
		return page
	}
	*index = end + 1
	return nil
}

// FindLockEntries is find_lock_entries() (mm/filemap.c, v5.14): the locked
// pages from start to end, for truncation's first pass. It believes what it
// finds: VM_BUG_ON_PAGE(page->index != xas.xa_index) — "a bogus
// VM_BUG_ON", since page->index is not stable without the page lock.
func FindLockEntries(t *Thread, m *AddressSpace, start, end uint64, pv []*Page, indices []uint64) ([]*Page, []uint64) {
	t.Enter("find_lock_entries")
	defer t.Exit()
	pv, indices = pv[:0], indices[:0]
	index := start
	for len(pv) < PAGEVEC_SIZE {
		page := findGetEntry(t, m, &index, end)
		if page == nil {
			break
		}
		xaIndex := index
		next := xaIndex + 1
		pageIndex := t.pageIndex(page)
		switch {
		case pageIndex < start:
		case pageIndex != xaIndex && !t.K.Ops.SkipIndexVMBug && t.K.DebugVM:
			t.Bug(VMBugIndex, "find_lock_entries: pfn %d has index %d in slot %d, mapping %s: VM_BUG_ON_PAGE(page->index != xas.xa_index)", page.pfn, pageIndex, xaIndex, mappingName(t.pageMapping(page)))
		case pageIndex+thpNrPages(t, page)-1 > end:
		default:
			t.Step("trylock_page")
			if !TrylockPage(t, page) {
				break
			}
			t.Step("find_lock_entries:mapping")
			if t.pageMapping(page) != m || PageWriteback(t, page) {
				UnlockPage(t, page)
				break
			}
			pv = append(pv, page)
			indices = append(indices, xaIndex)
			if t.pageHead(page) {
				next = t.pageIndex(page) + thpNrPages(t, page)
			}
			index = next
			continue
		}
		t.Step("put_page")
		PutPage(t, page)
		if t.pageHead(page) {
			// Skip the rest of the THP.
			next = max(next, t.pageIndex(page)+thpNrPages(t, page))
		}
		index = next
	}
	t.returnPagevec(pv, indices)
	return pv, indices
}

// FindGetEntries is find_get_entries() (mm/filemap.c, v5.14): entries from
// start with references; a THP ends the batch and is returned as the
// subpage of the slot it was found in (find_subpage), "to allow the caller
// to handle it all at once".
func FindGetEntries(t *Thread, m *AddressSpace, start, end uint64, pv []*Page, indices []uint64) ([]*Page, []uint64) {
	t.Enter("find_get_entries")
	defer t.Exit()
	pv, indices = pv[:0], indices[:0]
	index := start
	for len(pv) < PAGEVEC_SIZE {
		page := findGetEntry(t, m, &index, end)
		if page == nil {
			break
		}
		if t.pageHead(page) {
			pv = append(pv, t.findSubpage(page, index))
			indices = append(indices, index)
			break
		}
		pv = append(pv, page)
		indices = append(indices, index)
		index++
	}
	t.returnPagevec(pv, indices)
	return pv, indices
}

// TruncateInodePageTHP is truncate_inode_page() (mm/truncate.c, v5.14):
// VM_BUG_ON_PAGE(PageTail(page)) — which Hugh Dickins proposed to delete in
// seed 003 — then the page->mapping check that actually protects it.
func TruncateInodePageTHP(t *Thread, m *AddressSpace, page *Page) {
	t.Enter("truncate_inode_page")
	defer t.Exit()
	t.Step("truncate_inode_page")
	if !t.K.Ops.SkipTailVMBug && t.K.DebugVM && t.pageTail(page) {
		// dump_page(): a tail's index is page_to_pgoff (the head's index
		// plus its offset), its mapping the head's.
		head := t.compoundHead(page)
		hi := t.pageIndex(head)
		t.Bug(VMBugTail, "truncate_inode_page on tail pfn %d (index %d; head pfn %d, index %d, mapping %s): VM_BUG_ON_PAGE(PageTail(page))",
			page.pfn, hi+uint64(page.pfn-head.pfn), head.pfn, hi, mappingName(t.pageMapping(head)))
	}
	if t.pageMapping(page) != m {
		t.Return()
		return
	}
	truncateCleanupPage(t, page)
	DeleteFromPageCache(t, page)
	t.Return()
}

// TruncatePagecacheTHP is truncate_pagecache(inode, 0) →
// truncate_inode_pages_range() as of v5.14: pass 1 on find_lock_entries
// and delete_from_page_cache_batch, pass 2 on find_get_entries with
// lock_page, wait_on_page_writeback and truncate_inode_page.
func TruncatePagecacheTHP(t *Thread, inode *Inode) {
	t.Enter("truncate_pagecache")
	defer t.Exit()
	defer t.Return() // after truncate_inode_pages_range's Exit
	t.beginTruncate(inode)
	defer t.endTruncate(inode)
	m := inode.Mapping
	end := MaxIndex
	var pvec [PAGEVEC_SIZE]*Page
	var idx [PAGEVEC_SIZE]uint64
	t.Enter("truncate_inode_pages_range")
	defer t.Exit()
	defer t.Return()
	// Pass 1.
	index := uint64(0)
	for index <= end {
		// Live here: index (end, m and the arguments are fixed; pvec and
		// idx are scratch, written before they are read).
		t.CutPoint("truncate_inode_pages_range:pass1", index)
		pv, indices := FindLockEntries(t, m, index, end, pvec[:0], idx[:0])
		if len(pv) == 0 {
			break
		}
		index = indices[len(indices)-1] + 1
		for _, page := range pv {
			truncateCleanupPage(t, page)
		}
		DeleteFromPageCacheBatch(t, m, pv)
		for _, page := range pv {
			UnlockPage(t, page)
		}
		pagevecRelease(t, pv)
	}
	// Pass 2.
	index = 0
	for {
		// The restart loop: live here, index alone.
		t.CutPoint("truncate_inode_pages_range:pass2", index)
		pv, indices := FindGetEntries(t, m, index, end, pvec[:0], idx[:0])
		if len(pv) == 0 {
			if index == 0 {
				break
			}
			index = 0
			continue
		}
		for i, page := range pv {
			index = indices[i]
			LockPage(t, page)
			waitOnPageWriteback(t, page, true)
			TruncateInodePageTHP(t, m, page)
			UnlockPage(t, page)
		}
		pagevecRelease(t, pv)
		index++
	}
}

// mappingName is how dump_page() shows page->mapping: 0 when NULL.
func mappingName(m *AddressSpace) string {
	if m == nil {
		return "0"
	}
	return fmt.Sprintf("inode %d", m.Host.Ino)
}

// OpenForWrite is open(2) for write of a file that may have read-only THPs
// (do_dentry_open, fs/open.c, v5.14): get_write_access() raises
// i_writecount, then the page cache is truncated if the file has THPs,
// so that no THP survives a write:
//
//	if (f->f_mode & FMODE_WRITE) {
//		/*
//		 * Paired with smp_mb() in collapse_file() to ensure nr_thps
//		 * is up to date and the update to i_writecount by
//		 * get_write_access() is visible. Ensures subsequent insertion
//		 * of THPs into the page cache will fail.
//		 */
//		smp_mb();
//		if (filemap_nr_thps(inode->i_mapping))
//			truncate_pagecache(inode, 0);
//	}
//
// (eb6ecbed0aa2, v5.14; before it the test was the same without the
// barrier). With invalidate-lock (55fc0d917467) the truncation runs under
// filemap_invalidate_lock(). The file stays open: i_writecount is not
// dropped.
func OpenForWrite(t *Thread, inode *Inode) {
	t.Enter("do_dentry_open")
	defer t.Exit()
	defer t.Return() // after filemap_invalidate_unlock
	m := inode.Mapping
	t.Step("get_write_access")
	t.getWriteAccess(m)
	t.Step("filemap_nr_thps") // smp_mb(); filemap_nr_thps()
	if t.filemapNrThps(m) == 0 {
		return
	}
	if t.K.Ops.OpenTruncateInvalidateLock {
		filemapInvalidateLock(t, inode)
		defer filemapInvalidateUnlock(t, inode)
	}
	TruncatePagecacheTHP(t, inode)
}

// filemapInvalidateLock is filemap_invalidate_lock(): down_write() of
// mapping->invalidate_lock (include/linux/fs.h, v5.15; rwsemW).
func filemapInvalidateLock(t *Thread, inode *Inode) {
	inode.invalidateLock.downWrite(t, inode, "down_write")
}

// filemapInvalidateUnlock is filemap_invalidate_unlock(): up_write().
func filemapInvalidateUnlock(t *Thread, inode *Inode) { inode.invalidateLock.upWrite(t, inode) }

// CollapseFile is khugepaged's collapse_file() (mm/khugepaged.c, v5.14) for
// the THP-sized range at start: a new compound page, locked, replaces the
// small pages in the page cache one by one — each locked and frozen first —
// and is filled and unlocked if all of them could be taken and the file is
// not open for write (eb6ecbed0aa2: nr_thps is incremented, then
// inode_is_open_for_write() tested, under the i_pages lock). Otherwise the
// change is rolled back: the small pages are put back one by one, dropping
// the i_pages lock between them, and the compound page is freed. Meanwhile
// lockless lookups can see the compound page in some slots and the small
// pages in others.
//
// Simplifications: isolate_lru_page()'s reference is folded into ours
// (page_ref_freeze expects 2, not 3), the freeze and the store are separate
// steps though the kernel does both in one i_pages lock section, and the
// compound page is put here rather than kept in *hpage for khugepaged's
// next attempt.
func CollapseFile(t *Thread, inode *Inode, start uint64) {
	t.Enter("collapse_file")
	defer t.Exit()
	defer t.Return() // void, on every path
	m := inode.Mapping
	nr := uint64(1) << ThpOrder
	t.Step("alloc_pages")
	newPage := AllocCompoundPage(t, ThpOrder)
	if newPage == nil {
		return
	}
	t.setFlag(newPage, PG_locked) // __SetPageLocked
	t.setPageIndex(newPage, start)
	t.setPageMapping(newPage, m)
	var taken []*Page
	ok := true
	for index := start; index < start+nr; index++ {
		// Under the i_pages lock: load the entry, trylock it and take a
		// reference, so that truncation (which needs both locks to delete
		// it) cannot free it from under us.
		t.Step("collapse_file:xas_load")
		t.xaLock(m)
		s := m.slot(index)
		page := t.xaLoadSlot(m, index, s)
		if page == nil || page == newPage || t.pageHead(page) {
			m.iPages.Unlock()
			ok = false // SCAN_TRUNCATED
			break
		}
		if !TrylockPage(t, page) {
			m.iPages.Unlock()
			ok = false // SCAN_PAGE_LOCK
			break
		}
		t.refAdd(page, 1) // get_page
		m.iPages.Unlock()
		t.Step("collapse_file:mapping")
		if t.pageMapping(page) != m || PageDirty(t, page) || PageWriteback(t, page) {
			UnlockPage(t, page)
			t.Step("put_page")
			PutPage(t, page)
			ok = false
			break
		}
		// isolate_lru_page(), then page_ref_freeze(): the kernel expects
		// the page cache's, ours and the isolation's references; the
		// model folds isolation into ours, so any other holder — a
		// lookup's speculative reference — makes it fail.
		t.Step("page_ref_freeze")
		if !t.refCAS(page, 2, 0) {
			UnlockPage(t, page)
			t.Step("put_page")
			PutPage(t, page)
			ok = false // SCAN_PAGE_COUNT
			break
		}
		t.Step("collapse_file:xas_store")
		t.xaLock(m)
		t.xaStoreSlot(m, index, s, newPage)
		m.iPages.Unlock()
		taken = append(taken, page)
	}
	if ok {
		// eb6ecbed0aa2 (v5.14), still under the i_pages lock the loop
		// ends with:
		//
		//	filemap_nr_thps_inc(mapping);
		//	/* Paired with smp_mb() in do_dentry_open() ... */
		//	smp_mb();
		//	if (inode_is_open_for_write(mapping->host)) {
		//		result = SCAN_FAIL;
		//		__mod_lruvec_page_state(new_page, NR_FILE_THPS, -nr);
		//		filemap_nr_thps_dec(mapping);
		//		goto xa_locked;
		//	}
		//
		// An open for write that raised i_writecount before the check
		// makes the collapse roll back; one that reads nr_thps between
		// the increment and the decrement truncates the page cache while
		// the rollback runs.
		t.Step("filemap_nr_thps_inc")
		t.xaLock(m)
		t.nrThpsAdd(m, 1)
		t.xaSpanBegin(m)
		t.Step("inode_is_open_for_write")
		if t.inodeIsOpenForWrite(m) {
			ok = false // SCAN_FAIL
			t.nrThpsAdd(m, -1)
		}
		t.xaSpanEnd(m)
	}
	if ok {
		// Copy the small pages into the THP, publish it, free them.
		t.Step("collapse_file:copy")
		for i, page := range taken {
			sub := t.findSubpage(newPage, start+uint64(i))
			t.setPageData(sub, t.pageData(page))
			t.setPageMapping(page, nil)
			t.clearFlag(page, PG_locked)
			t.clearFlag(page, PG_lru)
			freeUnrefPage(t, page)
		}
		t.refAdd(newPage, int32(nr)) // the page cache's references
		t.setFlag(newPage, PG_uptodate)
		t.setFlag(newPage, PG_lru)
		UnlockPage(t, newPage)
		t.Step("put_page")
		PutPage(t, newPage)
		return
	}
	// Roll back: put the small pages back, one at a time.
	for i, page := range taken {
		t.Step("collapse_file:rollback")
		t.xaLock(m)
		t.refStore(page, 1) // page_ref_unfreeze(page, 2), then our put_page
		index := start + uint64(i)
		t.xaStoreSlot(m, index, m.slot(index), page)
		m.iPages.Unlock() // xas_pause(); xas_unlock_irq()
		UnlockPage(t, page)
	}
	t.setPageMapping(newPage, nil)
	UnlockPage(t, newPage)
	t.Step("put_page")
	PutPage(t, newPage)
}

// FilemapReadPage brings page index of the file into the page cache from
// the disk, clean and uptodate (filemap_read_page via ->readpage): the
// read-only file whose pages khugepaged collapses.
func FilemapReadPage(t *Thread, inode *Inode, index uint64) {
	t.Enter("filemap_read_page")
	defer t.Exit()
	page := grabCachePageWriteBegin(t, inode.Mapping, index)
	if page == nil {
		t.Return()
		return
	}
	t.setPageData(page, t.diskBlock(inode.Ino, index))
	SetPageUptodate(t, page)
	UnlockPage(t, page)
	t.Step("put_page")
	PutPage(t, page)
	t.Return()
}
