package workloads

import "github.com/pagelab/pagelab/mm"

// FsyncStorm is the cost of waiting for writeback under re-dirtying: the
// 5-10% pgbench regression Phoronix attributed to c2407cf7d22d's loop, Brian
// Foster's 2022 XFS livelock (YjDj3lvlNJK/IPiU@bfoster: woken fsync waiters
// find PG_writeback set again and queue at the tail while the waker walks
// the queue in WAITQUEUE_WALK_BREAK_CNT segments), and Linus' 2024 remark
// that the loop can starve waiters that do not hold the page lock.
//
// One file of `pages` pages. `writers` tasks, `rounds` times each, dirty a
// page with write(2) and start integrity writeback of the file
// (filemap_fdatawrite: write_cache_pages under the page lock, which waits
// for a writeback in flight before starting the next). `waiters` tasks,
// `waits` times each, wait for the file's writeback without the page lock
// (__filemap_fdatawait_range, as fsync's second half and sync_file_range's
// WAIT_AFTER do). With more waiters than the kernel parameter walk_break,
// every wake-up walk drops q->lock part-way.
var FsyncStorm = &Workload{
	ID:   "fsync-storm",
	Desc: "writeback waiters under re-dirtying: fdatawait storms (Foster 2022)",
	Params: []Param{
		{Name: "pages", Default: 2, Min: 1, Max: 64, Desc: "pages of the file"},
		{Name: "writers", Default: 2, Min: 1, Max: 64, Desc: "tasks re-dirtying and writing back"},
		{Name: "rounds", Default: 40, Min: 1, Max: 100000, Desc: "write + writeback rounds per writer"},
		{Name: "waiters", Default: 80, Min: 0, Max: 1024, Desc: "tasks waiting for writeback (fdatawait)"},
		{Name: "waits", Default: 10, Min: 1, Max: 100000, Desc: "fdatawait calls per waiter"},
		{Name: "think", Default: 2000, Min: 0, Max: 1e9, Desc: "ns of work between two calls"},
	},
	Fixes:         []string{"baseline", "loop-wait", "hold-ref+loop-wait", "wait-to-set", "folio"},
	StepsEstimate: 20000,
	Latency:       true,
	PrimaryOp:     mm.OpWaitWriteback,
	TimedMaxSteps: 5_000_000,
	Setup: func(k *mm.Kernel, p Values) func(t *mm.Thread) {
		return func(t *mm.Thread) {
			inode := k.NewInode()
			for i := range p["pages"] {
				mm.GenericPerformWrite(t, inode, uint64(i))
			}
			for i := range p["writers"] {
				k.Spawn(mm.TaskName("wr", i+1), "write", func(t *mm.Thread) {
					for r := range p["rounds"] {
						mm.GenericPerformWrite(t, inode, uint64((i+r)%p["pages"]))
						mm.FilemapFdatawrite(t, inode)
						t.Work("think", int64(p["think"]))
					}
				})
			}
			for i := range p["waiters"] {
				k.Spawn(mm.TaskName("fw", i+1), "fdatawait", func(t *mm.Thread) {
					for range p["waits"] {
						mm.FilemapFdatawaitRange(t, inode.Mapping, 0, mm.MaxIndex)
						t.Work("think", int64(p["think"]))
					}
				})
			}
		}
	},
}
