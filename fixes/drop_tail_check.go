package fixes

import "github.com/pagelab/pagelab/mm"

// DropTailCheck is Hugh Dickins' proposal in seed 003 (lore
// 3d264ed9-f8fd-60d4-7125-f9f745ebeb52@google.com, 30 Sep 2021): delete
// the VM_BUG_ON_PAGE(PageTail(page), page) at the top of
// truncate_inode_page() (mm/truncate.c, v5.14),
//
//	int truncate_inode_page(struct address_space *mapping, struct page *page)
//	{
//	-	VM_BUG_ON_PAGE(PageTail(page), page);
//	-
//		if (page->mapping != mapping)
//			return -EIO;
//
// "this bug needs nothing more than simply removing the
// VM_BUG_ON_PAGE(PageTail(page), page) from truncate_inode_page() (You
// could say move its page->mapping check before its PageTail check; but
// the PageTail check would then never catch anything.)": a tail page's
// mapping is never the file's, so the check that follows turns it away.
// The Ref is the message: no merged commit of this one-line removal was
// found (truncate_inode_page() became truncate_inode_folio() in the folio
// conversion of v5.17).
var DropTailCheck = &Fix{
	ID:      "drop-tail-check",
	Ref:     "3d264ed9-f8fd-60d4-7125-f9f745ebeb52@google.com",
	Desc:    "delete truncate_inode_page's VM_BUG_ON_PAGE(PageTail); its mapping check turns a tail away",
	Enables: []string{"truncate_inode_page:no_tail_check"},
	Apply: func(ops *mm.Ops) {
		ops.SkipTailVMBug = true
	},
}
