package mm

import "github.com/pagelab/pagelab/sim"

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
