package fixes

import "github.com/pagelab/pagelab/mm"

// DropBogusVMBug is the two deletions together, as the thread of seed 003
// ended up wanting them: d417b49fff3e (drop-index-check, find_lock_entries'
// VM_BUG_ON_PAGE(page->index != xas.xa_index)) and Hugh Dickins' removal of
// truncate_inode_page()'s VM_BUG_ON_PAGE(PageTail(page)) (drop-tail-check):
// the page lock and the page->mapping re-check after locking are what
// protect truncation. It is the composition drop-index-check+drop-tail-check
// under one id.
var DropBogusVMBug = &Fix{
	ID:       "drop-bogus-vm-bug",
	Ref:      "d417b49fff3e",
	Desc:     "drop-index-check and drop-tail-check together: trust the page lock and mapping check",
	Enables:  []string{"find_lock_entries:no_index_check", "truncate_inode_page:no_tail_check"},
	Includes: []string{"drop-index-check", "drop-tail-check"},
	Apply: func(ops *mm.Ops) {
		DropIndexCheck.Apply(ops)
		DropTailCheck.Apply(ops)
	},
}
