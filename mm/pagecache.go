package mm

import (
	"sync/atomic"

	"github.com/pagelab/pagelab/sim"
)

// The page cache: struct address_space with its xarray of pages and the
// DIRTY / WRITEBACK / TOWRITE marks (include/linux/fs.h, lib/xarray.c,
// mm/filemap.c; v5.10). An xarray operation under the i_pages lock is one
// step; an RCU lookup with its speculative reference is one step.

// Page-cache xarray marks.
const (
	PAGECACHE_TAG_DIRTY     = 1 << 0
	PAGECACHE_TAG_WRITEBACK = 1 << 1
	PAGECACHE_TAG_TOWRITE   = 1 << 2
)

// PAGEVEC_SIZE is the batch of a pagevec (include/linux/pagevec.h).
const PAGEVEC_SIZE = 15

// xaSlot is one index of the xarray. Lookups read it without the i_pages
// lock (under RCU in the kernel), so its fields are atomic; they change
// only under the lock.
type xaSlot struct {
	page  atomic.Pointer[Page]
	marks atomic.Uint32
}

// AddressSpace is struct address_space: the page cache of one inode.
type AddressSpace struct {
	Host   *Inode
	iPages SpinLock // xa_lock
	// slots is the xarray, indexed by page index; it grows (under the
	// lock) by publishing a longer copy, so that lockless lookups always
	// see a consistent slice.
	slots          atomic.Pointer[[]*xaSlot]
	nrPages        atomic.Int64
	writebackIndex atomic.Uint64
	// xaSpan is set while a section of the i_pages lock spans scheduling
	// points (xaSpanBegin); xaWaiters are the writers waiting for it.
	xaSpan    bool
	xaWaiters []*Thread
	// nrThps is mapping->nr_thps (CONFIG_READ_ONLY_THP_FOR_FS): the file
	// THPs in the page cache (filemap_nr_thps_inc/dec).
	nrThps int64
	// writecount is the host inode's i_writecount (get_write_access),
	// kept beside nr_thps, which do_dentry_open and collapse_file pair it
	// with.
	writecount int64

	// Not kernel state: what earlier executions allocated for the xarray,
	// for grow to use again (reuse). lists are the slot lists published
	// in this execution, spareLists and spareSlots those of earlier ones,
	// no longer reachable from the model.
	lists      []*[]*xaSlot
	spareLists []*[]*xaSlot
	spareSlots []*xaSlot
}

// reuse empties the AddressSpace of an earlier execution (Inode.reuse):
// every field is the zero value, and the slot lists it published and the
// slots of the last one are kept for grow. No task of that execution is
// left to read them. The spare lists are that execution's alone: those it
// did not use are dropped, so that what is kept stays bounded by one
// execution's growths (the slots are: grow allocates one only when none
// is spare).
func (m *AddressSpace) reuse() {
	for _, s := range m.slotList() {
		*s = xaSlot{}
		m.spareSlots = append(m.spareSlots, s)
	}
	clear(m.spareLists)
	spareLists := m.spareLists[:0]
	for _, l := range m.lists {
		clear(*l)
		spareLists = append(spareLists, l)
	}
	lists, spareSlots := m.lists[:0], m.spareSlots
	*m = AddressSpace{lists: lists, spareLists: spareLists, spareSlots: spareSlots}
}

// NrPages is mapping->nrpages.
func (m *AddressSpace) NrPages() int { return int(m.nrPages.Load()) }

func (m *AddressSpace) slotList() []*xaSlot {
	if p := m.slots.Load(); p != nil {
		return *p
	}
	return nil
}

func (m *AddressSpace) slot(index uint64) *xaSlot {
	sl := m.slotList()
	if index >= uint64(len(sl)) {
		return nil
	}
	return sl[index]
}

// grow makes index addressable; the caller holds the i_pages lock. The
// extent is read and, if it grows, written (the new slots are empty).
func (m *AddressSpace) grow(t *Thread, index uint64) *xaSlot {
	sl := m.slotList()
	t.xaExtent(m, len(sl))
	if index < uint64(len(sl)) {
		return sl[index]
	}
	// A list of an earlier execution where one is long enough: readers of
	// this execution never saw it. The list published before stays as
	// it is, for the lockless readers that loaded it.
	var np *[]*xaSlot
	var n []*xaSlot
	if last := len(m.spareLists) - 1; last >= 0 && uint64(cap(*m.spareLists[last])) > index {
		np = m.spareLists[last]
		m.spareLists = m.spareLists[:last]
		n = append((*np)[:0], sl...)
	} else {
		np = new([]*xaSlot)
		n = append(make([]*xaSlot, 0, index+1), sl...)
	}
	for uint64(len(n)) <= index {
		var s *xaSlot
		if last := len(m.spareSlots) - 1; last >= 0 {
			s = m.spareSlots[last]
			m.spareSlots = m.spareSlots[:last]
		} else {
			s = &xaSlot{}
		}
		n = append(n, s)
	}
	*np = n
	m.lists = append(m.lists, np)
	m.slots.Store(np)
	t.xaGrown(m, len(n))
	return n[index]
}

// Lookup returns the page at index without side effects (for oracles and
// tests, not for the model's paths).
func (m *AddressSpace) Lookup(index uint64) *Page {
	if s := m.slot(index); s != nil {
		return s.page.Load()
	}
	return nil
}

// Marks returns the xarray marks at index (for oracles and tests).
func (m *AddressSpace) Marks(index uint64) uint8 {
	if s := m.slot(index); s != nil {
		return uint8(s.marks.Load())
	}
	return 0
}

func (m *AddressSpace) setMark(index uint64, mark uint8) {
	if s := m.slot(index); s != nil && s.page.Load() != nil {
		s.marks.Or(uint32(mark))
	}
}

func (m *AddressSpace) clearMark(index uint64, mark uint8) {
	if s := m.slot(index); s != nil {
		s.marks.And(^uint32(mark))
	}
}

// addToPageCacheLRU is add_to_page_cache_lru() → __add_to_page_cache_locked()
// (mm/filemap.c, v5.10) for a new, locked page: the page cache takes a
// reference, sets page->mapping and page->index and stores the page under
// the i_pages lock; -EEXIST if another task got there first.
func addToPageCacheLRU(t *Thread, page *Page, mapping *AddressSpace, index uint64) bool {
	t.Enter("add_to_page_cache_lru")
	defer t.Exit()
	t.Step("add_to_page_cache_lru")
	if t.K.DebugVM && !t.testFlag(page, PG_locked) {
		t.Bug(BugNotLocked, "add_to_page_cache of unlocked pfn %d: VM_BUG_ON_PAGE(!PageLocked(page))", page.pfn)
	}
	t.xaLock(mapping)
	defer mapping.iPages.Unlock()
	s := mapping.grow(t, index)
	if t.xaLoadSlot(mapping, index, s) != nil {
		t.Return(0)
		return false
	}
	t.refAdd(page, 1)
	t.setPageMapping(page, mapping)
	t.setPageIndex(page, index)
	t.xaStoreMarks(mapping, index, s, 0)
	t.xaStoreSlot(mapping, index, s, page)
	t.nrPagesAdd(mapping, 1)
	// lru_cache_add(): the page joins the LRU.
	t.setFlag(page, PG_lru)
	t.Return(1)
	return true
}

// findGetPage is find_get_page() → pagecache_get_page() without flags
// (mm/filemap.c, v5.10): an RCU lookup, a speculative reference, and the
// re-check that the slot still holds the page.
func findGetPage(t *Thread, mapping *AddressSpace, index uint64) *Page {
	t.Step("find_get_page")
	page := t.xaLoadSlot(mapping, index, mapping.slot(index))
	if page == nil || !t.getPageUnlessZero(page) {
		return nil
	}
	return page
}

// pagevecLookupRangeTag is pagevec_lookup_range_tag() (mm/swap.c, v5.10):
// up to PAGEVEC_SIZE pages carrying tag from *index to end, each with a
// reference; *index moves past the last one.
func pagevecLookupRangeTag(t *Thread, pv []*Page, mapping *AddressSpace, index *uint64, end uint64, tag uint8) []*Page {
	t.Step("pagevec_lookup_range_tag")
	pv = pv[:0]
	sl := mapping.slotList()
	for i := *index; i <= end && len(pv) < PAGEVEC_SIZE; i++ {
		if i >= uint64(len(sl)) {
			t.xaExtent(mapping, len(sl))
			break
		}
		s := sl[i]
		page := t.xaLoadSlot(mapping, i, s)
		if page == nil || t.xaTestMarks(mapping, i, s, uint32(tag)) == 0 {
			continue
		}
		if !t.getPageUnlessZero(page) {
			continue
		}
		pv = append(pv, page)
		*index = i + 1
	}
	if len(pv) < PAGEVEC_SIZE {
		// We got to end: the next lookup starts past it.
		*index = end + 1
	}
	return pv
}

// pagevecLookupEntries is pagevec_lookup_entries() → find_get_entries()
// (mm/filemap.c, v5.10): up to nr pages from start on, each with a
// reference, with their indices.
func pagevecLookupEntries(t *Thread, pv []*Page, indices []uint64, mapping *AddressSpace, start uint64, nr int) ([]*Page, []uint64) {
	t.Step("pagevec_lookup_entries")
	pv, indices = pv[:0], indices[:0]
	sl := mapping.slotList()
	for i := start; len(pv) < nr; i++ {
		if i >= uint64(len(sl)) {
			t.xaExtent(mapping, len(sl))
			break
		}
		page := t.xaLoadSlot(mapping, i, sl[i])
		if page == nil || !t.getPageUnlessZero(page) {
			continue
		}
		pv = append(pv, page)
		indices = append(indices, i)
	}
	return pv, indices
}

// pagevecRelease is pagevec_release(): drop the lookup references; the
// last one frees the page, here.
func pagevecRelease(t *Thread, pv []*Page) {
	for _, page := range pv {
		t.Step("put_page")
		PutPage(t, page)
	}
}

// tagPagesForWriteback is tag_pages_for_writeback() (mm/page-writeback.c,
// v5.10): under the i_pages lock, copy the DIRTY mark to TOWRITE over the
// range, so that an integrity sync writes only what was dirty when it began.
func tagPagesForWriteback(t *Thread, mapping *AddressSpace, start, end uint64) {
	t.Step("tag_pages_for_writeback")
	mapping.iPages.Lock(t)
	sl := mapping.slotList()
	for i := start; i <= end; i++ {
		if i >= uint64(len(sl)) {
			t.xaExtent(mapping, len(sl))
			break
		}
		if s := sl[i]; t.xaTestMarks(mapping, i, s, PAGECACHE_TAG_DIRTY) != 0 {
			t.xaOrMarks(mapping, i, s, PAGECACHE_TAG_TOWRITE)
		}
	}
	mapping.iPages.Unlock()
}

// xaLock is xa_lock_irq(&mapping->i_pages) for a writer: the spinlock,
// and, while another task's section of the lock spans scheduling points
// (xaSpanBegin), the wait for that section to end. In the kernel the writer
// spins on the lock meanwhile; it does nothing another task can observe, so
// the model lets it sleep until the section ends (xaSpanEnd wakes it) rather
// than take steps that change nothing. The model's spinlock itself is never
// held across a scheduling point (sim.Task.SpinRelax).
func (t *Thread) xaLock(m *AddressSpace) {
	m.iPages.Lock(t)
	for t.xaSpanHeld(m) {
		t.xaSpanQueue(m)
		t.SetState(sim.TaskUninterruptible)
		m.iPages.Unlock()
		t.Schedule("xa_lock_irq")
		t.SetState(sim.TaskRunning)
		// The retry after the wake-up: no local is live here.
		t.CutPoint("xa_lock_irq")
		m.iPages.Lock(t)
	}
}

// xaSpanBegin, called with the i_pages lock taken by xaLock, keeps it held
// across the scheduling points that follow: xarray stores one slot at a
// time (each rcu_assign_pointer of xas_store, lib/xarray.c), which lockless
// RCU readers see one by one, while writers stay excluded (xaLock waits).
func (t *Thread) xaSpanBegin(m *AddressSpace) {
	t.setXaSpan(m, true)
	m.iPages.Unlock()
}

// xaSpanEnd is the xa_unlock_irq() that ends a section begun by
// xaSpanBegin: the writers waiting for the lock are woken.
func (t *Thread) xaSpanEnd(m *AddressSpace) {
	m.iPages.Lock(t)
	t.setXaSpan(m, false)
	waiters := t.xaSpanTakeWaiters(m)
	m.iPages.Unlock()
	for _, w := range waiters {
		w.WakeUp()
	}
}

// unaccountPageCachePage is the part of unaccount_page_cache_page()
// (mm/filemap.c, v5.14) the model keeps: a file THP leaving the page cache
// decrements mapping->nr_thps (filemap_nr_thps_dec, under the i_pages lock):
//
//	} else if (PageTransHuge(page)) {
//		__mod_lruvec_page_state(page, NR_FILE_THPS, -nr);
//		filemap_nr_thps_dec(mapping);
//	}
func unaccountPageCachePage(t *Thread, mapping *AddressSpace, page *Page) {
	if t.pageHead(page) {
		t.nrThpsAdd(mapping, -1)
	}
}

// DeleteFromPageCache is delete_from_page_cache() (mm/filemap.c, v5.10;
// v5.14 is the same): BUG_ON(!PageLocked), then under the i_pages lock
// unaccount_page_cache_page() and page_cache_delete(), which stores NULL
// over the page's slots and their marks (xas_set_order; xas_store) and then
// sets page->mapping to NULL (the index is kept: truncation relies on it),
// then the page cache's reference is dropped. Nothing here looks at
// PG_writeback.
//
// An order-0 page is one slot: one step. A THP's xas_store writes its slots
// one rcu_assign_pointer at a time (lib/xarray.c), so each further slot is a
// scheduling point of its own, with the i_pages lock held across them
// (xaSpanBegin): lockless lookups see the THP in some slots and NULL in the
// others, page->mapping still set until the last.
func DeleteFromPageCache(t *Thread, page *Page) {
	t.Enter("delete_from_page_cache")
	defer t.Exit()
	defer t.Return() // void, on every path
	t.Step("delete_from_page_cache")
	mapping := t.pageMapping(page)
	if !PageLocked(t, page) {
		t.Bug(BugNotLocked, "delete_from_page_cache of unlocked pfn %d: BUG_ON(!PageLocked(page))", page.pfn)
	}
	t.xaLock(mapping)
	// __delete_from_page_cache → unaccount_page_cache_page: a page deleted
	// while dirty has its dirty accounting undone (WARN_ON_ONCE only for
	// mapping_exiting inodes; truncation cancelled the dirty bit already).
	if t.K.DebugVM && t.pageTail(page) {
		mapping.iPages.Unlock()
		t.Bug(VMBugTail, "page_cache_delete of tail pfn %d: VM_BUG_ON_PAGE(PageTail(page))", page.pfn)
	}
	unaccountPageCachePage(t, mapping, page)
	nr := thpNrPages(t, page) // a THP occupies (and is referenced by) nr slots
	first := t.pageIndex(page)
	if nr > 1 {
		t.xaSpanBegin(mapping)
	}
	for i := first; i < first+nr; i++ {
		if i > first {
			t.Step("xas_store")
		}
		if s := mapping.slot(i); t.xaLoadSlot(mapping, i, s) == page {
			t.xaStoreSlot(mapping, i, s, nil)
			t.xaStoreMarks(mapping, i, s, 0)
		}
	}
	t.setPageMapping(page, nil)
	t.nrPagesAdd(mapping, -int64(nr))
	if nr > 1 {
		t.xaSpanEnd(mapping)
	} else {
		mapping.iPages.Unlock()
	}
	// page_cache_free_page(): drop the page cache's references (a THP's
	// are subtracted; the caller still holds one).
	t.Step("put_page")
	if nr > 1 {
		t.refAdd(page, -int32(nr))
		return
	}
	PutPage(t, page)
}

// DeleteFromPageCacheBatch is delete_from_page_cache_batch() (mm/filemap.c,
// v5.14), truncation's pass 1: under the i_pages lock,
// unaccount_page_cache_page() for each page of the pagevec, then
// page_cache_delete_batch(), then page_cache_free_page() for each.
func DeleteFromPageCacheBatch(t *Thread, mapping *AddressSpace, pv []*Page) {
	t.Enter("delete_from_page_cache_batch")
	defer t.Exit()
	defer t.Return() // void, on every path
	if len(pv) == 0 {
		return
	}
	t.Step("delete_from_page_cache_batch")
	t.xaLock(mapping)
	for _, page := range pv {
		unaccountPageCachePage(t, mapping, page)
	}
	spans := pageCacheDeleteBatch(t, mapping, pv)
	if spans {
		t.xaSpanEnd(mapping)
	} else {
		mapping.iPages.Unlock()
	}
	for _, page := range pv {
		// page_cache_free_page(): a THP's references are subtracted.
		t.Step("put_page")
		if nr := thpNrPages(t, page); nr > 1 {
			t.refAdd(page, -int32(nr))
			continue
		}
		PutPage(t, page)
	}
}

// pageCacheDeleteBatch is page_cache_delete_batch() (mm/filemap.c, v5.14),
// with the i_pages lock held: an xas_for_each walk from the first page's
// index that stores NULL into each slot of the pagevec's pages, one
// xas_store per slot, setting page->mapping to NULL at the slot of the
// page's own index (its head's) before storing there:
//
//	if (page->index == xas.xa_index)
//		page->mapping = NULL;
//	/* Leave page->index set: truncation lookup relies on it */
//	if (page->index + compound_nr(page) - 1 == xas.xa_index)
//		i++;
//	xas_store(&xas, NULL);
//	total_pages++;
//
// Each store after the first is a scheduling point of its own, the lock
// held across them (xaSpanBegin): a lockless walk on another CPU finds a
// THP in its later slots while its mapping is already NULL. It reports
// whether the section spans steps (then the caller ends it with xaSpanEnd).
func pageCacheDeleteBatch(t *Thread, mapping *AddressSpace, pv []*Page) bool {
	t.Enter("page_cache_delete_batch")
	defer t.Exit()
	spans := false
	total := 0
	i := 0
	for index := t.pageIndex(pv[0]); i < len(pv); index++ {
		sl := mapping.slotList()
		if index >= uint64(len(sl)) {
			t.xaExtent(mapping, len(sl))
			break
		}
		s := sl[index]
		page := t.xaLoadSlot(mapping, index, s)
		if page == nil {
			continue // xas_for_each skips empty slots
		}
		if page != pv[i] {
			// A page got inserted in our range: skip it.
			continue
		}
		if total > 0 {
			if !spans {
				t.xaSpanBegin(mapping)
				spans = true
			}
			t.Step("xas_store")
		}
		pageIndex := t.pageIndex(page)
		if pageIndex == index {
			t.setPageMapping(page, nil)
		}
		if pageIndex+thpNrPages(t, page)-1 == index {
			i++
		}
		t.xaStoreSlot(mapping, index, s, nil)
		t.xaStoreMarks(mapping, index, s, 0)
		total++
	}
	t.nrPagesAdd(mapping, -int64(total))
	t.Return(uint64(total))
	return spans
}
