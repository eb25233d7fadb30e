package workloads

import "github.com/pagelab/pagelab/mm"

// ISizeCompress is race E (seed 004, d98da49977f6): btrfs'
// compress_file_range() read i_size twice. The kernel is v5.2 (Josef
// Bacik's), whose clear_page_dirty_for_io() BUG_ON(!PageLocked(page)) is
// unconditional.
//
// A file of 5 dirty pages (i_size 20480). Before the race, a reader
// tailing the file read at EOF (`eof_read`): in v5.2 that leaves a clean
// page of zeros at index 5, past EOF (mm.GenericFileBufferedReadEOF).
// Then:
//
//	btrfs  compressing writeback of [0, 20479]: locks the 5 pages, sizes
//	       the extent from i_size (two reads), clears the dirty bits of
//	       [0, actual_end) for the I/O, unlocks
//	cpu2…  O_APPEND write(2)s of a page each, raising i_size (`writers`)
//	trunc  an expanding ftruncate to 24576 (`truncate_up`)
//	fall   fallocate(fd, 0, 20480, 4096) (`fallocate`)
//
// Writers, truncate and fallocate hold inode_lock; the writeback does not.
// If i_size grows between the two reads, actual_end runs past the locked
// range and clear_page_dirty_for_io() meets a page it did not lock — if
// there is one: neither an expanding truncate nor a fallocate creates a
// page past the old EOF (btrfs_truncate_block only touches the page holding
// an unaligned old i_size; the rest is extent metadata; see mm/isize.go), so
// with writers=0 the page the BUG meets is the one the EOF read left. With
// eof_read=0 and writers=0, a truncate or fallocate in the window sizes the
// extent over a missing page: v5.2's compressor would then kmap() the NULL
// that find_get_page returned (an oops the lab has no id for), which the
// model does not follow (mm.CompressFileRange).
var ISizeCompress = &Workload{
	ID:   "isize-compress",
	Race: "E",
	Desc: "race E: btrfs compress_file_range reads i_size twice (d98da49977f6)",
	Params: []Param{
		{Name: "writers", Default: 1, Min: 0, Max: 8, Desc: "O_APPEND writes extending the file by a page"},
		{Name: "truncate_up", Default: 1, Min: 0, Max: 1, Desc: "an expanding ftruncate by a page"},
		{Name: "fallocate", Default: 1, Min: 0, Max: 1, Desc: "a fallocate of the page past EOF"},
		{Name: "eof_read", Default: 1, Min: 0, Max: 1, Desc: "a read(2) at EOF before the race, leaving a page past EOF"},
	},
	Fixes:         []string{"baseline", "read-once"},
	StepsEstimate: 120,
	Sampler:       "surw",
	SamplerFocus:  "i_size",
	SamplerWhy:    "the report names the variable, i_size read twice: surw with the i_size accesses as its interesting events fires race E's bug-not-locked 28x (race-e-fallocate, race-e-truncate) to 37x (race-e) as often per execution as the random walk, surw without a focus 13x to 21x (README, pagelab hunt)",
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		// Josef Bacik's kernels were v5.2: clear_page_dirty_for_io's
		// BUG_ON(!PageLocked) is unconditional there.
		k.Version = mm.KERNEL_VERSION(5, 2, 0)
		return func(t *mm.Thread) {
			inode := k.NewInode()
			for i := range 5 {
				mm.ExtendingWrite(t, inode, uint64(i))
			}
			if p["eof_read"] > 0 {
				mm.GenericFileBufferedReadEOF(t, inode, 5)
			}
			k.Spawn("btrfs", "compress", func(t *mm.Thread) {
				mm.CompressFileRange(t, inode, 0, 5*mm.PAGE_SIZE-1)
			})
			for i := range p["writers"] {
				k.Spawn(mm.TaskName("cpu", 2+i), "write", func(t *mm.Thread) {
					mm.BtrfsAppend(t, inode)
				})
			}
			if p["truncate_up"] > 0 {
				k.Spawn("trunc", "ftruncate", func(t *mm.Thread) {
					mm.BtrfsTruncateUp(t, inode, 6*mm.PAGE_SIZE)
				})
			}
			if p["fallocate"] > 0 {
				k.Spawn("fall", "fallocate", func(t *mm.Thread) {
					mm.BtrfsFallocate(t, inode, 5*mm.PAGE_SIZE, mm.PAGE_SIZE)
				})
			}
		}
	},
}
