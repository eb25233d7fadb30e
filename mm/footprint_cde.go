package mm

import "github.com/pagelab/pagelab/sim"

// Footprint reporting for the model pieces of races C, D and E (gup.go,
// thp.go, isize.go, pagecache.go) and their fix variants, besides the page
// helpers of footprint.go: the accesses those files make directly to
// struct fields (xarray slots and marks, the xarray's extent, nrpages,
// PTEs, _mapcount, i_size, the invalidate_lock rwsem, the blocks a
// buffer-based file allocated, nr_io, the oracle's write versions).
//
// Each helper does the access and, only when the task records footprints,
// reports it: a store with the object's whole new value, a load (or the
// read half of a read-modify-write) with what the task learns from it,
// which is the value or only the part of it the code goes on to use (see
// sim.Task.Read). The reporting half is out of line (cdeAccess), so that
// the helpers inline to a nil check on the random-walk hot path.
//
// Canonical values (what a store reports), besides footprint.go's:
//
//	objXaSlot     pageID of the slot's page (0: empty or beyond the extent)
//	objXaMarks    the marks word
//	objXaSize     the number of slots
//	objNrPages    uint64(nrpages)
//	objPageMapcnt uint64(uint32(_mapcount)), as footprint.go's wrMapcnt
//	objISize      uint64(i_size)
//	objPTE        pteVal: pageID<<3 | present<<2 | write<<1 | dirty
//	objFileVer    the last version numbered for (ino, index)
//	objInodeMisc  by field, below
//	objIO (0, 0)  nr_io, the counter that numbers I/O completion tasks

// Fields (b) of objInodeMisc.
const (
	// inodeInvalidateLocked: the invalidate_lock rwsem is held (boolID).
	inodeInvalidateLocked = 1
	// inodeRwsemWaiters: its list of sleeping writers (waitersVal).
	inodeRwsemWaiters = 2
	// inodeBlockAlloc | index: the file's block at index is allocated
	// (buffer-based files; 1 once allocated).
	inodeBlockAlloc = 1 << 20
)

// pteVal is the canonical value of a PTE.
func pteVal(p PTE) uint64 {
	return pageID(p.page)<<3 | boolID(p.present)<<2 | boolID(p.write)<<1 | boolID(p.dirty)
}

// waitersVal is the canonical value of a list of sleeping tasks, in order:
// the length, and the tasks' Task.ID+1 one byte each (hashed beyond seven).
func waitersVal(ws []*Thread) uint64 {
	v := uint64(len(ws)) << 56
	for i, w := range ws {
		if i < 7 {
			v |= (uint64(w.ID+1) & 0xff) << (8 * i)
			continue
		}
		v = fpMix(v ^ uint64(w.ID+1))
	}
	return v
}

func inodeObj(kind uint64, inode *Inode, b uint64) sim.Obj {
	return obj(kind, uint64(inode.Ino), b)
}

// ioObj is nr_io.
var ioObj = obj(objIO, 0, 0)

// cdeAccess is the out-of-line half of the helpers below: a read that
// told the task seen, a store of v, or a read-modify-write that told the
// task seen and left v. The variants below take raw arguments, so that
// the hot helpers inline.
//
//go:noinline
func (t *Thread) cdeAccess(op sim.AccessOp, o sim.Obj, seen, v uint64) {
	switch op {
	case sim.OpRead:
		t.Read(o, seen)
	case sim.OpWrite:
		t.Write(o, v)
	default:
		t.RMW(o, seen, v)
	}
}

// The first argument of cdeM, cdeP and cdeI is an operation and a kind,
// one constant: cdeR|kind, a read (v is what the task learned); cdeW|kind,
// a store (v is the new value); cdeN|kind, a read-modify-write that told
// the task nothing (v is the new value).
const (
	cdeR = uint64(sim.OpRead) << 8
	cdeW = uint64(sim.OpWrite) << 8
	cdeN = uint64(sim.OpRMW) << 8
)

// cdeOne reports code's access to the object (code's kind, a, b).
func (t *Thread) cdeOne(code, a, b, v uint64) {
	o := obj(code&0xff, a, b)
	switch sim.AccessOp(code >> 8) {
	case sim.OpRead:
		t.Read(o, v)
	case sim.OpWrite:
		t.Write(o, v)
	default:
		t.RMW(o, 0, v)
	}
}

// cdeM reports an access to an object of mapping m (its inode), cdeP to
// one of page p, cdeI to one of inode.
//
//go:noinline
func (t *Thread) cdeM(code uint64, m *AddressSpace, b, v uint64) {
	t.cdeOne(code, uint64(m.Host.Ino), b, v)
}

//go:noinline
func (t *Thread) cdeP(code uint64, p *Page, v uint64) { t.cdeOne(code, uint64(p.pfn), 0, v) }

//go:noinline
func (t *Thread) cdeI(code uint64, inode *Inode, b, v uint64) {
	t.cdeOne(code, uint64(inode.Ino), b, v)
}

// cdeSlot reports an access to xarray slot index of m that found or left p.
//
//go:noinline
func (t *Thread) cdeSlot(op sim.AccessOp, m *AddressSpace, index uint64, p *Page) {
	t.cdeAccess(op, xaObj(objXaSlot, m, index), pageID(p), pageID(p))
}

// cdePTE reports a store to the PTE at index (its whole new value).
//
//go:noinline
func (t *Thread) cdePTE(vma *VMA, index uint64) {
	t.Write(inodeObj(objPTE, vma.File, index), pteVal(vma.ptes[index]))
}

// Page fields.

// compoundOrder is compound_order() of a head page, reported.
func (t *Thread) compoundOrder(p *Page) uint8 {
	t.rdHead(p)
	return p.order
}

// refAtLeast is _refcount >= n (page_maybe_dma_pinned), reported: the
// task learns the comparison.
func (t *Thread) refAtLeast(p *Page, n int32) bool {
	v := p.refcount.Load() >= n
	if t.Footprinting() {
		t.cdeP(cdeR|objPageRef, p, boolID(v))
	}
	return v
}

// refEquals is page_count(page) == n (is_page_cache_freeable), reported:
// the task learns the comparison.
func (t *Thread) refEquals(p *Page, n int32) bool {
	v := p.refcount.Load() == n
	if t.Footprinting() {
		t.cdeP(cdeR|objPageRef, p, boolID(v))
	}
	return v
}

// pageMapped is page_mapped(): _mapcount > 0 (here, where 0 is unmapped),
// reported.
func (t *Thread) pageMapped(p *Page) bool {
	v := p.mapcount > 0
	if t.Footprinting() {
		t.cdeP(cdeR|objPageMapcnt, p, boolID(v))
	}
	return v
}

// mapcountAdd is page_add_file_rmap / page_remove_rmap's update of
// _mapcount (under the page table lock; the result is not looked at),
// reported.
func (t *Thread) mapcountAdd(p *Page, d int32) {
	p.mapcount += d
	if t.Footprinting() {
		t.cdeP(cdeN|objPageMapcnt, p, uint64(uint32(p.mapcount)))
	}
}

// The xarray.

// xaExtent reports that a walk stopped at the end of the xarray's n slots.
func (t *Thread) xaExtent(m *AddressSpace, n int) {
	if t.Footprinting() {
		t.cdeM(cdeR|objXaSize, m, 0, uint64(n))
	}
}

// xaGrown reports that the xarray's extent became n slots (the new ones
// empty, unmarked).
func (t *Thread) xaGrown(m *AddressSpace, n int) {
	if t.Footprinting() {
		t.cdeM(cdeW|objXaSize, m, 0, uint64(n))
	}
}

// xaLoadSlot is a load of slot s, index of m (s is nil beyond the extent:
// an empty slot), reported.
func (t *Thread) xaLoadSlot(m *AddressSpace, index uint64, s *xaSlot) *Page {
	var p *Page
	if s != nil {
		p = s.page.Load()
	}
	if t.Footprinting() {
		t.cdeSlot(sim.OpRead, m, index, p)
	}
	return p
}

// xaStoreSlot stores p into slot s, index of m, reported.
func (t *Thread) xaStoreSlot(m *AddressSpace, index uint64, s *xaSlot, p *Page) {
	s.page.Store(p)
	if t.Footprinting() {
		t.cdeSlot(sim.OpWrite, m, index, p)
	}
}

// xaTestMarks is slot s's marks & mask (xa_get_mark, or a tagged walk's
// test), reported: the task learns the masked marks.
func (t *Thread) xaTestMarks(m *AddressSpace, index uint64, s *xaSlot, mask uint32) uint32 {
	v := s.marks.Load() & mask
	if t.Footprinting() {
		t.cdeM(cdeR|objXaMarks, m, index, uint64(v))
	}
	return v
}

// xaStoreMarks stores slot s's marks, reported.
func (t *Thread) xaStoreMarks(m *AddressSpace, index uint64, s *xaSlot, v uint32) {
	s.marks.Store(v)
	if t.Footprinting() {
		t.cdeM(cdeW|objXaMarks, m, index, uint64(v))
	}
}

// xaOrMarks sets mark in slot s's marks (atomically), reported.
func (t *Thread) xaOrMarks(m *AddressSpace, index uint64, s *xaSlot, mark uint32) {
	v := s.marks.Or(mark) | mark
	if t.Footprinting() {
		t.cdeM(cdeN|objXaMarks, m, index, uint64(v))
	}
}

// nrPagesAdd adds d to mapping->nrpages, reported.
func (t *Thread) nrPagesAdd(m *AddressSpace, d int64) {
	n := m.nrPages.Add(d)
	if t.Footprinting() {
		t.cdeM(cdeN|objNrPages, m, 0, uint64(n))
	}
}

// readNrPages is a task's read of mapping->nrpages, reported.
func (t *Thread) readNrPages(m *AddressSpace) int {
	n := m.nrPages.Load()
	if t.Footprinting() {
		t.cdeM(cdeR|objNrPages, m, 0, uint64(n))
	}
	return int(n)
}

// PTEs.

// pteRead reports a read of the PTE at index that told the task seen.
func (t *Thread) pteRead(vma *VMA, index uint64, seen uint64) {
	if t.Footprinting() {
		t.cdeI(cdeR|objPTE, vma.File, index, seen)
	}
}

// pteWritten reports a store to the PTE at index (its whole new value).
func (t *Thread) pteWritten(vma *VMA, index uint64) {
	if t.Footprinting() {
		t.cdePTE(vma, index)
	}
}

// ptePageSeen is what a walk that checks that the PTE maps page learns:
// whether it does, and then its dirty bit.
func ptePageSeen(pte *PTE, page *Page) uint64 {
	if !pte.present || pte.page != page {
		return 0
	}
	return 1 | boolID(pte.dirty)<<1
}

// Inode fields.

// isizeObj is i_size.
func isizeObj(inode *Inode) sim.Obj { return inodeObj(objISize, inode, 0) }

// writeVersion is inode.newVersion(index), the oracle's numbering of the
// writes of a page, by a task, reported (the task uses the number).
func (t *Thread) writeVersion(inode *Inode, index uint64) uint64 {
	v := inode.newVersion(index)
	if t.Footprinting() {
		t.cdeAccess(sim.OpRMW, inodeObj(objFileVer, inode, index), v, v)
	}
	return v
}

// allocateBlock is inode.allocateBlock(index) by a task, reported.
func (t *Thread) allocateBlock(inode *Inode, index uint64) {
	inode.allocateBlock(index)
	if t.Footprinting() {
		t.cdeI(cdeW|objInodeMisc, inode, inodeBlockAlloc|index, 1)
	}
}

// nrIOAdd is k.nrIO.Add(1) by a task (numbering an I/O completion task),
// reported.
func (t *Thread) nrIOAdd() int64 {
	n := t.K.nrIO.Add(1)
	if t.Footprinting() {
		t.cdeAccess(sim.OpRMW, ioObj, uint64(n), uint64(n))
	}
	return n
}

// Exported for the fix variants (package fixes).

// ReadMapping is a task's load of page->mapping (a fix variant's), reported.
func ReadMapping(t *Thread, page *Page) *AddressSpace { return t.pageMapping(page) }
