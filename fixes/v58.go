package fixes

import (
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// V58 is not a fix but the reference point: the page wait/wake logic as it
// was before 2a9127fcf229 ("mm: rewrite wait_on_page_bit_common() logic"),
// that is in v5.8. The waker stops its walk at the first matching entry whose
// bit is set again, for every kind of waiter; a woken waiter re-tests the bit
// itself and queues again at the tail if it is set. That loop is what kept
// race A from happening ("the old logic in waiting on a page bit would just
// loop if it ever saw the bit set again", c2407cf7d22d), at the price of
// unfairness: a waiter that loses the race goes to the back of the queue.
var V58 = &Fix{
	ID:       "v5.8",
	Ref:      "2a9127fcf229^",
	Desc:     "v5.8 wait/wake: waker stops at a set bit, waiter re-tests and re-queues",
	Replaces: []string{"wake_page_function", "wait_on_page_bit_common"},
	Apply: func(ops *mm.Ops) {
		ops.WakePageFunction = wakePageFunctionV58
		ops.WaitOnPageBitCommon = waitOnPageBitCommonV58
	},
}

// wakePageFunctionV58 is wake_page_function() (mm/filemap.c, v5.8).
func wakePageFunctionV58(t *mm.Thread, e *mm.WaitQueueEntry, mode sim.TaskState, key *mm.WaitPageKey) int {
	if !mm.WakePageMatch(t, e.PageQueue(), key) {
		return 0
	}
	// Stop walking if it's locked. Is this safe if
	// put_and_wait_on_page_locked() is in use? Yes: the waker must hold a
	// reference to this page, and if PG_locked has now already been set by
	// another task, that task must also hold a reference to the *same
	// usage* of this page.
	if mm.TestBit(t, key.Page, key.BitNr) {
		return -1
	}
	// autoremove_wake_function(): wake the task, and unlink the entry only
	// if that actually woke it — an exclusive waiter that was already
	// running does not use up the walk's one exclusive wake-up.
	if !e.Private().WakeUp() {
		return 0
	}
	mm.ListDelInit(t, e)
	return 1
}

// waitOnPageBitCommonV58 is wait_on_page_bit_common() (mm/filemap.c, v5.8).
// The loop's head is a CutPoint: ret, the only local live there, is 0.
func waitOnPageBitCommonV58(t *mm.Thread, q *mm.WaitQueueHead, page *mm.Page, bitNr uint, state sim.TaskState, behavior mm.WaitBehavior) int {
	t.Enter("wait_on_page_bit_common")
	defer t.Exit()
	wait := mm.InitWaitPageQueue(t, page, bitNr)
	e := &wait.Wait
	if behavior == mm.Exclusive {
		e.SetFlags(t, mm.WQ_FLAG_EXCLUSIVE)
	} else {
		e.SetFlags(t, 0)
	}
	ret := 0
	for {
		t.CutPoint("wait_on_page_bit_common:v5.8", uint64(ret))
		t.Step("wait_on_page_bit_common")
		q.Lock(t)
		if e.ListEmpty(t) {
			// Queue again at the tail: a waiter woken for a bit that was
			// set again by the time it ran loses its place.
			q.AddTail(t, e)
			mm.SetPageWaiters(t, page)
		}
		t.SetState(state)
		q.Unlock()

		t.Step("test_bit")
		bitIsSet := mm.TestBit(t, page, bitNr)
		if behavior == mm.Drop {
			t.Step("put_page")
			mm.PutPage(t, page)
		}
		if bitIsSet {
			t.Schedule("io_schedule")
		}

		if behavior == mm.Exclusive {
			t.Step("test_and_set_bit_lock")
			if !mm.TestAndSetBit(t, page, bitNr) {
				break
			}
		} else if behavior == mm.Shared {
			t.Step("test_bit")
			if !mm.TestBit(t, page, bitNr) {
				break
			}
		}
		if bitIsSet {
			// Slept, and found the bit set again: another round.
			t.Spurious()
		}
		if t.SignalPending(state) {
			ret = mm.EINTR
			break
		}
		if behavior == mm.Drop {
			// We can no longer safely access page->flags.
			break
		}
	}
	if !e.ListEmptyCareful(t) {
		t.Step("finish_wait")
	}
	mm.FinishWait(t, q, e)
	t.Return(errVal(ret))
	return ret
}
