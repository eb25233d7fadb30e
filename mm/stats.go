package mm

// Operations whose latency the lab reports, bracketed in the model with
// t.OpBegin/t.OpEnd.
const (
	// OpLockPage is lock_page(): from the call until the caller holds
	// PG_locked.
	OpLockPage = iota
	// OpWaitWriteback is wait_on_page_writeback() (and, under wait-to-set,
	// lock_page_writeback() in write_cache_pages, which replaces it).
	OpWaitWriteback
	// OpWriteCachePages is write_cache_pages() over its range.
	OpWriteCachePages
	// OpFsync is file_write_and_wait_range(): write out, then wait.
	OpFsync
	// OpEndPageWriteback is end_page_writeback(), in the completion.
	OpEndPageWriteback
	// OpFdatawait is __filemap_fdatawait_range() over its range.
	OpFdatawait

	NumOps
)

// OpNames are the operations' names in reports.
var OpNames = [NumOps]string{"lock_page", "wait_on_page_writeback", "write_cache_pages", "fsync", "end_page_writeback", "fdatawait"}

// waitOnPageWriteback calls the installed wait_on_page_writeback(), timed.
func waitOnPageWriteback(t *Thread, page *Page) {
	m := t.OpBegin(OpWaitWriteback)
	t.K.Ops.WaitOnPageWriteback(t, page)
	t.OpEnd(m)
}
