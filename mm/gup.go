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
// blocks, dirty it; returned locked.
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
	t.Return(1)
	return true
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

// BlockWritepage is a buffer-based filesystem's ->writepage
// (ext4_writepage → block_write_full_page, fs/buffer.c and fs/ext4, v5.10):
// the page must have buffers — page_buffers() is BUG_ON(!PagePrivate) —
// then writeback starts, the page is unlocked and the blocks written.
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
	UnlockPage(t, page)
	bio := SubmitBio(t, page, ino, index)
	if t.K.Ops.BouncePinned && PageMaybeDMAPinned(t, page) {
		// Writeback of a maybe-DMA-pinned page writes a stable copy.
		t.setBioBounce(bio, t.pageData(page))
	}
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

// ShrinkPage is reclaim of one page by kswapd: isolate_lru_pages() takes a
// reference, shrink_page_list() (mm/vmscan.c, v5.10) tries to reclaim it —
// trylock, skip if under writeback, unmap, write it out if dirty
// (pageout: clear_page_dirty_for_io and ->writepage), release its buffers,
// remove it from the page cache — and putback drops the reference. One
// call is one pass: a page written out is kept and reclaimed by a later
// pass once its writeback is done.
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
	t.Step("shrink_page_list:PageDirty")
	if PageDirty(t, page) {
		// pageout(): clear_page_dirty_for_io, then ->writepage, which
		// unlocks the page. The page is kept: a later pass takes it.
		if ClearPageDirtyForIO(t, page) {
			writepageOf(t, page)(t, page, &WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 1})
			return
		}
	}
	t.Step("shrink_page_list:PagePrivate")
	if PagePrivate(t, page) {
		if t.K.Ops.ReclaimKeepsPinned && PageMaybeDMAPinned(t, page) {
			// d824ec2a1546: do not reclaim private data from a pinned page.
			UnlockPage(t, page)
			return
		}
		if !tryToReleasePage(t, page) {
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
