package mm

import (
	"fmt"

	"github.com/pagelab/pagelab/sim"
)

// A minimal block filesystem on top of the page cache, in the mould of the
// generic paths ext2 and the mpage code use (fs/mpage.c, mm/filemap.c,
// fs/libfs.c; v5.10): full-page buffered writes, ->writepage that submits one
// bio per page, fsync as filemap_write_and_wait_range(), truncation. Block n
// of inode i is its own disk block (i, n).

// Inode is the part of struct inode the model uses, plus the oracle's record
// of what was written.
type Inode struct {
	Ino     int
	Mapping *AddressSpace

	// mu guards the oracle's bookkeeping below (not kernel state).
	mu mutex
	// versions[index] is the last version a write to index produced;
	// completed[index] the last version whose write returned.
	versions  []uint64
	completed []uint64
	// Writepage is the file's ->writepage (nil: MpageWritepage).
	Writepage Writepage
	// xfs is set for a file on the model's XFS (NewXFSInode): its
	// ->writepages is iomap's, with ioend batching.
	xfs *xfsInode
	// vma is the file's MAP_SHARED mapping, if any; blocks the file
	// blocks allocated (buffer-based files).
	vma    *VMA
	blocks map[uint64]bool
	// mapping->invalidate_lock and i_rwsem (inode_lock), held for
	// writing only.
	invalidateLock rwsemW
	iRwsem         rwsemW
	// size is i_size (only the workloads that read it keep it up to date:
	// ExtendingWrite, truncate up, fallocate).
	size isize
	// truncations counts truncations begun and truncating those in
	// progress, so that the fsync oracle can tell that data was thrown away
	// legitimately.
	truncations int
	truncating  int
	// vouched[index] is what an fsync of the file returned vouching for
	// (Fsync): the highest such version and the truncation count then,
	// for the end-of-execution check (checkVouched).
	vouched []vouch
}

// NewInode creates an empty file. The Inode and its AddressSpace are those
// an earlier execution created at the same position, emptied, where there
// are any: Reset keeps them beyond the end of k.inodes (Inode.reuse).
func (k *Kernel) NewInode() *Inode {
	n := len(k.inodes)
	var ino *Inode
	if n < cap(k.inodes) {
		ino = k.inodes[:n+1][n]
	}
	if ino != nil {
		ino.reuse()
	} else {
		ino = &Inode{Mapping: &AddressSpace{}}
	}
	ino.Ino = n + 1
	ino.mu.serial = k.serial
	ino.Mapping.Host = ino
	ino.Mapping.iPages.line = lineIPages | uint64(ino.Ino)
	ino.iRwsem = rwsemW{lockedKey: inodeIRwsemLocked, waitersKey: inodeIRwsemWaiters}
	ino.iRwsem.waitLock.line = lineIPages | 1<<41 | uint64(ino.Ino)
	ino.invalidateLock = rwsemW{lockedKey: inodeInvalidateLocked, waitersKey: inodeRwsemWaiters}
	ino.invalidateLock.waitLock.line = lineIPages | 1<<42 | uint64(ino.Ino)
	k.inodes = append(k.inodes, ino)
	return ino
}

// reuse empties an Inode of an earlier execution for NewInode: every field
// is the zero value a new Inode has, except that the oracle's slices keep
// their arrays (empty), and the AddressSpace its xarray's (m.reuse).
func (inode *Inode) reuse() {
	versions, completed, vouched, m := inode.versions[:0], inode.completed[:0], inode.vouched[:0], inode.Mapping
	*inode = Inode{versions: versions, completed: completed, vouched: vouched, Mapping: m}
	m.reuse()
}

// The oracle's bookkeeping is state like the kernel's (its readers decide
// what fsync and the writes report), with objects of its own: the versions
// numbered per page (objFileVer, footprint_cde.go's writeVersion), the
// versions completed per page (objFileDone; the slice's length, which a
// truncation leaves as it was, at fileDoneLen) and the truncation counters
// (objFileTrunc).

// fileDoneLen is the objFileDone index that stands for len(completed).
const fileDoneLen = 1<<24 - 1

// truncVal is objFileTrunc's value.
func truncVal(inode *Inode) uint64 {
	return uint64(inode.truncations)<<32 | uint64(uint32(inode.truncating))
}

// rdTrunc reports a read of the truncation counters; wrTrunc a store (of
// what they hold now). The caller holds inode.mu.
func (t *Thread) rdTrunc(inode *Inode) {
	if t.Footprinting() {
		t.fpRead(inodeObj(objFileTrunc, inode, 0), truncVal(inode))
	}
}

func (t *Thread) wrTrunc(inode *Inode) {
	if t.Footprinting() {
		t.fpWrite(inodeObj(objFileTrunc, inode, 0), truncVal(inode))
	}
}

// fpCompleted reports the completed versions: a read or a store of every
// index and of the length.
//
//go:noinline
func (t *Thread) fpCompleted(inode *Inode, write bool) {
	for i, v := range inode.completed {
		if write {
			t.Write(inodeObj(objFileDone, inode, uint64(i)), v)
		} else {
			t.Read(inodeObj(objFileDone, inode, uint64(i)), v)
		}
	}
	if write {
		t.Write(inodeObj(objFileDone, inode, fileDoneLen), uint64(len(inode.completed)))
	} else {
		t.Read(inodeObj(objFileDone, inode, fileDoneLen), uint64(len(inode.completed)))
	}
}

func growU64(s []uint64, i uint64) []uint64 {
	for uint64(len(s)) <= i {
		s = append(s, 0)
	}
	return s
}

// GenericPerformWrite is a one-page write(2) through generic_perform_write()
// (mm/filemap.c, v5.10) with simple_write_begin()/simple_write_end()
// (fs/libfs.c): find or create the page locked (grab_cache_page_write_begin),
// copy the data in, mark it uptodate and dirty, unlock, drop the reference.
// The backing device does not require stable pages, so the write does not
// wait for writeback in flight (wait_for_stable_page() is a no-op).
func GenericPerformWrite(t *Thread, inode *Inode, index uint64) {
	t.Enter("generic_perform_write")
	defer t.Exit()
	defer t.Return() // void, on every path
	inode.mu.Lock()
	truncations, truncating := inode.truncations, inode.truncating
	t.rdTrunc(inode)
	inode.mu.Unlock()

	page := grabCachePageWriteBegin(t, inode.Mapping, index)
	if page == nil {
		return // -ENOMEM
	}
	t.Step("copy_from_user")
	// The oracle numbers the write when its data reaches the page, under
	// the page lock: so the page's versions only go up, and a write that
	// returned left its version or a later one in the page, whatever the
	// order in which concurrent writers of the page began.
	v := t.writeVersion(inode, index)
	t.setPageData(page, PageData{Ino: inode.Ino, Index: index, Version: v})
	SetPageUptodate(t, page)
	SetPageDirty(t, page)
	UnlockPage(t, page)
	t.Step("put_page")
	PutPage(t, page)

	inode.mu.Lock()
	defer inode.mu.Unlock()
	if truncating == 0 {
		t.rdTrunc(inode)
	}
	if truncating > 0 || inode.truncating > 0 || inode.truncations != truncations {
		// A truncation overlapped the write and may have thrown its page
		// away: no fsync owes this data to the disk.
		return
	}
	n := len(inode.completed)
	inode.completed = growU64(inode.completed, index)
	if t.Footprinting() {
		if len(inode.completed) != n {
			t.fpWrite(inodeObj(objFileDone, inode, fileDoneLen), uint64(len(inode.completed)))
		}
		t.fpRead(inodeObj(objFileDone, inode, index), inode.completed[index])
	}
	if v > inode.completed[index] {
		inode.completed[index] = v
		if t.Footprinting() {
			t.fpWrite(inodeObj(objFileDone, inode, index), v)
		}
	}
}

// grabCachePageWriteBegin is grab_cache_page_write_begin() →
// pagecache_get_page(FGP_LOCK|FGP_WRITE|FGP_CREAT) (mm/filemap.c, v5.10):
// look the page up and lock it, re-checking page->mapping after the lock
// (the page may have been truncated while we slept); or allocate a new page,
// lock it non-atomically (nobody else can see it yet) and insert it.
//
// The retry loop's head is a CutPoint: no local is live there.
func grabCachePageWriteBegin(t *Thread, mapping *AddressSpace, index uint64) *Page {
	t.Enter("grab_cache_page_write_begin")
	defer t.Exit()
	for {
		t.CutPoint("grab_cache_page_write_begin")
		page := findGetPage(t, mapping, index)
		if page != nil {
			LockPage(t, page)
			t.Step("pagecache_get_page:mapping")
			if t.pageMapping(page) != mapping {
				UnlockPage(t, page)
				t.Step("put_page")
				PutPage(t, page)
				continue
			}
			t.Return(pageID(page))
			return page
		}
		t.Step("__page_cache_alloc")
		page = AllocPage(t)
		if page == nil {
			t.Return(0)
			return nil
		}
		t.setFlag(page, PG_locked) // __SetPageLocked
		if !addToPageCacheLRU(t, page, mapping, index) {
			// -EEXIST: someone else added a page at index; retry the
			// lookup. Our page was never visible to anyone.
			t.clearFlag(page, PG_locked)
			t.Step("put_page")
			PutPage(t, page)
			continue
		}
		// Drop nothing: the allocation's reference is the caller's.
		t.Return(pageID(page))
		return page
	}
}

// MpageWritepage is the model filesystem's ->writepage: mpage_writepage()
// (fs/mpage.c, v5.10), that is __mpage_writepage() on one page and then
// the submission of the bio it built:
//
//	/* __mpage_writepage(), the page mapped to its block: */
//	BUG_ON(PageWriteback(page));
//	set_page_writeback(page);
//	unlock_page(page);
//	if (boundary || (first_unmapped != blocks_per_page)) {
//		bio = mpage_bio_submit(REQ_OP_WRITE, op_flags, bio);
//		...
//	} else {
//		mpd->last_block_in_bio = blocks[blocks_per_page - 1];
//	}
//	...
//	/* mpage_writepage(): */
//	int ret = __mpage_writepage(page, wbc, &mpd);
//	if (mpd.bio)
//		mpage_bio_submit(REQ_OP_WRITE, op_flags, mpd.bio);
//
// So the I/O is submitted after unlock_page(), never before (unlike
// __block_write_full_page(), which submits its buffers and then unlocks).
// __mpage_writepage() itself submits only at a boundary block or a page
// not wholly mapped; otherwise it leaves the bio in mpd for the next page
// to extend. Under mpage_writepages() (ext2's ->writepages) that bio goes
// out when a page whose blocks do not follow comes along (before that
// page's set_page_writeback, while it is locked) or after
// write_cache_pages() returns; and generic_writepages() and
// mpage_writepages() both run under blk_start_plug(), so the request
// reaches the device at blk_finish_plug() or when the writer sleeps. The
// model's do_writepages() is generic_writepages() with this ->writepage:
// one page per bio, submitted right after unlock_page(), which lets the
// completion run while write_cache_pages() is still finishing its pagevec;
// mpage_writepages() would hold it until then.
func MpageWritepage(t *Thread, page *Page, wbc *WritebackControl) {
	t.Enter("mpage_writepage")
	defer t.Exit()
	ino, index := bioOwner(t, page)
	t.K.Ops.StartPageWriteback(t, page)
	UnlockPage(t, page)
	SubmitBio(t, page, ino, index)
	t.Return()
}

// DoWritepages is do_writepages() → generic_writepages() (mm/page-writeback.c,
// v5.10): write_cache_pages() with the filesystem's ->writepage.
func DoWritepages(t *Thread, mapping *AddressSpace, wbc *WritebackControl) {
	t.Enter("do_writepages")
	defer t.Exit()
	if mapping.Host.xfs != nil {
		XfsVmWritepages(t, mapping, wbc)
		t.Return()
		return
	}
	writepage := Writepage(MpageWritepage)
	if mapping.Host.Writepage != nil {
		writepage = mapping.Host.Writepage
	}
	WriteCachePages(t, mapping, wbc, writepage)
	t.Return()
}

// FilemapFdatawrite is filemap_fdatawrite() (mm/filemap.c, v5.10): start
// integrity writeback of the whole file (WB_SYNC_ALL), without waiting for
// it to complete: sync_file_range(SYNC_FILE_RANGE_WRITE), and the first half
// of fsync.
func FilemapFdatawrite(t *Thread, inode *Inode) {
	t.Enter("filemap_fdatawrite")
	defer t.Exit()
	wbc := t.onStackWbc(WritebackControl{SyncMode: WB_SYNC_ALL, NrToWrite: 1 << 30, RangeStart: 0, RangeEnd: MaxIndex})
	DoWritepages(t, inode.Mapping, wbc)
	t.dropWbc()
	t.Return()
}

// WritebackSingleInode is the flusher's background writeback of one inode
// (__writeback_single_inode() in fs/fs-writeback.c, v5.10): WB_SYNC_NONE,
// range_cyclic.
func WritebackSingleInode(t *Thread, inode *Inode) {
	t.Enter("__writeback_single_inode")
	defer t.Exit()
	wbc := t.onStackWbc(WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 1024, RangeCyclic: true})
	DoWritepages(t, inode.Mapping, wbc)
	t.dropWbc()
	t.Return()
}

// Fsync is fsync(2) on a filesystem without metadata to flush:
// file_write_and_wait_range() (mm/filemap.c, v5.10), that is
// __filemap_fdatawrite_range(WB_SYNC_ALL) then __filemap_fdatawait_range().
//
// The oracle runs when it returns. Every write that had returned before
// fsync began is owed to the disk, unless a truncation overlapped the
// fsync. Fsync records what it vouches for (checkVouched: data-loss if the
// disk does not hold it at the end of the execution), and a block that does
// not hold it yet while the write of its page is still in flight
// (PG_writeback set on the page of the file at that index: the I/O has not
// ended, its DMA reads the page's data, which is that version or later) is
// fsync-early: fsync returned before the I/O it had to wait for finished.
func Fsync(t *Thread, inode *Inode) {
	t.Enter("file_write_and_wait_range")
	defer t.Exit()
	defer t.Return() // void, on every path
	defer t.OpEnd(t.OpBegin(OpFsync))
	inode.mu.Lock()
	want := append(t.fsyncWant[:0], inode.completed...)
	t.fsyncWant = want
	if t.Footprinting() {
		t.fpCompleted(inode, false)
	}
	truncations, truncating := inode.truncations, inode.truncating
	t.rdTrunc(inode)
	inode.mu.Unlock()
	wbc := t.onStackWbc(WritebackControl{SyncMode: WB_SYNC_ALL, NrToWrite: 1 << 30, RangeStart: 0, RangeEnd: MaxIndex})
	DoWritepages(t, inode.Mapping, wbc)
	t.dropWbc()
	FilemapFdatawaitRange(t, inode.Mapping, 0, MaxIndex)
	inode.mu.Lock()
	overlapped := inode.truncations != truncations || truncating > 0 || inode.truncating > 0
	t.rdTrunc(inode)
	inode.mu.Unlock()
	if overlapped {
		// A truncation overlapped the fsync: it may legitimately have
		// thrown the data away.
		return
	}
	for index, v := range want {
		if v == 0 {
			continue
		}
		t.vouch(inode, uint64(index), v, truncations)
		got := t.diskBlock(inode.Ino, uint64(index))
		if got.Ino == inode.Ino && got.Index == uint64(index) && got.Version >= v {
			continue
		}
		if page := t.writebackInFlight(inode, uint64(index), v); page != nil {
			t.Raise(FsyncEarly, "fsync of inode %d returned while the write of block %d (pfn %d, under writeback) was in flight: the disk holds %s, not version %d or later", inode.Ino, index, page.pfn, got, v)
		}
	}
}

// vouch is the Fsync oracle's record of one page: the version an fsync
// returned vouching for, and the file's truncation count then.
type vouch struct {
	version     uint64
	truncations int
}

// vouchVal is objFileVouched's value.
func vouchVal(vc vouch) uint64 { return vc.version<<32 | uint64(uint32(vc.truncations)) }

// vouch records, for the end-of-execution check, that an fsync that began
// at truncation count truncations returned vouching for version v of page
// index (a later record replaces an earlier one if it is newer: a later
// truncation count, or the same and a higher version). Reported: a
// read-modify-write of the record.
func (t *Thread) vouch(inode *Inode, index, v uint64, truncations int) {
	inode.mu.Lock()
	defer inode.mu.Unlock()
	inode.vouched = growVouched(inode.vouched, index)
	old := inode.vouched[index]
	nv := old
	if truncations > old.truncations || truncations == old.truncations && v > old.version {
		nv = vouch{v, truncations}
	}
	inode.vouched[index] = nv
	if t.Footprinting() {
		t.cdeAccess(sim.OpRMW, inodeObj(objFileVouched, inode, index), 0, vouchVal(nv))
	}
}

func growVouched(s []vouch, i uint64) []vouch {
	for uint64(len(s)) <= i {
		s = append(s, vouch{})
	}
	return s
}

// writebackInFlight is the Fsync oracle's look at page index of the file:
// the page, if it is in the page cache with PG_writeback set and holds
// version v or later of that page (so the I/O in flight will carry it);
// nil otherwise. Reported reads; no scheduling point.
func (t *Thread) writebackInFlight(inode *Inode, index, v uint64) *Page {
	m := inode.Mapping
	page := t.xaLoadSlot(m, index, m.slot(index))
	if page == nil || !t.testFlag(page, PG_writeback) {
		return nil
	}
	d := t.pageData(page)
	if d.Ino != inode.Ino || d.Index != index || d.Version < v {
		return nil
	}
	return page
}

// checkVouched is the end-of-execution half of the Fsync oracle
// (Kernel.CheckQuiescent): every version an fsync returned vouching for must
// be on the disk (that version or a later one), unless the file was
// truncated since; otherwise the data never reached the disk although fsync
// reported it written (data-loss).
func (inode *Inode) checkVouched(k *Kernel) {
	inode.mu.Lock()
	k.vouched = append(k.vouched[:0], inode.vouched...)
	vouched := k.vouched
	truncations, truncating := inode.truncations, inode.truncating
	inode.mu.Unlock()
	for index, vc := range vouched {
		if vc.version == 0 || vc.truncations != truncations || truncating > 0 {
			continue
		}
		got := k.Disk.Block(inode.Ino, uint64(index))
		if got.Ino != inode.Ino || got.Index != uint64(index) || got.Version < vc.version {
			k.RaiseGlobal(DataLoss, fmt.Sprintf("an fsync of inode %d returned vouching for page %d v%d, but at the end the disk holds %s", inode.Ino, index, vc.version, got))
		}
	}
}

// beginTruncate is inode.beginTruncate() by a task, reported: the
// completed versions are cleared, the counters written (and written again
// by endTruncate).
func (t *Thread) beginTruncate(inode *Inode) {
	inode.beginTruncate()
	if t.Footprinting() {
		inode.mu.Lock()
		t.fpCompleted(inode, true)
		t.wrTrunc(inode)
		inode.mu.Unlock()
	}
}

// endTruncate is inode.endTruncate() by a task, reported.
func (t *Thread) endTruncate(inode *Inode) {
	inode.endTruncate()
	if t.Footprinting() {
		inode.mu.Lock()
		t.wrTrunc(inode)
		inode.mu.Unlock()
	}
}

// beginTruncate records, for the oracles, a truncation of the file until
// endTruncate. Writes that returned before it are thrown away: no later
// fsync owes them to the disk. It reports nothing: in a task,
// (*Thread).beginTruncate is the reported version.
func (inode *Inode) beginTruncate() {
	inode.mu.Lock()
	clear(inode.completed)
	inode.truncations++
	inode.truncating++
	inode.mu.Unlock()
}

// endTruncate ends the truncation beginTruncate began.
func (inode *Inode) endTruncate() {
	inode.mu.Lock()
	inode.truncating--
	inode.mu.Unlock()
}

// newVersion numbers a new write of page index, for the oracles. It
// reports nothing: in a task, writeVersion (footprint_cde.go) is the
// reported version.
func (inode *Inode) newVersion(index uint64) uint64 {
	inode.mu.Lock()
	defer inode.mu.Unlock()
	inode.versions = growU64(inode.versions, index)
	inode.versions[index]++
	return inode.versions[index]
}

// TruncatePagecache is ftruncate(2) to 0 on a file without mappings:
// truncate_setsize() → truncate_pagecache() → truncate_inode_pages()
// (mm/truncate.c, v5.10).
func TruncatePagecache(t *Thread, inode *Inode) {
	t.Enter("truncate_pagecache")
	defer t.Exit()
	defer t.Return()
	t.beginTruncate(inode)
	defer t.endTruncate(inode)
	TruncateInodePagesRange(t, inode.Mapping, 0, MaxIndex)
}

// ReadPageLocked is a reader that takes the page lock the way
// filemap_fault() and the read paths do when they find a page: lookup,
// lock_page, check that it is still in the mapping, unlock, release. Such
// readers share the page's PG_waiters bit and hashed wait queue with
// writeback waiters.
func ReadPageLocked(t *Thread, inode *Inode, index uint64) {
	t.Enter("filemap_fault")
	defer t.Exit()
	defer t.Return() // void, on every path
	page := findGetPage(t, inode.Mapping, index)
	if page == nil {
		return
	}
	LockPage(t, page)
	t.Step("filemap_fault:mapping")
	// The result is not used: the load is not reported (a read whose
	// value decides nothing commutes with every write).
	_ = page.Mapping() == inode.Mapping
	UnlockPage(t, page)
	t.Step("put_page")
	PutPage(t, page)
}
