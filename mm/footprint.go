package mm

import (
	"math/bits"

	"github.com/pagelab/pagelab/sim"
)

// Footprint objects: every piece of model state another task can observe
// has an sim.Obj, and every access to it is reported to the running task
// (sim.Task.Read, Write, RMW; Sync for lock words) with its value in a
// canonical encoding. See sim/footprint.go for why the values matter (the
// state key of -strategy dpor) and bench's completeness tests for how a
// missing report is caught.
//
// An Obj is kind<<56 | a<<24 | b: the kind below, a the owner (a pfn, an
// inode number, a task ID, a wait-table bucket) and b a field or index
// within it (a flag bit, a page index).
const (
	objPageFlag    = 1  // a: pfn, b: flag bit
	objPageRef     = 2  // a: pfn: _refcount
	objPageMapcnt  = 3  // a: pfn: _mapcount
	objPageHead    = 4  // a: pfn: compound_head and compound_order
	objPageMapping = 5  // a: pfn: page->mapping
	objPageIndex   = 6  // a: pfn: page->index
	objPageData    = 7  // a: pfn: the page's contents
	objPageAlloc   = 8  // a: pfn: allocation generation and in-use (oracle)
	objPagePrivate = 9  // a: pfn: page->private (buffers) and what hangs off it
	objFreeList    = 10 // the zone's free list (under zone->lock)
	objWaitQueue   = 11 // a: bucket: the wait queue's list, in order
	objWaitFlags   = 12 // a: task ID, b: 0 wait entry, 1 bookmark: entry flags
	objWaitQueued  = 13 // a: task ID, b: as above: linked in a queue
	objWaitTarget  = 14 // a: task ID: wait_page_queue page and bit
	objXaSlot      = 15 // a: ino, b: index: the xarray slot (page)
	objXaMarks     = 16 // a: ino, b: index: the slot's marks
	objXaSize      = 17 // a: ino: the xarray's extent
	objNrPages     = 18 // a: ino: mapping->nrpages
	objWbIndex     = 19 // a: ino: mapping->writeback_index
	objISize       = 20 // a: ino: i_size
	objInodeMisc   = 21 // a: ino, b: field: other inode state (locks, rwsem)
	objFileVer     = 22 // a: ino, b: index: the oracle's written versions
	objPTE         = 23 // a: ino, b: index: a PTE of the shared mapping
	objBlock       = 24 // a: ino, b: index: a disk block
	objDisk        = 25 // the device's own counters
	objLock        = 26 // a: lock id: a spinlock word (Sync)
	objIO          = 27 // in-flight I/O counters (nr_io)
	objMisc        = 28 // a, b: anything else, documented where used
	objFileTrunc   = 29 // a: ino: the oracle's truncations and truncating counters
	objBio         = 30 // a: the completion task's ID; b: 0 the bio's bounce copy, 1 its stale-page report
	objFileDone    = 31 // a: ino, b: index: the oracle's completed (returned) write version
	objFileVouched = 32 // a: ino, b: index: the Fsync oracle's vouched version (fs.go vouch)
	objWork        = 33 // a: work id: PENDING and the executing worker (workqueue.go)
	objIoendList   = 34 // a: ino: the inode's i_ioend_list, in order (iomap.go)
)

func obj(kind, a, b uint64) sim.Obj { return sim.Obj(kind<<56 | a<<24 | b) }

func pageObj(kind uint64, page *Page) sim.Obj { return obj(kind, uint64(page.pfn), 0) }

func flagObj(page *Page, bit uint) sim.Obj { return obj(objPageFlag, uint64(page.pfn), uint64(bit)) }

// pageID is the canonical value of a page pointer: pfn+1, 0 for nil.
func pageID(p *Page) uint64 {
	if p == nil {
		return 0
	}
	return uint64(p.pfn) + 1
}

// mappingID is the canonical value of an address_space pointer: the
// inode number + 1, 0 for nil.
func mappingID(m *AddressSpace) uint64 {
	if m == nil || m.Host == nil {
		return 0
	}
	return uint64(m.Host.Ino) + 1
}

// dataID is the canonical value of page contents.
func dataID(d PageData) uint64 {
	v := uint64(d.Ino)<<48 ^ d.Index<<32 ^ d.Version
	if d.DMA {
		v ^= 1 << 63
	}
	return v
}

func boolID(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// What a call tells its caller. A model function that Enters its kernel
// function's name declares, with t.Return just before it returns,
// everything its caller learns from the call: its results (a page as
// pageID, a bool as boolID, a return code as errID; nothing for a void
// function). At Exit the task's observation history then forgets what the
// call read on the way (sim.Task.Return), so that two interleavings that
// led a task through the same call, reading different values but getting
// the same result, meet in one state.
//
// The promise is that the call changes no task-local memory its caller
// reads later other than through the results. Every change it makes to
// shared state is reported, and lives in the global part of the state
// key; so does the one thing a call may leave in its Thread besides the
// wait-queue entries, the I/O completion's stale-page report
// (checkStale). A call that fills an output argument its caller reads
// (find_lock_entries' pagevec and indices) declares all of it; one that
// only counts down an argument nobody reads again (write_cache_pages'
// wbc->nr_to_write) declares nothing for it.

// errID is the canonical value of a kernel return code (0 or -errno): the
// error number.
func errID(ret int) uint64 { return uint64(-ret) }

// returnPagevec declares (Return) what a lookup that fills a pagevec and
// its indices hands back: the number of entries, then every page and
// every index.
func (t *Thread) returnPagevec(pv []*Page, indices []uint64) {
	if !t.Footprinting() {
		return
	}
	vals := make([]uint64, 0, 1+len(pv)+len(indices))
	vals = append(vals, uint64(len(pv)))
	for _, p := range pv {
		vals = append(vals, pageID(p))
	}
	vals = append(vals, indices...)
	t.Return(vals...)
}

// Values of the page objects, canonical, and the page helpers: every access
// model code in a task makes to a page goes through one of these (or an
// accessor of page.go built on them), which does the access and reports it.
// footprint_cde.go has the helpers of the xarray, PTEs and inode fields.
//
// Each helper tests Footprinting inline and reports out of line (fpRead,
// fpWrite, fpRMW), so that the random-walk hot path pays a nil check.

// headVal is objPageHead's value: compound_head (as a page id) and
// compound_order.
func headVal(p *Page) uint64 { return pageID(p.compoundHead.Load()) | uint64(p.order)<<32 }

// allocVal is objPageAlloc's value: the allocation generation and in-use.
func allocVal(p *Page) uint64 { return p.gen.Load()<<1 | boolID(p.inUse.Load()) }

// refVal is objPageRef's value.
func refVal(n int32) uint64 { return uint64(uint32(n)) }

// keepsValues reports whether the task's footprint keeps values (the state
// key of the exhaustive search). A footprint that only logs accesses (the
// samplers' profile, greybox's reads-from coverage) discards them, so the
// values that hash a whole structure (a free list, a wait queue) are not
// computed for it: listVal, queueVal and ioendListVal give 0 then.
func (t *Thread) keepsValues() bool { return t.FootprintValues() }

func (t *Thread) listVal(l []int32) uint64 {
	if t.keepsValues() {
		return freeListVal(l)
	}
	return 0
}

func (t *Thread) queueVal(q *WaitQueueHead) uint64 {
	if t.keepsValues() {
		return queueVal(q)
	}
	return 0
}

func (t *Thread) ioendListVal(l []*Ioend) uint64 {
	if t.keepsValues() {
		return ioendListVal(l)
	}
	return 0
}

// fpMix is the splitmix64 finalizer, for values that hash a structure.
func fpMix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// The out-of-line reporting half: the callers test Footprinting first.

//go:noinline
func (t *Thread) fpRead(o sim.Obj, v uint64) { t.Read(o, v) }

//go:noinline
func (t *Thread) fpWrite(o sim.Obj, v uint64) { t.Write(o, v) }

//go:noinline
func (t *Thread) fpRMW(o sim.Obj, old, new uint64) { t.RMW(o, old, new) }

// Flags.

// rdFlag reports a read of one flag bit that found v.
func (t *Thread) rdFlag(p *Page, bit uint, v bool) {
	if t.Footprinting() {
		t.fpFlag(sim.OpRead, p, bit, v, v)
	}
}

// wrFlag reports a store of v into one flag bit.
func (t *Thread) wrFlag(p *Page, bit uint, v bool) {
	if t.Footprinting() {
		t.fpFlag(sim.OpWrite, p, bit, v, v)
	}
}

// rmwFlag reports an atomic read-modify-write of one flag bit.
func (t *Thread) rmwFlag(p *Page, bit uint, old, new bool) {
	if t.Footprinting() {
		t.fpFlag(sim.OpRMW, p, bit, old, new)
	}
}

// fpFlag is the out-of-line half of the flag reporters (the hottest ones:
// their callers inline to a nil check): op found old and left v.
//
//go:noinline
func (t *Thread) fpFlag(op sim.AccessOp, p *Page, bit uint, old, v bool) {
	o := flagObj(p, bit)
	switch op {
	case sim.OpRead:
		t.Read(o, boolID(v))
	case sim.OpWrite:
		t.Write(o, boolID(v))
	default:
		t.RMW(o, boolID(old), boolID(v))
	}
}

// rdFlags reports a read of every bit of mask in the flags word f.
func (t *Thread) rdFlags(p *Page, mask, f uint64) {
	if t.Footprinting() {
		t.fpFlags(p, mask, f, false)
	}
}

// wrFlags reports a store of every bit of mask, leaving the flags word f.
func (t *Thread) wrFlags(p *Page, mask, f uint64) {
	if t.Footprinting() {
		t.fpFlags(p, mask, f, true)
	}
}

//go:noinline
func (t *Thread) fpFlags(p *Page, mask, f uint64, write bool) {
	// The set bits of mask, lowest first.
	for m := mask; m != 0; m &= m - 1 {
		b := uint(bits.TrailingZeros64(m))
		if write {
			t.Write(flagObj(p, b), f>>b&1)
		} else {
			t.Read(flagObj(p, b), f>>b&1)
		}
	}
}

// testFlag is a plain test_bit() of one page flag, without the touch()
// checks (paths that read flags directly), reported.
func (t *Thread) testFlag(p *Page, bit uint) bool {
	v := p.testBit(bit)
	t.rdFlag(p, bit, v)
	return v
}

// setFlag and clearFlag are the non-atomic __SetPageX / __ClearPageX (and
// the plain set_bit / clear_bit of paths that bypass the accessors),
// reported.
func (t *Thread) setFlag(p *Page, bit uint) {
	p.setBit(bit)
	t.wrFlag(p, bit, true)
}

func (t *Thread) clearFlag(p *Page, bit uint) {
	p.clearBit(bit)
	t.wrFlag(p, bit, false)
}

// pageHead is PageHead() (PG_head, without the PF_* checks), reported.
func (t *Thread) pageHead(p *Page) bool { return t.testFlag(p, PG_head) }

// _refcount.

// rdRef reports a read of _refcount that found n (the whole value);
// wrRef a store of n; rmwRef an atomic operation that left n and told the
// task seen (what the code goes on to use of the old value: whether the
// count reached zero, whether a cmpxchg succeeded; 0 when it uses nothing),
// so that counts that behave the same are the same state.
func (t *Thread) rdRef(p *Page, n int32) {
	if t.Footprinting() {
		t.fpRef(sim.OpRead, p, 0, n)
	}
}

func (t *Thread) wrRef(p *Page, n int32) {
	if t.Footprinting() {
		t.fpRef(sim.OpWrite, p, 0, n)
	}
}

func (t *Thread) rmwRef(p *Page, seen uint64, n int32) {
	if t.Footprinting() {
		t.fpRef(sim.OpRMW, p, seen, n)
	}
}

//go:noinline
func (t *Thread) fpRef(op sim.AccessOp, p *Page, seen uint64, n int32) {
	o := pageObj(objPageRef, p)
	switch op {
	case sim.OpRead:
		t.Read(o, refVal(n))
	case sim.OpWrite:
		t.Write(o, refVal(n))
	default:
		t.RMW(o, seen, refVal(n))
	}
}

// getPageUnlessZero is get_page_unless_zero(), reported: an RMW that told
// the task "not zero", or a read of zero.
func (t *Thread) getPageUnlessZero(p *Page) bool {
	for {
		n := p.refcount.Load()
		if n == 0 {
			t.rdRef(p, 0)
			return false
		}
		if p.refcount.CompareAndSwap(n, n+1) {
			t.rmwRef(p, 1, n+1)
			return true
		}
	}
}

// refAdd is an atomic add to _refcount whose result the caller does not
// look at (page_ref_add, get_page without the debug check), reported.
func (t *Thread) refAdd(p *Page, d int32) {
	n := p.refcount.Add(d)
	t.rmwRef(p, 0, n)
}

// refStore is set_page_count(), reported.
func (t *Thread) refStore(p *Page, n int32) {
	p.refcount.Store(n)
	t.wrRef(p, n)
}

// refCAS is page_ref_freeze() and friends: compare-and-swap of _refcount,
// reported: an RMW that told the task "it was old", or a read that told
// it "it was not".
func (t *Thread) refCAS(p *Page, old, new int32) bool {
	if p.refcount.CompareAndSwap(old, new) {
		t.rmwRef(p, 1, new)
		return true
	}
	if t.Footprinting() {
		t.fpRead(pageObj(objPageRef, p), 0)
	}
	return false
}

// _mapcount.

// rdMapcnt and wrMapcnt report accesses to _mapcount (the value it holds).
func (t *Thread) rdMapcnt(p *Page) {
	if t.Footprinting() {
		t.fpRead(pageObj(objPageMapcnt, p), uint64(uint32(p.mapcount)))
	}
}

func (t *Thread) wrMapcnt(p *Page) {
	if t.Footprinting() {
		t.fpWrite(pageObj(objPageMapcnt, p), uint64(uint32(p.mapcount)))
	}
}

// Compound pages.

// rdHead reports a read of compound_head / compound_order; wrHead a store
// (of what the page holds now).
func (t *Thread) rdHead(p *Page) {
	if t.Footprinting() {
		t.fpHead(p, false)
	}
}

func (t *Thread) wrHead(p *Page) {
	if t.Footprinting() {
		t.fpHead(p, true)
	}
}

//go:noinline
func (t *Thread) fpHead(p *Page, write bool) {
	if write {
		t.Write(pageObj(objPageHead, p), headVal(p))
	} else {
		t.Read(pageObj(objPageHead, p), headVal(p))
	}
}

// compoundHead is compound_head(), reported.
func (t *Thread) compoundHead(p *Page) *Page {
	t.rdHead(p)
	return CompoundHead(p)
}

// pageTail is PageTail(), reported.
func (t *Thread) pageTail(p *Page) bool {
	t.rdHead(p)
	return PageTail(p)
}

// The allocation oracle.

// rdAlloc reports a read of the allocation oracle's gen and in-use;
// wrAlloc a store (of what the page holds now).
func (t *Thread) rdAlloc(p *Page) {
	if t.Footprinting() {
		t.fpRead(pageObj(objPageAlloc, p), allocVal(p))
	}
}

func (t *Thread) wrAlloc(p *Page) {
	if t.Footprinting() {
		t.fpWrite(pageObj(objPageAlloc, p), allocVal(p))
	}
}

// Page fields, read and written with their reports: what model code in a
// task uses instead of the bare accessors (Page.Mapping, Page.Data, ...),
// which stay for the oracles and tests that run outside tasks.

// pageMapping is page->mapping (READ_ONCE), reported.
func (t *Thread) pageMapping(p *Page) *AddressSpace {
	m := p.mapping.Load()
	if t.Footprinting() {
		t.fpRead(pageObj(objPageMapping, p), mappingID(m))
	}
	return m
}

// setPageMapping stores page->mapping, reported.
func (t *Thread) setPageMapping(p *Page, m *AddressSpace) {
	p.mapping.Store(m)
	if t.Footprinting() {
		t.fpWrite(pageObj(objPageMapping, p), mappingID(m))
	}
}

// pageIndex is page->index, reported.
func (t *Thread) pageIndex(p *Page) uint64 {
	if t.Footprinting() {
		t.fpRead(pageObj(objPageIndex, p), p.Index)
	}
	return p.Index
}

// setPageIndex stores page->index, reported.
func (t *Thread) setPageIndex(p *Page, index uint64) {
	p.Index = index
	if t.Footprinting() {
		t.fpWrite(pageObj(objPageIndex, p), index)
	}
}

// pageData is the page's contents, reported.
func (t *Thread) pageData(p *Page) PageData {
	d := p.Data()
	if t.Footprinting() {
		t.fpRead(pageObj(objPageData, p), dataID(d))
	}
	return d
}

// pageDataChunk is how many page contents a Thread's slab holds.
const pageDataChunk = 32

// setPageData stores the page's contents, reported.
func (t *Thread) setPageData(p *Page, d PageData) {
	// The value the page points to is published once and never written
	// again: it comes from the Thread's slab, which hands out each
	// element once (a new chunk when it is used up), so that one
	// allocation serves pageDataChunk writes.
	if len(t.dataSlab) == cap(t.dataSlab) {
		t.dataSlab = make([]PageData, 0, pageDataChunk)
	}
	t.dataSlab = append(t.dataSlab, d)
	p.data.Store(&t.dataSlab[len(t.dataSlab)-1])
	if t.Footprinting() {
		t.fpWrite(pageObj(objPageData, p), dataID(d))
	}
}

// The xarray marks.

// xaObj is the object of an xarray slot's page (objXaSlot) or marks
// (objXaMarks) at index, or with objXaSize or objNrPages and index 0 the
// xarray's extent or nrpages.
func xaObj(kind uint64, m *AddressSpace, index uint64) sim.Obj {
	return obj(kind, uint64(m.Host.Ino), index)
}

// xaSetMark is __xa_set_mark() with the i_pages lock held, reported: the
// extent and the slot's page are read, the marks written.
func (t *Thread) xaSetMark(m *AddressSpace, index uint64, mark uint8) {
	m.setMark(index, mark)
	if t.Footprinting() {
		t.fpMark(m, index, true)
	}
}

// xaClearMark is __xa_clear_mark() with the i_pages lock held, reported.
func (t *Thread) xaClearMark(m *AddressSpace, index uint64, mark uint8) {
	m.clearMark(index, mark)
	if t.Footprinting() {
		t.fpMark(m, index, false)
	}
}

//go:noinline
func (t *Thread) fpMark(m *AddressSpace, index uint64, set bool) {
	t.Read(xaObj(objXaSize, m, 0), uint64(len(m.slotList())))
	s := m.slot(index)
	if s == nil {
		return
	}
	if set {
		p := s.page.Load()
		t.Read(xaObj(objXaSlot, m, index), pageID(p))
		if p == nil {
			return
		}
	}
	t.Write(xaObj(objXaMarks, m, index), uint64(s.marks.Load()))
}
