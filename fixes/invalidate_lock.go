package fixes

import "github.com/pagelab/pagelab/mm"

// InvalidateLock is 55fc0d917467 ("mm, thp: lock filemap when truncating
// page cache", Rongwei Wang and Xu Yu; Tested-by: Song Liu; merged after
// v5.15, Cc stable, in 5.15.y) as merged, fs/open.c only:
//
//		smp_mb();
//	-	if (filemap_nr_thps(inode->i_mapping))
//	+	if (filemap_nr_thps(inode->i_mapping)) {
//	+		filemap_invalidate_lock(inode->i_mapping);
//			truncate_pagecache(inode, 0);
//	+		filemap_invalidate_unlock(inode->i_mapping);
//	+	}
//
// "This patch mainly to lock filemap when one enter truncate_pagecache(),
// avoiding truncating the same page cache concurrently." Two opens for
// write no longer truncate at once; collapse_file() does not take the lock,
// so its rollback still races with one truncation.
var InvalidateLock = &Fix{
	ID:      "invalidate-lock",
	Ref:     "55fc0d917467",
	Desc:    "do_dentry_open's truncate_pagecache under filemap_invalidate_lock (fs/open.c)",
	Enables: []string{"do_dentry_open:invalidate_lock"},
	Apply: func(ops *mm.Ops) {
		ops.OpenTruncateInvalidateLock = true
	},
}
