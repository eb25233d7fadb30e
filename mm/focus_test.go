package mm

import (
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/sim"
)

// TestParseFocus: a focus accepts exactly the objects of the kinds and page
// flags it names.
func TestParseFocus(t *testing.T) {
	page := &Page{pfn: 7}
	isize, slot := isizeObj(&Inode{Ino: 3}), obj(objXaSlot, 3, 5)
	wb, dirty := flagObj(page, PG_writeback), flagObj(page, PG_dirty)
	ref := pageObj(objPageRef, page)
	all := map[string]sim.Obj{"i_size": isize, "xa-slot": slot, "PG_writeback": wb, "PG_dirty": dirty, "page-ref": ref}
	for _, tc := range []struct {
		spec   string
		accept []string
	}{
		{"i_size", []string{"i_size"}},
		{"PG_writeback", []string{"PG_writeback"}},
		{"PG_writeback+page-ref", []string{"PG_writeback", "page-ref"}},
		{"page-flag", []string{"PG_writeback", "PG_dirty"}},
		{"xa-slot+i_size", []string{"xa-slot", "i_size"}},
	} {
		f, err := ParseFocus(tc.spec)
		if err != nil {
			t.Fatalf("ParseFocus(%q): %v", tc.spec, err)
		}
		for name, o := range all {
			if got, want := f(o), slices.Contains(tc.accept, name); got != want {
				t.Errorf("focus %q on %s (%s): %v, want %v", tc.spec, name, ObjString(o), got, want)
			}
		}
	}
	for _, bad := range []string{"", "nope", "i_size+", "PG_", "PG_nope", "page-alloc", "file-version", "I_SIZE"} {
		if _, err := ParseFocus(bad); err == nil || !strings.Contains(err.Error(), "valid: bio, block,") {
			t.Errorf("ParseFocus(%q): error %v, want one listing the valid names", bad, err)
		}
	}
}

// TestFocusNamesOf: the names that would accept some of the objects, a
// page flag by its kind and its own name, the oracle's objects by none.
func TestFocusNamesOf(t *testing.T) {
	page := &Page{pfn: 2}
	got := FocusNamesOf([]sim.Obj{flagObj(page, PG_writeback), isizeObj(&Inode{Ino: 1}), obj(objPageAlloc, 2, 0), isizeObj(&Inode{Ino: 4})})
	if want := []string{"PG_writeback", "i_size", "page-flag"}; !slices.Equal(got, want) {
		t.Errorf("FocusNamesOf = %v, want %v", got, want)
	}
	for _, name := range got {
		if _, err := ParseFocus(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzParseFocus: a focus either parses, every term of it a name of
// FocusNames, or is refused with an error naming the bad term and the
// valid names.
func FuzzParseFocus(f *testing.F) {
	for _, s := range []string{"i_size", "PG_writeback+page-ref", "", "+", "PG_", "page-flag+page-flag", "x+i_size"} {
		f.Add(s)
	}
	names := FocusNames()
	f.Fuzz(func(t *testing.T, spec string) {
		pred, err := ParseFocus(spec)
		if err != nil {
			if !strings.Contains(err.Error(), "valid: ") {
				t.Errorf("error %q names no valid choice", err)
			}
			return
		}
		for term := range strings.SplitSeq(spec, "+") {
			if !slices.Contains(names, term) {
				t.Errorf("ParseFocus(%q) accepted %q, not a focus name", spec, term)
			}
		}
		if pred(obj(objPageAlloc, 1, 0)) || pred(obj(objFileVer, 1, 0)) {
			t.Errorf("focus %q accepts the oracle's objects", spec)
		}
	})
}
