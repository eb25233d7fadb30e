package mm

import "fmt"

// Failure is one of the failure ids of the lab's contract (SPEC §3). Each is
// raised by the model at the place the kernel would detect it, or by an
// oracle for the silent ones.
type Failure uint8

const (
	// BugWriteback is BUG_ON(PageWriteback(page)) after
	// wait_on_page_writeback() in write_cache_pages(), and its filesystem
	// twins (__mpage_writepage's BUG_ON before set_page_writeback).
	BugWriteback Failure = iota
	// BugEndWriteback is the BUG() in end_page_writeback() when
	// PG_writeback was already clear.
	BugEndWriteback
	// VMBugTail is VM_BUG_ON(PageTail): a PF_ONLY_HEAD flag operation
	// (PageWaiters) or truncate_inode_page() on a tail page.
	VMBugTail
	// VMBugIndex is VM_BUG_ON_PAGE(page->index != xas.xa_index).
	VMBugIndex
	// BugNotLocked is BUG_ON(!PageLocked) / VM_BUG_ON(!PageLocked) in
	// clear_page_dirty_for_io(), delete_from_page_cache(), unlock_page().
	BugNotLocked
	// BugNoBuffers is a dirty page without buffers reaching ->writepage.
	BugNoBuffers
	// BadPage is bad_page() at free (or allocation).
	BadPage
	// StalePage: a path touched the flags of a page it holds no reference
	// to after that page was freed (and possibly reused).
	StalePage
	// DataCorruption: the disk keeps data no writer of the block wrote —
	// another owner's (its page was freed and reused under the write), or
	// a torn write (the page changed under the device's read) that nothing
	// writes again — or data that changed under the write on a
	// stable-writes device, whose checksum no longer matches (disk.go's
	// bioDMA at I/O completion, checkTornBlocks at the end).
	DataCorruption
	// DataLoss: data a writer wrote never reaches the disk although it was
	// reported written or its dirty state was dropped.
	DataLoss
	// FsyncEarly: fsync / fdatawait returned while the I/O it had to wait
	// for was still in flight (the data may land later): a durability
	// violation, not lost data.
	FsyncEarly
	// UnstableWrite: a GUP user's DMA changed a page while its writeback
	// I/O was in flight, on a device without stable writes: the block may
	// be torn, harmless as long as the page stays dirty and is written
	// again (else data-corruption at the end); on a stable-writes device
	// the same change is data-corruption at once.
	UnstableWrite
	// VMBugRefcount is VM_BUG_ON_PAGE(page_ref_zero_or_close_to_overflow)
	// in get_page() (a reference taken from a zero refcount) or
	// VM_BUG_ON_PAGE(page_ref_count(page) == 0) in put_page_testzero().
	VMBugRefcount
	// WarnWriteback is WARN_ON(!PageWriteback(page)) when ending writeback
	// on a page whose bit is already clear (no-waiters-check's 09/11).
	WarnWriteback
	// Hang: every unfinished task sleeps and nobody is left to wake them.
	Hang
	// Livelock: the step budget ran out while tasks kept running.
	Livelock
	// SoftLockup: the soft-lockup watchdog (kernel/watchdog.c) found a CPU
	// that stayed in kernel code without scheduling for longer than its
	// threshold of virtual time (the kernel parameter softlockup_us).
	SoftLockup

	NumFailures
)

var failureIDs = [NumFailures]string{
	"bug-writeback", "bug-end-writeback", "vm-bug-tail", "vm-bug-index",
	"bug-not-locked", "bug-no-buffers", "bad-page", "stale-page",
	"data-corruption", "data-loss", "fsync-early", "unstable-write",
	"vm-bug-refcount", "warn-writeback", "hang", "livelock", "soft-lockup",
}

var failureDescs = [NumFailures]string{
	"BUG_ON(PageWriteback) after wait_on_page_writeback() in write_cache_pages",
	"BUG() in end_page_writeback: PG_writeback was already clear",
	"VM_BUG_ON(PageTail): PageWaiters or truncate_inode_page on a tail page",
	"VM_BUG_ON_PAGE(page->index != xas.xa_index) in find_lock_entries",
	"BUG_ON(!PageLocked) in clear_page_dirty_for_io/delete_from_page_cache/unlock",
	"a dirty page without buffers reached ->writepage (page_buffers BUG)",
	"bad_page() at free: refcount, mapping or a CHECK_AT_FREE flag still set",
	"page flags touched without a reference after the page was freed",
	"the disk keeps data no writer wrote (another owner's, a torn write never rewritten) or that changed under a stable-writes device",
	"data a writer wrote never reaches the disk although reported written, or its dirty state was dropped",
	"fsync/fdatawait returned while the I/O it had to wait for was in flight (data may land later)",
	"DMA changed a page under its write I/O on a plain disk: the block is torn until the page is rewritten",
	"VM_BUG_ON_PAGE on a zero refcount: get_page on a freed page, or put_page of no reference",
	"WARN_ON(!PageWriteback) when ending writeback on a page whose bit is already clear",
	"every unfinished task is asleep and nobody is left to wake them",
	"the step budget ran out while tasks kept running without finishing",
	"a CPU stayed in kernel code without scheduling longer than the watchdog threshold",
}

func (f Failure) String() string {
	if f < NumFailures {
		return failureIDs[f]
	}
	return fmt.Sprintf("Failure(%d)", uint8(f))
}

// Description is the one-line description of the failure id.
func (f Failure) Description() string {
	if f < NumFailures {
		return failureDescs[f]
	}
	return ""
}

// ParseFailure returns the failure with the given id.
func ParseFailure(id string) (Failure, bool) {
	for i, s := range failureIDs {
		if s == id {
			return Failure(i), true
		}
	}
	return 0, false
}

// Report is one failure event: what fired, in which task, where, and why.
type Report struct {
	Failure Failure
	Task    string
	Label   string
	Stack   []string
	Msg     string
}

func (r Report) String() string {
	return fmt.Sprintf("%s in %s at %s: %s", r.Failure, r.Task, r.Label, r.Msg)
}

// FailureSet is the set of failure ids that fired in one execution.
type FailureSet uint32

// Has reports whether f is in the set.
func (s FailureSet) Has(f Failure) bool { return s&(1<<f) != 0 }

// Add returns the set with f added.
func (s FailureSet) Add(f Failure) FailureSet { return s | 1<<f }

// Empty reports whether no failure fired.
func (s FailureSet) Empty() bool { return s == 0 }

// List returns the failures in the set in id order.
func (s FailureSet) List() []Failure {
	var l []Failure
	for f := Failure(0); f < NumFailures; f++ {
		if s.Has(f) {
			l = append(l, f)
		}
	}
	return l
}

// Fatal reports whether the failure is an oops (BUG, VM_BUG_ON) that ends
// the execution.
func (f Failure) Fatal() bool {
	switch f {
	case BugWriteback, BugEndWriteback, VMBugTail, VMBugIndex, BugNotLocked, BugNoBuffers, VMBugRefcount:
		return true
	}
	return false
}

// Short is the failure as a line of a race diagram.
func (f Failure) Short() string {
	switch f {
	case BugWriteback:
		return "BUG_ON(PageWriteback(page))"
	case BugEndWriteback:
		return "BUG() in end_page_writeback"
	case VMBugTail:
		return "VM_BUG_ON(PageTail(page))"
	case VMBugIndex:
		return "VM_BUG_ON(index mismatch)"
	case BugNotLocked:
		return "BUG_ON(!PageLocked(page))"
	case BugNoBuffers:
		return "BUG: page without buffers"
	case BadPage:
		return "!! bad_page() at free"
	case StalePage:
		return "!! touches a freed page"
	case DataCorruption:
		return "!! corrupt data on disk"
	case DataLoss:
		return "!! data lost"
	case FsyncEarly:
		return "!! fsync returned early"
	case UnstableWrite:
		return "!! page changed under I/O"
	case VMBugRefcount:
		return "VM_BUG_ON_PAGE(get_page on 0 ref)"
	case WarnWriteback:
		return "WARN_ON(!PageWriteback(page))"
	case Hang:
		return "!! hang"
	case Livelock:
		return "!! livelock"
	case SoftLockup:
		return "BUG: soft lockup"
	}
	return f.String()
}
