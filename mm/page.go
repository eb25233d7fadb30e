package mm

import (
	"sync/atomic"

	"github.com/pagelab/pagelab/sim"
)

// Page flag bits, enum pageflags in include/linux/page-flags.h, v5.10
// (CONFIG_MMU, 64-bit). PG_waiters must be bit 7, in the same byte as
// PG_locked, so that unlock_page() can clear one and test the other in one
// atomic operation; PG_writeback (bit 15) is not in that byte, which is why
// end_page_writeback() clears and tests in two steps.
const (
	PG_locked       = 0
	PG_referenced   = 1
	PG_uptodate     = 2
	PG_dirty        = 3
	PG_lru          = 4
	PG_active       = 5
	PG_workingset   = 6
	PG_waiters      = 7
	PG_error        = 8
	PG_slab         = 9
	PG_owner_priv_1 = 10
	PG_arch_1       = 11
	PG_reserved     = 12
	PG_private      = 13
	PG_private_2    = 14
	PG_writeback    = 15
	PG_head         = 16
	PG_mappedtodisk = 17
	PG_reclaim      = 18
	PG_swapbacked   = 19
	PG_unevictable  = 20
	PG_mlocked      = 21
	NR_PAGEFLAGS    = 22
)

var pageFlagNames = [NR_PAGEFLAGS]string{
	"locked", "referenced", "uptodate", "dirty", "lru", "active", "workingset",
	"waiters", "error", "slab", "owner_priv_1", "arch_1", "reserved", "private",
	"private_2", "writeback", "head", "mappedtodisk", "reclaim", "swapbacked",
	"unevictable", "mlocked",
}

// PAGE_FLAGS_CHECK_AT_FREE (include/linux/page-flags.h, v5.10): flags that
// make free_pages_prepare() call bad_page(). PG_waiters and PG_dirty are not
// among them.
const PAGE_FLAGS_CHECK_AT_FREE = 1<<PG_lru | 1<<PG_locked | 1<<PG_private |
	1<<PG_private_2 | 1<<PG_writeback | 1<<PG_reserved | 1<<PG_slab |
	1<<PG_active | 1<<PG_unevictable | 1<<PG_mlocked

// PAGE_FLAGS_CHECK_AT_PREP: every flag below NR_PAGEFLAGS; cleared at free.
const PAGE_FLAGS_CHECK_AT_PREP = 1<<NR_PAGEFLAGS - 1

// PageData is what a page holds: the version of (inode, index) a writer
// copied into it. The disk oracle compares it with the block's owner.
type PageData struct {
	Ino     int
	Index   uint64
	Version uint64
	// DMA: a device wrote these contents into the page (a direct-I/O
	// read into a mapped page), without the page lock.
	DMA bool
}

// Page is struct page (include/linux/mm_types.h, v5.10), reduced to the
// fields the modelled paths use, plus the oracle's bookkeeping.
type Page struct {
	flags    atomic.Uint64
	refcount atomic.Int32 // _refcount
	mapcount int32        // _mapcount + 1: 0 when unmapped (the kernel's -1)

	// compoundHead is page->compound_head without the tail bit: non-nil
	// exactly when the page is a tail page (PageTail).
	compoundHead atomic.Pointer[Page]
	order        uint8 // compound_order of a head page

	// mapping is page->mapping, read without locks by paths such as
	// test_clear_page_writeback() (page_mapping(): a READ_ONCE).
	mapping atomic.Pointer[AddressSpace]
	// Index is page->index: set before the page is published in the page
	// cache, never changed (deletion keeps it).
	Index uint64

	// data is the page's contents (what the device reads by DMA).
	data atomic.Pointer[PageData]

	pfn int32
	// gen counts allocations of this struct page: a path that remembers
	// the generation it saw can tell whether the page was freed since.
	gen atomic.Uint64
	// inUse is false while the page is on a free list.
	inUse atomic.Bool
}

// Mapping is page->mapping.
func (p *Page) Mapping() *AddressSpace { return p.mapping.Load() }

func (p *Page) setMapping(m *AddressSpace) { p.mapping.Store(m) }

// Data is the page's contents.
func (p *Page) Data() PageData {
	if d := p.data.Load(); d != nil {
		return *d
	}
	return PageData{}
}

// PFN is the page frame number.
func (p *Page) PFN() int { return int(p.pfn) }

// Gen is the allocation generation of the page (oracle bookkeeping).
func (p *Page) Gen() uint64 { return p.gen.Load() }

// IsFree reports whether the page is on a free list (oracle bookkeeping).
func (p *Page) IsFree() bool { return !p.inUse.Load() }

// RefCount is page_ref_count().
func (p *Page) RefCount() int32 { return p.refcount.Load() }

// Flags is the raw flags word.
func (p *Page) Flags() uint64 { return p.flags.Load() }

// FlagNames renders a flags word the way dump_page() does.
func FlagNames(f uint64) string {
	s := ""
	for i := 0; i < NR_PAGEFLAGS; i++ {
		if f&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += pageFlagNames[i]
		}
	}
	if s == "" {
		return "0"
	}
	return s
}

func (p *Page) testBit(nr uint) bool { return p.flags.Load()&(1<<nr) != 0 }

// testAndSetBit is test_and_set_bit(): one atomic RMW, returning the old bit.
func (p *Page) testAndSetBit(nr uint) bool {
	return p.flags.Or(1<<nr)&(1<<nr) != 0
}

// testAndClearBit is test_and_clear_bit(): one atomic RMW, returning the old bit.
func (p *Page) testAndClearBit(nr uint) bool {
	return p.flags.And(^uint64(1<<nr))&(1<<nr) != 0
}

func (p *Page) setBit(nr uint)   { p.flags.Or(1 << nr) }
func (p *Page) clearBit(nr uint) { p.flags.And(^uint64(1 << nr)) }

// PageTail is PageTail() (include/linux/page-flags.h): bit 0 of
// page->compound_head.
func PageTail(page *Page) bool { return page.compoundHead.Load() != nil }

// PageHead is PageHead().
func PageHead(page *Page) bool { return page.testBit(PG_head) }

// CompoundHead is compound_head().
func CompoundHead(page *Page) *Page {
	if h := page.compoundHead.Load(); h != nil {
		return h
	}
	return page
}

// touch is called by every page-flag operation: it runs the stale-page
// oracle for the one path that touches pages without a reference (the I/O
// completion, before hold-ref) and enforces the PF_* policy of the flag.
func (t *Thread) touch(page *Page, policy pfPolicy, flag string, kind sim.AccessKind, bit uint) *Page {
	// The common case, inlined: no oracle to run, no costs to account, no
	// PF_ONLY_HEAD check.
	if t.bio == nil && !t.Timed() && policy != pfOnlyHead {
		if policy == pfNoTail {
			return t.compoundHead(page)
		}
		return page
	}
	return t.touchSlow(page, policy, flag, kind, bit)
}

//go:noinline
func (t *Thread) touchSlow(page *Page, policy pfPolicy, flag string, kind sim.AccessKind, bit uint) *Page {
	if t.bio != nil {
		t.checkStale(page, flag)
	}
	// struct page is 64 bytes, one cache line in the vmemmap: flags and
	// _refcount share it. A traced run (race diagrams) wants to know which
	// flag: the bit is added to the line's address.
	if t.Timed() {
		t.accessBit(page, bit, kind)
	}
	switch policy {
	case pfOnlyHead:
		// PF_ONLY_HEAD: VM_BUG_ON_PGFLAGS(PageTail(page), page).
		if t.K.DebugVMPgflags && t.pageTail(page) {
			t.Bug(VMBugTail, "%s on tail page pfn %d (head pfn %d): VM_BUG_ON_PGFLAGS(PageTail(page))", flag, page.pfn, page.compoundHead.Load().pfn)
		}
	case pfNoTail:
		// PF_NO_TAIL: tests go to the head page; modifications of a tail
		// trip VM_BUG_ON_PGFLAGS (callers pass head pages).
		return t.compoundHead(page)
	}
	return page
}

// accessBit reports an access to one flag of page (see touchSlow).
func (t *Thread) accessBit(page *Page, bit uint, kind sim.AccessKind) {
	line := pageAddress(page)
	if t.Traced() {
		line += uint64(bit) + 1
	}
	t.Access(line, kind)
}

// checkStale is the stale-page oracle for the I/O completion, the one path
// that touches a page without holding a reference (before hold-ref). The
// oracle's reads (the compound head, the allocation generation) are
// reported like the kernel's: what it finds decides what the task does.
func (t *Thread) checkStale(page *Page, flag string) {
	if b := t.bio; !t.staleReported && (page == b.Page || t.compoundHead(page) == b.Page) {
		stale := !b.Page.inUse.Load() || b.Page.gen.Load() != b.gen
		if t.Footprinting() {
			// The oracle learns one bit (the message's freed / reused
			// is not state).
			t.fpRead(pageObj(objPageAlloc, b.Page), boolID(stale))
		}
		if stale {
			// The report is the completion's own state, but kept as a
			// shared object so that it is in the global state: the
			// functions it is set in declare their results (Return),
			// which drops their reads from the task's history.
			t.staleReported = true
			if t.Footprinting() {
				t.fpWrite(obj(objBio, uint64(b.id), 1), 1)
			}
			state := "freed"
			if b.Page.inUse.Load() {
				state = "freed and reused"
			}
			t.Raise(StalePage, "%s on pfn %d: the page was %s after this I/O was submitted and the completion holds no reference", flag, page.pfn, state)
		}
	}
}

// bitRefcount stands for _refcount in the bit argument of touch.
const bitRefcount = 40

type pfPolicy uint8

const (
	pfAny pfPolicy = iota
	pfHead
	pfOnlyHead
	pfNoTail
)

// The page-flag accessors the modelled paths use (PAGEFLAG() and friends in
// include/linux/page-flags.h, v5.10), with their PF_* policies. Each is one
// atomic operation (or one plain read): the caller puts the scheduling point
// before it.

// PageLocked is PageLocked() (PF_NO_TAIL).
func PageLocked(t *Thread, page *Page) bool {
	return t.testBitAt(t.touch(page, pfNoTail, "PageLocked", sim.AccessRead, PG_locked), PG_locked)
}

// PageWaiters is PageWaiters() (PF_ONLY_HEAD).
func PageWaiters(t *Thread, page *Page) bool {
	return t.testBitAt(t.touch(page, pfOnlyHead, "PageWaiters", sim.AccessRead, PG_waiters), PG_waiters)
}

// SetPageWaiters is SetPageWaiters() (PF_ONLY_HEAD), an atomic set_bit().
func SetPageWaiters(t *Thread, page *Page) {
	t.setBitAt(t.touch(page, pfOnlyHead, "SetPageWaiters", sim.AccessRMW, PG_waiters), PG_waiters)
}

// ClearPageWaiters is ClearPageWaiters() (PF_ONLY_HEAD), an atomic clear_bit().
func ClearPageWaiters(t *Thread, page *Page) {
	t.clearBitAt(t.touch(page, pfOnlyHead, "ClearPageWaiters", sim.AccessRMW, PG_waiters), PG_waiters)
}

// PageWriteback is PageWriteback() (PF_NO_TAIL).
func PageWriteback(t *Thread, page *Page) bool {
	return t.testBitAt(t.touch(page, pfNoTail, "PageWriteback", sim.AccessRead, PG_writeback), PG_writeback)
}

// PageDirty is PageDirty() (PF_HEAD).
func PageDirty(t *Thread, page *Page) bool {
	return t.testBitAt(t.touch(t.compoundHead(page), pfHead, "PageDirty", sim.AccessRead, PG_dirty), PG_dirty)
}

// TestSetPageDirty is TestSetPageDirty() (PF_HEAD).
func TestSetPageDirty(t *Thread, page *Page) bool {
	return t.testAndSetBitAt(t.touch(t.compoundHead(page), pfHead, "TestSetPageDirty", sim.AccessRMW, PG_dirty), PG_dirty)
}

// TestClearPageDirty is TestClearPageDirty() (PF_HEAD).
func TestClearPageDirty(t *Thread, page *Page) bool {
	return t.testAndClearBitAt(t.touch(t.compoundHead(page), pfHead, "TestClearPageDirty", sim.AccessRMW, PG_dirty), PG_dirty)
}

// PageReclaim is PageReclaim() (PF_NO_TAIL).
func PageReclaim(t *Thread, page *Page) bool {
	return t.testBitAt(t.touch(page, pfNoTail, "PageReclaim", sim.AccessRead, PG_reclaim), PG_reclaim)
}

// ClearPageReclaim is ClearPageReclaim() (PF_NO_TAIL).
func ClearPageReclaim(t *Thread, page *Page) {
	t.clearBitAt(t.touch(page, pfNoTail, "ClearPageReclaim", sim.AccessRMW, PG_reclaim), PG_reclaim)
}

// SetPageUptodate is SetPageUptodate() (PF_NO_TAIL).
func SetPageUptodate(t *Thread, page *Page) {
	t.setBitAt(t.touch(page, pfNoTail, "SetPageUptodate", sim.AccessRMW, PG_uptodate), PG_uptodate)
}

// The flag operations of the accessors, each reported with its value:
// test_bit (a read), set_bit and clear_bit (stores: the bit's new value
// does not depend on its old one), test_and_set_bit and test_and_clear_bit
// (read-modify-writes).

func (t *Thread) testBitAt(page *Page, nr uint) bool {
	v := page.testBit(nr)
	t.rdFlag(page, nr, v)
	return v
}

func (t *Thread) setBitAt(page *Page, nr uint) {
	page.setBit(nr)
	t.wrFlag(page, nr, true)
}

func (t *Thread) clearBitAt(page *Page, nr uint) {
	page.clearBit(nr)
	t.wrFlag(page, nr, false)
}

func (t *Thread) testAndSetBitAt(page *Page, nr uint) bool {
	old := page.testAndSetBit(nr)
	t.rmwFlag(page, nr, old, true)
	return old
}

func (t *Thread) testAndClearBitAt(page *Page, nr uint) bool {
	old := page.testAndClearBit(nr)
	t.rmwFlag(page, nr, old, false)
	return old
}

// GetPage is get_page() (include/linux/mm.h, v5.10): an atomic increment of
// the head page's _refcount.
func GetPage(t *Thread, page *Page) {
	page = t.compoundHead(page)
	t.touch(page, pfAny, "get_page", sim.AccessRMW, bitRefcount)
	n := page.refcount.Add(1)
	t.rmwRef(page, boolID(n <= 1), n)
	if n <= 1 && t.K.DebugVM {
		// VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow(page), page)
		t.Bug(VMBugRefcount, "get_page on pfn %d with _refcount %d: VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow)", page.pfn, n-1)
	}
}

// GetPageUnlessZero is get_page_unless_zero(): the speculative reference of
// lockless page-cache lookups. It reports nothing: in a task,
// (*Thread).getPageUnlessZero (footprint.go) is the reported version.
func GetPageUnlessZero(page *Page) bool {
	for {
		n := page.refcount.Load()
		if n == 0 {
			return false
		}
		if page.refcount.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// PutPage is put_page() (include/linux/mm.h, v5.10): an atomic decrement of
// the head's _refcount; the task that drops the last reference frees the
// page, in its own context. put_page_testzero() checks the count first:
// VM_BUG_ON_PAGE(page_ref_count(page) == 0, page) with CONFIG_DEBUG_VM.
// Without it the count silently goes negative, as the kernel's does; the
// page is already free, and check_new_page() reports it (bad-page,
// "nonzero _refcount") if it is ever allocated again.
func PutPage(t *Thread, page *Page) {
	page = t.compoundHead(page)
	t.touch(page, pfAny, "put_page", sim.AccessRMW, bitRefcount)
	if t.K.DebugVM {
		// The check and the decrement are one step: the window between
		// page_ref_count() and page_ref_dec_and_test() only matters to a
		// concurrent put to zero, which the check cannot see either way.
		n := page.refcount.Load()
		if n == 0 {
			t.rdRef(page, n)
			t.Bug(VMBugRefcount, "put_page on pfn %d with _refcount 0: VM_BUG_ON_PAGE(page_ref_count(page) == 0)", page.pfn)
			return
		}
	}
	n := page.refcount.Add(-1)
	t.rmwRef(page, refSign(n), n)
	if n == 0 {
		putPageTestZero(t, page)
	}
}

// refSign is what put_page() learns of the count it left: positive, zero
// or negative (0, 1, 2).
func refSign(n int32) uint64 {
	switch {
	case n > 0:
		return 0
	case n == 0:
		return 1
	}
	return 2
}

// putPageTestZero is __put_page() (mm/swap.c, v5.10): __put_compound_page()
// or __put_single_page() once the last reference is gone.
func putPageTestZero(t *Thread, page *Page) {
	// __page_cache_release() takes the page off the LRU (ClearPageLRU under
	// the lruvec lock), for compound pages (__put_compound_page) as for
	// single ones (__put_single_page).
	t.clearFlag(page, PG_lru)
	if t.pageHead(page) {
		freeCompoundPage(t, page)
		return
	}
	freeUnrefPage(t, page)
}
