package mm

import "github.com/pagelab/pagelab/sim"

// rwsemW is an inode's rw_semaphore (kernel/locking/rwsem.c) reduced to
// what the model takes of it, writers only: waitLock is the rwsem's
// wait_lock, locked whether it is held, waiters its sleeping writers.
// i_rwsem (inode_lock) and mapping->invalidate_lock are two of them; their
// state is reported as the objInodeMisc fields lockedKey and waitersKey of
// their inode.
type rwsemW struct {
	waitLock              SpinLock
	locked                bool
	waiters               []*Thread
	lockedKey, waitersKey uint64
}

// downWrite is down_write(), entered as name (inode_lock, down_write):
// under the wait_lock, take the rwsem if free, else queue, announce the
// sleep and schedule; up_write wakes the waiters, who try again. Setting
// the task state before dropping the wait_lock is what keeps the wake-up
// of an up_write between the two from being lost (sim.Task.Schedule).
func (s *rwsemW) downWrite(t *Thread, inode *Inode, name string) {
	t.Enter(name)
	defer t.Exit()
	for {
		// The retry after each wake-up: no local is live here.
		t.CutPoint(name)
		t.Step("down_write")
		s.waitLock.Lock(t)
		locked := s.locked
		if t.Footprinting() {
			t.cdeI(cdeR|objInodeMisc, inode, s.lockedKey, boolID(locked))
		}
		if !locked {
			s.locked = true
			if t.Footprinting() {
				t.cdeI(cdeW|objInodeMisc, inode, s.lockedKey, boolID(true))
			}
			s.waitLock.Unlock()
			t.Return()
			return
		}
		s.waiters = append(s.waiters, t)
		if t.Footprinting() {
			t.cdeAccess(sim.OpRMW, inodeObj(objInodeMisc, inode, s.waitersKey), 0, waitersVal(s.waiters))
		}
		t.SetState(sim.TaskUninterruptible)
		s.waitLock.Unlock()
		t.Schedule("rwsem_down_write_slowpath")
		t.SetState(sim.TaskRunning)
	}
}

// upWrite is up_write(): release, and wake every sleeping writer.
func (s *rwsemW) upWrite(t *Thread, inode *Inode) {
	t.Step("up_write")
	s.waitLock.Lock(t)
	s.locked = false
	if t.Footprinting() {
		t.cdeI(cdeW|objInodeMisc, inode, s.lockedKey, boolID(false))
	}
	ws := s.waiters
	s.waiters = nil
	if t.Footprinting() {
		t.cdeAccess(sim.OpRMW, inodeObj(objInodeMisc, inode, s.waitersKey), waitersVal(ws), 0)
	}
	s.waitLock.Unlock()
	for _, w := range ws {
		w.WakeUp()
	}
}
