package mm

import "sync/atomic"

// i_size and its readers: include/linux/fs.h (i_size_read/i_size_write),
// mm/filemap.c (generic_write_end), and btrfs' compressing writeback
// (fs/btrfs/inode.c compress_file_range, v5.2).

// PAGE_SIZE is 4 KiB.
const PAGE_SIZE = 4096

// isize is inode->i_size. 64-bit kernels read and write it without a lock
// (i_size_read is a plain load; d8f899d13d72 made it an acquire load in
// v6.9): writers hold i_rwsem or the page lock, readers may hold nothing.
type isize struct{ v atomic.Int64 }

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

// TruncateSetsizeUp is an expanding ftruncate(2): truncate_setsize() raises
// i_size; there is no page cache to drop.
func TruncateSetsizeUp(t *Thread, inode *Inode, size int64) {
	t.Enter("truncate_setsize")
	defer t.Exit()
	if size > ISizeRead(t, inode) {
		ISizeWrite(t, inode, size)
	}
	t.Return()
}

// Fallocate is fallocate(2) without FALLOC_FL_KEEP_SIZE beyond EOF: blocks
// are reserved and i_size raised (btrfs_fallocate → btrfs_setsize path).
func Fallocate(t *Thread, inode *Inode, size int64) {
	t.Enter("btrfs_fallocate")
	defer t.Exit()
	if size > ISizeRead(t, inode) {
		ISizeWrite(t, inode, size)
	}
	t.Return()
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
// offsets of whole pages), reduced to its page handling: the pages of the
// range are locked (lock_delalloc_pages / the writepage path), the extent
// is sized from i_size (Ops.ActualEnd), and extent_clear_unlock_delalloc()
// → __process_pages_contig() walks [start, start + ram_size) with
// PAGE_CLEAR_DIRTY | PAGE_SET_WRITEBACK | PAGE_UNLOCK: for each page
// clear_page_dirty_for_io() (which BUG()s on an unlocked page),
// set_page_writeback(), unlock_page(); the compressed extent is then
// written (one bio per page here).
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
			continue
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
