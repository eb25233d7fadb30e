package mm

import "github.com/pagelab/pagelab/sim"

// The kernel primitives fix variants (package fixes) build their patched
// functions from. Each is the kernel function or macro of the same name;
// every page-flag access goes through the same stale-page and PF_* policy
// checks as the baseline's, and every access to shared state reports its
// footprint (the functions that touch another task's state take the
// running task).

// TestBit is test_bit(nr, &page->flags): a plain read.
func TestBit(t *Thread, page *Page, nr uint) bool {
	return t.testBitAt(t.touch(page, pfAny, "test_bit", sim.AccessRead, nr), nr)
}

// TestAndSetBit is test_and_set_bit(nr, &page->flags).
func TestAndSetBit(t *Thread, page *Page, nr uint) bool {
	return t.testAndSetBitAt(t.touch(page, pfAny, "test_and_set_bit", sim.AccessRMW, nr), nr)
}

// TestAndClearBit is test_and_clear_bit(nr, &page->flags).
func TestAndClearBit(t *Thread, page *Page, nr uint) bool {
	return t.testAndClearBitAt(t.touch(page, pfAny, "test_and_clear_bit", sim.AccessRMW, nr), nr)
}

// ObserveBit is the lab's own look at a flag bit (spurious wake-up
// statistics): no kernel access, so no touch() checks and no cost, but a
// read of shared state all the same, reported.
func ObserveBit(t *Thread, page *Page, nr uint) bool { return t.testFlag(page, nr) }

// ReadIndex is page->index read by a task, reported.
func ReadIndex(t *Thread, page *Page) uint64 { return t.pageIndex(page) }

// ClearBitUnlockIsNegativeByte is clear_bit_unlock_is_negative_byte(nr,
// &page->flags): clear bit nr and report PG_waiters in one atomic operation.
// The kernel can only do this for bits in PG_waiters' byte (bits 0-7).
func ClearBitUnlockIsNegativeByte(t *Thread, page *Page, nr uint) bool {
	t.touch(page, pfOnlyHead, "clear_bit_unlock_is_negative_byte", sim.AccessRMW, nr)
	return t.clearBitUnlockIsNegativeByte(page, nr)
}

// WakePageMatch is wake_page_match(), by the waker t.
func WakePageMatch(t *Thread, wait *WaitPageQueue, key *WaitPageKey) bool {
	return wakePageMatch(t, wait, key)
}

// TrylockPageBitCommon is trylock_page_bit_common().
func TrylockPageBitCommon(t *Thread, page *Page, bitNr uint, e *WaitQueueEntry) bool {
	t.touch(page, pfAny, "trylock_page_bit_common", sim.AccessRMW, bitNr)
	return trylockPageBitCommon(t, page, bitNr, e)
}

// WakeUpCommon is __wake_up_common() with the caller holding q->lock.
func WakeUpCommon(t *Thread, q *WaitQueueHead, mode sim.TaskState, nrExclusive int, key *WaitPageKey, bookmark *WaitQueueEntry) int {
	return wakeUpCommon(t, q, mode, nrExclusive, key, bookmark)
}

// FinishWait is finish_wait().
func FinishWait(t *Thread, q *WaitQueueHead, e *WaitQueueEntry) { finishWait(t, q, e) }

// WakeUpPage is wake_up_page().
func WakeUpPage(t *Thread, page *Page, bit uint) { wakeUpPage(t, page, bit) }

// RotateReclaimablePage is rotate_reclaimable_page().
func RotateReclaimablePage(t *Thread, page *Page) { rotateReclaimablePage(t, page) }

// InitWaitPageQueue sets up the task's on-stack struct wait_page_queue for
// page and bit (init_wait(); wait->func = wake_page_function; ...).
func InitWaitPageQueue(t *Thread, page *Page, bitNr uint) *WaitPageQueue {
	w := &t.wait
	t.initList(&w.Wait, 0)
	w.Wait.private, w.Wait.wpq = t, w
	w.Page, w.BitNr = page, bitNr
	t.wrTarget(w)
	return w
}

// Bookmark is the waker's on-stack bookmark entry, initialised.
func Bookmark(t *Thread) *WaitQueueEntry {
	b := &t.bookmark
	t.setWaitFlags(b, 0)
	t.initList(b, 1)
	return b
}

// Private is wait->private: the waiting task (the entry's identity, not
// state: it never changes once set).
func (e *WaitQueueEntry) Private() *Thread { return e.private }

// PageQueue is container_of(wait, struct wait_page_queue, wait).
func (e *WaitQueueEntry) PageQueue() *WaitPageQueue { return e.wpq }

// ReadFlags is task t's load of wait->flags (smp_load_acquire where the
// kernel uses it).
func (e *WaitQueueEntry) ReadFlags(t *Thread) uint32 { return t.waitFlags(e) }

// SetFlags is task t's store of wait->flags (smp_store_release where the
// kernel uses it).
func (e *WaitQueueEntry) SetFlags(t *Thread, f uint32) { t.setWaitFlags(e, f) }

// ListEmptyCareful is list_empty_careful(&wait->entry).
func (e *WaitQueueEntry) ListEmptyCareful(t *Thread) bool { return t.listEmptyCareful(e) }

// ListEmpty is list_empty(&wait->entry).
func (e *WaitQueueEntry) ListEmpty(t *Thread) bool { return t.listEmptyCareful(e) }

// ListDelInit is list_del_init(&wait->entry) of a wait_page_queue's entry,
// queued on its page's wait queue.
func ListDelInit(t *Thread, e *WaitQueueEntry) {
	listDelInit(t, PageWaitqueue(t.K, e.wpq.Page), e)
}

// ListDelInitCareful is list_del_init_careful(&wait->entry), likewise.
func ListDelInitCareful(t *Thread, e *WaitQueueEntry) {
	listDelInitCareful(t, PageWaitqueue(t.K, e.wpq.Page), e)
}

// AddTail is __add_wait_queue_entry_tail(q, wait).
func (q *WaitQueueHead) AddTail(t *Thread, e *WaitQueueEntry) { listAddTail(t, q, e, &q.head) }

// Lock is spin_lock_irq(&q->lock).
func (q *WaitQueueHead) Lock(t *Thread) { q.lock.Lock(t) }

// Unlock is spin_unlock_irq(&q->lock).
func (q *WaitQueueHead) Unlock() { q.lock.Unlock() }

// WaitqueueActive is waitqueue_active(q).
func (q *WaitQueueHead) WaitqueueActive(t *Thread) bool { return q.waitqueueActive(t) }

// XaLock is xa_lock_irqsave(&mapping->i_pages).
func (m *AddressSpace) XaLock(t *Thread) { m.iPages.Lock(t) }

// XaUnlock is xa_unlock_irqrestore(&mapping->i_pages).
func (m *AddressSpace) XaUnlock() { m.iPages.Unlock() }

// XaClearMark is __xa_clear_mark(&mapping->i_pages, index, mark).
func (m *AddressSpace) XaClearMark(t *Thread, index uint64, mark uint8) {
	t.xaClearMark(m, index, mark)
}

// XaSetMark is __xa_set_mark(&mapping->i_pages, index, mark).
func (m *AddressSpace) XaSetMark(t *Thread, index uint64, mark uint8) {
	t.xaSetMark(m, index, mark)
}

// AccountPageWriteback is the part of __test_set_page_writeback() that
// follows a successful test-and-set of PG_writeback: the WRITEBACK mark and
// the DIRTY/TOWRITE mark clean-up under the i_pages lock, for a caller that
// already owns the bit.
func AccountPageWriteback(t *Thread, page *Page) {
	testSetPageWritebackLocked(t, page, false)
}

// FolioXorFlagsHasWaiters is folio_xor_flags_has_waiters() (v6.7): one
// atomic XOR of mask into the flags, reporting whether PG_waiters was set.
// Being an XOR, applied to an already-clear bit it sets it.
func FolioXorFlagsHasWaiters(t *Thread, page *Page, mask uint64) bool {
	page = t.touch(page, pfNoTail, "folio_xor_flags_has_waiters", sim.AccessRMW, PG_writeback)
	for {
		old := page.flags.Load()
		if page.flags.CompareAndSwap(old, old^mask) {
			if t.Footprinting() {
				for b := uint(0); b < 64; b++ {
					if mask&(1<<b) != 0 {
						t.rmwFlag(page, b, old&(1<<b) != 0, old&(1<<b) == 0)
					}
				}
			}
			w := old&(1<<PG_waiters) != 0
			t.rdFlag(page, PG_waiters, w)
			return w
		}
	}
}

// AttachPageBuffers is create_empty_buffers(): buffers (PG_private, a page
// reference) and the page's blocks allocated.
func AttachPageBuffers(t *Thread, page *Page) { attachPageBuffers(t, page) }
