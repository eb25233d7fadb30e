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
// reports it; the reporting half is out of line, so that the random-walk
// hot path pays a nil check.
//
// Canonical values, besides footprint.go's:
//
//	objXaSlot     pageID of the slot's page (0: empty or beyond the extent)
//	objXaMarks    the marks word
//	objXaSize     the number of slots
//	objNrPages    uint64(nrpages)
//	objISize      uint64(i_size)
//	objPTE        pteVal: pageID<<3 | present<<2 | write<<1 | dirty
//	objFileVer    the last version numbered for (ino, index)
//	objInodeMisc  by field, below
//	objIO (0, 0)  nr_io, the counter that numbers I/O completion tasks
//	objBio        the bounce copy's dataID, 1<<62 set (0: none)

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
// their Task.ID+1, one byte each (hashed beyond seven).
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

// compoundOrder is compound_order() of a head page, reported.
func (t *Thread) compoundOrder(p *Page) uint8 {
	t.rdHead(p)
	return p.order
}

// refRead is a load of _refcount, reported.
func (t *Thread) refRead(p *Page) int32 {
	n := p.refcount.Load()
	if t.Footprinting() {
		t.cdeRead(pageObj(objPageRef, p), refVal(n))
	}
	return n
}

// mapcountAdd is page_add_file_rmap / page_remove_rmap's update of
// _mapcount (under the page table lock), reported.
func (t *Thread) mapcountAdd(p *Page, d int32) {
	old := p.mapcount
	p.mapcount += d
	if t.Footprinting() {
		t.cdeRMW(pageObj(objPageMapcnt, p), uint64(uint32(old)), uint64(uint32(p.mapcount)))
	}
}

// mapcount is page_mapped()'s read of _mapcount, reported.
func (t *Thread) mapcount(p *Page) int32 {
	t.rdMapcnt(p)
	return p.mapcount
}

// The xarray.

// xaExtent reports that the task used the xarray's extent: a walk that
// stopped at the end of the n slots.
func (t *Thread) xaExtent(m *AddressSpace, n int) {
	if t.Footprinting() {
		t.cdeRead(xaObj(objXaSize, m, 0), uint64(n))
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
		t.cdeRead(xaObj(objXaSlot, m, index), pageID(p))
	}
	return p
}

// xaStoreSlot stores p into slot s, index of m, reported.
func (t *Thread) xaStoreSlot(m *AddressSpace, index uint64, s *xaSlot, p *Page) {
	s.page.Store(p)
	if t.Footprinting() {
		t.cdeWrite(xaObj(objXaSlot, m, index), pageID(p))
	}
}

// xaLoadMarks is a load of slot s's marks, reported.
func (t *Thread) xaLoadMarks(m *AddressSpace, index uint64, s *xaSlot) uint32 {
	v := s.marks.Load()
	if t.Footprinting() {
		t.cdeRead(xaObj(objXaMarks, m, index), uint64(v))
	}
	return v
}

// xaStoreMarks stores slot s's marks, reported.
func (t *Thread) xaStoreMarks(m *AddressSpace, index uint64, s *xaSlot, v uint32) {
	s.marks.Store(v)
	if t.Footprinting() {
		t.cdeWrite(xaObj(objXaMarks, m, index), uint64(v))
	}
}

// xaOrMarks sets mark in slot s's marks (atomically), reported.
func (t *Thread) xaOrMarks(m *AddressSpace, index uint64, s *xaSlot, mark uint32) {
	old := s.marks.Or(mark)
	if t.Footprinting() {
		t.cdeRMW(xaObj(objXaMarks, m, index), uint64(old), uint64(old|mark))
	}
}

// nrPagesAdd adds d to mapping->nrpages, reported.
func (t *Thread) nrPagesAdd(m *AddressSpace, d int64) {
	n := m.nrPages.Add(d)
	if t.Footprinting() {
		t.cdeRMW(xaObj(objNrPages, m, 0), uint64(n-d), uint64(n))
	}
}

// readNrPages is a task's read of mapping->nrpages, reported.
func (t *Thread) readNrPages(m *AddressSpace) int {
	n := m.nrPages.Load()
	if t.Footprinting() {
		t.cdeRead(xaObj(objNrPages, m, 0), uint64(n))
	}
	return int(n)
}

// PTEs.

// pteRef is &vma->ptes[index] for a task that reads the PTE (and may
// update it in place, then call pteWritten), reported.
func (t *Thread) pteRef(vma *VMA, index uint64) *PTE {
	p := &vma.ptes[index]
	if t.Footprinting() {
		t.cdeRead(inodeObj(objPTE, vma.File, index), pteVal(*p))
	}
	return p
}

// pteWritten reports a store to the PTE at index (its whole new value).
func (t *Thread) pteWritten(vma *VMA, index uint64) {
	if t.Footprinting() {
		t.cdeWrite(inodeObj(objPTE, vma.File, index), pteVal(vma.ptes[index]))
	}
}

// pteLoad reads the PTE at index, reported.
func (t *Thread) pteLoad(vma *VMA, index uint64) PTE {
	p := vma.ptes[index]
	if t.Footprinting() {
		t.cdeRead(inodeObj(objPTE, vma.File, index), pteVal(p))
	}
	return p
}


// Inode fields.

// isizeObj is i_size.
func isizeObj(inode *Inode) sim.Obj { return inodeObj(objISize, inode, 0) }

// writeVersion is inode.newVersion(index), the oracle's numbering of the
// writes of a page, by a task, reported.
func (t *Thread) writeVersion(inode *Inode, index uint64) uint64 {
	v := inode.newVersion(index)
	if t.Footprinting() {
		t.cdeRMW(inodeObj(objFileVer, inode, index), v-1, v)
	}
	return v
}

// allocateBlock is inode.allocateBlock(index) by a task, reported.
func (t *Thread) allocateBlock(inode *Inode, index uint64) {
	inode.allocateBlock(index)
	if t.Footprinting() {
		t.cdeWrite(inodeObj(objInodeMisc, inode, inodeBlockAlloc|index), 1)
	}
}

// rwsemLocked reads whether the invalidate_lock is held, reported.
func (t *Thread) rwsemLocked(inode *Inode) bool {
	v := inode.invalidateLocked
	if t.Footprinting() {
		t.cdeRead(inodeObj(objInodeMisc, inode, inodeInvalidateLocked), boolID(v))
	}
	return v
}

// setRwsemLocked stores whether the invalidate_lock is held, reported.
func (t *Thread) setRwsemLocked(inode *Inode, v bool) {
	inode.invalidateLocked = v
	if t.Footprinting() {
		t.cdeWrite(inodeObj(objInodeMisc, inode, inodeInvalidateLocked), boolID(v))
	}
}

// rwsemWaiters reads the invalidate_lock's sleeping writers, reported.
func (t *Thread) rwsemWaiters(inode *Inode) []*Thread {
	ws := inode.rwsemWaiters
	if t.Footprinting() {
		t.cdeRead(inodeObj(objInodeMisc, inode, inodeRwsemWaiters), waitersVal(ws))
	}
	return ws
}

// setRwsemWaiters stores the invalidate_lock's sleeping writers, reported.
func (t *Thread) setRwsemWaiters(inode *Inode, ws []*Thread) {
	inode.rwsemWaiters = ws
	if t.Footprinting() {
		t.cdeWrite(inodeObj(objInodeMisc, inode, inodeRwsemWaiters), waitersVal(ws))
	}
}

// nrIOAdd is k.nrIO.Add(1) by a task (numbering an I/O completion task),
// reported.
func (t *Thread) nrIOAdd() int64 {
	n := t.K.nrIO.Add(1)
	if t.Footprinting() {
		t.cdeRMW(ioObj, uint64(n-1), uint64(n))
	}
	return n
}

// The out-of-line reporting half: the callers test Footprinting first.

//go:noinline
func (t *Thread) cdeRead(o sim.Obj, v uint64) { t.Read(o, v) }

//go:noinline
func (t *Thread) cdeWrite(o sim.Obj, v uint64) { t.Write(o, v) }

//go:noinline
func (t *Thread) cdeRMW(o sim.Obj, old, new uint64) { t.RMW(o, old, new) }

// Exported for the fix variants (package fixes).

// ReadMapping is a task's load of page->mapping (a fix variant's), reported.
func ReadMapping(t *Thread, page *Page) *AddressSpace { return t.pageMapping(page) }
