package mm

import (
	"slices"

	"github.com/pagelab/pagelab/sim"
)

// XFS's buffered writeback through iomap (fs/iomap/buffered-io.c and
// fs/xfs/xfs_aops.c, v5.17): the writeback path of Brian Foster's 2022
// soft lockup (writeback-chase). Two things set it apart from the mpage
// path (MpageWritepage):
//
//   - ioend batching: ->writepages builds an ioend, a run of contiguous
//     pages, across write_cache_pages(); a page's PG_writeback is set when
//     it joins the ioend, but the ioend's bio is submitted only when the run
//     breaks (a page that does not follow) or write_cache_pages() returns.
//     Meanwhile the pages are under writeback with no I/O in flight, and
//     write_cache_pages() may be waiting on the next page's writeback.
//   - completion in a workqueue: an ioend that may need a transaction
//     (extending the file, unwritten extents, COW) completes in process
//     context, in the inode's i_ioend_work (xfs_end_bio → xfs_end_io), one
//     work item per inode: the workqueue never runs it twice at once, so a
//     completion that does not return holds up every later one of the file.

// IoendBatchPages is IOEND_BATCH_SIZE (4096 pages; ebb7fb1557b1, "xfs,
// iomap: limit individual ioend chain lengths in writeback", v5.17-rc3):
// an ioend stops growing at this many pages.
const IoendBatchPages = 4096

// Ioend is struct iomap_ioend: contiguous pages of one inode, written by
// one (chained) bio and completed together. The model's bios are one page
// each (Bio); the ioend's completion runs when the last of them completes.
type Ioend struct {
	inode  *Inode
	offset uint64 // first page index
	bios   []*Bio
}

// xfsInode is the XFS part of an inode: i_ioend_lock, i_ioend_list (the
// completed ioends waiting for the work item) and i_ioend_work.
type xfsInode struct {
	ioendLock SpinLock
	ioendList []*Ioend
	ioendWork WorkStruct
	// deferred says whether ioends complete in the workqueue
	// (xfs_prepare_ioend(): extending writes, unwritten extents, COW),
	// or in the interrupt (iomap_writepage_end_bio: overwrites).
	deferred bool
}

// NewXFSInode is a file on the model's XFS: writeback through iomap with
// ioend batching; if deferred, every ioend completes in the inode's
// i_ioend_work (as xfs_prepare_ioend() sends ioends that extend the file
// or convert unwritten extents), else in the interrupt.
func (k *Kernel) NewXFSInode(deferred bool) *Inode {
	inode := k.NewInode()
	x := &xfsInode{deferred: deferred}
	x.ioendLock.line = lineIoend | uint64(inode.Ino)
	k.InitWork(&x.ioendWork, "kworker", xfsEndIo(inode))
	inode.xfs = x
	return inode
}

// ioendListVal is objIoendList's value: a hash of the queued ioends'
// offsets and sizes, in order.
func ioendListVal(l []*Ioend) uint64 {
	h := uint64(0x10e0)
	for _, io := range l {
		h = fpMix(h ^ (io.offset<<20 | uint64(len(io.bios))) + 0x9e3779b97f4a7c15)
	}
	return h
}

func (t *Thread) rdIoendList(inode *Inode) {
	if t.Footprinting() {
		t.fpRead(obj(objIoendList, uint64(inode.Ino), 0), t.ioendListVal(inode.xfs.ioendList))
	}
}

func (t *Thread) wrIoendList(inode *Inode) {
	if t.Footprinting() {
		t.fpWrite(obj(objIoendList, uint64(inode.Ino), 0), t.ioendListVal(inode.xfs.ioendList))
	}
}

// iomapWritepageCtx is struct iomap_writepage_ctx: the ioend being built,
// which only its writer sees.
type iomapWritepageCtx struct {
	ioend *Ioend
}

// XfsVmWritepages is xfs_vm_writepages() → iomap_writepages()
// (fs/iomap/buffered-io.c, v5.17): write_cache_pages() with
// iomap_do_writepage(), then the submission of the last ioend:
//
//	ret = write_cache_pages(mapping, wbc, iomap_do_writepage, wpc);
//	if (!wpc->ioend)
//		return ret;
//	return iomap_submit_ioend(wpc, wpc->ioend, ret);
func XfsVmWritepages(t *Thread, mapping *AddressSpace, wbc *WritebackControl) {
	t.Enter("iomap_writepages")
	defer t.Exit()
	wpc := &iomapWritepageCtx{}
	WriteCachePages(t, mapping, wbc, func(t *Thread, page *Page, wbc *WritebackControl) {
		iomapWritepageMap(t, page, wbc, wpc)
	})
	if wpc.ioend != nil {
		iomapSubmitIoend(t, wpc.ioend)
	}
	t.Return()
}

// iomapWritepageMap is iomap_do_writepage() → iomap_writepage_map()
// (fs/iomap/buffered-io.c, v5.17) for a page whose one block is mapped:
// add it to the ioend being built (iomap_add_to_ioend(): a page that does
// not follow the ioend, or one past IOEND_BATCH_SIZE, closes it and
// starts a new one; the closed one goes on the submit list), then
//
//	set_page_writeback(page);
//	unlock_page(page);
//	list_for_each_entry_safe(ioend, next, &submit_list, io_list) {
//		list_del_init(&ioend->io_list);
//		error2 = iomap_submit_ioend(wpc, ioend, error);
//		...
//	}
//
// The page's data is what the bio will carry: the snapshot the disk
// oracle checks the transfer against is taken here, with the page locked.
// Its WARN_ON_ONCE(PageWriteback(page)) before set_page_writeback() has
// no failure id: write_cache_pages()' BUG_ON, under the same page lock,
// fires first.
func iomapWritepageMap(t *Thread, page *Page, wbc *WritebackControl, wpc *iomapWritepageCtx) {
	t.Enter("iomap_writepage_map")
	defer t.Exit()
	ino, index := bioOwner(t, page)
	inode := t.pageMapping(page).Host
	var submit *Ioend
	if io := wpc.ioend; io == nil || index != io.offset+uint64(len(io.bios)) || len(io.bios) >= IoendBatchPages {
		submit = io
		wpc.ioend = &Ioend{inode: inode, offset: index}
	}
	t.rdAlloc(page)
	bio := &Bio{Page: page, gen: page.gen.Load(), data: t.pageData(page), Ino: ino, Index: index}
	wpc.ioend.bios = append(wpc.ioend.bios, bio)
	SetPageWriteback(t, page)
	UnlockPage(t, page)
	if submit != nil {
		iomapSubmitIoend(t, submit)
	}
	t.Return()
}

// iomapSubmitIoend is iomap_submit_ioend() (fs/iomap/buffered-io.c, v5.17)
// with xfs_prepare_ioend() (fs/xfs/xfs_aops.c): the bio's end_io is
// xfs_end_bio for an ioend that may need a transaction, else
// iomap_writepage_end_bio; then submit_bio(). The I/O completes in a task
// of its own (an interrupt, as SubmitBio's): the device reads every page,
// then the end_io runs.
func iomapSubmitIoend(t *Thread, ioend *Ioend) {
	t.Enter("iomap_submit_ioend")
	defer t.Exit()
	t.Step("submit_bio")
	n := t.nrIOAdd()
	name := TaskName("io", int(n))
	io := t.K.spawnThread(-1, name, "dma", sim.TaskIRQ, func(ct *Thread) { ioendEndBio(ct, ioend) }, nil)
	for _, bio := range ioend.bios {
		bio.Task, bio.id = name, io.ID
	}
	t.Return()
}

// ioendEndBio is the completion of an ioend's bio chain: the device's
// transfer of every page (bioDMA), then the bio's end_io: xfs_end_bio
// (deferred to the inode's work item) or iomap_writepage_end_bio
// (iomap_finish_ioend in the interrupt).
func ioendEndBio(ct *Thread, ioend *Ioend) {
	for _, bio := range ioend.bios {
		bioDMA(ct, bio)
	}
	if ioend.inode.xfs.deferred {
		xfsEndBio(ct, ioend)
	} else {
		iomapFinishIoend(ct, ioend)
	}
	if ct.Footprinting() {
		ct.fpWrite(obj(objBio, uint64(ct.ID), 1), 0)
	}
}

// xfsEndBio is xfs_end_bio() (fs/xfs/xfs_aops.c, v5.17), in the interrupt:
//
//	spin_lock_irqsave(&ip->i_ioend_lock, flags);
//	if (list_empty(&ip->i_ioend_list))
//		WARN_ON_ONCE(!queue_work(ip->i_mount->m_unwritten_workqueue,
//					 &ip->i_ioend_work));
//	list_add_tail(&ioend->io_list, &ip->i_ioend_list);
//	spin_unlock_irqrestore(&ip->i_ioend_lock, flags);
func xfsEndBio(t *Thread, ioend *Ioend) {
	t.Enter("xfs_end_bio")
	defer t.Exit()
	x := ioend.inode.xfs
	t.Step("xfs_end_bio")
	x.ioendLock.Lock(t)
	t.rdIoendList(ioend.inode)
	if len(x.ioendList) == 0 {
		QueueWork(t, &x.ioendWork)
	}
	x.ioendList = append(x.ioendList, ioend)
	t.wrIoendList(ioend.inode)
	x.ioendLock.Unlock()
	t.Return()
}

// xfsEndIo is xfs_end_io() (fs/xfs/xfs_aops.c, v5.17), the inode's
// i_ioend_work:
//
//	spin_lock_irqsave(&ip->i_ioend_lock, flags);
//	list_replace_init(&ip->i_ioend_list, &tmp);
//	spin_unlock_irqrestore(&ip->i_ioend_lock, flags);
//
//	iomap_sort_ioends(&tmp);
//	while ((ioend = list_first_entry_or_null(&tmp, struct iomap_ioend,
//			io_list))) {
//		list_del_init(&ioend->io_list);
//		iomap_ioend_try_merge(ioend, &tmp);
//		xfs_end_ioend(ioend);
//		cond_resched();
//	}
//
// xfs_end_ioend()'s transaction (the size update, the unwritten
// conversion) comes before iomap_finish_ioends() and may sleep; it is not
// modelled: the stretch the watchdog measures starts after it at the
// latest. The cond_resched() is ebb7fb1557b1's (v5.17-rc3): it ends the
// stretch between two ioends, not inside one's wake-ups.
func xfsEndIo(inode *Inode) func(t *Thread) {
	return func(t *Thread) {
		t.Enter("xfs_end_io")
		defer t.Exit()
		x := inode.xfs
		t.Step("xfs_end_io")
		x.ioendLock.Lock(t)
		t.rdIoendList(inode)
		tmp := x.ioendList
		x.ioendList = nil
		t.wrIoendList(inode)
		x.ioendLock.Unlock()
		// iomap_sort_ioends(): by offset.
		slices.SortStableFunc(tmp, func(a, b *Ioend) int {
			switch {
			case a.offset < b.offset:
				return -1
			case a.offset > b.offset:
				return 1
			}
			return 0
		})
		for i := 0; i < len(tmp); {
			// iomap_ioend_try_merge(): the ioends that follow on.
			io := &Ioend{inode: inode, offset: tmp[i].offset, bios: tmp[i].bios}
			i++
			for i < len(tmp) && tmp[i].offset == io.offset+uint64(len(io.bios)) {
				io.bios = append(slices.Clip(io.bios), tmp[i].bios...)
				i++
			}
			iomapFinishIoend(t, io)
			CondResched(t)
		}
		t.Return()
	}
}

// iomapFinishIoend is iomap_finish_ioends() → iomap_finish_ioend() →
// iomap_finish_page_writeback() (fs/iomap/buffered-io.c, v5.17): for every
// page of the ioend, in order, end_page_writeback() (one block per page:
// write_bytes_pending reaches zero at once). Like every completion it
// holds no page reference of its own: the stale-page oracle watches each
// page while its writeback is being ended.
func iomapFinishIoend(t *Thread, ioend *Ioend) {
	t.Enter("iomap_finish_ioend")
	defer t.Exit()
	for _, bio := range ioend.bios {
		t.bio = bio
		m := t.OpBegin(OpEndPageWriteback)
		t.K.Ops.EndPageWriteback(t, bio.Page)
		t.OpEnd(m)
		t.bio = nil
	}
	t.Return()
}

// FilemapWriteAndWaitRange is filemap_write_and_wait_range() (mm/filemap.c,
// v5.17): __filemap_fdatawrite_range(WB_SYNC_ALL) over the range, then
// __filemap_fdatawait_range(). Direct I/O calls it before reading
// (iomap_dio_rw(), fs/iomap/direct-io.c: "ret =
// filemap_write_and_wait_range(mapping, pos, end);"), so that the read
// sees what buffered writes left in the page cache.
func FilemapWriteAndWaitRange(t *Thread, mapping *AddressSpace, start, end uint64) {
	t.Enter("filemap_write_and_wait_range")
	defer t.Exit()
	wbc := t.onStackWbc(WritebackControl{SyncMode: WB_SYNC_ALL, NrToWrite: 1 << 30, RangeStart: start, RangeEnd: end})
	DoWritepages(t, mapping, wbc)
	t.dropWbc()
	FilemapFdatawaitRange(t, mapping, start, end)
	t.Return()
}

// IomapDioRead is a direct-I/O read(2) of pages start..end through
// iomap_dio_rw() (fs/iomap/direct-io.c, v5.17): the page cache is written
// back and waited on first (FilemapWriteAndWaitRange). The read's own I/O
// goes from the device to the user's buffer and touches no page-cache
// state: it is not modelled (the task's next call comes that much sooner).
func IomapDioRead(t *Thread, inode *Inode, start, end uint64) {
	t.Enter("iomap_dio_rw")
	defer t.Exit()
	FilemapWriteAndWaitRange(t, inode.Mapping, start, end)
	t.Return()
}
