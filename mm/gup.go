package mm

import (
	"github.com/pagelab/pagelab/sim"
)

// Race C's model pieces (v5.10 unless noted): a MAP_SHARED file mapping with
// one PTE per page (mm/memory.c), ->page_mkwrite of a buffer-based
// filesystem (fs/buffer.c block_page_mkwrite), get_user_pages_fast with
// FOLL_GET references or FOLL_PIN pins (mm/gup.c), a direct-I/O read whose
// completion dirties the user pages (fs/direct-io.c), reclaim
// (mm/vmscan.c shrink_page_list), and ->writepage needing buffers
// (fs/buffer.c block_write_full_page, ext4_writepage).

// GUP_PIN_COUNTING_BIAS is what FOLL_PIN adds to _refcount (include/linux/mm.h).
const GUP_PIN_COUNTING_BIAS = 1024

// PTE is one page table entry of the shared mapping.
type PTE struct {
	page                  *Page
	present, write, dirty bool
}

// VMA is a MAP_SHARED mapping of a whole file, one PTE per page; ptl is the
// page table lock.
type VMA struct {
	File *Inode
	ptl  SpinLock
	ptes []PTE
}

// NewSharedMapping maps the file (mmap(MAP_SHARED)), with no PTE yet.
func (k *Kernel) NewSharedMapping(inode *Inode, pages int) *VMA {
	v := &VMA{File: inode, ptes: make([]PTE, pages)}
	v.ptl.line = lineIPages | 1<<40 | uint64(inode.Ino)
	inode.vma = v
	return v
}

// PTEState is a PTE's state (tests, oracles).
func (v *VMA) PTEState(index uint64) (present, write, dirty bool) {
	p := v.ptes[index]
	return p.present, p.write, p.dirty
}

// PagePrivate is PagePrivate() (PF_ANY): buffers are attached.
func PagePrivate(t *Thread, page *Page) bool {
	return t.testFlag(t.touch(page, pfAny, "PagePrivate", sim.AccessRead, PG_private), PG_private)
}

// PageMaybeDMAPinned is page_maybe_dma_pinned() (include/linux/mm.h,
// v5.10): for an order-0 page, _refcount at or above the pin bias.
func PageMaybeDMAPinned(t *Thread, page *Page) bool {
	t.touch(page, pfAny, "page_maybe_dma_pinned", sim.AccessRead, bitRefcount)
	return t.refAtLeast(page, GUP_PIN_COUNTING_BIAS)
}

// attachPageBuffers is create_empty_buffers() → attach_page_private():
// SetPagePrivate and a page reference held by the buffers; the blocks are
// allocated (map_bh) for the page's file offset.
func attachPageBuffers(t *Thread, page *Page) {
	t.Step("create_empty_buffers")
	t.setFlag(t.touch(page, pfAny, "SetPagePrivate", sim.AccessRMW, PG_private), PG_private)
	t.refAdd(page, 1)
	if m := t.pageMapping(page); m != nil {
		t.allocateBlock(m.Host, t.pageIndex(page))
	}
}

func (inode *Inode) allocateBlock(index uint64) {
	inode.mu.Lock()
	defer inode.mu.Unlock()
	if inode.blocks == nil {
		inode.blocks = map[uint64]bool{}
	}
	inode.blocks[index] = true
}

// BlockPageMkwrite is ->page_mkwrite = block_page_mkwrite() (fs/buffer.c,
// v5.10), what ext4 and others do on a write fault to a shared mapping:
// lock the page, check it is still in the file, attach buffers and allocate
// blocks (__block_write_begin, block_commit_write), dirty it and wait for a
// writeback in flight if the device needs stable pages; returned locked:
//
//	lock_page(page);
//	size = i_size_read(inode);
//	if ((page->mapping != inode->i_mapping) ||
//	    (page_offset(page) > size)) {
//		ret = -EFAULT;
//		goto out_unlock;
//	}
//	...
//	ret = __block_write_begin(page, 0, end, get_block);
//	if (!ret)
//		ret = block_commit_write(page, 0, end);
//	...
//	set_page_dirty(page);
//	wait_for_stable_page(page);
//	return 0;
func BlockPageMkwrite(t *Thread, vma *VMA, page *Page) bool {
	t.Enter("block_page_mkwrite")
	defer t.Exit()
	LockPage(t, page)
	t.Step("block_page_mkwrite:mapping")
	if t.pageMapping(page) != vma.File.Mapping {
		UnlockPage(t, page)
		t.Return(0)
		return false
	}
	if !PagePrivate(t, page) {
		attachPageBuffers(t, page)
	}
	SetPageDirty(t, page)
	WaitForStablePage(t, page)
	t.Return(1)
	return true
}

// WaitForStablePage is wait_for_stable_page() (mm/page-writeback.c, v5.10;
// the superblock flag since 1cb039f3dc16, v5.10-rc1):
//
//	page = thp_head(page);
//	if (page->mapping->host->i_sb->s_iflags & SB_I_STABLE_WRITES)
//		wait_on_page_writeback(page);
//
// SB_I_STABLE_WRITES is the device's (Disk.StableWrites, set when the
// filesystem is mounted and never changed after): the read of it decides
// nothing another task can change. The caller holds the page lock, so no
// new writeback can start while it waits; the I/O completion that ends the
// one in flight takes no page lock.
func WaitForStablePage(t *Thread, page *Page) {
	t.Enter("wait_for_stable_page")
	defer t.Exit()
	if t.K.Disk.StableWrites {
		waitOnPageWriteback(t, t.compoundHead(page), true)
	}
	t.Return()
}

// HandleWriteFault is a write fault on the shared mapping at index
// (do_shared_fault / wp_page_shared in mm/memory.c, v5.10): the page is
// found, made writable by ->page_mkwrite, and a present, writable, dirty
// PTE installed under the page table lock (holding a page reference), then
// the page is unlocked.
func HandleWriteFault(t *Thread, vma *VMA, index uint64) {
	t.Enter("handle_mm_fault")
	defer t.Exit()
	defer t.Return() // void, on every path
	for {
		// A retry loop (the page left the file under ->page_mkwrite):
		// nothing but the arguments is live here.
		t.CutPoint("handle_mm_fault")
		page := findGetPage(t, vma.File.Mapping, index)
		if page == nil {
			return
		}
		if !BlockPageMkwrite(t, vma, page) {
			t.Step("put_page")
			PutPage(t, page)
			continue
		}
		t.Step("finish_fault")
		vma.ptl.Lock(t)
		pte := &vma.ptes[index]
		t.pteRead(vma, index, boolID(pte.present))
		if !pte.present {
			pte.page, pte.present = page, true
			t.mapcountAdd(page, 1) // page_add_file_rmap
			t.refAdd(page, 1)
		}
		pte.write, pte.dirty = true, true
		t.pteWritten(vma, index)
		vma.ptl.Unlock()
		UnlockPage(t, page)
		t.Step("put_page")
		PutPage(t, page)
		return
	}
}

// GetUserPagesFast is get_user_pages_fast(addr, 1, FOLL_WRITE [| FOLL_PIN])
// (mm/gup.c, v5.10) for one page of the mapping: the lockless walk takes a
// reference (FOLL_GET: +1; FOLL_PIN: +GUP_PIN_COUNTING_BIAS) if the PTE is
// present and writable; otherwise the slow path faults the page in
// writable and retries.
func GetUserPagesFast(t *Thread, vma *VMA, index uint64, pin bool) *Page {
	t.Enter("get_user_pages_fast")
	defer t.Exit()
	for i := range 4 {
		t.CutPoint("get_user_pages_fast", uint64(i))
		t.Step("gup_pte_range")
		pte := vma.ptes[index]
		if t.Footprinting() {
			// The walk learns whether the PTE is present and writable,
			// and then its page.
			seen := uint64(0)
			if pte.present && pte.write {
				seen = pageID(pte.page)
			}
			t.pteRead(vma, index, seen)
		}
		if pte.present && pte.write {
			n := int32(1)
			if pin {
				n = GUP_PIN_COUNTING_BIAS
			}
			t.refAdd(t.touch(pte.page, pfAny, "try_grab_page", sim.AccessRMW, bitRefcount), n)
			t.Return(pageID(pte.page))
			return pte.page
		}
		HandleWriteFault(t, vma, index)
	}
	t.Return(pageID(nil))
	return nil
}

// PutUserPage drops a GUP reference: put_page() for FOLL_GET,
// unpin_user_page() for FOLL_PIN.
func PutUserPage(t *Thread, page *Page, pin bool) {
	t.Step("put_page")
	if pin {
		t.refAdd(t.touch(page, pfAny, "unpin_user_page", sim.AccessRMW, bitRefcount), 1-GUP_PIN_COUNTING_BIAS)
	}
	PutPage(t, page)
}

// SetPageDirtyLock is set_page_dirty_lock() (mm/page-writeback.c, v5.10):
// lock_page, set_page_dirty, unlock_page — what a GUP user calls on the
// pages it wrote into. Nothing here asks the filesystem (no
// ->page_mkwrite): the page may have lost its buffers meanwhile.
func SetPageDirtyLock(t *Thread, page *Page) {
	t.Enter("set_page_dirty_lock")
	defer t.Exit()
	LockPage(t, page)
	SetPageDirty(t, page)
	UnlockPage(t, page)
	t.Return()
}

// DirectIORead is read(2) with O_DIRECT from another file into the shared
// mapping at index (do_direct_IO → dio_get_page → iov_iter_get_pages →
// get_user_pages_fast; fs/direct-io.c, v5.10): the page is the bio's
// destination. The bio's completion (dio_bio_complete) runs in its own
// task: the device's DMA writes the page, then set_page_dirty_lock and the
// reference (or pin) is dropped.
func DirectIORead(t *Thread, vma *VMA, index uint64) {
	t.Enter("do_direct_IO")
	defer t.Exit()
	defer t.Return() // void, on every path
	pin := t.K.Ops.DIOPin
	page := GetUserPagesFast(t, vma, index, pin)
	if page == nil {
		return
	}
	inode := vma.File
	n := t.nrIOAdd()
	t.Step("submit_bio")
	t.K.SpawnKind(TaskName("dio", int(n)), "dma", sim.TaskIRQ, func(ct *Thread) {
		// The device writes the page: data the user asked to read into
		// the mapping, that is a new version of the mapped file's page,
		// written without the page lock and without ->page_mkwrite.
		v := ct.writeVersion(inode, index)
		ct.setPageData(page, PageData{Ino: inode.Ino, Index: index, Version: v, DMA: true})
		ct.Enter("dio_bio_complete")
		defer ct.Exit()
		defer ct.Return()
		ct.K.Ops.SetPageDirtyLock(ct, page)
		PutUserPage(ct, page, pin)
	})
}

// BlockWritepage is a buffer-based filesystem's ->writepage (ext4_writepage
// → block_write_full_page → __block_write_full_page, fs/ext4/inode.c and
// fs/buffer.c, v5.10), for a page with one buffer (blocksize ==
// PAGE_SIZE): the page must have buffers — page_buffers() is
// BUG_ON(!PagePrivate) — then, with the page still locked, writeback
// starts, the buffer's bio is submitted, and only then is the page
// unlocked:
//
//	BUG_ON(PageWriteback(page));
//	set_page_writeback(page);
//
//	do {
//		struct buffer_head *next = bh->b_this_page;
//		if (buffer_async_write(bh)) {
//			submit_bh_wbc(REQ_OP_WRITE, write_flags, bh,
//					inode->i_write_hint, wbc);
//			nr_underway++;
//		}
//		bh = next;
//	} while (bh != head);
//	unlock_page(page);
//
// The I/O may complete (end_buffer_async_write → end_page_writeback)
// before unlock_page.
//
// bounce-pinned (Jan Kara's RFC, 20230209121046.25360-1-jack@suse.cz)
// adds 5/5's test where the bio is built — there in iomap_add_to_ioend(),
// here in the buffer path the model's file uses:
//
//	if (inode->i_sb->s_iflags & SB_I_STABLE_WRITES &&
//	    folio_maybe_dma_pinned(folio))
//		wpc->ioend->io_bio->bi_flags |= 1 << BIO_NEED_PIN_BOUNCE;
//
// and 4/5's in submit_bio (blk_queue_bounce → __blk_queue_bounce): a
// flagged bio whose page is maybe DMA-pinned is copied to a bounce page
// at submission, and the device reads the copy. The two tests are one
// read here: while this task holds the page lock after page_mkclean(), no
// new pin can be taken (GUP needs a writable PTE or ->page_mkwrite, which
// locks the page), so a page unpinned at the first test is unpinned at
// the second.
func BlockWritepage(t *Thread, page *Page, wbc *WritebackControl) {
	t.Enter("ext4_writepage")
	defer t.Exit()
	defer t.Return() // void, on every path
	t.Step("page_buffers")
	if !PagePrivate(t, page) {
		if !t.K.Ops.WritepageNoBuffers(t, page) {
			return
		}
	}
	ino, index := bioOwner(t, page)
	t.K.Ops.StartPageWriteback(t, page)
	t.Step("submit_bh_wbc")
	bounce := t.K.Ops.BouncePinned && t.K.Disk.StableWrites && PageMaybeDMAPinned(t, page)
	bio := SubmitBio(t, page, ino, index)
	if bounce {
		t.setBioBounce(bio, t.pageData(page))
	}
	UnlockPage(t, page)
}

// WritepageNoBuffers is page_buffers()'s BUG_ON(!PagePrivate(page)) when a
// dirty page without buffers reaches ->writepage. It reports whether
// ->writepage may go on (never, in the baseline: the machine oopses).
func WritepageNoBuffers(t *Thread, page *Page) bool {
	t.Bug(BugNoBuffers, "ext4_writepage of pfn %d without buffers: BUG_ON(!PagePrivate(page)) in page_buffers()", page.pfn)
	return false
}

// tryToUnmap is try_to_unmap() (mm/rmap.c, v5.10) for a page mapped by the
// shared mapping: the PTE's dirty bit moves to the page (set_page_dirty),
// the PTE is cleared and its reference dropped.
func tryToUnmap(t *Thread, page *Page) {
	t.Enter("try_to_unmap")
	defer t.Exit()
	defer t.Return() // void, on every path
	m := t.pageMapping(page)
	if m == nil || m.Host.vma == nil {
		return
	}
	vma := m.Host.vma
	t.Step("try_to_unmap_one")
	vma.ptl.Lock(t)
	index := t.pageIndex(page)
	pte := &vma.ptes[index]
	t.pteRead(vma, index, ptePageSeen(pte, page))
	dirty := false
	if pte.present && pte.page == page {
		dirty = pte.dirty
		*pte = PTE{}
		t.pteWritten(vma, index)
		t.mapcountAdd(page, -1)
	} else {
		vma.ptl.Unlock()
		return
	}
	vma.ptl.Unlock()
	if dirty {
		SetPageDirty(t, page)
	}
	t.Step("put_page")
	PutPage(t, page) // the PTE's reference
}

// pageMkclean is page_mkclean() (mm/rmap.c, v5.10): write-protect and
// clean every PTE mapping the page; reports whether one was dirty.
func pageMkclean(t *Thread, page *Page) bool {
	m := t.pageMapping(page)
	if m == nil || m.Host.vma == nil {
		return false
	}
	vma := m.Host.vma
	t.Step("page_mkclean")
	vma.ptl.Lock(t)
	defer vma.ptl.Unlock()
	index := t.pageIndex(page)
	pte := &vma.ptes[index]
	t.pteRead(vma, index, ptePageSeen(pte, page))
	if !pte.present || pte.page != page {
		return false
	}
	dirty := pte.dirty
	pte.write, pte.dirty = false, false
	t.pteWritten(vma, index)
	return dirty
}

// tryToReleasePage is try_to_release_page() → try_to_free_buffers()
// (fs/buffer.c, v5.10) for clean, idle buffers: PG_private and the
// buffers' page reference go.
func tryToReleasePage(t *Thread, page *Page) bool {
	t.Enter("try_to_release_page")
	defer t.Exit()
	t.Step("try_to_free_buffers")
	if PageDirty(t, page) || PageWriteback(t, page) {
		t.Return(0)
		return false
	}
	t.clearFlag(t.touch(page, pfAny, "ClearPagePrivate", sim.AccessRMW, PG_private), PG_private)
	PutPage(t, page)
	t.Return(1)
	return true
}

// removeMapping is __remove_mapping() (mm/vmscan.c, v5.10): under the
// i_pages lock, freeze the page's references at the two expected (page
// cache and reclaim's isolation); any other reference (a GUP user's) makes
// it fail and the page stays.
func removeMapping(t *Thread, page *Page) bool {
	t.Enter("__remove_mapping")
	defer t.Exit()
	m := t.pageMapping(page)
	if m == nil {
		t.Return(0)
		return false
	}
	t.Step("page_ref_freeze")
	m.iPages.Lock(t)
	if !t.refCAS(page, 2, 0) {
		m.iPages.Unlock()
		t.Return(0)
		return false
	}
	if PageDirty(t, page) {
		t.refStore(page, 2)
		m.iPages.Unlock()
		t.Return(0)
		return false
	}
	index := t.pageIndex(page)
	if s := m.slot(index); t.xaLoadSlot(m, index, s) == page {
		t.xaStoreSlot(m, index, s, nil)
		t.xaStoreMarks(m, index, s, 0)
	}
	t.setPageMapping(page, nil)
	t.nrPagesAdd(m, -1)
	m.iPages.Unlock()
	t.Return(1)
	return true
}

// isPageCacheFreeable is is_page_cache_freeable() (mm/vmscan.c, v5.10):
//
//	/*
//	 * A freeable page cache page is referenced only by the caller
//	 * that isolated the page, the page cache and optional buffer
//	 * heads at page->private.
//	 */
//	int page_cache_pins = thp_nr_pages(page);
//	return page_count(page) - page_has_private(page) == 1 + page_cache_pins;
//
// for an order-0 page (thp_nr_pages 1). page_has_private() is PG_private
// (no PG_private_2 in the model). The two loads are plain reads of one
// step (pageout's); the task learns PG_private and whether the count is
// the expected one.
func isPageCacheFreeable(t *Thread, page *Page) bool {
	private := PagePrivate(t, page)
	want := int32(2)
	if private {
		want++
	}
	return t.refEquals(page, want)
}

// pageout_t, pageout()'s outcome (mm/vmscan.c, v5.10).
type pageoutT uint8

const (
	// PAGE_KEEP: failed to write the page out; the page is locked.
	PAGE_KEEP pageoutT = iota
	// PAGE_ACTIVATE: move the page to the active list; it is locked.
	PAGE_ACTIVATE
	// PAGE_SUCCESS: the page was sent to the disk; it is unlocked.
	PAGE_SUCCESS
	// PAGE_CLEAN: the page is clean and locked.
	PAGE_CLEAN
)

// pageout is pageout() (mm/vmscan.c, v5.10) for a page of a file with
// ->writepage, called by shrink_page_list() for each dirty page:
//
//	if (!is_page_cache_freeable(page))
//		return PAGE_KEEP;
//	...
//	if (clear_page_dirty_for_io(page)) {
//		...
//		SetPageReclaim(page);
//		res = mapping->a_ops->writepage(page, &wbc);
//		...
//		return PAGE_SUCCESS;
//	}
//	return PAGE_CLEAN;
//
// A page someone else holds a reference on — the direct I/O's GUP
// reference or pin — is not written by reclaim. (may_write_to_inode() is
// true: no congestion in the model; PG_reclaim is not modelled.)
func pageout(t *Thread, page *Page) pageoutT {
	t.Enter("pageout")
	defer t.Exit()
	t.Step("pageout")
	if !isPageCacheFreeable(t, page) {
		t.Return(uint64(PAGE_KEEP))
		return PAGE_KEEP
	}
	if ClearPageDirtyForIO(t, nil, page) {
		writepageOf(t, page)(t, page, &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 32, RangeEnd: MaxIndex})
		t.Return(uint64(PAGE_SUCCESS))
		return PAGE_SUCCESS
	}
	t.Return(uint64(PAGE_CLEAN))
	return PAGE_CLEAN
}

// ShrinkPage is reclaim of one page by kswapd: isolate_lru_pages() takes a
// reference, shrink_page_list() (mm/vmscan.c, v5.10) tries to reclaim it —
// trylock, skip if under writeback, unmap, write it out if dirty
// (pageout(): not if anyone but the page cache, the buffers and reclaim
// holds a reference; else clear_page_dirty_for_io and ->writepage), release
// its buffers, remove it from the page cache — and putback drops the
// reference. One call is one pass: a page written out is kept and
// reclaimed by a later pass once its writeback is done. It is the pass in
// which kswapd writes file pages (v5.10 leaves a dirty file page to the
// flusher unless PageReclaim from an earlier pass and the node is marked
// PGDAT_DIRTY; the model takes that condition as met).
//
// pin-aware-reclaim (d824ec2a1546, v6.4) places its test after the unmap
// and before the dirty page's write-out, as it is in shrink_folio_list():
//
//	/*
//	 * Folio is unmapped now so it cannot be newly pinned anymore.
//	 * No point in trying to reclaim folio if it is pinned.
//	 * Furthermore we don't want to reclaim underlying fs metadata
//	 * if the folio is pinned and thus potentially modified by the
//	 * pinning process as that may upset the filesystem.
//	 */
//	if (folio_maybe_dma_pinned(folio))
//		goto activate_locked;
//
//	mapping = folio_mapping(folio);
//	if (folio_test_dirty(folio)) {
func ShrinkPage(t *Thread, page *Page) {
	t.Enter("shrink_page_list")
	defer t.Exit()
	defer t.Return() // void, on every path (after putback_lru_page)
	// isolate_lru_pages(): under the LRU lock, a page still on the LRU
	// list, with a speculative reference (a page reclaimed and freed by an
	// earlier pass is no longer there).
	t.Step("isolate_lru_pages")
	if !t.getPageUnlessZero(page) {
		return
	}
	if !t.testFlag(page, PG_lru) || t.pageMapping(page) == nil {
		PutPage(t, page)
		return
	}
	reclaimed := false
	defer func() {
		if !reclaimed { // a reclaimed page's reference went with it
			// Every way out of the pass but reclaim meets here, and
			// what follows depends on the page alone: a CutPoint.
			t.CutPoint("shrink_page_list:putback")
			t.Step("putback_lru_page")
			PutPage(t, page)
		}
	}()
	t.Step("trylock_page")
	if !TrylockPage(t, page) {
		return
	}
	t.Step("shrink_page_list:PageWriteback")
	if PageWriteback(t, page) {
		UnlockPage(t, page)
		return
	}
	if t.pageMapped(page) {
		tryToUnmap(t, page)
	}
	if t.K.Ops.ReclaimKeepsPinned {
		t.Step("shrink_page_list:page_maybe_dma_pinned")
		if PageMaybeDMAPinned(t, page) {
			// goto activate_locked
			UnlockPage(t, page)
			return
		}
	}
	t.Step("shrink_page_list:PageDirty")
	if PageDirty(t, page) {
		switch pageout(t, page) {
		case PAGE_KEEP, PAGE_ACTIVATE:
			UnlockPage(t, page)
			return
		case PAGE_SUCCESS:
			// ->writepage unlocked the page; it is under writeback
			// (or redirtied): goto keep. A later pass takes it.
			return
		case PAGE_CLEAN:
			// try to free the page below
		}
	}
	t.Step("shrink_page_list:PagePrivate")
	if PagePrivate(t, page) {
		if !tryToReleasePage(t, page) {
			// goto activate_locked
			UnlockPage(t, page)
			return
		}
	}
	if removeMapping(t, page) {
		// Reclaimed: __ClearPageLocked and free (the page cache's and our
		// references were frozen together).
		reclaimed = true
		t.clearFlag(page, PG_locked)
		t.clearFlag(page, PG_lru)
		freeUnrefPage(t, page)
		return
	}
	UnlockPage(t, page)
}

// writepageOf is the filesystem's ->writepage for the page's file.
func writepageOf(t *Thread, page *Page) Writepage {
	if m := t.pageMapping(page); m != nil && m.Host.Writepage != nil {
		return m.Host.Writepage
	}
	return MpageWritepage
}
