// Package mm is the model of the Linux page cache, page wait queues and
// writeback, v5.10-rc5 (2a9127fcf229 and 5ef64cc8987a merged; 073861ed77b6
// and c2407cf7d22d not), step-faithful to the lab's
// kernel/writeback-semantics.md.
//
// One Go function models one kernel function and carries its name in Go
// form with a doc comment naming the kernel function, file and version.
// Every place where another CPU can interleave — each atomic
// read-modify-write of page flags, each plain read whose value matters, each
// spinlock section — begins with a scheduling point, t.Step(label). Code
// between two scheduling points is atomic with respect to other tasks:
// sequential consistency at scheduling points is the memory model (the
// barriers the real code relies on are listed in writeback-semantics.md §8;
// the model never needs weaker orderings to reproduce the races).
//
// mm never knows how it is run (explore, timed or native): it only calls the
// sim.Task methods.
package mm

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/pagelab/pagelab/sim"
)

// Config is the configuration of the modelled machine and kernel.
type Config struct {
	// NrPages is the number of struct pages in mem_map.
	NrPages int
	// PCP selects v5.10's page allocator (page_alloc.go): per-CPU order-0
	// lists over the buddy free_area. Off, one global LIFO free list.
	PCP bool
	// PcpHigh and PcpBatch are pcp->high and pcp->batch (pcp=1).
	PcpHigh, PcpBatch int
	// WaitTableBits is PAGE_WAIT_TABLE_BITS (8: 256 buckets). A smaller
	// table forces hash collisions between pages.
	WaitTableBits int
	// WalkBreakCnt is WAITQUEUE_WALK_BREAK_CNT (64), after which
	// __wake_up_common inserts a bookmark and the waker drops q->lock.
	WalkBreakCnt int
	// PageLockUnfairness is sysctl_page_lock_unfairness (5).
	PageLockUnfairness int
	// DebugVM is CONFIG_DEBUG_VM: VM_BUG_ON* are live and order-0 frees
	// check PAGE_FLAGS_CHECK_AT_FREE at free time.
	DebugVM bool
	// DebugVMPgflags is CONFIG_DEBUG_VM_PGFLAGS: the PF_* page-flag
	// policies (PF_ONLY_HEAD, PF_NO_TAIL) are checked.
	DebugVMPgflags bool
	// SoftLockupNS is the soft-lockup watchdog's threshold in virtual
	// nanoseconds (kernel/watchdog.c: 2 × watchdog_thresh), for the timed
	// scheduler (sim.Explorer.Watchdog); 0 turns it off.
	SoftLockupNS int64
	// Version is the modelled kernel's version. The model is v5.10's; the
	// few checks that differ in the era of another race follow this field
	// (clear_page_dirty_for_io's BUG_ON before v5.7). A workload of another
	// era sets it in its Setup (race E: v5.2).
	Version KernelVersion
}

// KernelVersion is LINUX_VERSION_CODE: KERNEL_VERSION(a, b, c) is
// a<<16 + b<<8 + c (include/generated/uapi/linux/version.h).
type KernelVersion uint32

// KERNEL_VERSION is the macro of the same name.
func KERNEL_VERSION(a, b, c uint32) KernelVersion { return KernelVersion(a<<16 + b<<8 + c) }

func (v KernelVersion) String() string {
	return fmt.Sprintf("v%d.%d.%d", v>>16, v>>8&0xff, v&0xff)
}

// DefaultConfig is a syzbot-like debug kernel: the configuration under which
// the seeds' BUGs and VM_BUGs were reported.
func DefaultConfig() Config {
	return Config{
		NrPages:            1024,
		PCP:                true,
		PcpHigh:            378,
		PcpBatch:           63,
		WaitTableBits:      8,
		WalkBreakCnt:       64,
		PageLockUnfairness: 5,
		DebugVM:            true,
		DebugVMPgflags:     true,
		Version:            KERNEL_VERSION(5, 10, 0),
	}
}

// Spawner creates tasks; sim.Explorer is one.
type Spawner interface {
	SpawnKind(name, label string, kind sim.TaskKind, fn func(*sim.Task)) *sim.Task
}

// Kernel is the whole modelled machine: memory, page wait table, files,
// disk, the patchable operations and the failures seen.
type Kernel struct {
	Config
	Ops Ops

	spawner   Spawner
	mem       []Page
	zoneLock  SpinLock  // zone->lock, around freeList and zone's free_area
	freeList  []int32   // pcp=0: the free list, a LIFO stack of pfns, hot on top
	zone      zoneState // pcp=1: free_area and per-CPU lists (page_alloc.go)
	waitTable []WaitQueueHead
	Disk      Disk
	inodes    []*Inode
	// vouched is checkVouched's copy of an inode's vouched versions,
	// scratch memory kept to save an allocation.
	vouched []vouch
	nrIO    atomic.Int64
	// threads are the Threads spawned so far, kept for reuse across
	// executions; nthreads of them belong to this one.
	threads  []*Thread
	nthreads int
	// nwork numbers the work items (InitWork) of this execution.
	nwork uint64

	// mu guards the failure record: in native mode tasks raise
	// concurrently.
	mu      mutex
	fired   FailureSet
	reports []Report

	// reuse is what Reset needs to restore the state cheaply: not model
	// state.
	reuse resetState
	// serial: the tasks run one at a time (see mutex).
	serial bool
}

// mutex guards the model's own bookkeeping (the failure record, the
// oracles' records, the disk's), never modelled kernel state: the kernel's
// locks are SpinLock, rwsemW and the page lock, whose atomics are the
// model. In native mode the tasks run at once on goroutines and it is a
// sync.Mutex. Run by a sim.Explorer (explore and timed modes) the tasks run
// one at a time: a step begins only after the previous one ended, ordered
// by the hand-off between them (a coroutine switch, or a channel
// operation: the race detector sees the same happens-before edges), so
// no two critical sections can overlap and the lock, an atomic to take and
// one to release, is skipped. serial is set before any task runs and not
// changed while they do.
type mutex struct {
	mu     sync.Mutex
	serial bool
}

func (m *mutex) Lock() {
	if !m.serial {
		m.mu.Lock()
	}
}

func (m *mutex) Unlock() {
	if !m.serial {
		m.mu.Unlock()
	}
}

// resetState is what Reset restores, as far as the last execution reached
// it, instead of rebuilding the whole machine: a few dozen struct pages and
// wait-queue buckets of the thousand and the 256. Explorations run
// hundreds of thousands of executions, and rebuilding mem_map and the wait
// table cost as much as the executions' own scheduling.
//
// Every struct page the model reaches comes from Kernel.page (pfn_to_page),
// Kernel.compoundPages or Kernel.Pages, which record its pfn in pages;
// every bucket from PageWaitqueue, which records it in buckets. What no
// execution reached since the last full rebuild is as that rebuild left
// it. The marks are atomics because native tasks run concurrently; a mark
// that is already there costs one plain load.
type resetState struct {
	// pages are the pfns [lo, hi) that may differ from a fresh boot.
	pages pfnRange
	// buckets has bit i set when wait-table bucket i may differ from an
	// empty queue.
	buckets []atomic.Uint64
	// buddyOrder is the zone's buddyOrder of a fresh boot (resetZone).
	buddyOrder []int8
}

// pfnRange is a range of pfns [lo, hi), widened concurrently.
type pfnRange struct{ lo, hi atomic.Int32 }

func (r *pfnRange) add(lo, hi int32) {
	for {
		l := r.lo.Load()
		if lo >= l || r.lo.CompareAndSwap(l, lo) {
			break
		}
	}
	for {
		h := r.hi.Load()
		if hi <= h || r.hi.CompareAndSwap(h, hi) {
			break
		}
	}
}

// page is pfn_to_page(pfn): the struct page of pfn, recorded as reached
// by this execution (see resetState).
func (k *Kernel) page(pfn int32) *Page {
	if r := &k.reuse.pages; pfn < r.lo.Load() || pfn >= r.hi.Load() {
		// The aligned block of 16 around pfn: allocations go up and down
		// mem_map a page at a time, and each widening is a CAS.
		r.add(pfn&^15, min(pfn|15+1, int32(len(k.mem))))
	}
	return &k.mem[pfn]
}

// bucket is &page_wait_table[h], recorded as reached by this execution
// (see resetState).
func (k *Kernel) bucket(h uint64) *WaitQueueHead {
	if w, bit := &k.reuse.buckets[h/64], uint64(1)<<(h%64); w.Load()&bit == 0 {
		w.Or(bit)
	}
	return &k.waitTable[h]
}

// NewKernel builds a kernel with cfg and the baseline operations.
func NewKernel(cfg Config, s Spawner) *Kernel {
	k := &Kernel{}
	k.Reset(cfg, s)
	return k
}

// Reset returns the kernel to the state NewKernel(cfg, s) builds, reusing
// its memory: explorations run hundreds of thousands of executions.
func (k *Kernel) Reset(cfg Config, s Spawner) {
	k.Config, k.spawner = cfg, s
	_, k.serial = s.(*sim.Explorer)
	k.mu.serial, k.Disk.mu.serial = k.serial, k.serial
	k.Ops = BaselineOps()
	r := &k.reuse
	if len(k.mem) != cfg.NrPages {
		k.mem = make([]Page, cfg.NrPages)
		r.pages.lo.Store(0)
		r.pages.hi.Store(int32(cfg.NrPages))
	}
	// Zero values are a free, unmapped page with no flags; clear() avoids
	// an atomic store per field (an XCHG each on x86). Only the pages the
	// last execution reached can differ from that (resetState).
	if lo, hi := r.pages.lo.Load(), r.pages.hi.Load(); lo < hi {
		clear(k.mem[lo:hi])
		for i := lo; i < hi; i++ {
			k.mem[i].pfn = i
		}
	}
	r.pages.lo.Store(int32(cfg.NrPages))
	r.pages.hi.Store(0)
	k.resetZone()
	if n := 1 << cfg.WaitTableBits; len(k.waitTable) != n {
		k.waitTable = make([]WaitQueueHead, n)
		r.buckets = make([]atomic.Uint64, (n+63)/64)
		for i := range r.buckets {
			r.buckets[i].Store(^uint64(0))
		}
	}
	for w := range r.buckets {
		m := r.buckets[w].Load()
		if m == 0 {
			continue
		}
		r.buckets[w].Store(0)
		for ; m != 0; m &= m - 1 {
			i := w*64 + bits.TrailingZeros64(m)
			if i >= len(k.waitTable) {
				break
			}
			q := &k.waitTable[i]
			*q = WaitQueueHead{}
			q.lock.line = lineWaitTable | uint64(i)
			q.init()
		}
	}
	k.Disk.reset()
	// The Inodes stay beyond the end, for NewInode to empty and reuse.
	k.inodes = k.inodes[:0]
	k.nrIO.Store(0)
	k.zoneLock.line = lineZone
	k.fired = 0
	k.reports = k.reports[:0]
	k.nthreads = 0
	k.nwork = 0
}

// Cache-line identifiers of the timed scheduler, besides struct pages
// (their vmemmap address): a wait-table bucket's lock, an inode's i_pages
// lock.
const (
	lineWaitTable = 1 << 62
	lineIPages    = 1 << 61
	lineZone      = 1 << 60
	lineWork      = 1 << 59 // a work item's pool->lock
	lineIoend     = 1 << 58 // an inode's i_ioend_lock
)

// Thread is the model's view of a task: the sim task plus the per-task
// kernel state that lives on a real task's stack (its wait_page_queue).
type Thread struct {
	*sim.Task
	K *Kernel

	// wait is the wait_page_queue that wait_on_page_bit_common() keeps on
	// its stack; a task waits for one page bit at a time.
	wait WaitPageQueue
	// bookmark is wake_up_page_bit()'s on-stack bookmark entry.
	bookmark WaitQueueEntry
	// wbc is the writeback_control of the writeback this task started
	// (onStackWbc), on its stack in the kernel; wbcBusy while it is in
	// use.
	wbc     WritebackControl
	wbcBusy bool
	// fsyncWant is Fsync's snapshot of the versions it must see on disk,
	// kept (as its backing array) across the Thread's reuse.
	fsyncWant []uint64
	// dataSlab hands out the page contents setPageData stores, kept
	// across the Thread's reuse: its elements, once handed out, are
	// never written again.
	dataSlab []PageData
	// bio is the I/O whose completion this task runs: the completion path
	// holds no page reference, so its page accesses are checked by the
	// stale-page oracle against the page's generation at submission.
	// For SubmitBio's it is ownBio, the Thread's: no allocation.
	bio    *Bio
	ownBio Bio
	// staleReported avoids reporting the same stale access twice. It is
	// mirrored in a shared object (objBio, b 1; back to 0 when the
	// completion ends), so that the global state holds it, not the task's
	// observation history, which Return summarizes.
	staleReported bool
	// cpu is smp_processor_id(): the task's ID (every task is a CPU of its
	// own), or the CPU a drain work is bound to (page_alloc.go).
	cpu int
	// fn is the task's function (runThread).
	fn func(*Thread)
	// walked counts the entries the current wake-up walk visited
	// (wakeUpCommon), bitWaits the PG_writeback waits begun (WaitOnPageBit):
	// the lab's statistics, not kernel state.
	walked, bitWaits int64
}

// Spawn starts a model task.
func (k *Kernel) Spawn(name, label string, fn func(*Thread)) *Thread {
	return k.SpawnKind(name, label, sim.TaskCPU, fn)
}

// SpawnKind starts a model task of the given kind (sim.TaskIRQ for an I/O
// completion).
func (k *Kernel) SpawnKind(name, label string, kind sim.TaskKind, fn func(*Thread)) *Thread {
	return k.spawnOn(-1, name, label, kind, fn)
}

// spawnOn starts a model task running on CPU cpu (-1: a CPU of its own).
func (k *Kernel) spawnOn(cpu int, name, label string, kind sim.TaskKind, fn func(*Thread)) *Thread {
	return k.spawnThread(cpu, name, label, kind, fn, nil)
}

// spawnThread is spawnOn for the completion of bio, if not nil: the
// Thread keeps a copy of it (Thread.bio), whose id is the task's.
func (k *Kernel) spawnThread(cpu int, name, label string, kind sim.TaskKind, fn func(*Thread), bio *Bio) *Thread {
	// The threads of the previous execution are reused, in spawn order:
	// nothing holds one past the Reset that ends its execution.
	// (k.mu: native tasks spawn I/O completions concurrently.)
	var th *Thread
	k.mu.Lock()
	if k.nthreads < len(k.threads) {
		th = k.threads[k.nthreads]
		*th = Thread{K: k, cpu: cpu, fn: fn, fsyncWant: th.fsyncWant[:0], dataSlab: th.dataSlab}
	} else {
		th = &Thread{K: k, cpu: cpu, fn: fn}
		k.threads = append(k.threads, th)
	}
	k.nthreads++
	k.mu.Unlock()
	// runThread finds th in Local, set below, before the task can run
	// (it runs when a scheduler picks it, or, native, once started):
	// no closure to allocate per spawn.
	th.Task = k.spawner.SpawnKind(name, label, kind, runThread)
	if cpu < 0 {
		th.cpu = th.Task.ID
	}
	if bio != nil {
		th.ownBio = *bio
		th.ownBio.id = th.Task.ID
		th.bio = &th.ownBio
	}
	th.Task.Local = th
	th.Task.Start()
	return th
}

// runThread is the function of every model task: its Thread's.
func runThread(t *sim.Task) {
	th := t.Local.(*Thread)
	th.fn(th)
}

// Fired is the set of failures raised so far.
func (k *Kernel) Fired() FailureSet {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fired
}

// Reports are the failure events raised so far, in order.
func (k *Kernel) Reports() []Report {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reports
}

// Raise records a failure that lets the kernel go on (bad_page, the oracles):
// the execution continues and later consequences are recorded too.
func (t *Thread) Raise(f Failure, format string, args ...any) {
	k := t.K
	stack := append([]string(nil), t.Stack()...)
	r := Report{Failure: f, Task: t.Name, Label: t.Label(), Stack: stack, Msg: fmt.Sprintf(format, args...)}
	k.mu.Lock()
	k.fired = k.fired.Add(f)
	k.reports = append(k.reports, r)
	k.mu.Unlock()
}

// Bug records a fatal failure (BUG, VM_BUG_ON) and halts the execution, as an
// oops does on a machine with panic_on_oops (the way syzbot runs).
func (t *Thread) Bug(f Failure, format string, args ...any) {
	t.Raise(f, format, args...)
	k := t.K
	k.mu.Lock()
	var last Report
	for _, r := range k.reports {
		if r.Task == t.Name && r.Failure == f {
			last = r
		}
	}
	k.mu.Unlock()
	t.Halt(last)
}

// RaiseGlobal records a failure found outside any task (end-of-run oracles,
// hang and livelock detection).
func (k *Kernel) RaiseGlobal(f Failure, msg string) {
	k.mu.Lock()
	k.fired = k.fired.Add(f)
	k.reports = append(k.reports, Report{Failure: f, Msg: msg})
	k.mu.Unlock()
}

// Pages is mem_map.
func (k *Kernel) Pages() []Page {
	k.reuse.pages.add(0, int32(len(k.mem)))
	return k.mem
}

// Inodes are the files created so far.
func (k *Kernel) Inodes() []*Inode { return k.inodes }

// Setup runs fn in a task of its own, alone, before the execution proper:
// the history that leads to the race (files written, writeback started). I/O
// it submits stays in flight; its completion tasks run in the execution.
func (k *Kernel) Setup(x interface{ RunAlone(*sim.Task) error }, fn func(*Thread)) error {
	th := k.Spawn("setup", "setup", fn)
	return x.RunAlone(th.Task)
}

// CheckQuiescent is the oracle run when every task has finished: a page
// still in the page cache that is neither dirty nor under writeback must
// have its contents on the disk, or its dirty state was dropped without the
// data being written (data-loss); so must the data an fsync returned
// vouching for (checkVouched, fs.go: data-loss); a block left torn by a write of an
// unstable page must be written again (checkTornBlocks, disk.go:
// data-corruption).
func (k *Kernel) CheckQuiescent() {
	defer k.checkTornBlocks()
	for _, inode := range k.inodes {
		inode.checkVouched(k)
	}
	for _, inode := range k.inodes {
		m := inode.Mapping
		for i, sl := range m.slotList() {
			page := sl.page.Load()
			if page == nil || page.Data().Ino != inode.Ino {
				continue
			}
			f := page.flags.Load()
			if f&(1<<PG_dirty|1<<PG_writeback|1<<PG_locked) != 0 {
				continue
			}
			if got := k.Disk.Block(inode.Ino, uint64(i)); got != page.Data() {
				k.RaiseGlobal(DataLoss, fmt.Sprintf("inode %d page %d is clean in the page cache with %s but the disk holds %s", inode.Ino, i, page.Data(), got))
			}
		}
	}
}
