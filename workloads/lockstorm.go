package workloads

import "github.com/pagelab/pagelab/mm"

// LockStorm is the page-lock fairness question (2a9127fcf229, then
// 5ef64cc8987a "mm: allow a controlled amount of unfairness in the page
// lock"): with a strict hand-off to the first waiter, Michael Larabel
// measured Apache Siege at less than half of v5.8's throughput at 100 and
// 250 users; an unfairness budget of 5 recovered most of it.
//
// `tasks` tasks (0: one per simulated CPU) share `pages` hot pages of one
// file, as processes faulting on the same mapped file do, and
// `ops` times each lock a page, hold the lock for `hold` ns (the
// filemap_fault critical section), unlock it, and work `think` ns outside.
// Task i's j-th operation takes page (7i + 13j) mod pages: a fixed
// pseudo-random pattern, the same under every fix.
var LockStorm = &Workload{
	ID:   "lock-storm",
	Desc: "page-lock fairness: tasks lock a few hot pages (filemap_fault pattern)",
	Params: []Param{
		{Name: "tasks", Default: 0, Min: 0, Max: 1024, Desc: "locking tasks (0: one per simulated CPU)"},
		{Name: "pages", Default: 4, Min: 1, Max: 32, Desc: "hot pages"},
		{Name: "ops", Default: 100, Min: 1, Max: 100000, Desc: "lock/unlock cycles per task"},
		{Name: "hold", Default: 1000, Min: 0, Max: 1e9, Desc: "ns the page lock is held"},
		{Name: "think", Default: 10000, Min: 0, Max: 1e9, Desc: "ns of work between two locks"},
	},
	Fixes:         []string{"v5.8", "fair-handoff", "baseline"},
	StepsEstimate: 2000,
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
			for i := range n {
				k.Spawn(mm.TaskName("cpu", i+1), "fault", func(t *mm.Thread) {
					for j := range p["ops"] {
						page := pages[(7*i+13*j)%len(pages)]
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
