package mm

import (
	"sync/atomic"
)

// i_size and its readers: include/linux/fs.h (i_size_read/i_size_write),
// mm/filemap.c (generic_write_end), and btrfs' compressing writeback
// (fs/btrfs/inode.c compress_file_range, v5.2).

// PAGE_SIZE is 4 KiB.
const PAGE_SIZE = 4096

// isize is inode->i_size. 64-bit kernels read and write it without a lock
// (i_size_read is a plain load; d8f899d13d72 made it an acquire load in
// v6.9): writers hold i_rwsem (Inode.iRwsem) or the page lock, readers may
// hold nothing.
type isize struct {
	v atomic.Int64
}

// ISizeRead is i_size_read(): one plain read, one step.
func ISizeRead(t *Thread, inode *Inode) int64 {
	t.Step("i_size_read")
	v := inode.size.v.Load()
	if t.Footprinting() {
		t.cdeI(cdeR|objISize, inode, 0, uint64(v))
	}
	return v
}

// ISizeWrite is i_size_write(): one store, one step.
func ISizeWrite(t *Thread, inode *Inode, size int64) {
	t.Step("i_size_write")
	inode.size.v.Store(size)
	if t.Footprinting() {
		t.cdeI(cdeW|objISize, inode, 0, uint64(size))
	}
}

// Size is i_size without a scheduling point (oracles and tests).
func (inode *Inode) Size() int64 { return inode.size.v.Load() }

// ExtendingWrite is a write(2) of page index that may extend the file:
// generic_perform_write() whose ->write_end (generic_write_end(),
// mm/filemap.c / fs/buffer.c, v5.10) raises i_size while the page is still
// locked — "if (pos + copied > inode->i_size) i_size_write(inode, pos +
// copied)" — before unlock_page().
func ExtendingWrite(t *Thread, inode *Inode, index uint64) {
	t.Enter("generic_perform_write")
	defer t.Exit()
	defer t.Return() // void, on every path
	v := t.writeVersion(inode, index)
	page := grabCachePageWriteBegin(t, inode.Mapping, index)
	if page == nil {
		return
	}
	t.Step("copy_from_user")
	t.setPageData(page, PageData{Ino: inode.Ino, Index: index, Version: v})
	SetPageUptodate(t, page)
	SetPageDirty(t, page)
	t.Enter("generic_write_end")
	if end := int64(index+1) * PAGE_SIZE; end > ISizeRead(t, inode) {
		ISizeWrite(t, inode, end)
	}
	t.Return()
	t.Exit()
	UnlockPage(t, page)
	t.Step("put_page")
	PutPage(t, page)
}

// The i_size raisers of race E, as btrfs v5.2 has them (fs/btrfs/inode.c
// btrfs_setsize, btrfs_cont_expand, btrfs_truncate_block; fs/btrfs/file.c
// btrfs_fallocate, btrfs_file_write_iter). All of them hold inode_lock
// (i_rwsem); the compressing writeback does not. What each does to the page
// cache:
//
//   - btrfs_truncate_block(inode, oldsize, 0, 0) touches the page holding
//     the old i_size, and only if the size ends inside a block ("if
//     (IS_ALIGNED(offset, blocksize) && (!len || IS_ALIGNED(len,
//     blocksize))) goto out;"): find_or_create_page, wait_on_page_writeback,
//     btrfs_set_extent_delalloc on that block, memset of its tail,
//     set_page_dirty, unlock_page. That page is inside the old size, so it
//     is within any writeback range that reaches EOF, and locked by it while
//     it runs.
//   - the rest of btrfs_cont_expand (hole extents past the old size, under
//     the extent lock) and btrfs_prealloc_file_range (prealloc extents) are
//     metadata: no page is created, nothing is made delalloc.
//   - pagecache_isize_extended() (mm/truncate.c, v5.2) returns at once on
//     btrfs: "if (from >= to || bsize == PAGE_SIZE) return;".
//
// So neither an expanding truncate nor a fallocate puts a page past the
// range a writeback locked; the page clear_page_dirty_for_io() meets must
// already be in the page cache. In v5.2 a read(2) at EOF leaves one there
// (GenericFileBufferedReadEOF).

// inodeIRwsemLocked, inodeIRwsemWaiters: the objInodeMisc fields of
// i_rwsem (as inodeInvalidateLocked and inodeRwsemWaiters are of the
// invalidate_lock).
const (
	inodeIRwsemLocked  = 3
	inodeIRwsemWaiters = 4
)

// InodeLock is inode_lock(): down_write(&inode->i_rwsem)
// (include/linux/fs.h; rwsemW).
func InodeLock(t *Thread, inode *Inode) { inode.iRwsem.downWrite(t, inode, "inode_lock") }

// InodeUnlock is inode_unlock(): up_write().
func InodeUnlock(t *Thread, inode *Inode) { inode.iRwsem.upWrite(t, inode) }

// btrfsTruncateBlock is btrfs_truncate_block(inode, from, len, front)
// (fs/btrfs/inode.c, v5.2) with len = front = 0, as btrfs_cont_expand and
// btrfs_fallocate call it at the old i_size: nothing if from is
// block-aligned; otherwise, on the page holding from
// (find_or_create_page, locked), wait for writeback, make its block
// delalloc (btrfs_set_extent_delalloc: the extent-io tree is not modelled;
// a dirty page is what the writeback of the file writes), zero the block
// past from (a new version of the page), set_page_dirty, unlock, put.
// Blocks are pages (sectorsize 4 KiB).
func btrfsTruncateBlock(t *Thread, inode *Inode, from int64) {
	t.Enter("btrfs_truncate_block")
	defer t.Exit()
	defer t.Return() // void, on every path
	if from%PAGE_SIZE == 0 {
		return
	}
	index := uint64(from / PAGE_SIZE)
	v := t.writeVersion(inode, index)
	page := grabCachePageWriteBegin(t, inode.Mapping, index)
	if page == nil {
		return // -ENOMEM
	}
	// The page holding i_size was written: it is uptodate (the
	// btrfs_readpage branch is not needed by the workloads).
	WaitOnPageWriteback(t, page)
	t.Step("memset")
	t.setPageData(page, PageData{Ino: inode.Ino, Index: index, Version: v})
	SetPageDirty(t, page)
	UnlockPage(t, page)
	t.Step("put_page")
	PutPage(t, page)
}

// btrfsContExpand is btrfs_cont_expand(inode, oldsize, size)
// (fs/btrfs/inode.c, v5.2): btrfs_truncate_block at oldsize, then hole
// extents for [ALIGN(oldsize), ALIGN(size)) under the extent lock —
// metadata, not modelled.
func btrfsContExpand(t *Thread, inode *Inode, oldsize, size int64) {
	t.Enter("btrfs_cont_expand")
	defer t.Exit()
	btrfsTruncateBlock(t, inode, oldsize)
	t.Return()
}

// BtrfsTruncateUp is an expanding ftruncate(2) on btrfs: do_truncate()
// takes inode_lock, notify_change() → btrfs_setattr() → btrfs_setsize()
// (fs/btrfs/inode.c, v5.2):
//
//	loff_t oldsize = i_size_read(inode);
//	...
//	if (newsize > oldsize) {
//		btrfs_wait_for_snapshot_creation(root);
//		ret = btrfs_cont_expand(inode, oldsize, newsize);
//		...
//		trans = btrfs_start_transaction(root, 1);
//		...
//		i_size_write(inode, newsize);
//		btrfs_ordered_update_i_size(inode, i_size_read(inode), NULL);
//		pagecache_isize_extended(inode, oldsize, newsize);
//
// The transaction, disk_i_size (btrfs_ordered_update_i_size) and
// pagecache_isize_extended (a no-op when the block size is PAGE_SIZE) are
// not modelled.
func BtrfsTruncateUp(t *Thread, inode *Inode, newsize int64) {
	t.Enter("do_truncate")
	defer t.Exit()
	defer t.Return() // void, on every path
	InodeLock(t, inode)
	defer InodeUnlock(t, inode)
	t.Enter("btrfs_setsize")
	defer t.Exit()
	defer t.Return()
	oldsize := ISizeRead(t, inode)
	if newsize <= oldsize {
		return // the shrinking path is not this workload's
	}
	btrfsContExpand(t, inode, oldsize, newsize)
	ISizeWrite(t, inode, newsize)
}

// BtrfsFallocate is fallocate(fd, 0, offset, len) past EOF on btrfs:
// btrfs_fallocate() (fs/btrfs/file.c, v5.2) under inode_lock:
//
//	if (alloc_start > inode->i_size) {
//		ret = btrfs_cont_expand(inode, i_size_read(inode), alloc_start);
//	} else if (offset + len > inode->i_size) {
//		ret = btrfs_truncate_block(inode, inode->i_size, 0, 0);
//	}
//	... btrfs_wait_ordered_range(), lock_extent_bits(alloc_start,
//	    locked_end), qgroup reservation ...
//	ret = btrfs_prealloc_file_range(inode, mode, range->start, ...);
//	...
//	ret = btrfs_fallocate_update_isize(inode, actual_end, mode);
//
// __btrfs_prealloc_file_range (fs/btrfs/inode.c) inserts the prealloc
// extent and raises i_size past it ("if (!(mode & FALLOC_FL_KEEP_SIZE) &&
// (actual_len > inode->i_size) && (cur_offset > inode->i_size)) { ...
// i_size_write(inode, i_size);"): one extent here, so one i_size_write of
// offset + len. Its reads of i_size see this task's value (every writer of
// i_size holds inode_lock): one read. Ordered extents, extent locks and
// space reservation are not modelled.
func BtrfsFallocate(t *Thread, inode *Inode, offset, length int64) {
	t.Enter("btrfs_fallocate")
	defer t.Exit()
	defer t.Return() // void, on every path
	InodeLock(t, inode)
	defer InodeUnlock(t, inode)
	allocStart := offset / PAGE_SIZE * PAGE_SIZE
	size := ISizeRead(t, inode)
	switch {
	case allocStart > size:
		btrfsContExpand(t, inode, size, allocStart)
	case offset+length > size:
		btrfsTruncateBlock(t, inode, size)
	}
	if offset+length > size {
		t.Enter("btrfs_prealloc_file_range")
		ISizeWrite(t, inode, offset+length)
		t.Return()
		t.Exit()
	}
}

// BtrfsAppend is a one-page write(2) with O_APPEND on btrfs:
// btrfs_file_write_iter() (fs/btrfs/file.c, v5.2) under inode_lock —
// generic_write_checks() sets the position to i_size ("if (iocb->ki_flags
// & IOCB_APPEND) iocb->ki_pos = i_size_read(inode);", mm/filemap.c) — then
// btrfs_buffered_write(): prepare_pages (find_or_create_page, locked), the
// copy, btrfs_dirty_pages (delalloc, SetPageUptodate, set_page_dirty, then
// "if (end_pos > isize) i_size_write(inode, end_pos);"), btrfs_drop_pages
// (unlock_page, put_page): ExtendingWrite's order. i_size is kept
// page-aligned by every raiser here, so the append is one whole page.
func BtrfsAppend(t *Thread, inode *Inode) {
	t.Enter("btrfs_file_write_iter")
	defer t.Exit()
	defer t.Return() // void, on every path
	InodeLock(t, inode)
	defer InodeUnlock(t, inode)
	pos := ISizeRead(t, inode)
	ExtendingWrite(t, inode, uint64(pos/PAGE_SIZE))
}

// GenericFileBufferedReadEOF is a read(2) at offset index*PAGE_SIZE, at or
// past EOF, through generic_file_buffered_read() (mm/filemap.c, v5.2),
// whose first check of i_size comes after the page is found or created:
//
//	page = find_get_page(mapping, index);
//	if (!page) {
//		page_cache_sync_readahead(...);	/* nothing past EOF */
//		page = find_get_page(mapping, index);
//		if (unlikely(page == NULL))
//			goto no_cached_page;
//	}
//	...
//	isize = i_size_read(inode);
//	end_index = (isize - 1) >> PAGE_SHIFT;
//	if (unlikely(!isize || index > end_index)) {
//		put_page(page);
//		goto out;
//	}
//	...
//	no_cached_page:
//	page = page_cache_alloc(mapping);
//	error = add_to_page_cache_lru(page, mapping, index, ...);
//	goto readpage;
//
// so the read returns nothing but leaves an uptodate, clean page of zeros
// (btrfs_readpage of a hole) past EOF in the page cache. Readahead, which
// stops at end_index, is not modelled.
func GenericFileBufferedReadEOF(t *Thread, inode *Inode, index uint64) {
	t.Enter("generic_file_buffered_read")
	defer t.Exit()
	defer t.Return() // void, on every path
	m := inode.Mapping
	page := findGetPage(t, m, index)
	if page == nil {
		t.Step("__page_cache_alloc")
		page = AllocPage(t)
		if page == nil {
			return // -ENOMEM
		}
		t.setFlag(page, PG_locked) // __SetPageLocked
		if !addToPageCacheLRU(t, page, m, index) {
			// -EEXIST: the retry of find_page is not modelled.
			t.clearFlag(page, PG_locked)
			t.Step("put_page")
			PutPage(t, page)
			return
		}
		// btrfs_readpage of a hole: the page is zeroed (no data of
		// the file) and uptodate, and unlocked by the read's end.
		t.Step("btrfs_readpage")
		t.setPageData(page, PageData{})
		SetPageUptodate(t, page)
		UnlockPage(t, page)
	}
	if isize := ISizeRead(t, inode); isize == 0 || int64(index) > (isize-1)/PAGE_SIZE {
		t.Step("put_page")
		PutPage(t, page)
		return
	}
	// Inside i_size: the copy to user space, not modelled.
	t.Step("put_page")
	PutPage(t, page)
}

// ActualEnd is the end of the range compress_file_range() compresses, as
// v5.2 computes it after 62b37622718c:
//
//	actual_end = min_t(u64, i_size_read(inode), end + 1);
//
// The compiler evaluated i_size_read() twice — once for the comparison, once
// for the value (dsterba's disassembly: cmp 0x48(%r15) … cmovbe
// 0x48(%r15)) — two reads, two steps.
func ActualEnd(t *Thread, inode *Inode, end int64) int64 {
	if ISizeRead(t, inode) <= end+1 {
		return ISizeRead(t, inode)
	}
	return end + 1
}

// CompressFileRange is btrfs' compressing writeback of [start, end] (byte
// offsets of whole pages; fs/btrfs/inode.c compress_file_range and
// submit_compressed_extents, fs/btrfs/extent_io.c, v5.2), reduced to its
// page handling: the pages of the delalloc range are locked
// (find_lock_delalloc_range → lock_delalloc_pages), the extent is sized from
// i_size (Ops.ActualEnd), and extent_clear_unlock_delalloc() →
// __process_pages_contig() walks [start, start + ram_size) with
// PAGE_UNLOCK | PAGE_CLEAR_DIRTY | PAGE_SET_WRITEBACK: for each page
// clear_page_dirty_for_io() (which BUG()s on an unlocked page in v5.2),
// set_page_writeback(), unlock_page(); the compressed extent is then
// written (one bio per page here).
//
// ram_size is total_in rounded up to a page ("total_in = ALIGN(total_in,
// PAGE_SIZE);"), and total_in is what btrfs_compress_pages consumed of
// [start, actual_end): all of it here (compressible data). The walk gets
// its pages from find_get_pages_contig(), which stops at the first index
// with no page; then "if (ret == 0) { ASSERT(page_ops & PAGE_LOCK); err =
// -EAGAIN; goto out; }" ends it (an assertion failure only with
// CONFIG_BTRFS_ASSERT, not modelled). Not modelled either: the compressor's
// own reads of [start, actual_end) (zlib_compress_pages: "in_page =
// find_get_page(mapping, start >> PAGE_SHIFT); data_in = kmap(in_page);",
// no NULL check), which oops earlier if a page below actual_end is
// missing: in the workload, only after a truncate or fallocate past the
// pages there are (isize-compress doc comment).
func CompressFileRange(t *Thread, inode *Inode, start, end int64) {
	t.Enter("compress_file_range")
	defer t.Exit()
	defer t.Return() // after __process_pages_contig's Exit
	m := inode.Mapping
	first, last := uint64(start/PAGE_SIZE), uint64(end/PAGE_SIZE)
	for i := first; i <= last; i++ {
		if page := findGetPage(t, m, i); page != nil {
			LockPage(t, page)
			t.Step("put_page")
			PutPage(t, page) // the page cache still holds it; locked
		}
	}
	actualEnd := t.K.Ops.ActualEnd(t, inode, end)
	t.Enter("__process_pages_contig")
	defer t.Exit()
	defer t.Return()
	for i := first; int64(i)*PAGE_SIZE < actualEnd; i++ {
		page := findGetPage(t, m, i)
		if page == nil {
			break // find_get_pages_contig found nothing: -EAGAIN
		}
		if ClearPageDirtyForIO(t, nil, page) {
			t.Step("set_page_writeback")
			SetPageWriteback(t, page)
			ino, index := bioOwner(t, page)
			SubmitBio(t, page, ino, index)
		}
		UnlockPage(t, page)
		t.Step("put_page")
		PutPage(t, page)
	}
}
