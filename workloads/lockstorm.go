package workloads

import "github.com/pagelab/pagelab/mm"

// LockStorm is the page-lock fairness question (2a9127fcf229, then
// 5ef64cc8987a "mm: allow a controlled amount of unfairness in the page
// lock"): with a strict hand-off to the first waiter, Michael Larabel
// measured Apache Siege at less than half of v5.8's throughput at 100 and
// 250 concurrent users; an unfairness budget of 4 or 5 recovered most of it.
// The hot spot was filemap_fault() on one mmapped file.
//
// `tasks` concurrent users (0: one per simulated CPU), each a process of
// its own, share a file of `pages` hot cached pages and `ops` times each
// make a request: a read fault on the file (mm.DoUserAddrFault:
// fault-around's filemap_map_pages, which only trylocks the pages, then,
// if that did not map the page, filemap_fault's sleeping page lock), then
// `think` ns of work, after which the mapping is torn down (the next
// request faults again). User i's j-th request faults on page
// (7i + 13j) mod pages: a fixed pseudo-random pattern, the same under every
// fix. The timed lock_page operation is the fault's page lock: from the
// fault until it holds the lock of the page it maps. The unfairness budget
// is the kernel parameter `unfairness` (sysctl_page_lock_unfairness).
//
// With fault=0 a request is the lab's first model instead: lock_page, hold
// the lock `hold` ns, unlock_page.
var LockStorm = &Workload{
	ID:   "lock-storm",
	Desc: "page-lock fairness: concurrent users fault on a hot mmapped file (filemap_fault, fault-around)",
	Params: []Param{
		{Name: "tasks", Default: 0, Min: 0, Max: 1024, Desc: "concurrent users, one process each (0: one per simulated CPU)"},
		{Name: "pages", Default: 4, Min: 1, Max: 32, Desc: "hot pages of the mapped file"},
		{Name: "ops", Default: 100, Min: 1, Max: 100000, Desc: "requests per user"},
		{Name: "hold", Default: 1000, Min: 0, Max: 1e9, Desc: "fault=0: ns the page lock is held"},
		{Name: "think", Default: 10000, Min: 0, Max: 1e9, Desc: "ns of work between two requests"},
		{Name: "fault", Default: 1, Min: 0, Max: 1, Desc: "1: a request is a read fault on the file (fault-around, filemap_fault); 0: lock_page, hold, unlock_page"},
	},
	Fixes:         []string{"v5.8", "fair-handoff", "baseline"},
	StepsEstimate: 2200,
	Latency:       true,
	PrimaryOp:     mm.OpLockPage,
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			inode := k.NewInode()
			pages := make([]*mm.Page, p["pages"])
			for i := range pages {
				mm.GenericPerformWrite(t, inode, uint64(i))
				pages[i] = inode.Mapping.Lookup(uint64(i))
			}
			n := p["tasks"]
			if n == 0 {
				n = max(p[CPUs], 1)
			}
			fault := p["fault"] != 0
			for i := range n {
				k.Spawn(mm.TaskName("cpu", i+1), "fault", func(t *mm.Thread) {
					for j := range p["ops"] {
						index := (7*i + 13*j) % len(pages)
						if fault {
							vma := mm.MmapFile(inode, len(pages))
							mm.DoUserAddrFault(t, vma, uint64(index))
							t.Work("think", int64(p["think"]))
							mm.ZapFileMapping(t, vma)
							continue
						}
						page := pages[index]
						mm.LockPage(t, page)
						t.Work("critical_section", int64(p["hold"]))
						mm.UnlockPage(t, page)
						t.Work("think", int64(p["think"]))
					}
				})
			}
		}
	},
}
