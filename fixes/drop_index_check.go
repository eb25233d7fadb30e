package fixes

import "github.com/pagelab/pagelab/mm"

// DropIndexCheck is d417b49fff3e ("mm/filemap: remove bogus VM_BUG_ON",
// Matthew Wilcox): it deletes one line of find_lock_entries() (mm/filemap.c),
//
//   - VM_BUG_ON_PAGE(page->index != xas.xa_index, page);
//
// because "it is not safe to check page->index without holding the page
// lock": a lockless lookup can meet a page in a slot other than its own
// index (a THP found in a later slot while another task deletes it slot by
// slot, or collapse_file()'s rollback putting small pages back). The
// trylock_page() and the page->mapping check after it are what protect
// truncation.
var DropIndexCheck = &Fix{
	ID:      "drop-index-check",
	Ref:     "d417b49fff3e",
	Desc:    "delete find_lock_entries' VM_BUG_ON(page->index != xas.xa_index)",
	Enables: []string{"find_lock_entries:no_index_check"},
	Apply: func(ops *mm.Ops) {
		ops.SkipIndexVMBug = true
	},
}
