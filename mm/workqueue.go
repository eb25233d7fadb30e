package mm

import (
	"fmt"

	"github.com/pagelab/pagelab/sim"
)

// Workqueues: the part of kernel/workqueue.c (v5.17) that I/O completion
// deferred to process context depends on. A work item is PENDING from
// queue_work() until a worker starts executing it; it is never executed by
// two workers at once (non-reentrancy: queue_work() on a work item that a
// worker is executing queues it behind that execution, on the same worker,
// find_worker_executing_work() and move_linked_works()); and a worker runs
// its items one after another, calling cond_resched() only between two
// (process_one_work()). On a kernel without CONFIG_PREEMPT, a work function
// that does not sleep keeps its CPU until it returns: the soft-lockup
// watchdog's business (sim.Task.PreemptOff).

// WorkStruct is struct work_struct with the pool state the model needs:
// PENDING (WORK_STRUCT_PENDING_BIT) and the worker executing it (the
// pool's busy_hash), both under pool->lock.
type WorkStruct struct {
	name    string // the workers' task-name prefix ("kworker")
	fn      func(t *Thread)
	lock    SpinLock // pool->lock
	pending bool
	running *Thread // the worker executing fn, nil when none
	workers int     // workers spawned so far (their names)
	id      uint64  // footprint object
}

// InitWork is INIT_WORK(work, fn); name prefixes its workers' task names.
func (k *Kernel) InitWork(w *WorkStruct, name string, fn func(t *Thread)) {
	k.nwork++
	*w = WorkStruct{name: name, fn: fn, id: uint64(k.nwork)}
	w.lock.line = lineWork | w.id
}

// workVal is the work item's footprint value: PENDING, and the executing
// worker's task ID + 1 (0: none).
func workVal(w *WorkStruct) uint64 {
	v := uint64(0)
	if w.running != nil {
		v = uint64(w.running.ID+1) << 1
	}
	if w.pending {
		v |= 1
	}
	return v
}

func (t *Thread) rdWork(w *WorkStruct) {
	if t.Footprinting() {
		t.fpRead(obj(objWork, w.id, 0), workVal(w))
	}
}

func (t *Thread) wrWork(w *WorkStruct) {
	if t.Footprinting() {
		t.fpWrite(obj(objWork, w.id, 0), workVal(w))
	}
}

// QueueWork is queue_work() → __queue_work() (kernel/workqueue.c, v5.17):
// test_and_set_bit(WORK_STRUCT_PENDING_BIT); if the bit was clear, insert
// the item: behind its own execution if a worker is executing it
// (non-reentrancy), else on the pool's worklist, where a worker picks it
// up (a kworker task of its own here: the pool has idle workers to spare,
// or creates one). It reports whether the item was queued (false: it was
// already pending). Called with no scheduling point of its own: the
// caller's step (an interrupt's) covers it, as the caller's spinlock does
// in the kernel.
func QueueWork(t *Thread, w *WorkStruct) bool {
	t.Enter("queue_work")
	defer t.Exit()
	w.lock.Lock(t)
	t.rdWork(w)
	if w.pending {
		w.lock.Unlock()
		t.Return(0)
		return false
	}
	w.pending = true
	if w.running == nil {
		w.workers++
		t.K.spawnThread(-1, TaskName(w.name, w.workers), "process_one_work", sim.TaskCPU, func(wt *Thread) { workerThread(wt, w) }, nil)
	}
	t.wrWork(w)
	w.lock.Unlock()
	t.Return(1)
	return true
}

// workerThread is worker_thread() → process_one_work() (kernel/workqueue.c,
// v5.17) for one work item: under pool->lock, clear PENDING and mark the
// item executing (set_work_pool_and_clear_pending()), run it with the lock
// dropped, then cond_resched(); again while it was queued meanwhile; else
// the worker goes idle (here: the task ends). The work function runs
// without a preemption point of its own (PreemptOff); the stretch each
// execution kept its CPU is the nonpreempt count.
func workerThread(t *Thread, w *WorkStruct) {
	t.Enter("worker_thread")
	defer t.Exit()
	for {
		t.Step("process_one_work")
		w.lock.Lock(t)
		t.rdWork(w)
		if !w.pending {
			w.running = nil
			t.wrWork(w)
			w.lock.Unlock()
			t.Return()
			return
		}
		w.pending = false
		w.running = t
		t.wrWork(w)
		w.lock.Unlock()
		t.PreemptOff()
		w.fn(t)
		// cond_resched() after the item.
		t.countStretch()
	}
}

// countStretch ends a non-preemptible stretch and counts it (a stretch
// of no virtual time, between two cond_resched() with nothing between,
// says nothing and is not counted).
func (t *Thread) countStretch() {
	if d := t.PreemptOn(); d > 0 {
		t.Count(CountNonPreempt, d)
	}
}

// CondResched is cond_resched() in non-preemptible code: a point where the
// task may give its CPU away, ending the watchdog's stretch.
func CondResched(t *Thread) {
	t.countStretch()
	t.Step("cond_resched")
	t.PreemptOff()
}

// OnSoftLockup is the soft-lockup watchdog's report (watchdog_timer_fn(),
// kernel/watchdog.c) for task t, which kept its CPU in non-preemptible
// code for stuck virtual nanoseconds: "BUG: soft lockup - CPU#%d stuck for
// %us!" with the stack of the code it is in. The execution stops there,
// as on a machine with softlockup_panic=1 (the lab's oopses stop it the
// same way: panic_on_oops). Install it as sim.Explorer.OnSoftLockup.
func OnSoftLockup(t *sim.Task, stuck int64) {
	th, ok := t.Local.(*Thread)
	if !ok {
		return
	}
	// The walk it is stuck in (if any) never ends: count what it has
	// visited so far, and the stretch, before the report stops the run.
	if th.walked > 0 {
		th.Count(CountWakeWalk, th.walked)
	}
	th.Count(CountNonPreempt, stuck)
	th.Bug(SoftLockup, "watchdog: BUG: soft lockup - %s stuck for %s in kernel code without scheduling", t.Name, fmtNS(stuck))
}

// fmtNS is a duration for a report: "20.4ms".
func fmtNS(ns int64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.3gs", float64(ns)/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3gms", float64(ns)/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3gµs", float64(ns)/1e3)
	}
	return fmt.Sprintf("%dns", ns)
}
