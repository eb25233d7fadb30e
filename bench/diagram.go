package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pagelab/pagelab/internal/textwrap"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// Relevant marks the steps of a trace a reader of the race needs: those
// that wake a task or raise a failure, and those linked across tasks by a
// reads-from edge — a step that reads a page flag (or refcount) whose last
// writer was another task, and that writer. Steps whose effects no other
// task reads before their own task overwrites them are folded. Spinlock
// words are left out: they order the steps but are not what races. Steps
// after the last one that raised a failure are folded too.
//
// The kernel data of TraceStep.Data (i_size, xarray slots, page->index
// and the like) is linked the same way, and a read of it is also kept
// when its task reads the object again after another task wrote it: the
// first read of an unserializable local read, remote write, local read
// (AVIO's R-W-R, Lu, Tucek, Qin, Zhou, ASPLOS 2006). That is race E's
// first i_size read and race D's xarray lookup before its reload, which
// reads-from edges leave out when the value read was the set-up's.
func Relevant(tr *Trace) []bool {
	rel := make([]bool, len(tr.Steps))
	type writer struct {
		step int
		task string
	}
	last := map[uint64]writer{}
	// For each data object: its last writer, and each task's last read.
	type data struct {
		w       writer
		written bool
		read    map[string]int
	}
	objs := map[sim.Obj]*data{}
	// end is the step that raised the last failure (the last step if none).
	end := len(tr.Steps) - 1
	for i, s := range tr.Steps {
		if len(s.Reports) > 0 {
			rel[i], end = true, i
		}
		for _, a := range s.Data {
			d := objs[a.Obj]
			if d == nil {
				d = &data{read: map[string]int{}}
				objs[a.Obj] = d
			}
			if a.Op&sim.OpRead != 0 {
				if d.written && d.w.task != s.Task {
					rel[i], rel[d.w.step] = true, true
					if p, ok := d.read[s.Task]; ok && p < d.w.step {
						rel[p] = true
					}
				}
				d.read[s.Task] = i
			}
			if a.Op&sim.OpWrite != 0 {
				d.w, d.written = writer{i, s.Task}, true
			}
		}
		// An atomic RMW reads before it writes.
		for _, keys := range [][]uint64{s.Reads, s.Writes} {
			for _, k := range keys {
				if w, ok := last[k]; ok && w.task != s.Task {
					rel[i], rel[w.step] = true, true
				}
			}
		}
		for _, k := range s.Writes {
			last[k] = writer{i, s.Task}
		}
	}
	// What runs after the last failure was raised did not cause it.
	clear(rel[end+1:])
	// A wake-up matters when the task it wakes does something that
	// matters afterwards: scanning back, a step that wakes a task with a
	// relevant step later is relevant (which may make an earlier wake-up
	// of its own task relevant in turn).
	later := map[string]bool{}
	for i := end; i >= 0; i-- {
		s := tr.Steps[i]
		for _, w := range s.Wakes {
			if later[w] {
				rel[i] = true
			}
		}
		if rel[i] {
			later[s.Task] = true
		}
	}
	return rel
}

// Diagram renders a trace as CPU columns in at most width columns, in the
// notation of the mailing-list diagrams: one column per task, kernel
// functions nested by call depth, "... delayed ..." where a task is
// preempted between relevant steps, the wake-ups ("..  wakes up cpu3 .."),
// and the failure line.
func Diagram(tr *Trace, width int) string {
	cols, col, rows := diagramRows(tr)
	if len(cols) == 0 {
		return "(no step of this execution is seen by another task)\n"
	}
	return placeColumns(cols, col, width, rows)
}

// DiagramSVG draws the same diagram as a swim-lane picture: one lane per
// task, the rows in order, the failure in red.
func DiagramSVG(tr *Trace, title string) string {
	cols, col, rows := diagramRows(tr)
	const laneW, rowH, top = 300, 16, 56
	n := 0
	for range rows {
		n++
	}
	w, h := max(laneW*len(cols), 400), top+rowH*(n+1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="DejaVu Sans Mono, monospace" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", xmlEscape(title))
	for i, t := range cols {
		x := i * laneW
		fill := "#f4f6fa"
		if i%2 == 1 {
			fill = "#e9edf5"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="28" width="%d" height="%d" fill="%s"/>`+"\n", x, laneW, h-28, fill)
		fmt.Fprintf(&b, `<text x="%d" y="44" font-weight="bold">%s</text>`+"\n", x+8, xmlEscape(t))
	}
	i := 0
	for task, text := range rows {
		y := top + rowH*(i+1)
		color := "black"
		switch {
		case strings.HasPrefix(strings.TrimSpace(text), "!!"), strings.Contains(text, "BUG"):
			color = "#c00000"
		case strings.Contains(text, "wakes up"):
			color = "#0050c0"
		case strings.Contains(text, "delayed"):
			color = "#808080"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s" xml:space="preserve">%s</text>`+"\n", col[task]*laneW+8, y, color, xmlEscape(text))
		i++
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// diagramRows computes the diagram's columns and its rows (task, text).
func diagramRows(tr *Trace) ([]string, map[string]int, func(func(string, string) bool)) {
	rel := Relevant(tr)
	// Columns: the tasks with a relevant step, in order of first step.
	var cols []string
	lastRel := map[string]int{}
	for i, s := range tr.Steps {
		if rel[i] {
			lastRel[s.Task] = i
		}
	}
	for _, t := range tr.Tasks {
		if _, ok := lastRel[t]; ok {
			cols = append(cols, t)
		}
	}
	col := map[string]int{}
	for i, t := range cols {
		col[t] = i
	}
	// Rows are rendered first, then placed: each row holds one task's
	// text, so a column only needs its own starting position. The last
	// column starts where its longest line still fits; the others are
	// spaced evenly before it.
	type row struct {
		task string
		text string
	}
	var rows []row
	put := func(task, text string) { rows = append(rows, row{task, text}) }

	// Leading frames shared by all of a task's relevant steps are
	// wrappers (mpage_end_io around end_page_writeback): drop all but the
	// innermost of them, as the mailing-list diagrams do.
	base := map[string]int{}
	for _, t := range cols {
		base[t] = commonPrefix(tr, rel, t)
	}
	printed := map[string][]string{} // the stack last printed per task
	delayed := map[string]bool{}
	for i, s := range tr.Steps {
		if !rel[i] {
			if s.Preempted && !delayed[s.Task] && printedSince(printed[s.Task]) && lastRel[s.Task] > i {
				put(s.Task, "  ... delayed ...")
				delayed[s.Task] = true
			}
			continue
		}
		delayed[s.Task] = false
		stack := s.Stack[min(max(base[s.Task]-1, 0), len(s.Stack)):]
		prev := printed[s.Task]
		common := 0
		for common < len(stack) && common < len(prev) && stack[common] == prev[common] {
			common++
		}
		for d := common; d < len(stack); d++ {
			put(s.Task, strings.Repeat(" ", 2*min(d, 4))+stack[d]+"()")
		}
		printed[s.Task] = stack
		if leaf := stepText(tr, i, stack); leaf != "" && !(len(s.Reports) > 0 && isBug(s.Reports)) {
			put(s.Task, strings.Repeat(" ", 2*min(len(stack), 4))+leaf)
		}
		for _, w := range s.Wakes {
			put(s.Task, strings.Repeat(" ", 2*min(len(stack), 4))+".. wakes up "+w+" ..")
		}
		for _, r := range s.Reports {
			put(s.Task, strings.Repeat(" ", 2*min(len(stack), 4))+r.Failure.Short())
		}
		if s.Preempted && lastRel[s.Task] > i {
			put(s.Task, "  ... delayed ...")
			delayed[s.Task] = true
		}
	}
	return cols, col, func(yield func(string, string) bool) {
		for _, r := range rows {
			if !yield(r.task, r.text) {
				return
			}
		}
	}
}

// placeColumns lays out (task, text) rows in columns within width.
func placeColumns(cols []string, col map[string]int, width int, rows func(func(string, string) bool)) string {
	n := len(cols)
	longest := len(cols[n-1])
	for task, text := range rows {
		if col[task] == n-1 {
			longest = max(longest, len(text))
		}
	}
	start := make([]int, n)
	if n > 1 {
		last := min(width/n*(n-1), max(width-longest, (n-1)*12))
		for i := range start {
			start[i] = last * i / (n - 1)
		}
	}
	// A line holds one row, so a column whose rows do not fit from its
	// start may begin further left, left of its header, instead of
	// cutting them (a failure's line is the one a reader needs most).
	rowStart := slices.Clone(start)
	for task, text := range rows {
		c := col[task]
		rowStart[c] = max(min(rowStart[c], width-len(text)), 0)
	}
	var lines []string
	var hdr, rule strings.Builder
	for i, t := range cols {
		for hdr.Len() < start[i] {
			hdr.WriteByte(' ')
			rule.WriteByte(' ')
		}
		hdr.WriteString(t)
		rule.WriteString(strings.Repeat("-", len(t)))
	}
	lines = append(lines, hdr.String(), rule.String(), "")
	for task, text := range rows {
		line := strings.Repeat(" ", rowStart[col[task]]) + text
		if len(line) > width {
			line = line[:width-1] + "~"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n") + "\n"
}

func printedSince(stack []string) bool { return stack != nil }

// commonPrefix is the number of leading frames all relevant steps of task
// share.
func commonPrefix(tr *Trace, rel []bool, task string) int {
	var first []string
	n := -1
	for i, s := range tr.Steps {
		if !rel[i] || s.Task != task {
			continue
		}
		if n < 0 {
			first, n = s.Stack, len(s.Stack)
			continue
		}
		k := 0
		for k < n && k < len(s.Stack) && s.Stack[k] == first[k] {
			k++
		}
		n = k
	}
	return max(n, 0)
}

func isBug(reps []*mm.Report) bool {
	for _, r := range reps {
		if r.Failure.Fatal() {
			return true
		}
	}
	return false
}

// kernelOps words the model's scheduling points ("function:point") as
// the kernel operations they stand for, as a mailing-list diagram would:
// "page->mapping re-check", not "mapping()". An empty wording draws
// nothing (a loop head: what follows it is drawn). Labels not listed are
// drawn as a call, "point()".
var kernelOps = map[string]string{
	"block_page_mkwrite:mapping":             "page->mapping re-check",
	"filemap_fault:mapping":                  "page->mapping re-check",
	"pagecache_get_page:mapping":             "page->mapping re-check",
	"write_cache_pages:mapping":              "page->mapping re-check",
	"find_lock_entries:mapping":              "page->mapping, PageWriteback() re-check",
	"collapse_file:mapping":                  "page->mapping, PageDirty(), PageWriteback() re-check",
	"write_cache_pages:PageWriteback":        "PageWriteback()",
	"truncate:PageWriteback":                 "PageWriteback()",
	"shrink_page_list:PageWriteback":         "PageWriteback()",
	"shrink_page_list:PageDirty":             "PageDirty()",
	"shrink_page_list:PagePrivate":           "page_has_private()",
	"shrink_page_list:page_maybe_dma_pinned": "page_maybe_dma_pinned()",
	"clear_page_dirty_for_io:pinned":         "page_maybe_dma_pinned()",
	"shrink_page_list:putback":               "putback_lru_page()",
	"collapse_file:xas_load":                 "xas_load() of a small page",
	"collapse_file:xas_store":                "xas_store() of the huge page",
	"collapse_file:copy":                     "copy_highpage() into the huge page",
	"collapse_file:rollback":                 "xas_store() of a small page (rollback)",
	"set_page_dirty:xa_lock":                 "xa_lock_irqsave(&mapping->i_pages)",
	"truncate_inode_pages_range:pass1":       "",
	"truncate_inode_pages_range:pass2":       "",
	"write_cache_pages:write":                "",
	"wait_on_page_bit_common:repeat":         "",
	"wait_on_page_bit_common:wait":           "set_current_state()",
	"wait_on_page_bit_common:v5.8":           "spin_lock_irq(&q->lock)",
	"wake_up_page_bit:cpu_relax":             "cpu_relax()",
	"dma":                                    "I/O completion",
}

// kernelChecks are the scheduling points of BUG_ON() checks, with the
// condition each tests. A check raises its failure when the condition
// holds: a step at one that raised nothing passed, and is drawn as the
// condition with its result; only a check that fired is drawn as the
// BUG_ON() (the failure's own line). The wording names no BUG: the SVG
// draws lines that do in red.
var kernelChecks = map[string]string{
	"write_cache_pages:BUG_ON": "PageWriteback() re-check",
}

// stepText is what step i of tr adds to its call stack: the kernel
// operation within the innermost function, or a function entered without
// a frame of its own; "" for nothing.
func stepText(tr *Trace, i int, stack []string) string {
	s := tr.Steps[i]
	if cond, ok := kernelChecks[s.Label]; ok {
		if len(s.Reports) > 0 {
			return cond
		}
		return cond + " -> false"
	}
	text := leafText(s.Label, stack)
	if text != "" && s.Label == "write_cache_pages:PageWriteback" {
		// The test's result is where the task went next: into the wait,
		// or straight on to the BUG_ON() check.
		for _, n := range tr.Steps[i+1:] {
			if n.Task != s.Task {
				continue
			}
			switch {
			case slices.Contains(n.Stack, "wait_on_page_writeback") || n.Label == "wait_on_page_writeback":
				text += " -> true"
			case n.Label == "write_cache_pages:BUG_ON":
				text += " -> false"
			}
			break
		}
	}
	return text
}

// leafText is what a step's label adds to its call stack: the operation
// within the innermost function, worded as kernelOps says
// ("write_cache_pages:mapping" → "page->mapping re-check"), or a function
// entered without a frame of its own.
func leafText(label string, stack []string) string {
	inner := ""
	if len(stack) > 0 {
		inner = stack[len(stack)-1]
	}
	if op, ok := kernelOps[label]; ok {
		return op
	}
	if f, op, ok := strings.Cut(label, ":"); ok {
		if f == inner {
			return op + "()"
		}
		return label + "()"
	}
	if label == inner {
		return ""
	}
	return label + "()"
}

// Shrink looks for a schedule that still fires failure f with as few
// context switches before it as it can find: delta debugging (ddmin,
// Zeller and Hildebrandt, TSE 2002) over the segments of the failing
// execution, as Choi and Zeller isolate the failure-inducing part of a
// thread schedule (ISSTA 2002), with Jalbert and Sen's measure of a
// simpler trace, fewer context switches (FSE 2010).
//
// The measure is the switches up to the step that raised f: what runs
// after it did not cause it. A schedule is kept up to the segment of that
// step; the rest of a replay runs without preemption, as every replay's
// does. A candidate is the current schedule with a chunk of its segments
// taken out, replayed loosely (each segment left runs its task from
// wherever it is paused to its Until point; sim.Replay.Loose). Taking out
// the segment between two of one task's merges them: the task runs on
// instead of being preempted. A candidate is kept when it fires f with
// fewer switches before it than the current schedule; the execution it
// recorded, a strict schedule cut after f's segment, becomes the current
// one. The switches only go down, and the result is 1-minimal: taking out
// any one of its segments gives no execution that fires f with fewer. It
// returns that schedule, checked by a strict replay, and the switches
// before f of the execution given and of the one returned.
func Shrink(cfg *ReplayConfig, f mm.Failure) (*sim.Schedule, int, int, error) {
	s, before, after, _, err := shrink(cfg, f)
	return s, before, after, err
}

// shrink is Shrink, also returning the strict replay that checked its
// result (followed by the sequential continuation).
func shrink(cfg *ReplayConfig, f mm.Failure) (*sim.Schedule, int, int, *Replayed, error) {
	best, ok, _, err := replayToFailure(cfg, f, cfg.Schedule.Segments, false)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	if !ok {
		return nil, 0, 0, nil, fmt.Errorf("the schedule does not fire %s under %s", f, cfg.Variant.ID)
	}
	before := switches(best)
	for n := 2; len(best) >= 2; {
		chunk := (len(best) + n - 1) / n
		reduced := false
		for start := 0; start < len(best); start += chunk {
			cand := append(append([]sim.Segment(nil), best[:start]...), best[min(start+chunk, len(best)):]...)
			got, ok, _, err := replayToFailure(cfg, f, cand, true)
			if err != nil {
				return nil, 0, 0, nil, err
			}
			if ok && switches(got) < switches(best) {
				best, reduced = got, true
				n = max(n-1, 2)
				break
			}
		}
		if !reduced {
			if chunk == 1 {
				break
			}
			n = min(n*2, len(best))
		}
	}
	// The cut recording replays strictly to the same execution up to f:
	// checked, so that the diagram drawn from it is the failure's. (Its
	// last segment may run on: the continuation goes on with the task
	// that ran last.)
	got, ok, r, err := replayToFailure(cfg, f, best, false)
	if err != nil {
		return nil, 0, 0, nil, err
	}
	n := len(best)
	if !ok || r.Diverged != nil || len(got) != n || !slices.Equal(got[:n-1], best[:n-1]) ||
		got[n-1].Task != best[n-1].Task || got[n-1].At != best[n-1].At {
		return nil, 0, 0, nil, fmt.Errorf("internal error: the shrunk schedule of %s does not replay to itself (diverged: %v)", f, r.Diverged)
	}
	out := *cfg.Schedule
	out.Segments = best
	return &out, before, switches(best), r, nil
}

// Shrunk is a failing schedule shrunk by Shrink, with the report of the
// failure its replay raises (the task, the place, the message).
type Shrunk struct {
	Schedule      *sim.Schedule
	Report        mm.Report
	Before, After int // context switches up to the failure, before and after
}

// ShrinkFirst shrinks schedule, a run's failing schedule string (a Cell's
// First), keeping failure f, and replays the result for the report of f it
// raises: what a user replays is what the report describes, and the
// shrunk execution may raise f in another task or on another page than
// the run's did.
func ShrinkFirst(schedule string, f mm.Failure) (*Shrunk, error) {
	if f == mm.Livelock {
		return nil, fmt.Errorf("a livelock runs to the step budget, which every candidate would replay")
	}
	s, err := sim.ParseSchedule(schedule)
	if err != nil {
		return nil, err
	}
	cfg, err := ReplayConfigFor(s, "")
	if err != nil {
		return nil, err
	}
	// Shrink's last replay is of the schedule it returns, strict and
	// continued sequentially: the one a user's replay runs.
	out, before, after, r, err := shrink(cfg, f)
	if err != nil {
		return nil, err
	}
	sh := &Shrunk{Schedule: out, Report: mm.Report{Failure: f}, Before: before, After: after}
	for _, rep := range r.Exec.Reports {
		if rep.Failure == f {
			sh.Report = rep
			break
		}
	}
	return sh, nil
}

// FailureText is a failing execution as pagelab run and pagelab hunt
// print it, after a heading the caller writes: where is where the failure
// was raised (" in cpu3 at put_page"), and body its message, its schedule
// (never wrapped, to paste) and how far shrinking took it, each line
// indented 2, the last after lead ("under pct-irq d=6, ": what found
// it). schedule and report are the run's own; what is printed is the
// schedule ShrinkFirst shrinks them to and the report its replay raises,
// or, where it cannot shrink them, the run's own and why.
func FailureText(schedule string, report mm.Report, f mm.Failure, lead string) (where, body string) {
	r, sched, note := report, schedule, ""
	if sh, err := ShrinkFirst(schedule, f); err != nil {
		note = "not shrunk: " + err.Error()
	} else {
		r, sched = sh.Report, sh.Schedule.String()
		note = fmt.Sprintf("shrunk from %d to %d context switches up to the failure", sh.Before, sh.After)
		if sh.After == sh.Before {
			note = fmt.Sprintf("already minimal: %d context switches up to the failure", sh.After)
		}
	}
	if r.Task != "" {
		where = " in " + r.Task
	}
	if r.Label != "" {
		where += " at " + r.Label
	}
	return where, fmt.Sprintf("  %s\n  %s\n  %s\n", textwrap.Wrap(r.Msg, 76, 2), sched, textwrap.Wrap(lead+note, 76, 2))
}

// replayToFailure replays segs (loosely if loose) with cfg, continued
// without preemption, and returns the schedule it followed cut after the
// segment in which f was raised, and whether f fired.
func replayToFailure(cfg *ReplayConfig, f mm.Failure, segs []sim.Segment, loose bool) ([]sim.Segment, bool, *Replayed, error) {
	c := *cfg
	s := *cfg.Schedule
	s.Segments = segs
	c.Schedule = &s
	c.Then = "sequential"
	c.Loose = loose
	var k *mm.Kernel
	c.onKernel = func(kk *mm.Kernel) { k = kk }
	// The switches before the step that raised f: a report raised by a
	// step is seen before the next one.
	at, sw, seen, last := -1, 0, 0, -1
	c.Trace = func(t *sim.Task, step int) {
		if at < 0 && k != nil {
			reps := k.Reports()
			for _, r := range reps[seen:] {
				if r.Failure == f {
					at = sw
				}
			}
			seen = len(reps)
		}
		if last >= 0 && t.ID != last {
			sw++
		}
		last = t.ID
	}
	r, err := Replay(&c)
	if err != nil {
		return nil, false, nil, err
	}
	if !r.Exec.Fired.Has(f) {
		return nil, false, r, nil
	}
	if at < 0 {
		// Raised by the last step, or by the checks at the end.
		at = sw
	}
	followed := r.Schedule.Segments
	if len(followed) != sw+1 {
		return nil, false, nil, fmt.Errorf("internal error: %d segments recorded for %d switches", len(followed), sw)
	}
	return followed[:at+1], true, r, nil
}

// switches counts the context switches of a schedule: segments after the
// first.
func switches(segs []sim.Segment) int { return max(len(segs)-1, 0) }

// Drawn is a failure's race diagram.
type Drawn struct {
	Failure       mm.Failure
	Text, SVG     string
	Schedule      *sim.Schedule // the shrunk schedule drawn
	Before, After int           // context switches up to the failure, before and after shrinking
}

// DrawFailure shrinks cfg.Schedule keeping failure f (unless noShrink),
// replays the result with a trace and draws it, in 80 columns and as SVG.
func DrawFailure(cfg *ReplayConfig, f mm.Failure, noShrink bool) (*Drawn, error) {
	d := &Drawn{Failure: f, Schedule: cfg.Schedule}
	c := *cfg
	if !noShrink {
		s, before, after, err := Shrink(&c, f)
		if err != nil {
			return nil, err
		}
		d.Schedule, d.Before, d.After = s, before, after
		c.Schedule = s
	}
	c.Then = "sequential"
	tr, err := TraceReplay(&c)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("%s under %s: %s", cfg.Workload.ID, cfg.Variant.ID, f)
	if !noShrink {
		if d.After == d.Before {
			head += fmt.Sprintf("\nalready minimal: %d context switches up to the failure (shrinking removed none)", d.After)
		} else {
			head += fmt.Sprintf("\nshrunk from %d to %d context switches up to the failure", d.Before, d.After)
		}
	}
	// A shrunk schedule is printed as it is, cut after the failure's
	// segment (a replay runs on from there without preemption); one drawn
	// as given, as it was followed.
	sched := tr.Replayed.Schedule
	if !noShrink {
		sched = d.Schedule
	}
	d.Text = head + "\n\n" + Diagram(tr, 80) + "\nschedule:\n" + sched.String() + "\n"
	d.SVG = DiagramSVG(tr, fmt.Sprintf("%s under %s: %s", cfg.Workload.ID, cfg.Variant.ID, f))
	return d, nil
}

// DiagramFile is where a results directory keeps the diagram of a cell's
// first failure of id f (without extension).
func DiagramFile(workload, fix, f string) string {
	return "diagrams/" + workload + "_" + fix + "_" + f
}
