package workloads

import "github.com/pagelab/pagelab/mm"

// ThpCollapseTruncate is race D (seed 003): khugepaged's collapse_file()
// against page-cache truncation.
//
// A read-only file of 8 clean pages (a DSO being executed). Then:
//
//	khugepaged  collapse_file() of pages 0-3 into one THP
//	open1…      open(2) for write, which truncates the page cache
//	            (`opens`; two opens truncate concurrently)
//	rd1…        readers locking a page of the first THP range, as
//	            filemap_fault does (`readers`), which can make the collapse
//	            fail and roll back
var ThpCollapseTruncate = &Workload{
	ID:   "thp-collapse-truncate",
	Race: "D",
	Desc: "race D: khugepaged collapse_file rollback against page-cache truncation",
	Params: []Param{
		{Name: "opens", Default: 2, Min: 0, Max: 4, Desc: "opens for write (each truncates)"},
		{Name: "readers", Default: 1, Min: 0, Max: 4, Desc: "readers locking page 2"},
	},
	Fixes:         []string{"baseline", "drop-bogus-vm-bug", "invalidate-lock", "drop-bogus-vm-bug+invalidate-lock"},
	StepsEstimate: 150,
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			inode := k.NewInode()
			for i := range 8 {
				mm.FilemapReadPage(t, inode, uint64(i))
			}
			k.Spawn("khugepaged", "collapse", func(t *mm.Thread) {
				mm.CollapseFile(t, inode, 0)
			})
			for i := range p["opens"] {
				k.Spawn(mm.TaskName("open", 1+i), "open", func(t *mm.Thread) {
					mm.OpenForWrite(t, inode)
				})
			}
			for i := range p["readers"] {
				k.Spawn(mm.TaskName("rd", 1+i), "read", func(t *mm.Thread) {
					mm.ReadPageLocked(t, inode, 2)
				})
			}
		}
	},
}
