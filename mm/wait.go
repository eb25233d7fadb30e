package mm

import (
	"sync/atomic"
	"unsafe"

	"github.com/pagelab/pagelab/sim"
)

// Wait-queue entry flags, include/linux/wait.h (v5.10).
const (
	WQ_FLAG_EXCLUSIVE = 0x01
	WQ_FLAG_WOKEN     = 0x02
	WQ_FLAG_BOOKMARK  = 0x04
	WQ_FLAG_CUSTOM    = 0x08
	WQ_FLAG_DONE      = 0x10
)

// WaitQueueEntry is struct wait_queue_entry: flags, the task to wake
// (private), the wake function and the list linkage. Page waiters embed it
// in a WaitPageQueue; the waker's bookmark is a bare entry.
type WaitQueueEntry struct {
	// flags is written by the waiter before queueing and after being woken,
	// and by the waker (WOKEN, DONE) with release semantics.
	flags   atomic.Uint32
	private *Thread
	// wpq is container_of(wait, struct wait_page_queue, wait); nil for a
	// bookmark.
	wpq        *WaitPageQueue
	prev, next *WaitQueueEntry // under q->lock
	// queued mirrors "linked in a queue" for list_empty_careful(), which
	// the waiter reads without q->lock: the waker's unlink stores it with
	// release semantics as its last touch of the entry.
	queued atomic.Bool
}

// Flags is the entry's flags word (oracles and tests; a task uses
// waitFlags).
func (e *WaitQueueEntry) Flags() uint32 { return e.flags.Load() }

// Footprints of the wait queues. A bucket's list is one object
// (objWaitQueue, a: the bucket), its value a hash of its entries'
// identities in order; list_add and list_del write it, a walk reads it. An
// entry is named by its owner task and kind (entryKey): its flags
// (objWaitFlags) and whether it is linked (objWaitQueued) are objects of
// their own, and so are a wait_page_queue's page and bit (objWaitTarget).
// wait->private and container_of(wait) are the entry's identity, not state.

// entryKey names a wait-queue entry: its owner's task ID and 0 for a
// wait_page_queue's entry, 1 for a bookmark. The entry must have been set
// up (a wait entry by InitWaitPageQueue or wait_on_page_bit_common, which
// set wait->private; a bookmark is always Thread.bookmark).
func entryKey(e *WaitQueueEntry) (id, b uint64) {
	if e.wpq != nil {
		return uint64(e.private.ID), 0
	}
	// A bookmark lives on its waker's stack: container_of(e, struct
	// Thread, bookmark).
	th := (*Thread)(unsafe.Add(unsafe.Pointer(e), -int(unsafe.Offsetof(Thread{}.bookmark))))
	return uint64(th.ID), 1
}

// queueBucket is the index of q in the page wait table.
func queueBucket(q *WaitQueueHead) uint64 { return q.lock.line &^ lineWaitTable }

// queueVal is objWaitQueue's value: a hash of the entries' keys in order.
func queueVal(q *WaitQueueHead) uint64 {
	h := uint64(0x5157)
	for e := q.head.next; e != &q.head; e = e.next {
		id, b := entryKey(e)
		h = fpMix(h ^ ((id+1)<<1 | b) + 0x9e3779b97f4a7c15)
	}
	return h
}

// rdQueue reports a walk of q's list; wrQueue a change of it (the caller
// holds q->lock).
func (t *Thread) rdQueue(q *WaitQueueHead) {
	if t.Footprinting() {
		t.fpRead(obj(objWaitQueue, queueBucket(q), 0), t.queueVal(q))
	}
}

func (t *Thread) wrQueue(q *WaitQueueHead) {
	if t.Footprinting() {
		t.fpWrite(obj(objWaitQueue, queueBucket(q), 0), t.queueVal(q))
	}
}

// waitFlags is a task's load of an entry's flags, reported.
func (t *Thread) waitFlags(e *WaitQueueEntry) uint32 {
	f := e.flags.Load()
	if t.Footprinting() {
		id, b := entryKey(e)
		t.fpRead(obj(objWaitFlags, id, b), uint64(f))
	}
	return f
}

// setWaitFlags is a task's store of an entry's flags, reported.
func (t *Thread) setWaitFlags(e *WaitQueueEntry, f uint32) {
	e.flags.Store(f)
	if t.Footprinting() {
		id, b := entryKey(e)
		t.fpWrite(obj(objWaitFlags, id, b), uint64(f))
	}
}

// wrQueued reports a store of whether the entry is linked (its value now).
func (t *Thread) wrQueued(e *WaitQueueEntry) {
	if t.Footprinting() {
		id, b := entryKey(e)
		t.fpWrite(obj(objWaitQueued, id, b), boolID(e.queued.Load()))
	}
}

// listEmptyCareful is list_empty_careful(): whether the entry is unlinked.
// It pairs with listDelInitCareful in the waker (an acquire load against a
// release store in the kernel; sequentially consistent here).
func (t *Thread) listEmptyCareful(e *WaitQueueEntry) bool {
	q := e.queued.Load()
	if t.Footprinting() {
		id, b := entryKey(e)
		t.fpRead(obj(objWaitQueued, id, b), boolID(q))
	}
	return !q
}

// initList is INIT_LIST_HEAD(&e->entry) on an unlinked entry (whose
// wait->private may not be set yet: the owner reports it, with b as in
// entryKey).
func (t *Thread) initList(e *WaitQueueEntry, b uint64) {
	e.prev, e.next = e, e
	e.queued.Store(false)
	if t.Footprinting() {
		t.fpWrite(obj(objWaitQueued, uint64(t.ID), b), 0)
	}
}

// listAddTail is list_add_tail(new, head) on q's list: new goes before
// head (q's head or an entry of q).
func listAddTail(t *Thread, q *WaitQueueHead, n, head *WaitQueueEntry) {
	prev := head.prev
	n.prev, n.next = prev, head
	prev.next = n
	head.prev = n
	n.queued.Store(true)
	t.wrQueue(q)
	t.wrQueued(n)
}

// listDelInit is list_del_init() of an entry of q; listDelInitCareful
// (c6fe44d96fc1) is the same with a release store, which sequential
// consistency gives for free.
func listDelInit(t *Thread, q *WaitQueueHead, e *WaitQueueEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = e, e
	e.queued.Store(false)
	t.wrQueue(q)
	t.wrQueued(e)
}

func listDelInitCareful(t *Thread, q *WaitQueueHead, e *WaitQueueEntry) { listDelInit(t, q, e) }

// WaitQueueHead is struct wait_queue_head: a spinlock and a FIFO list.
type WaitQueueHead struct {
	lock SpinLock
	head WaitQueueEntry
}

func (q *WaitQueueHead) init() { q.head.prev, q.head.next = &q.head, &q.head }

// Len is the number of entries queued (bookmarks included).
func (q *WaitQueueHead) Len() int {
	n := 0
	for e := q.head.next; e != &q.head; e = e.next {
		n++
	}
	return n
}

// Entries are the queued entries, in queue order.
func (q *WaitQueueHead) Entries() []*WaitQueueEntry {
	var l []*WaitQueueEntry
	for e := q.head.next; e != &q.head; e = e.next {
		l = append(l, e)
	}
	return l
}

// waitqueueActive is waitqueue_active(): any entry queued (a read of the
// list that learns only that, reported).
func (q *WaitQueueHead) waitqueueActive(t *Thread) bool {
	active := q.head.next != &q.head
	if t.Footprinting() {
		t.fpRead(obj(objWaitQueue, queueBucket(q), 0), boolID(active))
	}
	return active
}

// SpinLock is spinlock_t. Holding one is always inside a single step of the
// model (no scheduling point inside a spinlock section), so in explore mode
// the lock is never found taken; the task's SpinRelax catches a model that
// breaks that rule. In native mode it is a real test-and-set lock.
type SpinLock struct {
	v      atomic.Int32
	holder *Thread
	// line identifies the lock's cache line for the timed scheduler.
	line uint64
}

// Lock is spin_lock().
func (l *SpinLock) Lock(t *Thread) {
	t.Access(l.line, sim.AccessLock)
	t.Sync(obj(objLock, l.line>>40, l.line&0xffffff))
	for !l.v.CompareAndSwap(0, 1) {
		t.SpinRelax()
	}
	l.holder = t
}

// Unlock is spin_unlock().
func (l *SpinLock) Unlock() {
	h := l.holder
	l.holder = nil
	l.v.Store(0)
	h.Access(l.line, sim.AccessUnlock)
}

// wakeUpCommon is __wake_up_common() (kernel/sched/wait.c, v5.10) with a
// bookmark: the caller holds q->lock. It starts after the bookmark if the
// previous call left one, calls each entry's wake function with the entry's
// flags snapshotted before the call, stops on a negative return or when
// nr_exclusive exclusive entries were woken, and after more than
// WalkBreakCnt entries queues the bookmark before the next entry so that
// the caller can drop q->lock. It returns the remaining nr_exclusive.
func wakeUpCommon(t *Thread, q *WaitQueueHead, mode sim.TaskState, nrExclusive int, key *WaitPageKey, bookmark *WaitQueueEntry) int {
	var curr *WaitQueueEntry
	// The walk reads the list (where the bookmark is, the entries after it).
	t.rdQueue(q)
	if bookmark != nil && t.waitFlags(bookmark)&WQ_FLAG_BOOKMARK != 0 {
		curr = bookmark.next
		listDelInit(t, q, bookmark)
		t.setWaitFlags(bookmark, 0)
	} else {
		curr = q.head.next
	}
	if curr == &q.head {
		return nrExclusive
	}
	cnt := 0
	for next := curr.next; curr != &q.head; curr, next = next, next.next {
		flags := t.waitFlags(curr)
		if flags&WQ_FLAG_BOOKMARK != 0 {
			continue
		}
		t.walked++
		ret := t.K.Ops.WakePageFunction(t, curr, mode, key)
		if ret < 0 {
			break
		}
		if ret > 0 && flags&WQ_FLAG_EXCLUSIVE != 0 {
			nrExclusive--
			if nrExclusive == 0 {
				break
			}
		}
		cnt++
		if bookmark != nil && cnt > t.walkBreakCnt() && next != &q.head {
			t.setWaitFlags(bookmark, WQ_FLAG_BOOKMARK)
			listAddTail(t, q, bookmark, next)
			break
		}
	}
	return nrExclusive
}

// walkBreakCnt is WAITQUEUE_WALK_BREAK_CNT: the kernel parameter
// walk_break, unless a fix patched the constant (Ops.WalkBreakCnt).
func (t *Thread) walkBreakCnt() int {
	if n := t.K.Ops.WalkBreakCnt; n > 0 {
		return n
	}
	return t.K.WalkBreakCnt
}

// finishWait is finish_wait() (kernel/sched/wait.c, v5.10): back to
// TASK_RUNNING, and if the entry is still queued (a signal, or a wake-up that
// never came) unlink it under q->lock. Once list_empty_careful() sees the
// entry unlinked the waker no longer touches it.
func finishWait(t *Thread, q *WaitQueueHead, e *WaitQueueEntry) {
	t.SetState(sim.TaskRunning)
	if !t.listEmptyCareful(e) {
		q.lock.Lock(t)
		listDelInit(t, q, e)
		q.lock.Unlock()
	}
}
