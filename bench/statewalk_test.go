package bench

// A reflection walk of the model's whole shared state, for the footprint
// completeness tests (footprint_test.go).
//
// The walk visits every field of an *mm.Kernel generically, so that a
// field added to the model later is covered without editing this file. It
// serializes canonically: pointers to the model's objects with an identity
// become that identity (a *mm.Page its pfn, an *mm.AddressSpace or
// *mm.Inode its inode number, an *mm.Thread or *sim.Task its task ID, a
// wait-queue entry its owner task and kind), other pointers are followed,
// map keys are sorted, a wait queue is the ordered list of its entries.
// What is not model state is skipped: locks of the Go runtime (sync.Mutex),
// the failure record, function values (Ops, ->writepage), the Config, the
// spawner, the timing lines of spinlocks.
//
// Besides the Kernel, the walk covers the state of every task that other
// tasks can touch: its state word and pending fatal signal (sim's
// objects) and the wait-queue entries an mm.Thread keeps "on its stack"
// (its wait_page_queue and its bookmark), which wakers write and which
// package mm names by task ID. The rest of a Thread and everything inside a
// sim.Task is task-local state, covered by the observation hash, not by the
// global state.

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

var (
	tKernel = reflect.TypeFor[mm.Kernel]()
	tPage   = reflect.TypeFor[mm.Page]()
	tAS     = reflect.TypeFor[mm.AddressSpace]()
	tInode  = reflect.TypeFor[mm.Inode]()
	tThread = reflect.TypeFor[mm.Thread]()
	tTask   = reflect.TypeFor[sim.Task]()
	tEntry  = reflect.TypeFor[mm.WaitQueueEntry]()
	tWPQ    = reflect.TypeFor[mm.WaitPageQueue]()
	tHead   = reflect.TypeFor[mm.WaitQueueHead]()
	tSpin   = reflect.TypeFor[mm.SpinLock]()
	// tPcp is the per-CPU page list (mm's pcpList, unexported): the
	// element type of the zone's pcps.
	tPcp = func() reflect.Type {
		z, _ := tKernel.FieldByName("zone")
		p, _ := z.Type.FieldByName("pcps")
		return p.Type.Elem()
	}()
)

// skipFields are the fields that are not model state, by owner type.
var skipFields = map[reflect.Type][]string{
	// The configuration is fixed per cell, Ops are function values (and
	// the fix's switches, also fixed per cell), the spawner is the
	// Explorer, the failure record is the oracles' output (compared
	// separately by the tests that need it), threads the Thread structs
	// kept for reuse (the tasks' own, walked as tasks' state below),
	// reuse what Reset needs to restore the state cheaply, serial how the
	// tasks run (fixed per cell), vouched the end-of-execution oracle's
	// scratch copy.
	tKernel: {"Config", "Ops", "spawner", "mu", "fired", "reports", "threads", "nthreads", "reuse", "serial", "vouched"},
	// The timed scheduler's cache-line id.
	tSpin: {"line"},
	// free_pcppages_bulk's list of the pages it frees, scratch memory
	// (the kernel's is on its stack) whose contents are dead once the
	// call returns; and the footprint's memo of the list's hash.
	tPcp: {"bulk", "seen", "seenVal", "seenOK"},
	// The list linkage is serialized by the queue walk (the queue, in
	// order); private and wpq are the entry's owner, which its identity
	// names.
	tEntry: {"prev", "next", "private", "wpq"},
	// The list, walked as the ordered entries.
	tHead: {"head"},
	// The xarray's slot lists of this execution and of earlier ones, kept
	// for reuse: the published list (slots) is the state.
	tAS: {"lists", "spareLists", "spareSlots"},
	// The lab's statistics (entries a walk visited, writeback waits
	// begun): counters the model reports (sim.Task.Count), not state.
	// And variables the kernel keeps on the task's stack, which the walk
	// never sees elsewhere either: a writeback's writeback_control (and
	// whether it is in use), fsync's snapshot of the versions it must
	// find on disk; the Thread keeps them only to save an allocation,
	// and they are dead once the call returns.
	// ownBio is walked as the bio it is; dataSlab as the contents the
	// pages point to.
	tThread: {"walked", "bitWaits", "wbc", "wbcBusy", "fsyncWant", "ownBio", "dataSlab"},
}

// ownedFields are pointer fields to identity types that own their target:
// the walk follows them instead of naming the target.
var ownedFields = map[reflect.Type][]string{
	tKernel: {"inodes"},
	tInode:  {"Mapping"},
}

// Identity kinds, the top byte of an identity value.
const (
	idPage  = 1
	idInode = 2
	idTask  = 3
	idEntry = 4
	idWPQ   = 5
	idOther = 6
)

// A plan says how to walk a value of one type; plans are compiled once
// per type, so that a walk does no reflection on types.
type plan struct {
	kind   reflect.Kind
	fields []field // struct: the fields that are state
	// elem: array, slice and followed pointer elements, map values, and
	// for an atomic.Pointer[T] the plan of *T.
	elem *plan
	key  *plan // map keys (flattened, see flatKey)
	// ptrID: a pointer to an object with an identity, emitted as that
	// identity (idPage, ...) rather than followed.
	ptrID int
	// atomicPtr: a sync/atomic.Pointer[T]; target is T.
	atomicPtr bool
	target    reflect.Type
	// head: a wait queue head, whose entries are walked in queue order.
	head bool
	// flat: a struct made of numbers, bools and such structs only (a
	// sync/atomic.Int32, say), and its leaves in walk order, offsets from
	// the struct's start: walked without reflection when addressable.
	flat   bool
	leaves []leaf
	size   uintptr // of a value of the type
}

type leaf struct {
	off  uintptr
	kind reflect.Kind
}

type field struct {
	index int
	name  string // ".Name"
	plan  *plan
	off   uintptr // the field's offset
}

// leafKind reports whether values of kind k are emitted as one number.
func leafKind(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

type planKey struct {
	t     reflect.Type
	owned bool
}

var (
	plansMu sync.Mutex
	plans   = map[planKey]*plan{}
)

func planFor(t reflect.Type) *plan {
	plansMu.Lock()
	defer plansMu.Unlock()
	return compile(t, false)
}

// compile builds the plan of t; owned says that a pointer to an object
// with an identity owns it (is followed). The caller holds plansMu.
func compile(t reflect.Type, owned bool) *plan {
	if p, ok := plans[planKey{t, owned}]; ok {
		return p
	}
	p := &plan{kind: t.Kind(), size: t.Size()}
	plans[planKey{t, owned}] = p
	switch t.Kind() {
	case reflect.Array, reflect.Slice:
		p.elem = compile(t.Elem(), owned)
	case reflect.Map:
		p.key = compile(t.Key(), false)
		p.elem = compile(t.Elem(), false)
	case reflect.Pointer:
		if !owned {
			switch t.Elem() {
			case tPage:
				p.ptrID = idPage
			case tInode, tAS:
				p.ptrID = idInode
			case tThread, tTask:
				p.ptrID = idTask
			case tEntry, tWPQ:
				p.ptrID = idEntry
			}
		}
		p.elem = compile(t.Elem(), false)
	case reflect.Struct:
		if et, ok := atomicPointer(t); ok {
			p.atomicPtr, p.target = true, et
			p.elem = compile(reflect.PointerTo(et), false)
			break
		}
		p.head = t == tHead
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			switch {
			case slices.Contains(skipFields[t], f.Name),
				f.Type.Kind() == reflect.Func, f.Type.Kind() == reflect.Chan,
				f.Type == reflect.TypeFor[sync.Mutex](), f.Type == reflect.TypeFor[sync.RWMutex]():
				continue
			}
			p.fields = append(p.fields, field{index: i, name: "." + f.Name,
				plan: compile(f.Type, slices.Contains(ownedFields[t], f.Name)), off: f.Offset})
		}
		p.flat = !p.head
		for _, f := range p.fields {
			switch {
			case leafKind(f.plan.kind):
				p.leaves = append(p.leaves, leaf{f.off, f.plan.kind})
			case f.plan.flat:
				for _, l := range f.plan.leaves {
					p.leaves = append(p.leaves, leaf{f.off + l.off, l.kind})
				}
			default:
				p.flat = false
			}
		}
	case reflect.UnsafePointer:
		panic(fmt.Sprintf("statewalk: unsafe.Pointer in %v", t))
	}
	return p
}

func fieldIndex(t reflect.Type, name string) []int {
	f, ok := t.FieldByName(name)
	if !ok {
		panic(fmt.Sprintf("statewalk: %v has no field %s", t, name))
	}
	return f.Index
}

var (
	pagePfn   = fieldIndex(tPage, "pfn")
	inodeIno  = fieldIndex(tInode, "Ino")
	asHost    = fieldIndex(tAS, "Host")
	threadTsk = fieldIndex(tThread, "Task")
	taskID    = fieldIndex(tTask, "ID")
	taskState = fieldIndex(tTask, "state")
	taskKill  = fieldIndex(tTask, "sigkill")
	entryNext = fieldIndex(tEntry, "next")
	headHead  = fieldIndex(tHead, "head")
)

// stateWalk is one walk: a hash of the state or, with detail, the state as
// "path = value" lines (for the failure messages).
type stateWalk struct {
	detail bool
	h      uint64
	nz     bool // a nonzero value was emitted (per task part)
	path   []string
	lines  []string
	// entries names the wait entries and wait_page_queues by address.
	entries map[uintptr]uint64
	depth   int
}

func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (s *stateWalk) emit(v uint64) {
	s.h = mix64(s.h ^ v + 0x9e3779b97f4a7c15)
	if v != 0 {
		s.nz = true
	}
	if s.detail {
		s.line(strconv.FormatUint(v, 10))
	}
}

func (s *stateWalk) line(val string) {
	s.lines = append(s.lines, strings.Join(s.path, "")+" = "+val)
}

// emitID emits an identity (kind<<56 | id); detail shows it by name.
func (s *stateWalk) emitID(kind, id uint64) {
	v := kind<<56 | id
	s.h = mix64(s.h ^ v + 0x9e3779b97f4a7c15)
	s.nz = true
	if s.detail {
		s.line(idName(v))
	}
}

func idName(v uint64) string {
	id := v & (1<<56 - 1)
	switch v >> 56 {
	case idPage:
		return fmt.Sprintf("page(pfn %d)", id)
	case idInode:
		return fmt.Sprintf("inode(%d)", id)
	case idTask:
		return fmt.Sprintf("task(%d)", id)
	case idEntry:
		return fmt.Sprintf("wait-entry(task %d, %d)", id>>8, id&0xff)
	case idWPQ:
		return fmt.Sprintf("wait_page_queue(task %d)", id)
	}
	return fmt.Sprintf("object(%#x)", v)
}

// push and pushIndex extend the path (detail only); pop undoes either.
func (s *stateWalk) push(p string) {
	if s.detail {
		s.path = append(s.path, p)
	}
}

func (s *stateWalk) pushIndex(i int) {
	if s.detail {
		s.path = append(s.path, "["+strconv.Itoa(i)+"]")
	}
}

func (s *stateWalk) pop() {
	if s.detail {
		s.path = s.path[:len(s.path)-1]
	}
}

// walkState serializes the shared state of k and of tasks (the tasks of
// the execution, for their state words and wait entries).
func walkState(k *mm.Kernel, tasks []*sim.Task, detail bool) *stateWalk {
	s := &stateWalk{detail: detail, entries: map[uintptr]uint64{}}
	var threads []*mm.Thread
	for _, t := range tasks {
		th, _ := t.Local.(*mm.Thread)
		threads = append(threads, th)
		if th == nil {
			continue
		}
		// Name the thread's wait entries (fields of type WaitQueueEntry,
		// or WaitPageQueue with its entry) by task and field.
		tv := reflect.ValueOf(th).Elem()
		n := uint64(0)
		for i := 0; i < tv.NumField(); i++ {
			f := tv.Field(i)
			switch f.Type() {
			case tWPQ:
				s.entries[f.UnsafeAddr()] = idWPQ<<56 | uint64(t.ID)
				e := f.FieldByName("Wait")
				s.entries[e.UnsafeAddr()] = idEntry<<56 | uint64(t.ID)<<8 | n
				n++
			case tEntry:
				s.entries[f.UnsafeAddr()] = idEntry<<56 | uint64(t.ID)<<8 | n
				n++
			}
		}
	}
	s.push("kernel")
	s.walk(reflect.ValueOf(k).Elem(), planFor(tKernel))
	s.pop()
	statePlan := planFor(tTask.FieldByIndex(taskState).Type)
	killPlan := planFor(tTask.FieldByIndex(taskKill).Type)
	for i, t := range tasks {
		// A task absent from one state and present (untouched) in another
		// is the same global state: a task's part counts only if nonzero.
		h, nz, nl := s.h, s.nz, len(s.lines)
		s.h, s.nz = 0, false
		s.push(fmt.Sprintf("task[%d]", t.ID))
		tv := reflect.ValueOf(t).Elem()
		s.push(".state")
		s.walk(tv.FieldByIndex(taskState), statePlan)
		s.pop()
		s.push(".sigkill")
		s.walk(tv.FieldByIndex(taskKill), killPlan)
		s.pop()
		if th := threads[i]; th != nil {
			thv := reflect.ValueOf(th).Elem()
			for j := 0; j < thv.NumField(); j++ {
				f := thv.Field(j)
				if f.Type() == tWPQ || f.Type() == tEntry {
					s.push("." + thv.Type().Field(j).Name)
					s.walk(f, planFor(f.Type()))
					s.pop()
				}
			}
		}
		s.pop()
		if s.nz {
			s.h = mix64(h ^ mix64(s.h+uint64(t.ID)))
		} else {
			s.h = h
			if s.detail {
				s.lines = s.lines[:nl]
			}
		}
		s.nz = nz || s.nz
	}
	return s
}

// atomicPointer reports whether t is a sync/atomic.Pointer[T], and T.
func atomicPointer(t reflect.Type) (reflect.Type, bool) {
	if t.PkgPath() != "sync/atomic" || !strings.HasPrefix(t.Name(), "Pointer[") {
		return nil, false
	}
	// type Pointer[T any] struct { _ [0]*T; _ noCopy; v unsafe.Pointer }
	return t.Field(0).Type.Elem().Elem(), true
}

func (s *stateWalk) walk(v reflect.Value, p *plan) {
	switch p.kind {
	case reflect.Bool:
		if v.Bool() {
			s.emit(1)
		} else {
			s.emit(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.emit(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.emit(v.Uint())
	case reflect.Float32, reflect.Float64:
		s.emit(math.Float64bits(v.Float()))
	case reflect.String:
		h := uint64(14695981039346656037)
		for _, c := range []byte(v.String()) {
			h = (h ^ uint64(c)) * 1099511628211
		}
		s.h = mix64(s.h ^ h)
		if s.detail {
			s.line(strconv.Quote(v.String()))
		}
	case reflect.Array:
		if p.elem.flat && !s.detail && v.CanAddr() {
			s.flatElems(unsafe.Pointer(v.UnsafeAddr()), v.Len(), p.elem)
			return
		}
		for i := 0; i < v.Len(); i++ {
			s.pushIndex(i)
			s.walk(v.Index(i), p.elem)
			s.pop()
		}
	case reflect.Slice:
		s.push(".len")
		s.emit(uint64(v.Len()))
		s.pop()
		if p.elem.flat && !s.detail {
			s.flatElems(v.UnsafePointer(), v.Len(), p.elem)
			return
		}
		for i := 0; i < v.Len(); i++ {
			s.pushIndex(i)
			s.walk(v.Index(i), p.elem)
			s.pop()
		}
	case reflect.Map:
		s.mapValue(v, p)
	case reflect.Pointer:
		s.pointer(v, p)
	case reflect.Interface:
		if v.IsNil() {
			s.emit(0)
			return
		}
		s.push(".(" + v.Elem().Type().String() + ")")
		s.walk(v.Elem(), planFor(v.Elem().Type()))
		s.pop()
	case reflect.Struct:
		if p.atomicPtr {
			var pv reflect.Value
			if ptr := v.Field(2).UnsafePointer(); ptr == nil {
				pv = reflect.Zero(reflect.PointerTo(p.target))
			} else {
				pv = reflect.NewAt(p.target, ptr)
			}
			s.pointer(pv, p.elem)
			return
		}
		if p.head {
			s.queue(v)
		}
		// Without detail (no paths to name), the numbers of an
		// addressable struct are read where they lie: the same values in
		// the same order as the fields' walk, without reflection.
		var base unsafe.Pointer
		if !s.detail && v.CanAddr() {
			base = unsafe.Pointer(v.UnsafeAddr())
			if p.flat {
				s.leavesAt(base, p.leaves)
				return
			}
		}
		for _, f := range p.fields {
			switch {
			case base != nil && leafKind(f.plan.kind):
				s.emit(leafAt(unsafe.Add(base, f.off), f.plan.kind))
			case base != nil && f.plan.flat:
				s.leavesAt(unsafe.Add(base, f.off), f.plan.leaves)
			default:
				s.push(f.name)
				s.walk(v.Field(f.index), f.plan)
				s.pop()
			}
		}
	}
}

// flatElems walks n elements of a flat struct type from base.
func (s *stateWalk) flatElems(base unsafe.Pointer, n int, p *plan) {
	for i := range n {
		s.leavesAt(unsafe.Add(base, uintptr(i)*p.size), p.leaves)
	}
}

func (s *stateWalk) leavesAt(base unsafe.Pointer, leaves []leaf) {
	for _, l := range leaves {
		s.emit(leafAt(unsafe.Add(base, l.off), l.kind))
	}
}

// leafAt reads a number or bool of kind k at p as walk emits it: signed
// integers sign-extended, floats by their bits (float32 widened first).
func leafAt(p unsafe.Pointer, k reflect.Kind) uint64 {
	switch k {
	case reflect.Bool:
		if *(*bool)(p) {
			return 1
		}
		return 0
	case reflect.Int:
		return uint64(*(*int)(p))
	case reflect.Int8:
		return uint64(*(*int8)(p))
	case reflect.Int16:
		return uint64(*(*int16)(p))
	case reflect.Int32:
		return uint64(*(*int32)(p))
	case reflect.Int64:
		return uint64(*(*int64)(p))
	case reflect.Uint:
		return uint64(*(*uint)(p))
	case reflect.Uint8:
		return uint64(*(*uint8)(p))
	case reflect.Uint16:
		return uint64(*(*uint16)(p))
	case reflect.Uint32:
		return uint64(*(*uint32)(p))
	case reflect.Uint64:
		return *(*uint64)(p)
	case reflect.Uintptr:
		return uint64(*(*uintptr)(p))
	case reflect.Float32:
		return math.Float64bits(float64(*(*float32)(p)))
	case reflect.Float64:
		return math.Float64bits(*(*float64)(p))
	}
	panic(fmt.Sprintf("statewalk: leafAt of %v", k))
}

// queue emits a wait queue's entries in order.
func (s *stateWalk) queue(q reflect.Value) {
	head := q.FieldByIndex(headHead)
	h := head.UnsafeAddr()
	s.push(".queue")
	n := 0
	for e := head.FieldByIndex(entryNext).UnsafePointer(); uintptr(e) != h && e != nil; n++ {
		s.pushIndex(n)
		ev := reflect.NewAt(tEntry, e).Elem()
		if id, ok := s.entries[uintptr(e)]; ok {
			s.emitID(id>>56, id&(1<<56-1))
		} else {
			// Not an entry of a known task: walk it here.
			s.emitID(idOther, 0)
			s.walk(ev, planFor(tEntry))
		}
		s.pop()
		e = ev.FieldByIndex(entryNext).UnsafePointer()
		if n > 1<<16 {
			panic("statewalk: wait queue does not end")
		}
	}
	s.push(".len")
	s.emit(uint64(n))
	s.pop()
	s.pop()
}

func (s *stateWalk) pointer(v reflect.Value, p *plan) {
	if v.IsNil() {
		s.emit(0)
		return
	}
	switch p.ptrID {
	case idPage:
		s.emitID(idPage, uint64(v.Elem().FieldByIndex(pagePfn).Int()))
		return
	case idInode:
		e := v.Elem()
		if e.Type() == tAS {
			if e = e.FieldByIndex(asHost); e.IsNil() {
				s.emitID(idInode, 0)
				return
			}
			e = e.Elem()
		}
		s.emitID(idInode, uint64(e.FieldByIndex(inodeIno).Int()))
		return
	case idTask:
		e := v.Elem()
		if e.Type() == tThread {
			e = e.FieldByIndex(threadTsk).Elem()
		}
		s.emitID(idTask, uint64(e.FieldByIndex(taskID).Int()))
		return
	case idEntry:
		if id, ok := s.entries[v.Pointer()]; ok {
			s.emitID(id>>56, id&(1<<56-1))
			return
		}
	}
	// Any other pointer: its target is state, by value.
	if s.depth++; s.depth > 32 {
		panic("statewalk: pointers too deep at " + strings.Join(s.path, ""))
	}
	s.push("*")
	s.emit(1)
	s.walk(v.Elem(), p.elem)
	s.pop()
	s.depth--
}

func (s *stateWalk) mapValue(v reflect.Value, p *plan) {
	type kv struct {
		key []uint64
		k   reflect.Value
	}
	var l []kv
	it := v.MapRange()
	for it.Next() {
		k := it.Key()
		l = append(l, kv{key: flatKey(nil, k), k: k})
	}
	slices.SortFunc(l, func(a, b kv) int { return slices.Compare(a.key, b.key) })
	s.push(".len")
	s.emit(uint64(len(l)))
	s.pop()
	for _, e := range l {
		if s.detail {
			s.push(fmt.Sprint(e.key))
		}
		for _, x := range e.key {
			s.h = mix64(s.h ^ x)
		}
		s.walk(v.MapIndex(e.k), p.elem)
		if s.detail {
			s.pop()
		}
	}
}

// flatKey flattens a map key made of integers, booleans and strings.
func flatKey(out []uint64, v reflect.Value) []uint64 {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(out, 1)
		}
		return append(out, 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return append(out, uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return append(out, v.Uint())
	case reflect.String:
		for _, c := range []byte(v.String()) {
			out = append(out, uint64(c))
		}
		return append(out, 1<<63)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			out = flatKey(out, v.Field(i))
		}
		return out
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			out = flatKey(out, v.Index(i))
		}
		return out
	}
	panic(fmt.Sprintf("statewalk: map key of kind %v", v.Kind()))
}

// stateDiff lists the paths whose values differ between two detailed walks.
func stateDiff(a, b *stateWalk) []string {
	split := func(w *stateWalk) map[string]string {
		m := map[string]string{}
		for _, l := range w.lines {
			p, v, _ := strings.Cut(l, " = ")
			// A path may repeat (nothing should, but be safe).
			for m[p] != "" {
				p += "'"
			}
			m[p] = v
		}
		return m
	}
	ma, mb := split(a), split(b)
	var out []string
	for p, va := range ma {
		if vb, ok := mb[p]; !ok {
			out = append(out, fmt.Sprintf("%s: %s / (absent)", p, va))
		} else if va != vb {
			out = append(out, fmt.Sprintf("%s: %s / %s", p, va, vb))
		}
	}
	for p, vb := range mb {
		if _, ok := ma[p]; !ok {
			out = append(out, fmt.Sprintf("%s: (absent) / %s", p, vb))
		}
	}
	slices.Sort(out)
	return out
}

// walkAny walks x (a value of a type without unexported parts to reach).
func (s *stateWalk) walkAny(x any) {
	v := reflect.ValueOf(x)
	s.walk(v, planFor(v.Type()))
}

// walkThreadLocal walks the task-local part of a Thread: every field but
// its sim.Task, its kernel and its wait entries (shared state, walked by
// walkState).
func walkThreadLocal(s *stateWalk, th *mm.Thread) {
	v := reflect.ValueOf(th).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Name == "Task" || f.Name == "K" || f.Type == tWPQ || f.Type == tEntry || slices.Contains(skipFields[tThread], f.Name) {
			continue
		}
		s.push("." + f.Name)
		s.walk(v.Field(i), planFor(f.Type))
		s.pop()
	}
}

// TestSkipFieldsExist: every field the state walk skips is a field of its
// type, so that a renamed field cannot leave the walk comparing scratch
// memory, or skipping nothing, without notice.
func TestSkipFieldsExist(t *testing.T) {
	for typ, names := range skipFields {
		for _, name := range names {
			if _, ok := typ.FieldByName(name); !ok {
				t.Errorf("skipFields: %v has no field %s", typ, name)
			}
		}
	}
}

// TestWalkFastPath: the walk without detail, which reads the numbers of
// addressable structs where they lie, hashes every state as the walk with
// detail does field by field through reflection, over the final states
// of random executions of every race workload.
func TestWalkFastPath(t *testing.T) {
	for _, w := range workloads.All() {
		if w.Race == "" {
			continue
		}
		v, err := fixes.Parse("baseline")
		if err != nil {
			t.Fatal(err)
		}
		r := newRunner(&Config{Workload: w, Params: w.Defaults(), Variant: v, Seed: 1}, sim.NewRandom(1, 0.2))
		for range 20 {
			e, err := r.exec()
			if err != nil {
				t.Fatal(err)
			}
			fast, slow := walkState(e.Kernel, r.x.Tasks(), false), walkState(e.Kernel, r.x.Tasks(), true)
			if fast.h != slow.h || fast.nz != slow.nz {
				t.Fatalf("%s: the fast walk hashes %x (nonzero %v), the field-by-field walk %x (%v)", w.ID, fast.h, fast.nz, slow.h, slow.nz)
			}
		}
		r.x.Close()
	}
}
