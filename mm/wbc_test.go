package mm

import (
	"strings"
	"testing"
)

// TestOnStackWbcRefusesNesting: a task holds one writeback_control
// (Thread.wbc); a second writeback started before the first ends would
// overwrite it, so it panics, and after dropWbc the next one is
// accepted with its own values.
func TestOnStackWbcRefusesNesting(t *testing.T) {
	th := &Thread{}
	w := th.onStackWbc(WritebackControl{SyncMode: WB_SYNC_NONE, NrToWrite: 1024})
	func() {
		defer func() {
			r := recover()
			if s, _ := r.(string); !strings.Contains(s, "inside another") {
				t.Fatalf("nested onStackWbc: recovered %v, want the nesting panic", r)
			}
		}()
		th.onStackWbc(WritebackControl{SyncMode: WB_SYNC_ALL})
	}()
	if w.SyncMode != WB_SYNC_NONE || w.NrToWrite != 1024 {
		t.Fatalf("the refused writeback changed the first one's control: %+v", *w)
	}
	th.dropWbc()
	w = th.onStackWbc(WritebackControl{SyncMode: WB_SYNC_ALL, NrToWrite: 1 << 30})
	if w.SyncMode != WB_SYNC_ALL || w.NrToWrite != 1<<30 {
		t.Fatalf("after dropWbc: %+v, want the new values", *w)
	}
}
