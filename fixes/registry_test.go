package fixes

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/mm"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, id, err string }{
		{in: "baseline", id: "baseline"},
		{in: "hold-ref+loop-wait", id: "hold-ref+loop-wait"},
		{in: "loop-wait+hold-ref", id: "hold-ref+loop-wait"},
		{in: "no-waiters-check+loop-wait", id: "loop-wait+no-waiters-check"},
		{in: "wait-to-set+hold-ref", id: "hold-ref+wait-to-set"},
		{in: "", err: "empty fix id"},
		{in: "nosuch", err: `unknown fix "nosuch" (valid: baseline, v5.8,`},
		{in: "hold-ref+nosuch", err: `unknown fix "nosuch"`},
		{in: "v5.8+fair-handoff", err: "fixes v5.8 and fair-handoff both replace wake_page_function"},
		{in: "no-waiters-check+hold-ref", id: "hold-ref+no-waiters-check"},
		{in: "loop-wait+no-waiters-check+hold-ref", id: "hold-ref+loop-wait+no-waiters-check"},
		{in: "folio+hold-ref", err: "fix folio already includes hold-ref"},
		{in: "folio-no-loop+no-waiters-check", err: "both replace end_page_writeback"},
		{in: "folio-no-loop+loop-wait", id: "loop-wait+folio-no-loop"},
		{in: "folio+loop-wait", err: "both replace wait_on_page_writeback"},
		{in: "baseline+hold-ref", err: "baseline cannot be composed"},
		{in: "loop-wait+loop-wait", err: "appears twice"},
		{in: "drop-tail-check+drop-index-check", id: "drop-index-check+drop-tail-check"},
		{in: "drop-bogus-vm-bug+drop-tail-check", err: "fix drop-bogus-vm-bug already includes drop-tail-check"},
		{in: "invalidate-lock+drop-index-check", id: "drop-index-check+invalidate-lock"},
	} {
		v, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, want error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || v.ID != tc.id {
			t.Errorf("Parse(%q) = %v, %v; want %s", tc.in, v, err, tc.id)
		}
	}
}

// TestFamilyParts: a family's parts are its variants' parts and what
// those include, in registry order.
func TestFamilyParts(t *testing.T) {
	for _, tc := range []struct{ family, want []string }{
		{[]string{"baseline", "hold-ref+loop-wait", "folio"}, []string{"baseline", "hold-ref", "loop-wait", "no-waiters-check", "folio"}},
		{[]string{"invalidate-lock", "drop-bogus-vm-bug", "baseline"}, []string{"baseline", "drop-index-check", "drop-tail-check", "drop-bogus-vm-bug", "invalidate-lock"}},
		{[]string{"bounce-pinned"}, []string{"pin-aware-reclaim", "bounce-pinned"}},
		{nil, nil},
	} {
		if got := FamilyParts(tc.family); !slices.Equal(got, tc.want) {
			t.Errorf("FamilyParts(%q) = %q, want %q", tc.family, got, tc.want)
		}
	}
}

// TestPatchesReplaceWhatTheyDeclare: each fix changes exactly the mm.Ops
// entries it declares, so that the conflict check of compositions is sound.
func TestPatchesReplaceWhatTheyDeclare(t *testing.T) {
	names := map[string]func(o *mm.Ops) any{
		"wake_page_function":             func(o *mm.Ops) any { return o.WakePageFunction },
		"wait_on_page_bit_common":        func(o *mm.Ops) any { return o.WaitOnPageBitCommon },
		"wake_up_page_bit":               func(o *mm.Ops) any { return o.WakeUpPageBit },
		"end_page_writeback":             func(o *mm.Ops) any { return o.EndPageWriteback },
		"test_clear_page_writeback":      func(o *mm.Ops) any { return o.TestClearPageWriteback },
		"wait_on_page_writeback":         func(o *mm.Ops) any { return o.WaitOnPageWriteback },
		"write_cache_pages:writeback":    func(o *mm.Ops) any { return o.WriteCachePagesWriteback },
		"set_page_writeback":             func(o *mm.Ops) any { return o.StartPageWriteback },
		"compress_file_range:actual_end": func(o *mm.Ops) any { return o.ActualEnd },
		"set_page_dirty_lock":            func(o *mm.Ops) any { return o.SetPageDirtyLock },
		"writepage:no_buffers":           func(o *mm.Ops) any { return o.WritepageNoBuffers },
	}
	// Two func values are the same function when they point to the same code.
	same := func(a, b any) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	for _, f := range All() {
		base, patched := mm.BaselineOps(), mm.BaselineOps()
		if f.Apply != nil {
			f.Apply(&patched)
		}
		for name, get := range names {
			declared := false
			for _, r := range f.Replaces {
				declared = declared || r == name
			}
			if changed := !same(get(&base), get(&patched)); changed != declared {
				t.Errorf("fix %s: %s changed = %v, declared = %v", f.ID, name, changed, declared)
			}
		}
		switches := map[string]bool{"dio:foll_pin": patched.DIOPin, "reclaim:keep_pinned": patched.ReclaimKeepsPinned,
			"writeback:bounce_pinned": patched.BouncePinned, "find_lock_entries:no_index_check": patched.SkipIndexVMBug,
			"truncate_inode_page:no_tail_check": patched.SkipTailVMBug, "do_dentry_open:invalidate_lock": patched.OpenTruncateInvalidateLock,
			"end_page_writeback:hold_ref": patched.EndWritebackHoldsRef}
		for name, on := range switches {
			if declared := slices.Contains(f.Enables, name); on != declared {
				t.Errorf("fix %s: switch %s on = %v, declared = %v", f.ID, name, on, declared)
			}
		}
	}
}
