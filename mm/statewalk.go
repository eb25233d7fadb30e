package mm

import (
	"fmt"

	"github.com/pagelab/pagelab/sim"
)

// ObjString names a footprint object in the terms of footprint.go, for the
// messages of the footprint completeness tests (package bench).
func ObjString(o sim.Obj) string {
	kind, a, b := uint64(o)>>56, uint64(o)>>24&(1<<32-1), uint64(o)&(1<<24-1)
	names := objKindNames
	switch {
	case kind == 0xff:
		// sim's objects (sim/footprint.go).
		sub, id := uint64(o)>>48&0xff, uint64(o)&(1<<48-1)
		switch sub {
		case 1:
			return fmt.Sprintf("task-state(%d)", id)
		case 2:
			return fmt.Sprintf("task-sigkill(%d)", id)
		case 3:
			return fmt.Sprintf("task-spawn(%d)", id)
		case 4:
			return "running"
		}
		return fmt.Sprintf("sim(%d, %d)", sub, id)
	case kind == objPageFlag && b < NR_PAGEFLAGS:
		return fmt.Sprintf("page-flag(pfn %d, %s)", a, pageFlagNames[b])
	case names[kind] != "":
		return fmt.Sprintf("%s(%d, %d)", names[kind], a, b)
	}
	return fmt.Sprintf("obj(%d, %d, %d)", kind, a, b)
}
