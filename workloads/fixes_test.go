package workloads

import (
	"strings"
	"testing"

	"github.com/pagelab/pagelab/fixes"
)

func TestParseFix(t *testing.T) {
	for _, tc := range []struct{ workload, in, id, err string }{
		{"writeback-restart", "baseline", "baseline", ""},
		{"writeback-restart", "loop-wait+hold-ref", "hold-ref+loop-wait", ""},
		{"writeback-restart", "hold-ref+wait-to-set", "hold-ref+wait-to-set", ""}, // parts of two variants
		{"writeback-restart", "invalidate-lock", "", "fix invalidate-lock does not apply to workload writeback-restart (its fixes: baseline, v5.8, fair-handoff, hold-ref, loop-wait, no-waiters-check, wait-to-set, folio, folio-no-loop; compose them with '+')"},
		{"writeback-restart", "hold-ref+read-once", "", "fix read-once does not apply to workload writeback-restart"},
		{"isize-compress", "invalidate-lock", "", "fix invalidate-lock does not apply to workload isize-compress (its fixes: baseline, read-once; compose them with '+')"},
		{"thp-collapse-truncate", "drop-tail-check+invalidate-lock", "drop-tail-check+invalidate-lock", ""}, // a part drop-bogus-vm-bug includes
		{"gup-dio-buffers", "pin-aware-reclaim", "pin-aware-reclaim", ""},
		{"writeback-chase", "hold-ref+loop-wait+walk-break-128", "hold-ref+loop-wait+walk-break-128", ""},
		{"lock-storm", "hold-ref", "", "fix hold-ref does not apply to workload lock-storm (its fixes: baseline, v5.8, fair-handoff;"},
		{"lock-storm", "nosuch", "", `unknown fix "nosuch"`},
	} {
		wl, err := Lookup(tc.workload)
		if err != nil {
			t.Fatal(err)
		}
		v, err := wl.ParseFix(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: ParseFix(%q) = %v, want error containing %q", tc.workload, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || v.ID != tc.id {
			t.Errorf("%s: ParseFix(%q) = %v, %v; want %s", tc.workload, tc.in, v, err, tc.id)
		}
	}
}

// TestCheckFixFamilies: every workload takes every variant it registers,
// and a registered fix is refused exactly where it is in another
// workload's family and not in this one's; a fix in no family (a new
// candidate not yet registered with a workload) applies anywhere.
func TestCheckFixFamilies(t *testing.T) {
	fresh := &fixes.Variant{ID: "new-candidate", Parts: []*fixes.Fix{{ID: "new-candidate"}}}
	claimed := map[string]bool{}
	for _, wl := range All() {
		for _, id := range fixes.FamilyParts(wl.Fixes) {
			claimed[id] = true
		}
	}
	for _, wl := range All() {
		for _, id := range wl.Fixes {
			if _, err := wl.ParseFix(id); err != nil {
				t.Errorf("%s: its own variant %s: %v", wl.ID, id, err)
			}
		}
		own := fixes.FamilyParts(wl.Fixes)
		for _, f := range fixes.All() {
			v := &fixes.Variant{ID: f.ID, Parts: []*fixes.Fix{f}}
			inOwn := strings.Contains(","+strings.Join(own, ",")+",", ","+f.ID+",")
			if err := wl.CheckFix(v); (err == nil) != (inOwn || !claimed[f.ID]) {
				t.Errorf("%s: CheckFix(%s) = %v; in its family: %v, in any: %v", wl.ID, f.ID, err, inOwn, claimed[f.ID])
			}
		}
		if err := wl.CheckFix(fresh); err != nil {
			t.Errorf("%s: a fix in no family: %v", wl.ID, err)
		}
	}
}
