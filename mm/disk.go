package mm

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/pagelab/pagelab/sim"
)

// taskNames are the names TaskName made, by prefix: a map that is never
// changed once published (a new name publishes a new map, under
// taskNamesMu), so that the names every execution uses again cost a load
// and a lookup, from any goroutine (pagelab -j), with no lock.
var (
	taskNamesMu sync.Mutex
	taskNames   atomic.Pointer[map[string][]string]
)

// TaskName is prefix followed by n ("io3"), without allocating for the
// names every execution uses again.
func TaskName(prefix string, n int) string {
	if m := taskNames.Load(); m != nil {
		if l := (*m)[prefix]; n < len(l) {
			return l[n]
		}
	}
	return newTaskName(prefix, n)
}

func newTaskName(prefix string, n int) string {
	taskNamesMu.Lock()
	defer taskNamesMu.Unlock()
	m := map[string][]string{}
	if old := taskNames.Load(); old != nil {
		maps.Copy(m, *old)
	}
	l := slices.Clone(m[prefix])
	for len(l) <= n {
		l = append(l, prefix+strconv.Itoa(len(l)))
	}
	m[prefix] = l
	taskNames.Store(&m)
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

// diskBlockState is what a block holds: the data of the last write that
// reached it and whether that transfer was torn (the page changed between
// the write's submission and the device's read of it, so the block may
// hold a mix of the two versions, which no writer wrote).
type diskBlockState struct {
	data PageData
	torn bool
}

// Disk is the block device: it records which data reached which block, and
// checks every transfer against the block's owner and against the data its
// submitter handed it (the data-corruption and unstable-write oracles).
type Disk struct {
	mu     mutex // the device serializes its own bookkeeping
	blocks map[blockKey]diskBlockState
	// Writes counts completed transfers.
	Writes int
	// StableWrites is the device's stable-writes requirement
	// (blk_queue_stable_writes(), which the filesystem copies into
	// SB_I_STABLE_WRITES at mount; v5.10, 1cb039f3dc16): the device
	// checksums what it is handed at submission (T10 DIF/DIX protection
	// information, RAID parity, dm-integrity), so a page that changes
	// under the write makes the block fail its checksum. A set-up
	// parameter, fixed for the execution.
	StableWrites bool
}

func (d *Disk) reset() {
	if d.blocks == nil {
		d.blocks = make(map[blockKey]diskBlockState)
	}
	clear(d.blocks)
	d.Writes = 0
	d.StableWrites = false
}

// Block is what the disk holds for block index of inode ino (oracles and
// tests; a task uses diskBlock).
func (d *Disk) Block(ino int, index uint64) PageData {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.blocks[blockKey{ino, index}].data
}

// Torn reports whether the last write of block index of inode ino was torn
// (oracles and tests).
func (d *Disk) Torn(ino int, index uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.blocks[blockKey{ino, index}].torn
}

// blockObj is disk block (ino, index); its value is blockVal of what it
// holds (0: nothing).
func blockObj(ino int, index uint64) sim.Obj { return obj(objBlock, uint64(ino), index) }

// blockVal is a block's canonical value: the dataID of its data, with bit
// 61 flipped when the transfer was torn.
func blockVal(b diskBlockState) uint64 {
	v := dataID(b.data)
	if b.torn {
		v ^= 1 << 61
	}
	return v
}

// diskBlock is a task's read of what the disk holds for block index of
// inode ino, reported: the task learns the data (its readers do not look
// at whether the transfer was torn).
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
	name := TaskName("io", int(n))
	// The completion task gets its bio at its spawn, before its first
	// step: only its own steps read it. The Bio lives in the completion's
	// Thread (spawnThread), which it belongs to.
	io := k.spawnThread(-1, name, "dma", sim.TaskIRQ, endBio,
		&Bio{Page: page, gen: page.gen.Load(), data: t.pageData(page), Ino: ino, Index: index, Task: name})
	return io.bio
}

// endBio is the completion task of its bio (SubmitBio).
func endBio(ct *Thread) {
	bio := ct.bio
	bioDMA(ct, bio)
	mpageEndIO(ct, bio)
	// The stale-page report (checkStale) ends with the task: its
	// object is left at 0 whether or not it was set, so that a
	// completion that reported and one that did not, both finished,
	// are the same state.
	if ct.Footprinting() {
		ct.fpWrite(obj(objBio, uint64(bio.id), 1), 0)
	}
}

// bioDMA is the device reading the page for the write and storing it in
// the block (the bio's inode and index), and the oracle that checks the
// transfer at I/O completion against what its submitter handed it:
//
//   - data of another owner reaching the block is data-corruption: the page
//     was freed and reused while the I/O was in flight, and the block now
//     holds data no writer of it wrote;
//   - a page that a GUP user's DMA (a direct-I/O read into a mapped page:
//     PageData.DMA) changed between the submission (the bio's snapshot,
//     taken when ->writepage submitted it) and the device's read is a
//     write of an unstable page. The device's transfer is not atomic with
//     respect to the DMA writing the page, so the block may hold a mix of
//     the two versions: it is marked torn. On a stable-writes device
//     (Disk.StableWrites) the checksum computed at submission no longer
//     matches the data: data-corruption. On any other device it is
//     unstable-write, harmless as long as the page stays dirty and the
//     block is written again, which the end-of-run check
//     (checkTornBlocks) verifies.
//
// Only DMA changes count, because only they escape the kernel's
// stable-pages mechanism: a buffered write changes the page inside
// ->write_begin/->write_end, under the page lock, after
// grab_cache_page_write_begin()'s wait_for_stable_page() (which waits on a
// stable-writes device and is a no-op on others, by design), and dirties
// it in the same critical section, so writeback always writes it again. A
// GUP user's DMA writes "while [the page] is neither writeably mapped in
// page tables nor prepared with ->write_begin" (Jan Kara, seed 002), with
// no lock and no wait, and dirties it only at completion, if at all.
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
	b := diskBlockState{data: data, torn: data != bio.data && data.DMA}
	k.Disk.mu.Lock()
	k.Disk.blocks[blockKey{bio.Ino, bio.Index}] = b
	k.Disk.Writes++
	if t.Footprinting() {
		t.fpWrite(blockObj(bio.Ino, bio.Index), blockVal(b))
		t.fpWrite(obj(objDisk, 0, 0), uint64(k.Disk.Writes))
	}
	k.Disk.mu.Unlock()
	switch {
	case data.Ino != bio.Ino || data.Index != bio.Index:
		t.Raise(DataCorruption, "block %d of inode %d received %s: pfn %d was freed and reused while its write was in flight", bio.Index, bio.Ino, data, bio.Page.pfn)
	case b.torn && k.Disk.StableWrites:
		t.Raise(DataCorruption, "block %d of inode %d: pfn %d changed (%s) while its write of %s was in flight on a stable-writes device: the data no longer matches the checksum computed at submission", bio.Index, bio.Ino, bio.Page.pfn, data, bio.data)
	case b.torn:
		t.Raise(UnstableWrite, "block %d of inode %d: pfn %d changed (%s) while its write of %s was in flight: the block may be torn until the page is written again", bio.Index, bio.Ino, bio.Page.pfn, data, bio.data)
	}
}

// checkTornBlocks is the end-of-run half of the oracle (CheckQuiescent): a
// block whose last write was torn must be written again, that is, its page
// must still be in the page cache and dirty (the next writeback rewrites
// it). Otherwise the disk keeps data no writer wrote: data-corruption.
func (k *Kernel) checkTornBlocks() {
	var torn []blockKey
	k.Disk.mu.Lock()
	for key, b := range k.Disk.blocks {
		if b.torn {
			torn = append(torn, key)
		}
	}
	k.Disk.mu.Unlock()
	slices.SortFunc(torn, func(a, b blockKey) int {
		if a.ino != b.ino {
			return a.ino - b.ino
		}
		return cmp.Compare(a.index, b.index)
	})
	for _, key := range torn {
		if ino := k.inodeOf(key.ino); ino != nil {
			if s := ino.Mapping.slot(key.index); s != nil {
				if page := s.page.Load(); page != nil && page.Data().Ino == key.ino && page.flags.Load()&(1<<PG_dirty) != 0 {
					continue
				}
			}
		}
		k.RaiseGlobal(DataCorruption, fmt.Sprintf("block %d of inode %d holds a torn write of %s and its page is not dirty in the page cache: nothing will write it again", key.index, key.ino, k.Disk.Block(key.ino, key.index)))
	}
}

// inodeOf is the inode numbered ino, or nil.
func (k *Kernel) inodeOf(ino int) *Inode {
	for _, inode := range k.inodes {
		if inode.Ino == ino {
			return inode
		}
	}
	return nil
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
