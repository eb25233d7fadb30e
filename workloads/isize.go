package workloads

import "github.com/pagelab/pagelab/mm"

// ISizeCompress is race E (seed 004, d98da49977f6): btrfs'
// compress_file_range() read i_size twice.
//
// A file of 5 dirty pages (i_size 20480). Then:
//
//	btrfs  compressing writeback of [0, 20479]: locks the 5 pages, sizes
//	       the extent from i_size (two reads), clears the dirty bits of
//	       [0, actual_end) for the I/O, unlocks
//	cpu2…  write(2) of page 5, which raises i_size to 24576 (`writers`)
//	trunc  an expanding ftruncate to 28672 (`truncate_up`)
//	fall   fallocate to 32768 (`fallocate`)
//
// If i_size grows between the two reads, actual_end runs past the locked
// range and clear_page_dirty_for_io() meets a page it did not lock.
var ISizeCompress = &Workload{
	ID:   "isize-compress",
	Race: "E",
	Desc: "race E: btrfs compress_file_range reads i_size twice (d98da49977f6)",
	Params: []Param{
		{Name: "writers", Default: 1, Min: 0, Max: 8, Desc: "writes extending the file by a page"},
		{Name: "truncate_up", Default: 1, Min: 0, Max: 1, Desc: "an expanding ftruncate"},
		{Name: "fallocate", Default: 1, Min: 0, Max: 1, Desc: "a fallocate beyond EOF"},
	},
	Fixes:         []string{"baseline", "read-once"},
	StepsEstimate: 80,
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		// Josef Bacik's kernels were v5.2: clear_page_dirty_for_io's
		// BUG_ON(!PageLocked) is unconditional there.
		k.Version = mm.KERNEL_VERSION(5, 2, 0)
		return func(t *mm.Thread) {
			inode := k.NewInode()
			for i := range 5 {
				mm.ExtendingWrite(t, inode, uint64(i))
			}
			k.Spawn("btrfs", "compress", func(t *mm.Thread) {
				mm.CompressFileRange(t, inode, 0, 5*mm.PAGE_SIZE-1)
			})
			for i := range p["writers"] {
				k.Spawn(mm.TaskName("cpu", 2+i), "write", func(t *mm.Thread) {
					mm.ExtendingWrite(t, inode, uint64(5+i))
				})
			}
			if p["truncate_up"] > 0 {
				k.Spawn("trunc", "ftruncate", func(t *mm.Thread) {
					mm.TruncateSetsizeUp(t, inode, 7*mm.PAGE_SIZE)
				})
			}
			if p["fallocate"] > 0 {
				k.Spawn("fall", "fallocate", func(t *mm.Thread) {
					mm.Fallocate(t, inode, 8*mm.PAGE_SIZE)
				})
			}
		}
	},
}
