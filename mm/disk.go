package mm

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/pagelab/pagelab/sim"
)

var (
	taskNamesMu sync.Mutex
	taskNames   = map[string][]string{}
)

// TaskName is prefix followed by n ("io3"), without allocating for the
// names every execution uses again.
func TaskName(prefix string, n int) string {
	taskNamesMu.Lock()
	defer taskNamesMu.Unlock()
	l := taskNames[prefix]
	for len(l) <= n {
		l = append(l, prefix+strconv.Itoa(len(l)))
	}
	taskNames[prefix] = l
	return l[n]
}

// Bio is a single-page write bio: the page whose contents the device reads
// by DMA, and the block it writes them to.
type Bio struct {
	Page *Page
	gen  uint64   // the page's allocation generation at submission
	data PageData // the page's contents at submission
	// bounce, if set, is the stable copy the device reads instead of the
	// page (bounce-pinned).
	bounce *PageData
	Ino    int
	Index  uint64
	Task   string // the completion task
	// id is the completion task's ID: the bio's object (objBio) is named
	// by it.
	id int
}

// bounceVal is objBio's value: the bounce copy's dataID with 1<<62 set, 0
// for none.
func bounceVal(d *PageData) uint64 {
	if d == nil {
		return 0
	}
	return dataID(*d) | 1<<62
}

// setBioBounce is the submitter's store of the bio's bounce copy (after
// SubmitBio spawned the completion, in the same step), reported.
func (t *Thread) setBioBounce(bio *Bio, d PageData) {
	bio.bounce = &d
	if t.Footprinting() {
		t.fpWrite(obj(objBio, uint64(bio.id), 0), bounceVal(bio.bounce))
	}
}

func (d PageData) String() string {
	if d.Ino == 0 {
		return "nothing"
	}
	return fmt.Sprintf("inode %d page %d v%d", d.Ino, d.Index, d.Version)
}

type blockKey struct {
	ino   int
	index uint64
}

// Disk is the block device: it records which data reached which block, and
// checks every transfer against the block's owner (the data-corruption
// oracle).
type Disk struct {
	mu     sync.Mutex // the device serializes its own bookkeeping
	blocks map[blockKey]PageData
	// Writes counts completed transfers.
	Writes int
}

func (d *Disk) reset() {
	if d.blocks == nil {
		d.blocks = make(map[blockKey]PageData)
	}
	clear(d.blocks)
	d.Writes = 0
}

// Block is what the disk holds for block index of inode ino (oracles and
// tests; a task uses diskBlock).
func (d *Disk) Block(ino int, index uint64) PageData {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.blocks[blockKey{ino, index}]
}

// blockObj is disk block (ino, index); its value is the dataID of what it
// holds (0: nothing).
func blockObj(ino int, index uint64) sim.Obj { return obj(objBlock, uint64(ino), index) }

// diskBlock is a task's read of what the disk holds for block index of
// inode ino, reported.
func (t *Thread) diskBlock(ino int, index uint64) PageData {
	d := t.K.Disk.Block(ino, index)
	if t.Footprinting() {
		t.fpRead(blockObj(ino, index), dataID(d))
	}
	return d
}

// bioOwner is the block a write of page goes to, (inode, page->index), read
// while the page is locked, as __mpage_writepage() maps the block (and
// ext4 its buffers) before unlocking the page: once unlocked, a truncation
// may clear page->mapping before the bio is submitted.
func bioOwner(t *Thread, page *Page) (ino int, index uint64) {
	return t.pageMapping(page).Host.Ino, t.pageIndex(page)
}

// SubmitBio is submit_bio() of a one-page write (the bio the mpage code
// builds for block (ino, index), mapped by bioOwner under the page lock). The I/O completes asynchronously:
// its completion runs in a task of its own, as the block layer's completion
// interrupt would, first transferring the page's contents to the disk, then
// calling end_page_writeback() — with no page reference of its own.
func SubmitBio(t *Thread, page *Page, ino int, index uint64) *Bio {
	k := t.K
	n := t.nrIOAdd()
	t.rdAlloc(page)
	bio := &Bio{Page: page, gen: page.gen.Load(), data: t.pageData(page), Ino: ino, Index: index, Task: TaskName("io", int(n))}
	io := k.SpawnKind(bio.Task, "dma", sim.TaskIRQ, func(ct *Thread) {
		ct.bio = bio
		bioDMA(ct, bio)
		mpageEndIO(ct, bio)
		// The stale-page report (checkStale) ends with the task: its
		// object is left at 0 whether or not it was set, so that a
		// completion that reported and one that did not, both finished,
		// are the same state.
		if ct.Footprinting() {
			ct.fpWrite(obj(objBio, uint64(bio.id), 1), 0)
		}
	})
	bio.id = io.ID
	return bio
}

// bioDMA is the device reading the page for the write. The block is owned by
// the bio's inode and index; data of another owner reaching it is
// corruption: the page was freed and reused while the I/O was in flight.
//
// The transfer is the device's, not a kernel function, but it has a frame
// of its own ("dma", the completion task's first label; never on the stack
// at a scheduling point, as it has none) so that it can declare (Return)
// that the completion learns nothing from it: what it read went to the
// disk, which is shared state.
func bioDMA(t *Thread, bio *Bio) {
	t.Enter("dma")
	defer t.Exit()
	defer t.Return()
	data := t.pageData(bio.Page)
	if t.Footprinting() {
		t.fpRead(obj(objBio, uint64(bio.id), 0), bounceVal(bio.bounce))
	}
	if bio.bounce != nil {
		data = *bio.bounce
	}
	k := t.K
	k.Disk.mu.Lock()
	k.Disk.blocks[blockKey{bio.Ino, bio.Index}] = data
	k.Disk.Writes++
	if t.Footprinting() {
		t.fpWrite(blockObj(bio.Ino, bio.Index), dataID(data))
		t.fpWrite(obj(objDisk, 0, 0), uint64(k.Disk.Writes))
	}
	k.Disk.mu.Unlock()
	switch {
	case data.Ino != bio.Ino || data.Index != bio.Index:
		t.Raise(DataCorruption, "block %d of inode %d received %s: pfn %d was freed and reused while its write was in flight", bio.Index, bio.Ino, data, bio.Page.pfn)
	case data != bio.data && data.DMA:
		// Written into by a device while it was being written out: the
		// write assumed the page stable, and the disk gets a mix.
		t.Raise(DataCorruption, "block %d of inode %d: pfn %d was written by DMA (%s) while its write of %s was in flight", bio.Index, bio.Ino, bio.Page.pfn, data, bio.data)
	}
}

// mpageEndIO is mpage_end_io() → page_endio(page, is_write, 0) (fs/mpage.c,
// mm/filemap.c, v5.10): end writeback on the page.
func mpageEndIO(t *Thread, bio *Bio) {
	t.Enter("mpage_end_io")
	defer t.Exit()
	m := t.OpBegin(OpEndPageWriteback)
	t.K.Ops.EndPageWriteback(t, bio.Page)
	t.OpEnd(m)
	t.Return()
}
