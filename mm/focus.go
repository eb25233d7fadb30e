package mm

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pagelab/pagelab/sim"
)

// objKindNames name the footprint object kinds (footprint.go), for
// messages and for a sampler's focus.
var objKindNames = map[uint64]string{
	objPageFlag: "page-flag", objPageRef: "page-ref", objPageMapcnt: "page-mapcount",
	objPageHead: "page-head", objPageMapping: "page-mapping", objPageIndex: "page-index",
	objPageData: "page-data", objPageAlloc: "page-alloc", objPagePrivate: "page-private",
	objFreeList: "free-list", objWaitQueue: "wait-queue", objWaitFlags: "wait-flags",
	objWaitQueued: "wait-queued", objWaitTarget: "wait-target", objXaSlot: "xa-slot",
	objXaMarks: "xa-marks", objXaSize: "xa-size", objNrPages: "nrpages",
	objWbIndex: "writeback-index", objISize: "i_size", objInodeMisc: "inode-misc",
	objFileVer: "file-version", objPTE: "pte", objBlock: "block", objDisk: "disk",
	objLock: "lock", objIO: "nr-io", objMisc: "misc", objFileTrunc: "file-truncations",
	objBio: "bio", objFileDone: "file-done", objFileVouched: "file-vouched",
	objWork: "work", objIoendList: "ioend-list",
}

// oracleKinds are the objects of the model's own bookkeeping, not kernel
// state (footprint_cde.go, fs.go): no focus names them.
var oracleKinds = []uint64{objPageAlloc, objFileVer, objFileTrunc, objFileDone, objFileVouched}

// focusKinds are the kinds a focus can name, by name: every kind but the
// oracle's.
var focusKinds = func() map[string]uint64 {
	m := map[string]uint64{}
	for kind, name := range objKindNames {
		if !slices.Contains(oracleKinds, kind) {
			m[name] = kind
		}
	}
	return m
}()

// FocusNames are the names a focus accepts: the kernel-state object kinds,
// and the page flags as PG_name (page-flag is every flag).
func FocusNames() []string {
	out := slices.Sorted(maps.Keys(focusKinds))
	for _, f := range pageFlagNames {
		out = append(out, "PG_"+f)
	}
	return out
}

// FocusNamesOf are the focus names that accept some of objs (sorted, each
// once): what a focus can name in a workload whose steps touch objs.
func FocusNamesOf(objs []sim.Obj) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		kind, b := uint64(o)>>56, uint64(o)&(1<<24-1)
		name := objKindNames[kind]
		if _, ok := focusKinds[name]; !ok {
			continue
		}
		seen[name] = true
		if kind == objPageFlag && b < NR_PAGEFLAGS {
			seen["PG_"+pageFlagNames[b]] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// ParseFocus reads a sampler's focus, names of FocusNames joined by '+'
// ("i_size", "PG_writeback+page-ref"), into the predicate on footprint
// objects that accepts the objects of those kinds, and of a PG_ name that
// page flag of every page.
func ParseFocus(spec string) (func(sim.Obj) bool, error) {
	var kinds, flags uint64 // bit sets: kinds < 64, flags < NR_PAGEFLAGS
	if spec == "" {
		return nil, fmt.Errorf("empty focus (valid: %s, joined by +)", strings.Join(FocusNames(), ", "))
	}
	for _, term := range strings.Split(spec, "+") {
		ok := false
		if f, isFlag := strings.CutPrefix(term, "PG_"); isFlag {
			if i := slices.Index(pageFlagNames[:], f); i >= 0 {
				flags |= 1 << i
				ok = true
			}
		} else if kind, isKind := focusKinds[term]; isKind {
			kinds |= 1 << kind
			ok = true
		}
		if !ok {
			return nil, fmt.Errorf("unknown focus %q (valid: %s, joined by +)", term, strings.Join(FocusNames(), ", "))
		}
	}
	return func(o sim.Obj) bool {
		kind, b := uint64(o)>>56, uint64(o)&(1<<24-1)
		if kind < 64 && kinds&(1<<kind) != 0 {
			return true
		}
		return kind == objPageFlag && b < NR_PAGEFLAGS && flags&(1<<b) != 0
	}, nil
}
