package mm

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/pagelab/pagelab/sim"
)

// The page allocator (mm/page_alloc.c, v5.10). Two models, chosen by
// Config.PCP (the kernel parameter pcp):
//
// pcp=1 (the default) is v5.10's: order-0 pages are freed to and allocated
// from the freeing/allocating CPU's per-CPU list (struct per_cpu_pages:
// free_unref_page_commit() adds at the head, __rmqueue_pcplist() takes the
// head, rmqueue_bulk() refills an empty list with pcp->batch pages,
// free_pcppages_bulk() returns pcp->batch pages from the tail once
// pcp->count >= pcp->high, drain_all_pages() empties every list through a
// per-CPU work item); pages leave the pcp lists only to the buddy free_area
// (__free_one_page(), which merges a page with its free buddy, order by
// order), and an order>0 allocation comes from the free_area only
// (rmqueue() → __rmqueue_smallest() and expand()). So a page that one CPU
// frees comes back to another CPU, or inside a compound page, only once its
// CPU's list was drained and, for the compound page, merged with its free
// buddies. One migratetype (MIGRATE_MOVABLE: page cache and THP
// allocations), one zone, no page shuffling (page_alloc.shuffle is off by
// default), no guard pages, no isolated pageblocks, no compaction capture.
//
// A task is a CPU (sim.Task): Thread.cpu is its ID, its own CPU, except for
// a drain work item, which runs on the CPU it drains. An I/O completion
// runs on a CPU of its own, as every task does in explore mode.
//
// pcp=0 keeps the allocator of the lab's first model, for comparison: one
// LIFO free list from which an order-0 allocation takes the most recently
// freed page and a compound allocation the aligned block around the most
// recently freed page whose pages are all free.
//
// Footprints: with pcp=0 the free list is one object (objFreeList, a 0);
// with pcp=1 the zone's free_area (its lists in order, and so every page's
// PageBuddy and order) is objFreeList a 0, and CPU c's pcp list is
// objFreeList a c+1. pcpu_drain_mutex and the drain's outstanding works are
// objMisc a miscPcpDrain. A page's allocation generation and
// in-use (objPageAlloc) are the stale-page oracle's state, written here and
// read by the oracle.

// freeListVal is objFreeList's value: a hash of the free list, in order.
func freeListVal(l []int32) uint64 {
	h := uint64(len(l))
	for _, pfn := range l {
		h = fpMix(h ^ uint64(pfn) + 0x9e3779b97f4a7c15)
	}
	return h
}

// zoneVal is the zone's free_area value (zoneState.val) and pcpVal a pcp
// list's, for a footprint; only then are they computed (0 otherwise: the
// hash of every free list at every allocation was pure overhead when no
// footprint is kept).
func (t *Thread) zoneVal() uint64 {
	if t.keepsValues() {
		return t.K.zone.val()
	}
	return 0
}

func (t *Thread) pcpVal(p *pcpList) uint64 {
	if !t.keepsValues() {
		return 0
	}
	if !p.seenOK || !slices.Equal(p.seen, p.list) {
		p.seen = append(p.seen[:0], p.list...)
		p.seenVal, p.seenOK = freeListVal(p.list), true
	}
	return p.seenVal
}

// rdFreeList reports a read of the whole free list; wrFreeList a store (of
// what it holds now). The caller holds zone->lock.
func (t *Thread) rdFreeList() {
	if t.Footprinting() {
		t.fpRead(obj(objFreeList, 0, 0), t.listVal(t.K.freeList))
	}
}

func (t *Thread) wrFreeList() {
	if t.Footprinting() {
		t.fpWrite(obj(objFreeList, 0, 0), t.listVal(t.K.freeList))
	}
}

// AllocPage is alloc_page() (order 0). With pcp=1 it is rmqueue_pcplist()
// on the task's CPU; with pcp=0 the most recently freed page of the one
// free list. It returns nil when memory is exhausted (workloads size
// NrPages so that this does not happen).
func AllocPage(t *Thread) *Page {
	k := t.K
	if k.PCP {
		return rmqueuePcplist(t)
	}
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
	page := k.page(pfn)
	prepNewPage(t, page, true)
	return page
}

// AllocCompoundPage is alloc_pages(__GFP_COMP, order) followed by
// prep_compound_page(). With pcp=1 it is rmqueue()'s order>0 path: the
// buddy free_area's smallest free block of at least that order
// (__rmqueue_smallest), so a page freed a moment ago comes back as a tail
// page (the THP reuse of race B) only once it left its CPU's pcp list and
// merged with its free buddy. With pcp=0 it takes the aligned block around
// the most recently freed page whose pages are all free.
func AllocCompoundPage(t *Thread, order uint8) *Page {
	k := t.K
	if k.PCP {
		return rmqueueBuddy(t, order)
	}
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
				t.fpRead(pageObj(objPageAlloc, k.page(p)), boolID(k.page(p).inUse.Load()))
			}
			if k.page(p).inUse.Load() {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		k.removeFree(base, base+n)
		t.wrFreeList()
		head := k.page(base)
		for p := base; p < base+n; p++ {
			prepNewPage(t, k.page(p), true)
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

// prepNewPage is prep_new_page(), with check_new_page() first when check
// is set (pcp=0; with pcp=1 the rmqueue paths check where the kernel does):
// a page coming off the free list must have no PAGE_FLAGS_CHECK_AT_PREP
// flag, no mapping and no references; it gets one reference.
func prepNewPage(t *Thread, page *Page, check bool) {
	if check && t.checkNewPage(page) {
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
	lo, hi := head.pfn, head.pfn+int32(1)<<head.order
	k.reuse.pages.add(lo, hi)
	return k.mem[lo:hi]
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
	if k.PCP {
		// __free_pages_ok() → free_one_page(): straight to the buddy
		// free_area under zone->lock, merging.
		k.zoneLock.Lock(t)
		z := &k.zone
		old := t.zoneVal()
		for i := range pages {
			pages[i].inUse.Store(false)
			t.wrAlloc(&pages[i])
		}
		z.freeOnePage(head.pfn, uint8(bitsLen(n)-1), false)
		t.rmwZone(old)
		k.zoneLock.Unlock()
		return
	}
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
// bulkfree_pcp_prepare() runs later, on cleared flags. With pcp=1 that
// later check runs where the kernel runs it, when free_pcppages_bulk()
// moves the page to the buddy (freeUnrefPagePcp); with pcp=0 it is
// modelled here, at free time, for the fields it can still see: mapping
// and _refcount.
func freeUnrefPage(t *Thread, page *Page) {
	if t.K.PCP {
		freeUnrefPagePcp(t, page)
		return
	}
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

// The pcp=1 allocator: zone free_area, per-CPU lists, drains.

// MAX_ORDER is MAX_ORDER (include/linux/mmzone.h, v5.10): free blocks are of
// order 0 to MAX_ORDER-1 (1024 pages, the model's default mem_map).
const MAX_ORDER = 11

// maxCPUs bounds the CPU numbers (task IDs) that have a pcp list.
const maxCPUs = 1024

// miscPcpDrain is drain_all_pages()'s objMisc owner: b 0 pcpu_drain_mutex,
// b 1 the drain works not yet flushed, b 2 the calls so far (they name the
// works), b 3 the caller waiting in flush_work (its task ID + 1).
const miscPcpDrain = 0x706370

// pcpList is one CPU's struct per_cpu_pages for the zone, with its one
// (MIGRATE_MOVABLE) list.
type pcpList struct {
	// lock stands for local_irq_save() on the owning CPU: only that CPU
	// touches its list, with interrupts off; in native mode a drain work
	// and the CPU's task are goroutines, so it is a real lock there.
	lock SpinLock
	// list is pcp->lists[MIGRATE_MOVABLE], head first; pcp->count is its
	// length.
	list []int32
	// bulk is freePcppagesBulk's list of the pages it takes off (the
	// kernel's is on its stack: the model keeps its memory across calls
	// and executions); the caller holds lock.
	bulk []int32
	// seen and seenVal: the list as pcpVal last hashed it, and its hash.
	// A section reports the list before and after it changes it, and the
	// list before is most often the one the last section left: a
	// comparison of a few dozen pfns instead of hashing them again.
	seen    []int32
	seenVal uint64
	seenOK  bool
}

// freeArea is struct free_area with one migratetype: the pfns of the head
// and tail of its list (-1 when empty) and nr_free.
type freeArea struct {
	head, tail int32
	nrFree     int32
}

// lruLink is a list_head between free blocks, by pfn.
type lruLink struct{ prev, next int32 }

var noLink = lruLink{-1, -1}

// zoneState is struct zone's allocator part with pcp=1.
type zoneState struct {
	// freeArea is free_area[order]: its free_list[MIGRATE_MOVABLE],
	// linked through the blocks' head pages (lru), and nr_free.
	freeArea [MAX_ORDER]freeArea
	// lru is every page's page->lru as a free_area list links it: the
	// pfns of the blocks before and after it, -1 at either end of its
	// list, and both -1 when the page is on no free_area list (the
	// kernel's is then another list's, or stale). The -1s make the
	// lists' state canonical: two zones with the same lists have equal
	// lru.
	lru []lruLink
	// buddyOrder is PageBuddy() and buddy_order() (page_private) of every
	// page: -1 when the page is not the head of a free block.
	buddyOrder []int8
	// pcps are the per-CPU lists, by CPU; nonEmpty has bit c set when
	// CPU c's list holds pages (what drain_all_pages's has_pcps loop
	// learns); used bounds the CPUs touched in this execution.
	pcps     [maxCPUs]pcpList
	nonEmpty [maxCPUs / 64]atomic.Uint64
	used     atomic.Int32
	// drainMutex is pcpu_drain_mutex; drainPending the works queued by
	// the running drain_all_pages() and not yet done; drainer its caller,
	// asleep in flush_work() until they are.
	drainMutex   atomic.Bool
	drainPending atomic.Int32
	drainer      *Thread
	drainCalls   int
}

// resetZone builds the free lists of a fresh boot: with pcp=1,
// memblock_free_pages() → __free_pages_core() frees mem_map to the buddy in
// the largest aligned blocks (FPI_TO_TAIL), no page on a pcp list; with
// pcp=0 the one list, lowest pfn on top.
func (k *Kernel) resetZone() {
	k.freeList = k.freeList[:0]
	z := &k.zone
	if !k.PCP {
		for i := k.NrPages - 1; i >= 0; i-- {
			k.freeList = append(k.freeList, int32(i))
		}
		return
	}
	if len(z.lru) != k.NrPages {
		z.lru = make([]lruLink, k.NrPages)
		for i := range z.lru {
			z.lru[i] = noLink
		}
	} else {
		// Only the blocks on the lists have links: unlinking them
		// leaves lru as a fresh boot's.
		for o := range z.freeArea {
			for pfn := z.freeArea[o].head; pfn >= 0; {
				next := z.lru[pfn].next
				z.lru[pfn] = noLink
				pfn = next
			}
		}
	}
	for o := range z.freeArea {
		z.freeArea[o] = freeArea{head: -1, tail: -1}
	}
	for c := range int(z.used.Load()) {
		z.pcps[c].list = z.pcps[c].list[:0]
		z.pcps[c].lock.line = lineZone | uint64(c+1)
	}
	for i := range z.nonEmpty {
		// Most words were never set: a load instead of an XCHG.
		if z.nonEmpty[i].Load() != 0 {
			z.nonEmpty[i].Store(0)
		}
	}
	z.used.Store(0)
	z.drainMutex.Store(false)
	z.drainPending.Store(0)
	z.drainer = nil
	z.drainCalls = 0
	n := int32(k.NrPages)
	pristine := k.reuse.buddyOrder
	if len(pristine) != k.NrPages {
		pristine = make([]int8, k.NrPages)
		for i := range pristine {
			pristine[i] = -1
		}
		for pfn := int32(0); pfn < n; {
			o := MAX_ORDER - 1
			for pfn&(1<<o-1) != 0 || pfn+1<<o > n {
				o--
			}
			pristine[pfn] = int8(o)
			pfn += 1 << o
		}
		k.reuse.buddyOrder = pristine
	}
	if len(z.buddyOrder) != k.NrPages {
		z.buddyOrder = make([]int8, k.NrPages)
	}
	copy(z.buddyOrder, pristine)
	for pfn := int32(0); pfn < n; {
		o := uint8(pristine[pfn])
		z.addToFreeList(pfn, o, true)
		pfn += 1 << o
	}
}

// pcp is this_cpu_ptr(zone->pageset)->pcp of CPU cpu.
func (z *zoneState) pcp(cpu int) *pcpList {
	if cpu >= maxCPUs {
		panic(fmt.Sprintf("mm: CPU %d has no pcp list (maxCPUs %d)", cpu, maxCPUs))
	}
	for {
		u := z.used.Load()
		if int32(cpu) < u || z.used.CompareAndSwap(u, int32(cpu)+1) {
			break
		}
	}
	p := &z.pcps[cpu]
	p.lock.line = lineZone | uint64(cpu+1)
	return p
}

// setNonEmpty records whether CPU cpu's list holds pages, reporting the
// change of the mask drain_all_pages() reads.
func (t *Thread) setNonEmpty(cpu int, on bool) {
	z := &t.K.zone
	w, bit := &z.nonEmpty[cpu/64], uint64(1)<<(cpu%64)
	old := w.Load()
	if (old&bit != 0) == on {
		return
	}
	if on {
		w.Or(bit)
	} else {
		w.And(^bit)
	}
	if t.Footprinting() {
		t.fpWrite(obj(objFreeList, 0, 1), z.nonEmptyVal())
	}
}

func (z *zoneState) nonEmptyVal() uint64 {
	h := uint64(0)
	for i := range z.nonEmpty {
		if v := z.nonEmpty[i].Load(); v != 0 {
			h = fpMix(h ^ v + uint64(i)*0x9e3779b97f4a7c15)
		}
	}
	return h
}

// val is objFreeList a 0's value: every free_area list, in order.
func (z *zoneState) val() uint64 {
	h := uint64(0)
	for o := range z.freeArea {
		a := &z.freeArea[o]
		h = fpMix(h ^ uint64(o)<<40 ^ uint64(a.nrFree))
		for pfn := a.head; pfn >= 0; pfn = z.lru[pfn].next {
			h = fpMix(h ^ uint64(pfn) + 0x9e3779b97f4a7c15)
		}
	}
	return h
}

// rmwZone reports a zone->lock section that found the free_area at old.
func (t *Thread) rmwZone(old uint64) {
	if t.Footprinting() {
		t.fpRMW(obj(objFreeList, 0, 0), old, t.zoneVal())
	}
}

func pcpObj(cpu int) sim.Obj { return obj(objFreeList, uint64(cpu)+1, 0) }

// rmwPcp reports an access to CPU cpu's list that found it at old.
func (t *Thread) rmwPcp(cpu int, old uint64) {
	if t.Footprinting() {
		t.fpRMW(pcpObj(cpu), old, t.pcpVal(&t.K.zone.pcps[cpu]))
	}
}

func bitsLen(n int) int {
	b := 0
	for n > 0 {
		b++
		n >>= 1
	}
	return b
}

// isBuddy is page_is_buddy(page, buddy, order) for the buddy at pfn: in the
// zone (page_zone_id), PageBuddy, of that order.
func (z *zoneState) isBuddy(pfn int32, order uint8) bool {
	return pfn >= 0 && int(pfn) < len(z.buddyOrder) && z.buddyOrder[pfn] == int8(order)
}

// addToFreeList is add_to_free_list() (list_add: the head) or
// add_to_free_list_tail() (list_add_tail), with set_buddy_order().
func (z *zoneState) addToFreeList(pfn int32, order uint8, tail bool) {
	a := &z.freeArea[order]
	switch {
	case a.head < 0:
		z.lru[pfn] = noLink
		a.head, a.tail = pfn, pfn
	case tail:
		z.lru[pfn] = lruLink{prev: a.tail, next: -1}
		z.lru[a.tail].next = pfn
		a.tail = pfn
	default:
		z.lru[pfn] = lruLink{prev: -1, next: a.head}
		z.lru[a.head].prev = pfn
		a.head = pfn
	}
	a.nrFree++
	z.buddyOrder[pfn] = int8(order)
}

// delPageFromFreeList is del_page_from_free_list(): list_del,
// __ClearPageBuddy, nr_free--.
func (z *zoneState) delPageFromFreeList(pfn int32, order uint8) {
	a := &z.freeArea[order]
	l := z.lru[pfn]
	if l.prev < 0 {
		a.head = l.next
	} else {
		z.lru[l.prev].next = l.next
	}
	if l.next < 0 {
		a.tail = l.prev
	} else {
		z.lru[l.next].prev = l.prev
	}
	z.lru[pfn] = noLink
	a.nrFree--
	z.buddyOrder[pfn] = -1
}

// freeOnePage is __free_one_page() (mm/page_alloc.c, v5.10); the caller
// holds zone->lock. While the buddy of the block is free and of the same
// order (page_is_buddy) it is taken off its list and the two merge, up to
// MAX_ORDER-1 ("max_order = min(MAX_ORDER - 1, pageblock_order)", then on
// to MAX_ORDER-1 with no isolated pageblock). The block goes to the head
// of its list, or to the tail when FPI_TO_TAIL or buddy_merge_likely():
// the buddy of the next order up is free, so it will likely merge soon.
func (z *zoneState) freeOnePage(pfn int32, order uint8, toTail bool) {
	var buddyPfn int32
	for order < MAX_ORDER-1 {
		buddyPfn = pfn ^ 1<<order // __find_buddy_pfn()
		if !z.isBuddy(buddyPfn, order) {
			break
		}
		z.delPageFromFreeList(buddyPfn, order)
		pfn &= buddyPfn // combined_pfn = buddy_pfn & pfn
		order++
	}
	if !toTail {
		toTail = z.buddyMergeLikely(pfn, buddyPfn, order)
	}
	z.addToFreeList(pfn, order, toTail)
}

// buddyMergeLikely is buddy_merge_likely() (mm/page_alloc.c, v5.10).
func (z *zoneState) buddyMergeLikely(pfn, buddyPfn int32, order uint8) bool {
	if order >= MAX_ORDER-2 {
		return false
	}
	combined := buddyPfn & pfn
	return z.isBuddy(combined^1<<(order+1), order+1)
}

// rmqueueSmallest is __rmqueue_smallest() (mm/page_alloc.c, v5.10): the
// head of the first non-empty free list of order at least order, split by
// expand(): the lower half is kept, each upper half goes to the head of
// the list of its order. The caller holds zone->lock. -1 if none.
func (z *zoneState) rmqueueSmallest(order uint8) int32 {
	for cur := order; cur < MAX_ORDER; cur++ {
		pfn := z.freeArea[cur].head // get_page_from_free_area(): list_first_entry_or_null
		if pfn < 0 {
			continue
		}
		z.delPageFromFreeList(pfn, cur)
		for high := cur; high > order; { // expand()
			high--
			z.addToFreeList(pfn+1<<high, high, false)
		}
		return pfn
	}
	return -1
}

// rmqueueBulk is rmqueue_bulk() (mm/page_alloc.c, v5.10): under zone->lock,
// up to count order-0 pages from __rmqueue(), each added to the tail of
// the list ("Split buddy pages returned by expand() are received here in
// physical page order. The page is added to the tail of caller's list").
// Without CONFIG_DEBUG_VM each page is checked here (check_pcp_refill()
// is check_new_page()); a bad one is reported and leaked.
func rmqueueBulk(t *Thread, count int, p *pcpList) {
	k := t.K
	z := &k.zone
	k.zoneLock.Lock(t)
	old := t.zoneVal()
	for range count {
		pfn := z.rmqueueSmallest(0)
		if pfn < 0 {
			break
		}
		if !k.DebugVM {
			if page := k.page(pfn); t.checkNewPage(page) {
				checkNewPageBad(t, page)
				continue
			}
		}
		p.list = append(p.list, pfn)
	}
	t.rmwZone(old)
	k.zoneLock.Unlock()
}

// rmqueuePcplist is rmqueue_pcplist() → __rmqueue_pcplist() (mm/page_alloc.c,
// v5.10) on the task's CPU, interrupts off: an empty list is refilled with
// pcp->batch pages (rmqueue_bulk); the page is the list's head
// (list_first_entry). With CONFIG_DEBUG_VM, check_new_pcp() checks it
// (check_new_page); a bad page is reported, leaked, and the next one
// taken. Then prep_new_page().
func rmqueuePcplist(t *Thread) *Page {
	k := t.K
	z := &k.zone
	cpu := t.cpu
	p := z.pcp(cpu)
	p.lock.Lock(t)
	old := t.pcpVal(p)
	var page *Page
	for {
		if len(p.list) == 0 {
			rmqueueBulk(t, k.PcpBatch, p)
			if len(p.list) == 0 {
				break
			}
		}
		pfn := p.list[0]
		p.list = p.list[1:]
		page = k.page(pfn)
		if !k.DebugVM || !t.checkNewPage(page) {
			break
		}
		checkNewPageBad(t, page)
		page = nil
	}
	t.rmwPcp(cpu, old)
	t.setNonEmpty(cpu, len(p.list) > 0)
	p.lock.Unlock()
	if page == nil {
		return nil
	}
	prepNewPage(t, page, false)
	return page
}

// rmqueueBuddy is rmqueue() for order > 0 (mm/page_alloc.c, v5.10): under
// zone->lock, __rmqueue() → __rmqueue_smallest(), "while (page &&
// check_new_pages(page, order))": a block with a bad page is reported and
// leaked, and the next one taken. Then prep_new_page() and
// prep_compound_page() (__GFP_COMP).
func rmqueueBuddy(t *Thread, order uint8) *Page {
	k := t.K
	z := &k.zone
	k.zoneLock.Lock(t)
	old := t.zoneVal()
	var head *Page
	n := int32(1) << order
	for {
		pfn := z.rmqueueSmallest(order)
		if pfn < 0 {
			break
		}
		bad := false
		for p := pfn; p < pfn+n; p++ {
			if t.checkNewPage(k.page(p)) {
				checkNewPageBad(t, k.page(p))
				bad = true
				break
			}
		}
		if !bad {
			head = k.page(pfn)
			break
		}
	}
	t.rmwZone(old)
	k.zoneLock.Unlock()
	if head == nil {
		return nil
	}
	for p := head.pfn; p < head.pfn+n; p++ {
		prepNewPage(t, k.page(p), false)
	}
	prepCompoundPage(t, head, order)
	return head
}

// checkNewPageBad is check_new_page_bad(): bad_page() with
// page_bad_reason(page, PAGE_FLAGS_CHECK_AT_PREP).
func checkNewPageBad(t *Thread, page *Page) {
	t.Raise(BadPage, "bad_page at allocation of pfn %d: flags %s, mapping %v, _refcount %d",
		page.pfn, FlagNames(page.flags.Load()), page.Mapping() != nil, page.refcount.Load())
}

// freeUnrefPagePcp is free_unref_page() (mm/page_alloc.c, v5.10):
// free_unref_page_prepare() → free_pcp_prepare() (free_pages_prepare(page,
// 0, true) with CONFIG_DEBUG_VM, (page, 0, false) without: no check), then
// free_unref_page_commit() with interrupts off on the task's CPU:
// "list_add(&page->lru, &pcp->lists[migratetype]); pcp->count++; if
// (pcp->count >= pcp->high) free_pcppages_bulk(zone, READ_ONCE(pcp->batch),
// pcp)".
func freeUnrefPagePcp(t *Thread, page *Page) {
	k := t.K
	if k.DebugVM {
		if !freePagesPrepare(t, page, true) {
			return
		}
	} else {
		page.flags.And(^uint64(PAGE_FLAGS_CHECK_AT_PREP))
		t.wrFlags(page, PAGE_FLAGS_CHECK_AT_PREP, 0)
	}
	cpu := t.cpu
	p := k.zone.pcp(cpu)
	p.lock.Lock(t)
	old := t.pcpVal(p)
	page.inUse.Store(false)
	t.wrAlloc(page)
	p.list = append(p.list, 0)
	copy(p.list[1:], p.list)
	p.list[0] = page.pfn
	if len(p.list) >= k.PcpHigh {
		freePcppagesBulk(t, k.PcpBatch, p)
	}
	t.rmwPcp(cpu, old)
	t.setNonEmpty(cpu, len(p.list) > 0)
	p.lock.Unlock()
}

// freePcppagesBulk is free_pcppages_bulk() (mm/page_alloc.c, v5.10): count
// pages (at most pcp->count) off the tail of the list ("page =
// list_last_entry(list, struct page, lru)"), each checked by
// bulkfree_pcp_prepare() (check_free_page() without CONFIG_DEBUG_VM; a bad
// page is reported and leaked), then, under zone->lock, __free_one_page()
// each in that order. The caller has the CPU's interrupts off.
func freePcppagesBulk(t *Thread, count int, p *pcpList) {
	k := t.K
	z := &k.zone
	count = min(count, len(p.list))
	head := p.bulk[:0]
	for range count {
		pfn := p.list[len(p.list)-1]
		p.list = p.list[:len(p.list)-1]
		if !k.DebugVM {
			page := k.page(pfn)
			if reason := pageBadReason(t, page, true); reason != "" {
				badPage(t, page, reason)
				continue
			}
		}
		head = append(head, pfn)
	}
	k.zoneLock.Lock(t)
	old := t.zoneVal()
	for _, pfn := range head {
		z.freeOnePage(pfn, 0, false)
	}
	p.bulk = head
	t.rmwZone(old)
	k.zoneLock.Unlock()
}

// drainPagesZone is drain_pages_zone() (mm/page_alloc.c, v5.10), interrupts
// off: "if (pcp->count) free_pcppages_bulk(zone, pcp->count, pcp)". Only
// the CPU itself calls it (drain_local_pages), here through a drain work
// bound to it.
func drainPagesZone(t *Thread, cpu int) {
	z := &t.K.zone
	p := z.pcp(cpu)
	p.lock.Lock(t)
	old := t.pcpVal(p)
	if len(p.list) > 0 {
		freePcppagesBulk(t, len(p.list), p)
	}
	t.rmwPcp(cpu, old)
	t.setNonEmpty(cpu, false)
	p.lock.Unlock()
}

// DrainAllPages is drain_all_pages(NULL) (mm/page_alloc.c, v5.10), as
// direct reclaim calls it before retrying a failed allocation ("If an
// allocation failed after direct reclaim, it could be because pages are
// pinned on the per-cpu lists ... Shrink them and try again") and as
// alloc_contig_range() and memory offlining do. In one step: the mutex
// (mutex_trylock(&pcpu_drain_mutex); a drain already in progress: return),
// the has_pcps loop over every CPU's pcp->count, and queue_work_on() of
// drain_local_pages_wq on each CPU with pcp pages (a kworker task bound to
// that CPU, named kw<cpu>, kw<cpu>_<n> for the n-th call). A work does
// nothing until it runs, so queueing them together loses no outcome, and
// the counts are read in one step (coarser than the kernel's separate
// loads: a count that changes between two of them is read before or after
// the change, both orders being reachable). Then flush_work() on each:
// asleep until the last work completes, then mutex_unlock().
func DrainAllPages(t *Thread) {
	t.Enter("drain_all_pages")
	defer t.Exit()
	defer t.Return()
	k := t.K
	z := &k.zone
	if !k.PCP {
		return
	}
	if t.Footprinting() {
		t.fpRMW(obj(objMisc, miscPcpDrain, 0), boolID(z.drainMutex.Load()), 1)
	}
	if !z.drainMutex.CompareAndSwap(false, true) {
		return
	}
	if t.Footprinting() {
		t.fpRead(obj(objFreeList, 0, 1), z.nonEmptyVal())
	}
	var cpus []int
	for c := range int(z.used.Load()) {
		if z.nonEmpty[c/64].Load()&(1<<(c%64)) != 0 {
			cpus = append(cpus, c)
		}
	}
	z.drainCalls++
	call := z.drainCalls
	z.drainer = t
	z.drainPending.Add(int32(len(cpus)))
	if t.Footprinting() {
		t.fpWrite(obj(objMisc, miscPcpDrain, 2), uint64(call))
		t.fpWrite(obj(objMisc, miscPcpDrain, 3), uint64(t.ID)+1)
		t.fpWrite(obj(objMisc, miscPcpDrain, 1), uint64(len(cpus)))
	}
	for _, cpu := range cpus {
		name := TaskName("kw", cpu)
		if call > 1 {
			name = TaskName(fmt.Sprintf("kw%d_", cpu), call)
		}
		k.spawnOn(cpu, name, "drain_local_pages", sim.TaskCPU, drainLocalPagesWq)
	}
	// flush_work() of each: asleep until the last work is done.
	for {
		t.SetState(sim.TaskUninterruptible)
		n := z.drainPending.Load()
		if t.Footprinting() {
			t.fpRead(obj(objMisc, miscPcpDrain, 1), uint64(n))
		}
		if n == 0 {
			break
		}
		t.Schedule("flush_work")
	}
	t.SetState(sim.TaskRunning)
	z.drainer = nil
	z.drainMutex.Store(false)
	if t.Footprinting() {
		t.fpWrite(obj(objMisc, miscPcpDrain, 3), 0)
		t.fpWrite(obj(objMisc, miscPcpDrain, 0), 0)
	}
}

// drainLocalPagesWq is drain_local_pages_wq() → drain_local_pages(NULL) →
// drain_pages() (mm/page_alloc.c, v5.10) in a kworker bound to the CPU
// (w.cpu), and the completion of the flush barrier that ends its caller's
// flush_work(): one step (only the sleeping caller sees the completion,
// and it runs after it in any case).
func drainLocalPagesWq(w *Thread) {
	w.Enter("drain_local_pages_wq")
	defer w.Exit()
	defer w.Return()
	z := &w.K.zone
	drainPagesZone(w, w.cpu)
	// The waiter, read before the count falls to zero: in native mode a
	// caller that finds zero without sleeping goes on at once.
	d := z.drainer
	n := z.drainPending.Add(-1)
	if w.Footprinting() {
		w.fpRMW(obj(objMisc, miscPcpDrain, 1), uint64(n+1), uint64(n))
	}
	if n == 0 {
		if w.Footprinting() {
			w.fpRead(obj(objMisc, miscPcpDrain, 3), uint64(d.ID)+1)
		}
		d.WakeUp()
	}
}
