package mm

import "github.com/pagelab/pagelab/sim"

// The read fault on a mapped file (arch/x86/mm/fault.c, mm/memory.c,
// mm/filemap.c; v5.10), as the processes of a web server take it on a hot
// file: the hot spot of Michael Larabel's Apache Siege runs of September
// 2020 was filemap_fault(). Its page-lock use is two-sided:
//
//   - fault-around (do_fault_around → filemap_map_pages) maps the cached
//     pages around the faulting address and only ever TRYLOCKS them: a page
//     whose lock is taken is skipped (it even checks PageLocked before
//     taking a reference);
//   - if that did not map the faulting page, filemap_fault() takes the
//     lock for real (lock_page_maybe_drop_mmap: trylock_page, else drop
//     the mmap_lock and sleep in __lock_page_killable), and on that first
//     attempt, having dropped the mmap_lock, unlocks the page again and
//     retries the whole fault (VM_FAULT_RETRY, then FAULT_FLAG_TRIED).
//
// So a page lock held by a waiter that was handed it but is not running yet
// (the strict hand-off of 2a9127fcf229) turns every fault-around that meets
// it into a sleeping lock_page, where the unfair lock of v5.8 let the
// running CPUs take it.
//
// Each user is a process of its own (Apache's prefork workers): its mm, its
// mmap_lock, its VMA and its page table are its own, taken and read by no
// other task. The model therefore keeps no mmap_lock and no page-table lock
// for them, and their PTEs are task-local memory (not reported state). What
// the users share is the file's page cache: the xarray slots, and each
// struct page's flags and _refcount (one cache line). page_add_file_rmap's
// _mapcount update and the file's f_ra.mmap_miss counter are left out:
// nothing in the model reads them on this path. The hot file never changes
// size and is never truncated in lock-storm, so the two i_size checks of
// filemap_fault() and filemap_map_pages() are left out too (the model's
// write path does not keep i_size; isize.go models it for race E).

// Fault flags (include/linux/mm.h, v5.10).
const (
	FAULT_FLAG_WRITE         = 0x01
	FAULT_FLAG_ALLOW_RETRY   = 0x04
	FAULT_FLAG_RETRY_NOWAIT  = 0x08
	FAULT_FLAG_KILLABLE      = 0x10
	FAULT_FLAG_TRIED         = 0x20
	FAULT_FLAG_USER          = 0x40
	FAULT_FLAG_INTERRUPTIBLE = 0x200

	// FAULT_FLAG_DEFAULT is what a user-space fault starts with.
	FAULT_FLAG_DEFAULT = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_INTERRUPTIBLE
)

// VM_FAULT codes (enum vm_fault_reason, include/linux/mm_types.h, v5.10).
const (
	VM_FAULT_OOM            = 0x000001
	VM_FAULT_SIGBUS         = 0x000002
	VM_FAULT_HWPOISON       = 0x000010
	VM_FAULT_HWPOISON_LARGE = 0x000020
	VM_FAULT_SIGSEGV        = 0x000040
	VM_FAULT_NOPAGE         = 0x000100
	VM_FAULT_LOCKED         = 0x000200
	VM_FAULT_RETRY          = 0x000400
	VM_FAULT_FALLBACK       = 0x000800

	VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON |
		VM_FAULT_HWPOISON_LARGE | VM_FAULT_FALLBACK
)

// FaultAroundPages is fault_around_bytes >> PAGE_SHIFT (mm/memory.c, v5.10:
// rounddown_pow_of_two(65536) bytes, 16 pages).
const FaultAroundPages = 16

// FileMapping is one process's read mapping of a whole file: the
// vm_area_struct (vm_start at file offset 0, vm_ops = generic_file_vm_ops)
// and its page table, one PTE per page of the file. It belongs to one task.
type FileMapping struct {
	File *Inode
	pte  []*Page // the page each PTE maps (it holds a reference), nil for pte_none
}

// MmapFile is mmap(PROT_READ) of the first pages of inode's file by a
// process of its own: a VMA with an empty page table.
func MmapFile(inode *Inode, pages int) *FileMapping {
	return &FileMapping{File: inode, pte: make([]*Page, pages)}
}

// Mapped reports whether the PTE at index maps a page (tests).
func (v *FileMapping) Mapped(index uint64) bool { return v.pte[index] != nil }

// vmFault is struct vm_fault (include/linux/mm.h, v5.10), the part the
// model uses, plus the lab's timing of the fault's page lock.
type vmFault struct {
	vma   *FileMapping
	pgoff uint64
	flags uint
	page  *Page

	// op times the fault's lock_page: from the fault's entry until it
	// holds the lock of the page it maps (in fault-around's trylock or in
	// filemap_fault); a lock taken and dropped for VM_FAULT_RETRY does not
	// end it.
	op     sim.OpMark
	opDone bool
}

// locked ends the fault's lock_page timing, once.
func (vmf *vmFault) locked(t *Thread) {
	if !vmf.opDone {
		vmf.opDone = true
		t.OpEnd(vmf.op)
	}
}

// DoUserAddrFault is do_user_addr_fault() (arch/x86/mm/fault.c, v5.10) for
// a read of the page at pgoff of the mapping, from user space: the fault
// starts with FAULT_FLAG_DEFAULT | FAULT_FLAG_USER and is redone with
// FAULT_FLAG_TRIED when handle_mm_fault() returns VM_FAULT_RETRY:
//
//	fault = handle_mm_fault(vma, address, flags, regs);
//	...
//	if (unlikely((fault & VM_FAULT_RETRY) &&
//		     (flags & FAULT_FLAG_ALLOW_RETRY))) {
//		flags |= FAULT_FLAG_TRIED;
//		goto retry;
//	}
//
// handle_mm_fault → __handle_mm_fault → handle_pte_fault → do_fault leads a
// read fault on a pte_none entry of a file VMA to do_read_fault(); the
// levels between decide nothing here and are not modelled. The lab times
// the fault's page lock as the lock_page operation (see vmFault.op).
func DoUserAddrFault(t *Thread, vma *FileMapping, pgoff uint64) int {
	t.Enter("do_user_addr_fault")
	defer t.Exit()
	vmf := &vmFault{vma: vma, pgoff: pgoff, flags: FAULT_FLAG_DEFAULT | FAULT_FLAG_USER}
	vmf.op = t.OpBegin(OpLockPage)
	for {
		// The mmap_lock is the process's own (mmap_read_lock, taken again
		// on every retry): uncontended, not modelled.
		vmf.page = nil
		ret := doReadFault(t, vmf)
		if ret&VM_FAULT_RETRY != 0 && vmf.flags&FAULT_FLAG_ALLOW_RETRY != 0 {
			vmf.flags |= FAULT_FLAG_TRIED
			continue
		}
		return ret
	}
}

// doReadFault is do_read_fault() (mm/memory.c, v5.10): fault-around first,
// then ->fault (filemap_fault) if that did not map the page; the page comes
// back locked, finish_fault() maps it and the caller unlocks it:
//
//	if (vma->vm_ops->map_pages && fault_around_bytes >> PAGE_SHIFT > 1) {
//		ret = do_fault_around(vmf);
//		if (ret)
//			return ret;
//	}
//	ret = __do_fault(vmf);
//	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
//		return ret;
//	ret |= finish_fault(vmf);
//	unlock_page(vmf->page);
//	if (unlikely(ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)))
//		put_page(vmf->page);
//	return ret;
func doReadFault(t *Thread, vmf *vmFault) int {
	t.Enter("do_read_fault")
	defer t.Exit()
	if FaultAroundPages > 1 {
		if ret := doFaultAround(t, vmf); ret != 0 {
			return ret
		}
	}
	ret := doFault(t, vmf)
	if ret&(VM_FAULT_ERROR|VM_FAULT_NOPAGE|VM_FAULT_RETRY) != 0 {
		return ret
	}
	ret |= finishFault(t, vmf, vmf.page)
	UnlockPage(t, vmf.page)
	if ret&(VM_FAULT_ERROR|VM_FAULT_NOPAGE|VM_FAULT_RETRY) != 0 {
		t.Step("put_page")
		PutPage(t, vmf.page)
	}
	return ret
}

// doFaultAround is do_fault_around() (mm/memory.c, v5.10): ->map_pages
// over the fault_around_bytes-aligned window that holds the faulting page,
// cut at the end of the VMA; VM_FAULT_NOPAGE if that mapped the faulting
// page ("check if the page fault is solved").
func doFaultAround(t *Thread, vmf *vmFault) int {
	t.Enter("do_fault_around")
	defer t.Exit()
	start := vmf.pgoff &^ (FaultAroundPages - 1)
	end := min(start+FaultAroundPages, uint64(len(vmf.vma.pte))) - 1
	FilemapMapPages(t, vmf, start, end)
	if vmf.vma.pte[vmf.pgoff] != nil {
		return VM_FAULT_NOPAGE
	}
	return 0
}

// FilemapMapPages is filemap_map_pages() (mm/filemap.c, v5.10), the
// ->map_pages of generic_file_vm_ops: for each cached page of the window,
// skip it if it is locked, take a speculative reference, check the slot
// still holds it and that it is up to date, TRYLOCK it (skip it if that
// fails), re-check page->mapping under the lock, map it (alloc_set_pte) and
// unlock it:
//
//	if (PageLocked(head))
//		goto next;
//	if (!page_cache_get_speculative(head))
//		goto next;
//	if (unlikely(head != xas_reload(&xas)))
//		goto skip;
//	...
//	if (!PageUptodate(head) || PageReadahead(page) || PageHWPoison(page))
//		goto skip;
//	if (!trylock_page(head))
//		goto skip;
//	if (head->mapping != mapping || !PageUptodate(head))
//		goto unlock;
//	...
//	if (alloc_set_pte(vmf, page))
//		goto unlock;
//	unlock_page(head);
//	goto next;
//
// It never sleeps on a page lock. The PTE's reference is the speculative
// one.
func FilemapMapPages(t *Thread, vmf *vmFault, start, end uint64) {
	t.Enter("filemap_map_pages")
	defer t.Exit()
	mapping := vmf.vma.File.Mapping
	for index := start; index <= end; index++ {
		// xas_for_each under rcu_read_lock: the slot, then the flags.
		t.Step("filemap_map_pages")
		head := t.xaLoadSlot(mapping, index, mapping.slot(index))
		if head == nil || PageLocked(t, head) {
			continue
		}
		t.Step("page_cache_get_speculative")
		t.touch(head, pfAny, "page_cache_get_speculative", sim.AccessRMW, bitRefcount)
		if !t.getPageUnlessZero(head) {
			continue
		}
		// xas_reload and PageUptodate: in the step of the reference (the
		// page can leave the slot meanwhile only by truncation, which
		// lock-storm does not do; PG_uptodate is set once).
		if t.xaLoadSlot(mapping, index, mapping.slot(index)) != head || !pageUptodate(t, head) {
			mapPagesSkip(t, head)
			continue
		}
		t.Step("trylock_page")
		if !TrylockPage(t, head) {
			mapPagesSkip(t, head)
			continue
		}
		if index == vmf.pgoff {
			vmf.locked(t)
		}
		// page->mapping is stable under the page lock.
		if t.pageMapping(head) != mapping || !pageUptodate(t, head) || allocSetPte(t, vmf, index, head) != 0 {
			UnlockPage(t, head)
			mapPagesSkip(t, head)
			continue
		}
		UnlockPage(t, head)
	}
}

// mapPagesSkip is filemap_map_pages()'s skip: label, put_page(head).
func mapPagesSkip(t *Thread, head *Page) {
	t.Step("put_page")
	PutPage(t, head)
}

// pageUptodate is PageUptodate() (PF_NO_TAIL; include/linux/page-flags.h,
// v5.10): a read of PG_uptodate (its smp_rmb pairs with SetPageUptodate's
// smp_wmb).
func pageUptodate(t *Thread, page *Page) bool {
	return t.testBitAt(t.touch(page, pfNoTail, "PageUptodate", sim.AccessRead, PG_uptodate), PG_uptodate)
}

// allocSetPte is alloc_set_pte() (mm/memory.c, v5.10) for a read fault on a
// file page: VM_FAULT_NOPAGE if the PTE is no longer pte_none, else set it
// to map page, which keeps the caller's reference. The page table is the
// process's own (see the top of this file).
func allocSetPte(t *Thread, vmf *vmFault, index uint64, page *Page) int {
	if vmf.vma.pte[index] != nil {
		return VM_FAULT_NOPAGE
	}
	vmf.vma.pte[index] = page
	return 0
}

// doFault is __do_fault() (mm/memory.c, v5.10): ->fault, here
// filemap_fault(), which returns the page locked (VM_FAULT_LOCKED); a
// handler that does not is followed by lock_page().
func doFault(t *Thread, vmf *vmFault) int {
	ret := FilemapFault(t, vmf)
	if ret&(VM_FAULT_ERROR|VM_FAULT_NOPAGE|VM_FAULT_RETRY) != 0 {
		return ret
	}
	if ret&VM_FAULT_LOCKED == 0 {
		LockPage(t, vmf.page)
	}
	return ret
}

// finishFault is finish_fault() (mm/memory.c, v5.10) for a read fault on a
// shared file page: alloc_set_pte() of vmf->page under the PTE lock.
func finishFault(t *Thread, vmf *vmFault, page *Page) int {
	t.Step("finish_fault")
	return allocSetPte(t, vmf, vmf.pgoff, page)
}

// FilemapFault is filemap_fault() (mm/filemap.c, v5.10) for a page that is
// in the page cache: find_get_page, lock_page_maybe_drop_mmap, the
// truncation re-check, PageUptodate, and, if the mmap_lock was dropped on
// the way, unlock and VM_FAULT_RETRY; else the page is returned locked:
//
//	page = find_get_page(mapping, offset);
//	if (likely(page) && !(vmf->flags & FAULT_FLAG_TRIED)) {
//		fpin = do_async_mmap_readahead(vmf, page);
//	} else if (!page) {
//		...
//	}
//	if (!lock_page_maybe_drop_mmap(vmf, page, &fpin))
//		goto out_retry;
//	/* Did it get truncated? */
//	if (unlikely(compound_head(page)->mapping != mapping)) {
//		unlock_page(page);
//		put_page(page);
//		goto retry_find;
//	}
//	...
//	if (unlikely(!PageUptodate(page)))
//		goto page_not_uptodate;
//	if (fpin) {
//		unlock_page(page);
//		goto out_retry;
//	}
//	...
//	vmf->page = page;
//	return ret | VM_FAULT_LOCKED;
//
// do_async_mmap_readahead() only drops the mmap_lock for a page marked
// PG_readahead, which lock-storm's pages never are. The model has no
// ->readpage for faults: a page missing from the cache (the major fault,
// with its synchronous readahead) or not up to date ends the fault with
// VM_FAULT_SIGBUS, and a truncated page is looked up again.
func FilemapFault(t *Thread, vmf *vmFault) int {
	t.Enter("filemap_fault")
	defer t.Exit()
	mapping := vmf.vma.File.Mapping
	for {
		fpin := false
		page := findGetPage(t, mapping, vmf.pgoff)
		if page == nil {
			return VM_FAULT_SIGBUS
		}
		if !lockPageMaybeDropMmap(t, vmf, page, &fpin) {
			t.Step("put_page")
			PutPage(t, page)
			return VM_FAULT_RETRY
		}
		if t.pageMapping(t.compoundHead(page)) != mapping {
			UnlockPage(t, page)
			t.Step("put_page")
			PutPage(t, page)
			continue
		}
		if !pageUptodate(t, page) {
			UnlockPage(t, page)
			t.Step("put_page")
			PutPage(t, page)
			return VM_FAULT_SIGBUS
		}
		if fpin {
			// We had to drop the mmap_lock to wait for the page lock:
			// back to the fault handler, which re-finds the vma and
			// comes back (FAULT_FLAG_TRIED) for the page.
			UnlockPage(t, page)
			t.Step("put_page")
			PutPage(t, page)
			return VM_FAULT_RETRY
		}
		vmf.page = page
		return VM_FAULT_LOCKED
	}
}

// lockPageMaybeDropMmap is lock_page_maybe_drop_mmap() (mm/filemap.c,
// v5.10): trylock_page, else (unless FAULT_FLAG_RETRY_NOWAIT) drop the
// mmap_lock if this is the first try and sleep for the lock, killable:
//
//	if (trylock_page(page))
//		return 1;
//	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
//		return 0;
//	*fpin = maybe_unlock_mmap_for_io(vmf, *fpin);
//	if (vmf->flags & FAULT_FLAG_KILLABLE) {
//		if (__lock_page_killable(page)) {
//			...
//			return 0;
//		}
//	} else
//		__lock_page(page);
//	return 1;
func lockPageMaybeDropMmap(t *Thread, vmf *vmFault, page *Page, fpin *bool) bool {
	t.Enter("lock_page_maybe_drop_mmap")
	defer t.Exit()
	t.Step("trylock_page")
	if TrylockPage(t, page) {
		if !*fpin {
			vmf.locked(t)
		}
		return true
	}
	if vmf.flags&FAULT_FLAG_RETRY_NOWAIT != 0 {
		return false
	}
	*fpin = maybeUnlockMmapForIO(vmf, *fpin)
	if vmf.flags&FAULT_FLAG_KILLABLE != 0 {
		if lockPageKillable(t, page) != 0 {
			return false
		}
	} else {
		lockPageSlow(t, page)
	}
	if !*fpin {
		vmf.locked(t)
	}
	return true
}

// maybeUnlockMmapForIO is maybe_unlock_mmap_for_io() (mm/internal.h,
// v5.10): on the first try of a fault that may retry (and may wait), pin
// the file and drop the mmap_lock before sleeping:
//
//	if (fault_flag_allow_retry_first(flags) &&
//	    !(flags & FAULT_FLAG_RETRY_NOWAIT)) {
//		fpin = get_file(vmf->vma->vm_file);
//		mmap_read_unlock(vmf->vma->vm_mm);
//	}
//
// The pinned file is reported as a flag: the mmap_lock and the file's
// count are the process's own and not modelled.
func maybeUnlockMmapForIO(vmf *vmFault, fpin bool) bool {
	if fpin {
		return fpin
	}
	first := vmf.flags&FAULT_FLAG_ALLOW_RETRY != 0 && vmf.flags&FAULT_FLAG_TRIED == 0
	return first && vmf.flags&FAULT_FLAG_RETRY_NOWAIT == 0
}

// lockPageKillable is __lock_page_killable() (mm/filemap.c, v5.10): an
// EXCLUSIVE, killable wait for PG_locked on the head page; -EINTR if a
// fatal signal ended it.
func lockPageKillable(t *Thread, page *Page) int {
	page = t.compoundHead(page)
	q := PageWaitqueue(t.K, page)
	return t.K.Ops.WaitOnPageBitCommon(t, q, page, PG_locked, sim.TaskKillable, Exclusive)
}

// ZapFileMapping is the unmapping of the whole mapping when its process
// exits or unmaps it (unmap_vmas → zap_pte_range, mm/memory.c, v5.10): each
// present PTE is cleared and the reference it held dropped (through the
// mmu_gather batch, release_pages: one atomic decrement per page).
func ZapFileMapping(t *Thread, vma *FileMapping) {
	t.Enter("zap_pte_range")
	defer t.Exit()
	for i, page := range vma.pte {
		if page == nil {
			continue
		}
		vma.pte[i] = nil
		t.Step("zap_pte_range")
		PutPage(t, page)
	}
}
