package fixes

import (
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// FairHandoff is 2a9127fcf229 ("mm: rewrite wait_on_page_bit_common()
// logic") as first merged, in v5.9-rc1 to rc5, before 5ef64cc8987a added
// the unfairness budget: the waker takes the bit on behalf of every woken
// exclusive waiter (strict FIFO hand-off), so a fast-path locker can never
// steal the lock from a queued waiter. Phoronix measured Apache Siege at
// less than half of v5.8's throughput with it.
var FairHandoff = &Fix{
	ID:       "fair-handoff",
	Ref:      "2a9127fcf229",
	Desc:     "v5.9-rc1 page lock: every woken exclusive waiter is handed the bit",
	Replaces: []string{"wake_page_function", "wait_on_page_bit_common"},
	Apply: func(ops *mm.Ops) {
		ops.WakePageFunction = wakePageFunctionHandoff
		ops.WaitOnPageBitCommon = waitOnPageBitCommonHandoff
	},
}

// wakePageFunctionHandoff is wake_page_function() (mm/filemap.c, v5.9-rc1).
func wakePageFunctionHandoff(t *mm.Thread, e *mm.WaitQueueEntry, mode sim.TaskState, key *mm.WaitPageKey) int {
	if !mm.WakePageMatch(t, e.PageQueue(), key) {
		return 0
	}
	ret := 0
	// If it's an exclusive wait, we get the bit for it, and stop walking
	// if we can't. If it's a non-exclusive wait, we don't care if somebody
	// then re-took it.
	if e.ReadFlags(t)&mm.WQ_FLAG_EXCLUSIVE != 0 {
		if mm.TestAndSetBit(t, key.Page, key.BitNr) {
			return -1
		}
		ret = 1
	}
	e.SetFlags(t, e.ReadFlags(t)|mm.WQ_FLAG_WOKEN)
	e.Private().WakeUp()
	mm.ListDelInitCareful(t, e)
	return ret
}

// trylockPageBitCommonHandoff is trylock_page_bit_common() (v5.9-rc1): WOKEN
// only; DONE came with 5ef64cc8987a.
func trylockPageBitCommonHandoff(t *mm.Thread, page *mm.Page, bitNr uint, e *mm.WaitQueueEntry) bool {
	if e.ReadFlags(t)&mm.WQ_FLAG_EXCLUSIVE != 0 {
		if mm.TestAndSetBit(t, page, bitNr) {
			return false
		}
	} else if mm.TestBit(t, page, bitNr) {
		return false
	}
	e.SetFlags(t, e.ReadFlags(t)|mm.WQ_FLAG_WOKEN)
	return true
}

// waitOnPageBitCommonHandoff is wait_on_page_bit_common() (mm/filemap.c,
// v5.9-rc1): queue once, sleep until WOKEN; the bit is never re-tested.
// The sleep loop's head is a CutPoint: slept is the only local live there.
func waitOnPageBitCommonHandoff(t *mm.Thread, q *mm.WaitQueueHead, page *mm.Page, bitNr uint, state sim.TaskState, behavior mm.WaitBehavior) int {
	t.Enter("wait_on_page_bit_common")
	defer t.Exit()
	wait := mm.InitWaitPageQueue(t, page, bitNr)
	e := &wait.Wait
	if behavior == mm.Exclusive {
		e.SetFlags(t, mm.WQ_FLAG_EXCLUSIVE)
	} else {
		e.SetFlags(t, 0)
	}

	t.Step("wait_on_page_bit_common")
	q.Lock(t)
	mm.SetPageWaiters(t, page)
	if !trylockPageBitCommonHandoff(t, page, bitNr, e) {
		q.AddTail(t, e)
	}
	q.Unlock()

	if behavior == mm.Drop {
		t.Step("put_page")
		mm.PutPage(t, page)
	}
	slept := false
	for {
		t.CutPoint("wait_on_page_bit_common:wait", boolVal(slept))
		t.SetState(state)
		if t.SignalPending(state) {
			break
		}
		if e.ReadFlags(t)&mm.WQ_FLAG_WOKEN != 0 {
			break
		}
		t.Schedule("io_schedule")
		slept = true
	}
	if !e.ListEmptyCareful(t) {
		t.Step("finish_wait")
	}
	mm.FinishWait(t, q, e)
	if e.ReadFlags(t)&mm.WQ_FLAG_WOKEN != 0 {
		if slept && behavior != mm.Exclusive && mm.ObserveBit(t, page, bitNr) {
			t.Spurious() // the lab's observation, not the kernel's
		}
		t.Return(errVal(0))
		return 0
	}
	t.Return(errVal(mm.EINTR))
	return mm.EINTR
}

// boolVal is a CutPoint or Return value for a bool.
func boolVal(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// errVal is the Return value of a kernel return code (0 or -errno): the
// error number, as package mm encodes it.
func errVal(ret int) uint64 { return uint64(-ret) }
