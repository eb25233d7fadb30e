package mm

import "github.com/pagelab/pagelab/sim"

// WaitBehavior is enum behavior in mm/filemap.c (v5.10).
type WaitBehavior uint8

const (
	// Exclusive: hold ref to page and take the bit when woken, like
	// __lock_page() waiting to take the page lock.
	Exclusive WaitBehavior = iota
	// Shared: hold ref to page and check the bit when woken, like
	// wait_on_page_writeback() waiting for writeback to complete (since
	// 2a9127fcf229 the waiter does not actually re-check: see
	// WaitOnPageBitCommon).
	Shared
	// Drop: drop ref to page before wait, no check when woken, like
	// put_and_wait_on_page_locked() on migration entry.
	Drop
)

func (b WaitBehavior) String() string {
	return [...]string{"EXCLUSIVE", "SHARED", "DROP"}[b]
}

// EINTR is -EINTR, returned by killable waits that a fatal signal ended.
const EINTR = -4

// WaitPageKey is struct wait_page_key (include/linux/pagemap.h, v5.10).
type WaitPageKey struct {
	Page      *Page
	BitNr     uint
	PageMatch bool
}

// WaitPageQueue is struct wait_page_queue: the page and bit a waiter waits
// for, and its wait-queue entry.
type WaitPageQueue struct {
	Page  *Page
	BitNr uint
	Wait  WaitQueueEntry
}

// goldenRatio64 is GOLDEN_RATIO_64 (include/linux/hash.h).
const goldenRatio64 = 0x61C8864680B583EB

// pageAddress is the struct page's virtual address in the vmemmap (x86-64,
// 4-level paging; sizeof(struct page) == 64): the key of the wait table.
func pageAddress(page *Page) uint64 { return 0xffffea0000000000 + uint64(page.pfn)*64 }

// PageWaitqueue is page_waitqueue() (mm/filemap.c, v5.10):
// &page_wait_table[hash_ptr(page, PAGE_WAIT_TABLE_BITS)]. The key is the
// struct page's address, so a page that was freed and reallocated hashes to
// the same bucket and matches the same wait keys — what makes stale wake-ups
// reach a page's new owner.
func PageWaitqueue(k *Kernel, page *Page) *WaitQueueHead {
	h := pageAddress(page) * goldenRatio64 >> (64 - k.WaitTableBits)
	return k.bucket(h)
}

// targetVal is objWaitTarget's value: the wait_page_queue's page and bit.
func targetVal(wait *WaitPageQueue) uint64 { return pageID(wait.Page)<<8 | uint64(wait.BitNr) }

// wrTarget reports the owner's store of its wait_page_queue's page and bit.
func (t *Thread) wrTarget(wait *WaitPageQueue) {
	if t.Footprinting() {
		t.fpWrite(obj(objWaitTarget, uint64(t.ID), 0), targetVal(wait))
	}
}

// wakePageMatch is wake_page_match() (include/linux/pagemap.h, v5.10): a
// different page does not match; the same page records page_match, then a
// different bit does not match. The waker reads the waiter's page and bit.
func wakePageMatch(t *Thread, wait *WaitPageQueue, key *WaitPageKey) bool {
	if t.Footprinting() {
		t.fpRead(obj(objWaitTarget, uint64(wait.Wait.private.ID), 0), targetVal(wait))
	}
	if wait.Page != key.Page {
		return false
	}
	key.PageMatch = true
	return wait.BitNr == key.BitNr
}

// WakePageFunction is wake_page_function() (mm/filemap.c, v5.9-rc6 to
// v5.11; 5ef64cc8987a), called by __wake_up_common() with q->lock held.
// A non-exclusive waiter is woken without looking at the bit: "the fact
// that this wake function was called means that the bit already was
// cleared, and we don't care if somebody then re-took it" — the premise
// race A breaks, because end_page_writeback() clears and wakes in two steps.
// An exclusive waiter is only woken if the bit is clear; with WQ_FLAG_CUSTOM
// (fair hand-off requested) the waker takes the bit for it.
func WakePageFunction(t *Thread, e *WaitQueueEntry, mode sim.TaskState, key *WaitPageKey) int {
	wait := e.wpq
	if !wakePageMatch(t, wait, key) {
		return 0
	}
	// The waiter writes its flags only before queueing and after being
	// woken, so this plain read under q->lock is stable.
	flags := t.waitFlags(e)
	if flags&WQ_FLAG_EXCLUSIVE != 0 {
		page := t.touch(key.Page, pfAny, "test_bit", sim.AccessRead, key.BitNr)
		if t.testBitAt(page, key.BitNr) {
			return -1
		}
		if flags&WQ_FLAG_CUSTOM != 0 {
			t.accessBit(page, key.BitNr, sim.AccessRMW)
			if t.testAndSetBitAt(page, key.BitNr) {
				return -1
			}
			flags |= WQ_FLAG_DONE
		}
	}
	// smp_store_release(&wait->flags, flags | WQ_FLAG_WOKEN): pairs with the
	// waiter's smp_load_acquire; WOKEN must be visible before the wake-up.
	t.setWaitFlags(e, flags|WQ_FLAG_WOKEN)
	e.private.WakeUp()
	// list_del_init_careful() must be the last touch of the entry: it
	// lives on the waiter's stack, and once the waiter sees it unlinked in
	// finish_wait() it may return and reuse that stack. The entry is on
	// its page's queue (the one being walked).
	listDelInitCareful(t, PageWaitqueue(t.K, wait.Page), e)
	if flags&WQ_FLAG_EXCLUSIVE != 0 {
		return 1
	}
	return 0
}

// WakeUpPageBit is wake_up_page_bit() (mm/filemap.c, v5.10): walk the page's
// hashed wait queue with key (page, bit), waking at most one exclusive
// waiter per walk segment, dropping q->lock every WAITQUEUE_WALK_BREAK_CNT
// entries (the bookmark), and clear PG_waiters if no entry for this page was
// seen. It neither needs nor takes a page reference, and never checks that
// the bit is actually clear.
func WakeUpPageBit(t *Thread, page *Page, bitNr uint) {
	t.Enter("wake_up_page_bit")
	defer t.Exit()
	k := t.K
	q := PageWaitqueue(k, page)
	key := WaitPageKey{Page: page, BitNr: bitNr}
	bookmark := &t.bookmark // on the waker's stack
	t.setWaitFlags(bookmark, 0)
	t.initList(bookmark, 1)

	BeginWalk(t)
	t.Step("wake_up_page_bit")
	q.lock.Lock(t)
	wakeUpCommon(t, q, sim.TaskUninterruptible, 1, &key, bookmark)
	for t.waitFlags(bookmark)&WQ_FLAG_BOOKMARK != 0 {
		// The walk went past WAITQUEUE_WALK_BREAK_CNT entries: drop the
		// lock so that interrupts and other CPUs get in, then continue
		// from the bookmark. Waiters can come and go meanwhile.
		q.lock.Unlock()
		t.Step("wake_up_page_bit:cpu_relax")
		q.lock.Lock(t)
		wakeUpCommon(t, q, sim.TaskUninterruptible, 1, &key, bookmark)
	}
	// It is possible to miss clearing Waiters here, when we woke our page
	// waiters but the hashed waitqueue has waiters for other pages on it.
	// That's okay, it's a rare case. The next waker will take care of it.
	if !q.waitqueueActive(t) || !key.PageMatch {
		ClearPageWaiters(t, page)
	}
	q.lock.Unlock()
	EndWalk(t, bitNr)
	t.Return()
}

// BeginWalk and EndWalk bracket a wake-up walk (wake_up_page_bit,
// folio_wake_bit) for the lab's statistics: EndWalk records the entries
// wakeUpCommon visited since BeginWalk, for PG_writeback wake-ups
// (CountWakeWalk).
func BeginWalk(t *Thread) { t.walked = 0 }

func EndWalk(t *Thread, bitNr uint) {
	if bitNr == PG_writeback {
		t.Count(CountWakeWalk, t.walked)
	}
}

// wakeUpPage is wake_up_page() (mm/filemap.c, v5.10): a plain read of
// PG_waiters, and the wake-up only if it was set. Its one caller is
// end_page_writeback(), where this read happens after PG_writeback was
// cleared — on a page that, before 073861ed77b6, may already have been freed
// and reused (the PageTail crash of race B).
func wakeUpPage(t *Thread, page *Page, bit uint) {
	t.Enter("wake_up_page")
	defer t.Exit()
	t.Step("wake_up_page")
	if !PageWaiters(t, page) {
		t.Return()
		return
	}
	t.K.Ops.WakeUpPageBit(t, page, bit)
	t.Return()
}

// trylockPageBitCommon is trylock_page_bit_common() (mm/filemap.c, v5.10):
// under q->lock, after SetPageWaiters, an exclusive waiter tries to take the
// bit and any other checks it; success means no sleep at all.
func trylockPageBitCommon(t *Thread, page *Page, bitNr uint, e *WaitQueueEntry) bool {
	if t.waitFlags(e)&WQ_FLAG_EXCLUSIVE != 0 {
		if t.testAndSetBitAt(t.touch(page, pfAny, "test_and_set_bit", sim.AccessRMW, bitNr), bitNr) {
			return false
		}
	} else if t.testBitAt(t.touch(page, pfAny, "test_bit", sim.AccessRead, bitNr), bitNr) {
		return false
	}
	t.setWaitFlags(e, t.waitFlags(e)|WQ_FLAG_WOKEN|WQ_FLAG_DONE)
	return true
}

// WaitOnPageBitCommon is wait_on_page_bit_common() (mm/filemap.c, v5.9-rc6
// to v5.11; 2a9127fcf229 then 5ef64cc8987a). The waiter queues itself (or
// gets the bit at once) under q->lock, then sleeps until the waker marks its
// entry WOKEN. All the checking is done by the waker: a non-exclusive waiter
// returns as soon as it is woken, without re-testing the bit; an exclusive
// one returns if the waker handed it the bit (DONE) or it takes the bit
// itself, and otherwise queues again at the tail. The first
// PageLockUnfairness queueings are "stealable"; later ones ask the waker for
// a fair hand-off (WQ_FLAG_CUSTOM).
//
// Its two loop heads (repeat, and the sleep loop) are CutPoints: what
// follows depends on the arguments and on unfairness and slept, the only
// locals live there (wait and e are the task's own entry, fixed by t).
// unfairness is declared as max(unfairness, 0): it is only ever
// decremented and then compared with zero, so every value at or below zero
// behaves the same, and a waiter passed over again and again revisits its
// state instead of counting down forever.
func WaitOnPageBitCommon(t *Thread, q *WaitQueueHead, page *Page, bitNr uint, state sim.TaskState, behavior WaitBehavior) int {
	t.Enter("wait_on_page_bit_common")
	defer t.Exit()
	unfairness := t.K.PageLockUnfairness
	wait := &t.wait
	e := &wait.Wait
	t.initList(e, 0)
	e.private, e.wpq = t, wait
	wait.Page, wait.BitNr = page, bitNr
	t.wrTarget(wait)

repeat:
	t.CutPoint("wait_on_page_bit_common:repeat", uint64(max(unfairness, 0)))
	var flags uint32
	if behavior == Exclusive {
		flags = WQ_FLAG_EXCLUSIVE
		unfairness--
		if unfairness < 0 {
			flags |= WQ_FLAG_CUSTOM
		}
	}
	t.setWaitFlags(e, flags)
	slept := false

	t.Step("wait_on_page_bit_common")
	q.lock.Lock(t)
	// PG_waiters goes up before the final test of the bit, under q->lock:
	// a waker that has just cleared the bit either sees PG_waiters (and
	// takes q->lock after us, finding our entry) or we see the bit clear.
	SetPageWaiters(t, page)
	if !trylockPageBitCommon(t, page, bitNr, e) {
		listAddTail(t, q, e, &q.head)
	}
	q.lock.Unlock()

	// From now on all the logic is based on WOKEN and DONE: the wake
	// function has already done the bit testing.
	if behavior == Drop {
		t.Step("put_page")
		PutPage(t, page)
	}

	for {
		t.CutPoint("wait_on_page_bit_common:wait", uint64(max(unfairness, 0)), boolID(slept))
		t.SetState(state)
		f := t.waitFlags(e) // smp_load_acquire(&wait->flags)
		if f&WQ_FLAG_WOKEN == 0 {
			if t.SignalPending(state) {
				break
			}
			// A wake-up between the flags load and here sets us back to
			// TASK_RUNNING, and Schedule then does not sleep.
			t.Schedule("io_schedule")
			slept = true
			continue
		}
		// If we were non-exclusive, we're done.
		if behavior != Exclusive {
			noteSharedWakeup(t, page, bitNr, slept)
			break
		}
		// If the waker got the lock for us, we're done.
		if f&WQ_FLAG_DONE != 0 {
			break
		}
		// Otherwise take it ourselves; a fast-path trylock_page() on
		// another CPU may have stolen it since the waker saw it clear.
		t.Step("test_and_set_bit")
		if t.testAndSetBitAt(t.touch(page, pfAny, "test_and_set_bit", sim.AccessRMW, bitNr), bitNr) {
			// Woken, but the bit was taken again first.
			t.Spurious()
			goto repeat
		}
		t.setWaitFlags(e, f|WQ_FLAG_DONE)
		break
	}

	// A signal may leave PG_waiters set with no waiter left: the next
	// wake-up clears it.
	if !t.listEmptyCareful(e) {
		t.Step("finish_wait")
	}
	finishWait(t, q, e)

	// Only after finish_wait() are the flags stable.
	f := t.waitFlags(e)
	ret := EINTR
	if behavior == Exclusive {
		if f&WQ_FLAG_DONE != 0 {
			ret = 0
		}
	} else if f&WQ_FLAG_WOKEN != 0 {
		ret = 0
	}
	t.Return(errID(ret))
	return ret
}

// noteSharedWakeup counts a spurious wake-up for the lab's statistics: a
// non-exclusive waiter that was woken (not one that found the bit clear
// without sleeping) while the bit is set again. The read is the lab's
// observation, not the kernel's: it costs nothing and is not a step (it is
// reported all the same: it reads shared state).
func noteSharedWakeup(t *Thread, page *Page, bitNr uint, slept bool) {
	if slept && t.testFlag(page, bitNr) {
		t.Spurious()
	}
}

// WaitOnPageBit is wait_on_page_bit() (mm/filemap.c, v5.10): a SHARED,
// uninterruptible wait.
func WaitOnPageBit(t *Thread, page *Page, bitNr uint) {
	if bitNr == PG_writeback {
		t.bitWaits++
	}
	q := PageWaitqueue(t.K, page)
	t.K.Ops.WaitOnPageBitCommon(t, q, page, bitNr, sim.TaskUninterruptible, Shared)
}

// TrylockPage is trylock_page() (include/linux/pagemap.h, v5.10): an atomic
// test_and_set_bit_lock of PG_locked on the head page. The caller places the
// scheduling point.
func TrylockPage(t *Thread, page *Page) bool {
	page = t.compoundHead(page)
	return !t.testAndSetBitAt(t.touch(page, pfNoTail, "trylock_page", sim.AccessRMW, PG_locked), PG_locked)
}

// LockPage is lock_page() (include/linux/pagemap.h, v5.10): the trylock fast
// path, then __lock_page().
func LockPage(t *Thread, page *Page) {
	// No defers on this hot path: a task that unwinds (its execution
	// ended) leaves its stack and timings behind on purpose.
	t.Enter("lock_page")
	m := t.OpBegin(OpLockPage)
	t.Step("lock_page")
	if !TrylockPage(t, page) {
		lockPageSlow(t, page)
	}
	t.OpEnd(m)
	t.Return()
	t.Exit()
}

// lockPageSlow is __lock_page() (mm/filemap.c, v5.10): an EXCLUSIVE,
// uninterruptible wait for PG_locked on the head page.
func lockPageSlow(t *Thread, page *Page) {
	page = t.compoundHead(page)
	q := PageWaitqueue(t.K, page)
	t.K.Ops.WaitOnPageBitCommon(t, q, page, PG_locked, sim.TaskUninterruptible, Exclusive)
}

// clearBitUnlockIsNegativeByte is clear_bit_unlock_is_negative_byte(): one
// atomic operation that clears bit nr with release semantics and reports
// whether bit 7 of the same byte (PG_waiters) was set: a store of bit nr
// and a read of PG_waiters.
func (t *Thread) clearBitUnlockIsNegativeByte(page *Page, nr uint) bool {
	old := page.flags.And(^uint64(1 << nr))
	t.wrFlag(page, nr, false)
	w := old&(1<<PG_waiters) != 0
	t.rdFlag(page, PG_waiters, w)
	return w
}

// UnlockPage is unlock_page() (mm/filemap.c, v5.10): clear PG_locked and
// test PG_waiters in one atomic byte operation, and wake the waiters if
// there were any. Because the clear and the test are one operation, no new
// waiter can slip in between them — the property PG_writeback lacks.
func UnlockPage(t *Thread, page *Page) {
	t.Enter("unlock_page")
	page = t.compoundHead(page)
	t.Step("unlock_page")
	if !PageLocked(t, page) && t.K.DebugVM {
		t.Bug(BugNotLocked, "unlock_page of unlocked pfn %d: VM_BUG_ON_PAGE(!PageLocked(page))", page.pfn)
	}
	if t.Timed() {
		t.accessBit(page, PG_locked, sim.AccessRMW)
		t.accessBit(page, PG_waiters, sim.AccessRead)
	}
	if t.clearBitUnlockIsNegativeByte(page, PG_locked) {
		t.K.Ops.WakeUpPageBit(t, page, PG_locked)
	}
	t.Return()
	t.Exit()
}

// EndPageWriteback is end_page_writeback() (mm/filemap.c, v5.9 to
// v5.10-rc5), run by the I/O completion without any page reference: clear
// PG_writeback (test_clear_page_writeback), then, as a separate step, read
// PG_waiters and wake the waiters (wake_up_page). Between the two steps the
// page may be re-dirtied and put under writeback again by a page-lock holder
// (race A), or truncated, freed and reused (race B).
//
// With Ops.EndWritebackHoldsRef it is v5.10-rc6's (073861ed77b6, Hugh
// Dickins):
//
//	/*
//	 * Writeback does not hold a page reference of its own, relying
//	 * on truncation to wait for the clearing of PG_writeback.
//	 * But here we must make sure that the page is not freed and
//	 * reused before the wake_up_page().
//	 */
//	get_page(page);
//	if (!test_clear_page_writeback(page))
//		BUG();
//	smp_mb__after_atomic();
//	wake_up_page(page, PG_writeback);
//	put_page(page);
func EndPageWriteback(t *Thread, page *Page) {
	t.Enter("end_page_writeback")
	defer t.Exit()
	t.Step("end_page_writeback")
	if PageReclaim(t, page) {
		// Plain atomic clear, deliberately not test-and-clear.
		ClearPageReclaim(t, page)
		rotateReclaimablePage(t, page)
	}
	holdRef := t.K.Ops.EndWritebackHoldsRef
	if holdRef {
		t.Step("get_page")
		GetPage(t, page)
	}
	if !t.K.Ops.TestClearPageWriteback(t, page) {
		t.Bug(BugEndWriteback, "end_page_writeback on pfn %d with PG_writeback already clear: BUG()", page.pfn)
	}
	// smp_mb__after_atomic(): orders the clear before the PG_waiters read,
	// pairing with the waiter setting PG_waiters under q->lock before it
	// tests the bit. Sequential consistency at scheduling points gives it.
	wakeUpPage(t, page, PG_writeback)
	if holdRef {
		t.Step("put_page")
		PutPage(t, page)
	}
	t.Return()
}

// rotateReclaimablePage is rotate_reclaimable_page() (mm/swap.c, v5.10):
// moves a page that finished writeback for reclaim to the inactive tail.
// The model has no LRU lists, so only the precondition checks remain.
func rotateReclaimablePage(t *Thread, page *Page) {}
