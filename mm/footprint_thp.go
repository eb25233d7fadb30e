package mm

import "github.com/pagelab/pagelab/sim"

// Footprint reporting for race D's state beyond footprint_cde.go's: the
// i_pages lock while a section of it spans scheduling points (the
// slot-by-slot stores of page_cache_delete_batch and page_cache_delete,
// collapse_file's nr_thps check), the writers waiting for it,
// mapping->nr_thps and the host's i_writecount. All are objInodeMisc
// fields of the mapping's inode:
//
//	inodeXaSpan       boolID: a section of the i_pages lock spans steps
//	inodeXaWaiters    waitersVal of the writers waiting for it
//	inodeNrThps       uint64(nr_thps)
//	inodeWritecount   uint64(i_writecount)
const (
	inodeXaSpan     = 3
	inodeXaWaiters  = 4
	inodeNrThps     = 5
	inodeWritecount = 6
)

// xaSpanHeld reads whether a section of the i_pages lock spans steps,
// reported.
func (t *Thread) xaSpanHeld(m *AddressSpace) bool {
	v := m.xaSpan
	if t.Footprinting() {
		t.cdeM(cdeR|objInodeMisc, m, inodeXaSpan, boolID(v))
	}
	return v
}

// setXaSpan stores whether a section of the i_pages lock spans steps,
// reported.
func (t *Thread) setXaSpan(m *AddressSpace, v bool) {
	m.xaSpan = v
	if t.Footprinting() {
		t.cdeM(cdeW|objInodeMisc, m, inodeXaSpan, boolID(v))
	}
}

// xaSpanQueue appends the task to the writers waiting for the i_pages
// lock, reported.
func (t *Thread) xaSpanQueue(m *AddressSpace) {
	m.xaWaiters = append(m.xaWaiters, t)
	if t.Footprinting() {
		t.cdeAccess(sim.OpRMW, obj(objInodeMisc, uint64(m.Host.Ino), inodeXaWaiters), 0, waitersVal(m.xaWaiters))
	}
}

// xaSpanTakeWaiters empties the writers waiting for the i_pages lock and
// returns them (to be woken), reported.
func (t *Thread) xaSpanTakeWaiters(m *AddressSpace) []*Thread {
	ws := m.xaWaiters
	m.xaWaiters = nil
	if t.Footprinting() {
		t.cdeAccess(sim.OpRMW, obj(objInodeMisc, uint64(m.Host.Ino), inodeXaWaiters), waitersVal(ws), 0)
	}
	return ws
}

// nrThpsAdd is filemap_nr_thps_inc/dec: atomic add to mapping->nr_thps,
// reported.
func (t *Thread) nrThpsAdd(m *AddressSpace, d int64) {
	m.nrThps += d
	if t.Footprinting() {
		t.cdeM(cdeN|objInodeMisc, m, inodeNrThps, uint64(m.nrThps))
	}
}

// filemapNrThps is filemap_nr_thps(): atomic_read(&mapping->nr_thps),
// reported.
func (t *Thread) filemapNrThps(m *AddressSpace) int64 {
	n := m.nrThps
	if t.Footprinting() {
		t.cdeM(cdeR|objInodeMisc, m, inodeNrThps, uint64(n))
	}
	return n
}

// getWriteAccess is get_write_access(): atomic_inc_unless_negative(
// &inode->i_writecount) (no deny_write_access in the model, so it always
// succeeds), reported.
func (t *Thread) getWriteAccess(m *AddressSpace) {
	m.writecount++
	if t.Footprinting() {
		t.cdeM(cdeN|objInodeMisc, m, inodeWritecount, uint64(m.writecount))
	}
}

// inodeIsOpenForWrite is inode_is_open_for_write():
// atomic_read(&inode->i_writecount) > 0, reported (the task learns only
// the comparison).
func (t *Thread) inodeIsOpenForWrite(m *AddressSpace) bool {
	v := m.writecount > 0
	if t.Footprinting() {
		t.cdeM(cdeR|objInodeMisc, m, inodeWritecount, boolID(v))
	}
	return v
}
