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

// Block is what the disk holds for block index of inode ino.
func (d *Disk) Block(ino int, index uint64) PageData {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.blocks[blockKey{ino, index}]
}

// SubmitBio is submit_bio() of a one-page write (the bio the mpage code
// builds for block (inode, page->index)). The I/O completes asynchronously:
// its completion runs in a task of its own, as the block layer's completion
// interrupt would, first transferring the page's contents to the disk, then
// calling end_page_writeback() — with no page reference of its own.
func SubmitBio(t *Thread, page *Page) *Bio {
	k := t.K
	n := k.nrIO.Add(1)
	bio := &Bio{Page: page, gen: page.gen.Load(), data: page.Data(), Ino: page.Mapping().Host.Ino, Index: page.Index, Task: TaskName("io", int(n))}
	k.SpawnKind(bio.Task, "dma", sim.TaskIRQ, func(ct *Thread) {
		ct.bio = bio
		bioDMA(ct, bio)
		mpageEndIO(ct, bio)
	})
	return bio
}

// bioDMA is the device reading the page for the write. The block is owned by
// the bio's inode and index; data of another owner reaching it is
// corruption: the page was freed and reused while the I/O was in flight.
func bioDMA(t *Thread, bio *Bio) {
	data := bio.Page.Data()
	if bio.bounce != nil {
		data = *bio.bounce
	}
	k := t.K
	k.Disk.mu.Lock()
	k.Disk.blocks[blockKey{bio.Ino, bio.Index}] = data
	k.Disk.Writes++
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
}
