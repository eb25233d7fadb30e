package mm

import (
	"sync/atomic"

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

// Flags is the entry's flags word.
func (e *WaitQueueEntry) Flags() uint32 { return e.flags.Load() }

// listEmptyCareful is list_empty_careful(): whether the entry is unlinked.
// It pairs with listDelInitCareful in the waker (an acquire load against a
// release store in the kernel; sequentially consistent here).
func (e *WaitQueueEntry) listEmptyCareful() bool { return !e.queued.Load() }

func (e *WaitQueueEntry) initList() {
	e.prev, e.next = e, e
	e.queued.Store(false)
}

// listAddTail is list_add_tail(new, head): new goes before head.
func listAddTail(n, head *WaitQueueEntry) {
	prev := head.prev
	n.prev, n.next = prev, head
	prev.next = n
	head.prev = n
	n.queued.Store(true)
}

// listDelInit is list_del_init(); listDelInitCareful (c6fe44d96fc1) is
// the same with a release store, which sequential consistency gives for
// free.
func listDelInit(e *WaitQueueEntry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.initList()
}

func listDelInitCareful(e *WaitQueueEntry) { listDelInit(e) }

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

// waitqueueActive is waitqueue_active(): any entry queued.
func (q *WaitQueueHead) waitqueueActive() bool { return q.head.next != &q.head }

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
	if bookmark != nil && bookmark.flags.Load()&WQ_FLAG_BOOKMARK != 0 {
		curr = bookmark.next
		listDelInit(bookmark)
		bookmark.flags.Store(0)
	} else {
		curr = q.head.next
	}
	if curr == &q.head {
		return nrExclusive
	}
	cnt := 0
	for next := curr.next; curr != &q.head; curr, next = next, next.next {
		flags := curr.flags.Load()
		if flags&WQ_FLAG_BOOKMARK != 0 {
			continue
		}
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
		if bookmark != nil && cnt > t.K.WalkBreakCnt && next != &q.head {
			bookmark.flags.Store(WQ_FLAG_BOOKMARK)
			listAddTail(bookmark, next)
			break
		}
	}
	return nrExclusive
}

// finishWait is finish_wait() (kernel/sched/wait.c, v5.10): back to
// TASK_RUNNING, and if the entry is still queued (a signal, or a wake-up that
// never came) unlink it under q->lock. Once list_empty_careful() sees the
// entry unlinked the waker no longer touches it.
func finishWait(t *Thread, q *WaitQueueHead, e *WaitQueueEntry) {
	t.SetState(sim.TaskRunning)
	if !e.listEmptyCareful() {
		q.lock.Lock(t)
		listDelInit(e)
		q.lock.Unlock()
	}
}
