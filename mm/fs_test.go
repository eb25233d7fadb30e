package mm

import (
	"reflect"
	"testing"
)

// TestInodeReuse: after Reset, NewInode hands out the Inode and
// AddressSpace of the last execution, and they must be what a new file is:
// every field the zero value or NewInode's, whatever that execution left in
// them (pages in the xarray, marks, versions, truncations, vouched data),
// except the arrays kept for reuse, empty. And the reused file works: a
// write puts its page at the index, and no earlier execution's page is
// left at another.
func TestInodeReuse(t *testing.T) {
	cfg := DefaultConfig()
	w := newWorld(t, cfg)
	var first [2]*Inode
	w.setup(t, func(th *Thread) {
		first[0], first[1] = w.k.NewInode(), w.k.NewInode()
		for i := range uint64(4) {
			GenericPerformWrite(th, first[0], i)
		}
		GenericPerformWrite(th, first[1], 6)
		th.beginTruncate(first[0])
		first[0].vouched = append(first[0].vouched, vouch{version: 3, truncations: 1})
		first[1].iRwsem.waitLock.line = 42
	})
	if first[0].Mapping.NrPages() != 4 || len(first[1].versions) != 7 || first[0].truncating != 1 {
		t.Fatalf("the first execution left nrpages %d, %d versions, %d truncating; want 4, 7, 1",
			first[0].Mapping.NrPages(), len(first[1].versions), first[0].truncating)
	}

	w.x.Reset()
	w.k.Reset(cfg, w.x)
	var got [2]*Inode
	w.setup(t, func(th *Thread) {
		got[0], got[1] = w.k.NewInode(), w.k.NewInode()
		for i, ino := range got {
			if ino != first[i] {
				t.Errorf("inode %d is a new Inode, not the last execution's", i+1)
			}
			// What NewInode builds from nothing, on a kernel of its own.
			want := NewKernel(cfg, w.x)
			want.inodes = make([]*Inode, i)
			fresh := want.NewInode()
			if len(ino.versions)+len(ino.completed)+len(ino.vouched) != 0 {
				t.Fatalf("inode %d: reused with versions %v, completed %v, vouched %v; want all empty",
					i+1, ino.versions, ino.completed, ino.vouched)
			}
			// Compared without the kept arrays, then given them back.
			m := ino.Mapping
			versions, completed, vouched := ino.versions, ino.completed, ino.vouched
			lists, spareLists, spareSlots := m.lists, m.spareLists, m.spareSlots
			ino.versions, ino.completed, ino.vouched = nil, nil, nil
			m.lists, m.spareLists, m.spareSlots = nil, nil, nil
			if !reflect.DeepEqual(ino, fresh) {
				t.Errorf("inode %d: reused\n%+v\n%+v\nwant\n%+v\n%+v", i+1, ino, m, fresh, fresh.Mapping)
			}
			ino.versions, ino.completed, ino.vouched = versions, completed, vouched
			m.lists, m.spareLists, m.spareSlots = lists, spareLists, spareSlots
		}
		GenericPerformWrite(th, got[1], 6)
		s := got[1].Mapping.slot(6)
		if s == nil || s.page.Load() == nil || got[1].Mapping.NrPages() != 1 {
			t.Fatalf("a write to the reused file left no page at index 6")
		}
		for i := range uint64(6) {
			if got[1].Mapping.Lookup(i) != nil {
				t.Errorf("the reused file has a page at index %d, never written", i)
			}
		}
	})
}

// TestXarraySparesBounded: an AddressSpace reused execution after
// execution keeps no more spare slot lists and slots than one execution
// grew its xarray by, however the spares' capacities fall (a file written
// at indexes 0 to 31 in order grows 32 times; popping the longest spare
// list first leaves the short ones unused).
func TestXarraySparesBounded(t *testing.T) {
	const n = 32
	cfg := DefaultConfig()
	w := newWorld(t, cfg)
	for exec := range 6 {
		if exec > 0 {
			w.x.Reset()
			w.k.Reset(cfg, w.x)
		}
		w.setup(t, func(th *Thread) {
			ino := w.k.NewInode()
			if m := ino.Mapping; len(m.spareLists) > n || len(m.spareSlots) > n {
				t.Fatalf("execution %d: %d spare slot lists and %d spare slots; want at most %d of each",
					exec, len(m.spareLists), len(m.spareSlots), n)
			}
			for i := range uint64(n) {
				GenericPerformWrite(th, ino, i)
				TruncatePagecache(th, ino) // frees the page: the allocator never runs dry
			}
		})
	}
}

// TestPageDataStable: the contents a page points to (setPageData, from
// the Thread's slab) are never written again: not by the Thread's reuse in
// the next execution, nor by later writes of the same task, past a slab
// chunk. A reader that loaded the pointer keeps what was stored.
func TestPageDataStable(t *testing.T) {
	cfg := DefaultConfig()
	w := newWorld(t, cfg)
	// stored writes page index of a new file once and returns what the
	// page points to, and a copy.
	stored := func(th *Thread, index uint64) (*PageData, PageData) {
		ino := w.k.NewInode()
		GenericPerformWrite(th, ino, index)
		d := ino.Mapping.Lookup(index).data.Load()
		return d, *d
	}
	var first *PageData
	var want PageData
	w.setup(t, func(th *Thread) { first, want = stored(th, 5) })
	w.x.Reset()
	w.k.Reset(cfg, w.x)
	w.setup(t, func(th *Thread) {
		second, want2 := stored(th, 0)
		for i := range uint64(2 * pageDataChunk) {
			GenericPerformWrite(th, w.k.inodes[0], i%4)
		}
		if *second != want2 {
			t.Fatalf("a later write changed the stored contents: %+v, want %+v", *second, want2)
		}
	})
	if *first != want {
		t.Fatalf("the next execution's writes changed the stored contents: %+v, want %+v", *first, want)
	}
}
