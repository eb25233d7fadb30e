package fixes

import "github.com/pagelab/pagelab/mm"

// DropBogusVMBug deletes the VM_BUG_ON_PAGE(page->index != xas.xa_index) of
// find_lock_entries (d417b49fff3e: "It is not safe to check page->index
// without holding the page lock") and, as Hugh Dickins proposed in seed
// 003, the VM_BUG_ON_PAGE(PageTail(page)) of truncate_inode_page: the page
// lock and the page->mapping re-check after locking are what protect
// truncation.
var DropBogusVMBug = &Fix{
	ID:      "drop-bogus-vm-bug",
	Ref:     "d417b49fff3e",
	Desc:    "drop the page->index and PageTail VM_BUG_ONs; trust the lock and mapping check",
	Enables: []string{"find_lock_entries:no_index_check", "truncate_inode_page:no_tail_check"},
	Apply: func(ops *mm.Ops) {
		ops.SkipIndexVMBug = true
		ops.SkipTailVMBug = true
	},
}

// InvalidateLock is 55fc0d917467 ("mm, thp: lock filemap when truncating
// page cache", Rongwei Wang): the truncation that opening a file with
// read-only THPs for write does in do_dentry_open() runs under
// filemap_invalidate_lock(), so two such opens no longer truncate
// concurrently.
var InvalidateLock = &Fix{
	ID:      "invalidate-lock",
	Ref:     "55fc0d917467",
	Desc:    "open-for-write truncation of a file with THPs under filemap_invalidate_lock",
	Enables: []string{"do_dentry_open:invalidate_lock"},
	Apply: func(ops *mm.Ops) {
		ops.OpenTruncateInvalidateLock = true
	},
}
