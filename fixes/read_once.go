package fixes

import "github.com/pagelab/pagelab/mm"

// ReadOnce is d98da49977f6 ("btrfs: fix race between compress_file_range
// and i_size changes", Josef Bacik): read i_size once into a local, fenced
// by barrier()s that act as READ_ONCE, so the comparison and the value
// agree. (Generically, d8f899d13d72 made i_size_read() a single acquire
// load in v6.9.)
var ReadOnce = &Fix{
	ID:       "read-once",
	Ref:      "d98da49977f6",
	Desc:     "compress_file_range reads i_size once (READ_ONCE via barrier())",
	Replaces: []string{"compress_file_range:actual_end"},
	Apply: func(ops *mm.Ops) {
		ops.ActualEnd = actualEndReadOnce
	},
}

// actualEndReadOnce is compress_file_range()'s range end with the fix:
//
//	barrier();
//	i_size = i_size_read(inode);
//	barrier();
//	actual_end = min_t(u64, i_size, end + 1);
func actualEndReadOnce(t *mm.Thread, inode *mm.Inode, end int64) int64 {
	return min(mm.ISizeRead(t, inode), end+1)
}
