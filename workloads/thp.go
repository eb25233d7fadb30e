package workloads

import "github.com/pagelab/pagelab/mm"

// ThpCollapseTruncate is race D (seed 003): khugepaged's collapse_file()
// against page-cache truncation by opens for write, as in v5.14.
//
// A read-only file of 8 clean pages (a DSO being executed). Then:
//
//	khugepaged  collapse_file() of pages 0-3 into one THP
//	open1…      open(2) for write (`opens`): get_write_access(), then,
//	            if filemap_nr_thps() is non-zero, truncate_pagecache(inode, 0)
//	rd1…        readers locking page 2, as filemap_fault does (`readers`,
//	            off by default): another way to make the collapse fail
//
// The rollback trigger is the one of eb6ecbed0aa2 (v5.14): after replacing
// the small pages, still under the i_pages lock, collapse_file() increments
// nr_thps and rolls back if inode_is_open_for_write(); an open that raised
// i_writecount before that check and reads nr_thps between the increment
// and the decrement truncates while the rollback puts the small pages back
// one at a time — Rongwei Wang's "collapse_file rolls back when writer
// truncates the page cache". An open after a completed collapse truncates
// the THP itself, slot by slot (thp-truncate-opens is that case alone).
//
// Rongwei Wang also saw bad_page() at free, from collapse_file()'s
// __put_page() (seed 003: bad_page ← check_free_page_bad ←
// free_pcp_prepare ← free_unref_page ← __put_page ← collapse_file). The
// model cannot produce it, and not for want of a mechanism it leaves out:
// in collapse_file() of v5.10 and v5.14 (mm/khugepaged.c) the only
// put_page() calls in its own frame that can free a page are
//
//   - out_unlock's "unlock_page(page); put_page(page);" of a small page it
//     locked and pinned itself: the page cache still holds its reference
//     unless the page was deleted, and deletion needs the page lock
//     collapse_file() holds, so this put never frees a page still in use;
//   - the success path's "page->mapping = NULL; page_ref_unfreeze(page, 1);
//     ClearPageActive(page); ClearPageUnevictable(page); unlock_page(page);
//     put_page(page);" of the small pages: each was frozen with
//     page_ref_freeze(page, 3) under the i_pages lock (our pin, the page
//     cache's, isolate_lru_page's, which also cleared PG_lru), so no one
//     else held a reference, and no lookup can take one after the freeze
//     (page_cache_get_speculative fails on a zero count, and the slot then
//     holds new_page). The page freed has a NULL mapping, no lock, no LRU,
//     active or unevictable bit, and was unmapped before the freeze
//     (VM_BUG_ON_PAGE(page_mapped(page)) under the same lock).
//
// The rollback path frees nothing itself (page_ref_unfreeze(page, 2) and
// putback_lru_page(), a function of mm/vmscan.c whose own put_page would
// show it in the trace), and new_page is not put in collapse_file() (it is
// kept in *hpage for khugepaged's next attempt). So the free in that trace
// is of a page in a state the code of those versions does not produce
// through the references and locks the model follows (it models the freeze
// counts, the page lock, PG_lru and page->mapping of all these paths); what
// set the flag check_free_page() rejected is not in the report (bad_page's
// own message is cut from the log), and the model cannot say.
var ThpCollapseTruncate = &Workload{
	ID:   "thp-collapse-truncate",
	Race: "D",
	Desc: "race D: khugepaged collapse_file (and its rollback) against truncation by opens for write",
	Params: []Param{
		{Name: "opens", Default: 2, Min: 0, Max: 4, Desc: "opens for write (each truncates if the file has THPs)"},
		{Name: "readers", Default: 0, Min: 0, Max: 4, Desc: "readers locking page 2 (a collapse failure other than the open)"},
	},
	Fixes: []string{"baseline", "drop-index-check", "drop-tail-check", "drop-bogus-vm-bug", "invalidate-lock",
		"drop-bogus-vm-bug+invalidate-lock"},
	StepsEstimate: 300,
	Sampler:       "pct-task",
	SamplerDepth:  30,
	SamplerWhy:    "at depth 30 it fires race D's vm-bug-index 13x and vm-bug-tail 11x as often per execution as the random walk, first failure in a median 0.7 ms and 0.4 ms on one core (README, pagelab hunt)",
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

// ThpTruncateOpens is race D as Song Liu saw it (seed 003): "The issue is
// NOT caused by concurrent khugepaged:collapse_file() and
// truncate_pagecache(inode, 0). With some printks, we can see a clear time
// gap (>2 second) between collapse_file() finishes, and
// truncate_pagecache() (which crashes soon). ... The crash is actually
// caused by concurrent truncate_pagecache(inode, 0). If I change the number
// of write thread in stress_madvise_dso.c to one ... I cannot reproduce the
// crash anymore."
//
// A read-only file of 8 clean pages whose pages 0-3 khugepaged collapsed
// into a THP during set-up (nr_thps is 1). Then only
//
//	open1…  open(2) for write (`opens`): get_write_access(); if
//	        filemap_nr_thps() is non-zero, truncate_pagecache(inode, 0)
//
// The first truncation to lock the THP deletes it with
// delete_from_page_cache_batch(), which stores NULL one slot at a time and
// sets page->mapping to NULL at the head's slot; another truncation's
// lockless walk finds the head in a later slot: in find_lock_entries that
// is VM_BUG_ON_PAGE(page->index != xas.xa_index) (Song Liu's crash); in
// find_get_entries (pass 2) it hands truncate_inode_page() the tail of
// that slot once the head is unlocked, with mapping 0 (Rongwei Wang's page
// dump: a tail at index 0x7ff of a head at 0x600, mapping 0):
// VM_BUG_ON_PAGE(PageTail(page)). The deletion decrements nr_thps, so an
// open that reads it after the deletion does not truncate: the opens must
// both have seen the THP. With one open nothing else deletes, and nothing
// can fire.
var ThpTruncateOpens = &Workload{
	ID:   "thp-truncate-opens",
	Race: "D",
	Desc: "race D: concurrent open-for-write truncations of a file whose THP collapse completed",
	Params: []Param{
		{Name: "opens", Default: 2, Min: 1, Max: 4, Desc: "opens for write (each truncates if the file has THPs)"},
	},
	Fixes: []string{"baseline", "drop-index-check", "drop-tail-check", "drop-bogus-vm-bug", "invalidate-lock",
		"drop-bogus-vm-bug+invalidate-lock"},
	StepsEstimate: 200,
	Sampler:       "random",
	SamplerWhy:    "it fires vm-bug-index in 0.85% and vm-bug-tail in 2.5% of executions, first failure in a median 1.4 ms and 0.5 ms on one core; no sampler does better on both: surw fires vm-bug-tail 2.7x but vm-bug-index 65x less often, pct-point focused on xa-slot vm-bug-index 14x but never vm-bug-tail (README, pagelab hunt)",
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			inode := k.NewInode()
			for i := range 8 {
				mm.FilemapReadPage(t, inode, uint64(i))
			}
			// khugepaged, long before the opens: collapse_file() runs
			// alone and succeeds.
			mm.CollapseFile(t, inode, 0)
			for i := range p["opens"] {
				k.Spawn(mm.TaskName("open", 1+i), "open", func(t *mm.Thread) {
					mm.OpenForWrite(t, inode)
				})
			}
		}
	},
}
