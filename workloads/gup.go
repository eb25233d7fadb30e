package workloads

import "github.com/pagelab/pagelab/mm"

// stableWritesParam is the device's stable-writes requirement
// (SB_I_STABLE_WRITES): 0 for ext4 on a plain disk, the seed's setting.
var stableWritesParam = Param{Name: "stable_writes", Default: 0, Min: 0, Max: 1, Desc: "the device needs stable pages (SB_I_STABLE_WRITES: DIF/DIX, RAID parity)"}

var gupFamily = []string{"baseline", "mkwrite-on-dirty", "fs-tolerant", "pin-aware-reclaim", "bounce-pinned"}

// gupSetup builds race C's state: file 1 (a buffer-based filesystem: ext4's
// ->writepage needs buffers) with one page, written and dirty, buffers
// attached by the write, mapped MAP_SHARED by a process that has not
// touched it yet. Then:
//
//	cpu1   read(O_DIRECT) from another file into the mapped page: GUP
//	       faults it in writable (->page_mkwrite), takes a reference, and
//	       the DIO's completion (dio1) writes the page and dirties it
//	kswapd reclaim of the page, `passes` times (a written-out page is only
//	       reclaimed by a later pass)
//	cpu3   background writeback of file 1, `writebacks` times
//
// The device requires stable writes if `stable_writes` is set (a disk with
// DIF/DIX protection information, RAID parity, dm-integrity): write faults
// then wait for writeback in flight (wait_for_stable_page), and a page
// that changes under its write is data corruption rather than an unstable
// write.
func gupSetup(k *mm.Kernel, p Values) func(t *mm.Thread) {
	return func(t *mm.Thread) {
		k.Disk.StableWrites = p["stable_writes"] != 0
		f1 := k.NewInode()
		f1.Writepage = mm.BlockWritepage
		mm.GenericPerformWrite(t, f1, 0)
		page := f1.Mapping.Lookup(0)
		t.Step("block_write_begin")
		mm.AttachPageBuffers(t, page)
		vma := k.NewSharedMapping(f1, 1)
		k.Spawn("cpu1", "dio", func(t *mm.Thread) {
			mm.DirectIORead(t, vma, 0)
		})
		if p["passes"] > 0 {
			k.Spawn("kswapd", "shrink", func(t *mm.Thread) {
				for range p["passes"] {
					mm.ShrinkPage(t, page)
				}
			})
		}
		for range min(p["writebacks"], 1) {
			k.Spawn("cpu3", "writeback", func(t *mm.Thread) {
				for range p["writebacks"] {
					mm.WritebackSingleInode(t, f1)
				}
			})
		}
	}
}

// GupDioBuffers is race C, race 1 (seed 002, Jan Kara 2018): reclaim strips
// the buffers of a page a direct-I/O read holds through GUP; the DIO's
// completion dirties the page without buffers, and ->writepage crashes on
// it. Reclaim itself does not write such a page (pageout()'s
// is_page_cache_freeable() fails on the DIO's reference): the page is
// cleaned by the flusher's writeback, and reclaim finds it clean once that
// I/O is done.
var GupDioBuffers = &Workload{
	ID:   "gup-dio-buffers",
	Race: "C",
	Desc: "race C1: DIO into a shared mapping, reclaim strips buffers, page dirtied without them",
	Params: []Param{
		{Name: "passes", Default: 2, Min: 0, Max: 4, Desc: "reclaim passes over the page"},
		{Name: "writebacks", Default: 1, Min: 0, Max: 4, Desc: "background writebacks of the file"},
		stableWritesParam,
	},
	Fixes:         gupFamily,
	StepsEstimate: 100,
	Sampler:       "pct-racy",
	SamplerWhy:    "it fires race C1's bug-no-buffers 5x as often per execution as the random walk, first failure in a median 1.2 ms on one core (README, pagelab hunt)",
	Setup:         gupSetup,
}

// GupDioWrprotect is race C, race 2 (seed 002): ordinary writeback
// write-protects the PTE and writes the page out while a direct-I/O read
// that took the page through GUP earlier is still writing into it: the
// page changes under I/O that assumed it stable — data corruption on a
// stable-writes device, an unstable write (a torn block the next writeback
// rewrites) on a plain disk.
var GupDioWrprotect = &Workload{
	ID:   "gup-dio-wrprotect",
	Race: "C",
	Desc: "race C2: DIO writes a page while writeback of it is in flight",
	Params: []Param{
		{Name: "passes", Default: 0, Min: 0, Max: 4, Desc: "reclaim passes over the page"},
		{Name: "writebacks", Default: 1, Min: 0, Max: 4, Desc: "background writebacks of the file"},
		stableWritesParam,
	},
	Fixes:         gupFamily,
	StepsEstimate: 80,
	Setup:         gupSetup,
	Sampler:       "random",
	SamplerWhy:    "it fires race C2's unstable-write in 14% of executions, first failure in a median 0.1 ms on one core; no sampler fires it more often (pct-task 1.0x), and 10x would be more than every execution (README, pagelab hunt)",
}
