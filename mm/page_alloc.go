package mm

// The page allocator (mm/page_alloc.c, v5.10), reduced to what the reuse
// races need: freed pages go on a per-CPU LIFO list and the very next
// allocation takes the hottest one, as an order-0 page or inside a compound
// page.
//
// Footprints: the free list is one object (objFreeList, its pfns in order),
// read by allocations and written by allocations and frees; a page's
// allocation generation and in-use (objPageAlloc) are the stale-page
// oracle's state, written here and read by the oracle.

// freeListVal is objFreeList's value: a hash of the free list, in order.
func freeListVal(l []int32) uint64 {
	h := uint64(len(l))
	for _, pfn := range l {
		h = fpMix(h ^ uint64(pfn) + 0x9e3779b97f4a7c15)
	}
	return h
}

// rdFreeList reports a read of the whole free list; wrFreeList a store (of
// what it holds now). The caller holds zone->lock.
func (t *Thread) rdFreeList() {
	if t.Footprinting() {
		t.fpRead(obj(objFreeList, 0, 0), freeListVal(t.K.freeList))
	}
}

func (t *Thread) wrFreeList() {
	if t.Footprinting() {
		t.fpWrite(obj(objFreeList, 0, 0), freeListVal(t.K.freeList))
	}
}

// AllocPage is alloc_page() (order 0): the most recently freed page first,
// as the per-CPU free list hands it out. It returns nil when memory is
// exhausted (workloads size NrPages so that this does not happen).
func AllocPage(t *Thread) *Page {
	k := t.K
	k.zoneLock.Lock(t)
	defer k.zoneLock.Unlock()
	if t.Footprinting() {
		// What the allocation learns of the list: its hottest page, or
		// that it is empty.
		top := uint64(0)
		if n := len(k.freeList); n > 0 {
			top = uint64(k.freeList[n-1]) + 1
		}
		t.fpRead(obj(objFreeList, 0, 0), top)
	}
	if len(k.freeList) == 0 {
		return nil
	}
	pfn := k.freeList[len(k.freeList)-1]
	k.freeList = k.freeList[:len(k.freeList)-1]
	t.wrFreeList()
	page := &k.mem[pfn]
	prepNewPage(t, page)
	return page
}

// AllocCompoundPage is alloc_pages(__GFP_COMP, order) followed by
// prep_compound_page(). It takes the aligned block around the most recently
// freed page whose buddies are all free — what the buddy allocator returns
// once the per-CPU lists are drained and buddies merged — so a page freed
// a moment ago can come back as a tail page (the THP reuse of race B).
func AllocCompoundPage(t *Thread, order uint8) *Page {
	k := t.K
	k.zoneLock.Lock(t)
	defer k.zoneLock.Unlock()
	n := int32(1) << order
	t.rdFreeList()
	for i := len(k.freeList) - 1; i >= 0; i-- {
		base := k.freeList[i] &^ (n - 1)
		if int(base+n) > len(k.mem) {
			continue
		}
		all := true
		for p := base; p < base+n; p++ {
			if t.Footprinting() {
				t.fpRead(pageObj(objPageAlloc, &k.mem[p]), boolID(k.mem[p].inUse.Load()))
			}
			if k.mem[p].inUse.Load() {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		k.removeFree(base, base+n)
		t.wrFreeList()
		head := &k.mem[base]
		for p := base; p < base+n; p++ {
			prepNewPage(t, &k.mem[p])
		}
		prepCompoundPage(t, head, order)
		return head
	}
	return nil
}

func (k *Kernel) removeFree(lo, hi int32) {
	out := k.freeList[:0]
	for _, pfn := range k.freeList {
		if pfn < lo || pfn >= hi {
			out = append(out, pfn)
		}
	}
	k.freeList = out
}

// prepNewPage is prep_new_page() with check_new_page(): a page coming off
// the free list must have no PAGE_FLAGS_CHECK_AT_PREP flag, no mapping and
// no references; it gets one reference.
func prepNewPage(t *Thread, page *Page) {
	if t.checkNewPage(page) {
		t.Raise(BadPage, "bad_page at allocation of pfn %d: flags %s, mapping %v, _refcount %d",
			page.pfn, FlagNames(page.flags.Load()), page.Mapping() != nil, page.refcount.Load())
	}
	page.inUse.Store(true)
	page.gen.Add(1)
	t.wrAlloc(page)
	t.refStore(page, 1)
	page.mapcount = 0
	t.wrMapcnt(page)
}

// checkNewPage is check_new_page()'s test, reported in its order of
// evaluation: whether the page is bad.
func (t *Thread) checkNewPage(page *Page) bool {
	f := page.flags.Load()
	t.rdFlags(page, PAGE_FLAGS_CHECK_AT_PREP, f)
	if f&PAGE_FLAGS_CHECK_AT_PREP != 0 {
		return true
	}
	if t.pageMapping(page) != nil {
		return true
	}
	n := page.refcount.Load()
	t.rdRef(page, n)
	return n != 0
}

// prepCompoundPage is prep_compound_page(): PG_head on the head, the tail
// bit and the head pointer in every tail's compound_head, tails at
// _refcount 0.
func prepCompoundPage(t *Thread, head *Page, order uint8) {
	t.setFlag(head, PG_head)
	head.order = order
	t.wrHead(head)
	pages := t.K.compoundPages(head)
	for i := 1; i < len(pages); i++ {
		t.refStore(&pages[i], 0)
		pages[i].compoundHead.Store(head)
		t.wrHead(&pages[i])
	}
}

// compoundPages are the struct pages of a compound page: mem_map is one
// array, so they are contiguous.
func (k *Kernel) compoundPages(head *Page) []Page {
	return k.mem[head.pfn : head.pfn+int32(1)<<head.order]
}

// freeCompoundPage is free_compound_page() → __free_pages_ok(): every page
// of the compound page goes back on the free list (tails first cleared by
// free_tail_pages_check).
func freeCompoundPage(t *Thread, head *Page) {
	t.rdHead(head)
	pages := t.K.compoundPages(head)
	n := len(pages)
	ok := freePagesPrepare(t, head, true)
	for i := 1; i < n; i++ {
		pages[i].compoundHead.Store(nil)
		t.wrHead(&pages[i])
		pages[i].flags.Store(0)
		t.wrFlags(&pages[i], PAGE_FLAGS_CHECK_AT_PREP, 0)
	}
	t.clearFlag(head, PG_head)
	head.order = 0
	t.wrHead(head)
	if !ok {
		return
	}
	k := t.K
	k.zoneLock.Lock(t)
	for i := n - 1; i >= 0; i-- {
		pages[i].inUse.Store(false)
		t.wrAlloc(&pages[i])
		k.freeList = append(k.freeList, pages[i].pfn)
	}
	t.wrFreeList()
	k.zoneLock.Unlock()
}

// freeUnrefPage is free_unref_page() → free_pcp_prepare() (mm/page_alloc.c,
// v5.10): with CONFIG_DEBUG_VM the page is checked at free time; without it
// the flags are cleared unchecked and only the deferred check of
// bulkfree_pcp_prepare() runs later, on cleared flags (modelled here, at
// free time, for the fields it can still see: mapping and _refcount).
func freeUnrefPage(t *Thread, page *Page) {
	if !freePagesPrepare(t, page, t.K.DebugVM) {
		return
	}
	k := t.K
	k.zoneLock.Lock(t)
	page.inUse.Store(false)
	t.wrAlloc(page)
	k.freeList = append(k.freeList, page.pfn)
	t.wrFreeList()
	k.zoneLock.Unlock()
}

// freePagesPrepare is free_pages_prepare() (mm/page_alloc.c, v5.10). A page
// that fails check_free_page() is reported by bad_page() and leaked: it is
// not freed. Otherwise every PAGE_FLAGS_CHECK_AT_PREP bit is cleared — a
// stale PG_waiters, PG_dirty or PG_writeback simply disappears.
func freePagesPrepare(t *Thread, page *Page, check bool) bool {
	if reason := pageBadReason(t, page, check); reason != "" {
		badPage(t, page, reason)
		return false
	}
	page.flags.And(^uint64(PAGE_FLAGS_CHECK_AT_PREP))
	t.wrFlags(page, PAGE_FLAGS_CHECK_AT_PREP, 0)
	return true
}

// pageBadReason is page_bad_reason() on page_expected_state(page,
// PAGE_FLAGS_CHECK_AT_FREE); flags are only checked when check is set.
// Each field it tests is reported, in the order of the tests.
func pageBadReason(t *Thread, page *Page, check bool) string {
	t.rdMapcnt(page)
	if page.mapcount != 0 {
		return "nonzero mapcount"
	}
	if t.pageMapping(page) != nil {
		return "non-NULL mapping"
	}
	n := page.refcount.Load()
	t.rdRef(page, n)
	if n != 0 {
		return "nonzero _refcount"
	}
	if check {
		f := page.flags.Load()
		t.rdFlags(page, PAGE_FLAGS_CHECK_AT_FREE, f)
		if f&PAGE_FLAGS_CHECK_AT_FREE != 0 {
			return "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: " + FlagNames(f&PAGE_FLAGS_CHECK_AT_FREE)
		}
	}
	return ""
}

// badPage is bad_page(): "BUG: Bad page state", TAINT_BAD_PAGE, and the page
// is leaked. No oops: the machine goes on.
func badPage(t *Thread, page *Page, reason string) {
	t.Raise(BadPage, "BUG: Bad page state: pfn %d flags %s: %s", page.pfn, FlagNames(page.flags.Load()), reason)
	page.mapcount = 0
	t.wrMapcnt(page)
}
