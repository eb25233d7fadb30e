package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// A Segment is a stretch of one task's execution in a schedule: task Task,
// paused at scheduling point At, runs until it is paused at Until for the
// Count-th time (Count 0 means once), or, when Until is empty, until it
// sleeps or finishes.
//
// Segments are bounded by labels rather than step counts so that a schedule
// recorded under one fix variant can be replayed against another: a fix that
// adds a step (get_page before test_clear_page_writeback, say) does not move
// the points where the interesting preemptions happen.
type Segment struct {
	Task  string
	At    string
	Until string
	Count int
}

func (s Segment) count() int {
	if s.Count < 1 {
		return 1
	}
	return s.Count
}

func (s Segment) String() string {
	var b strings.Builder
	b.WriteString(s.Task)
	b.WriteByte('@')
	b.WriteString(s.At)
	b.WriteString("..")
	b.WriteString(s.Until)
	if s.Count > 1 {
		b.WriteByte('#')
		b.WriteString(strconv.Itoa(s.Count))
	}
	return b.String()
}

// Schedule is a recorded or scripted execution: the workload, the fix
// variant and the parameters it ran with, and its segments. Its String form
// is one shell-safe word:
//
//	v1/writeback-restart/baseline/seed=7/io1@mpage_end_io..wake_up_page,cpu2@write_cache_pages..
//
// Fields are separated by '/': the format version, the workload id, the fix
// id, any number of key=value parameters (seed among them), and the
// comma-separated segments, each task@at..until with an optional #count.
type Schedule struct {
	Workload string
	Fix      string
	Params   []Param // in the order given; seed is one of them
	Segments []Segment
}

// Param is one key=value field of a schedule.
type Param struct{ Key, Value string }

// Get returns the value of parameter key.
func (s *Schedule) Get(key string) (string, bool) {
	for _, p := range s.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

const scheduleVersion = "v1"

func (s *Schedule) String() string {
	var b strings.Builder
	b.WriteString(scheduleVersion)
	b.WriteByte('/')
	b.WriteString(s.Workload)
	b.WriteByte('/')
	b.WriteString(s.Fix)
	for _, p := range s.Params {
		b.WriteByte('/')
		b.WriteString(p.Key)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	b.WriteByte('/')
	for i, seg := range s.Segments {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(seg.String())
	}
	return b.String()
}

// ParseSchedule parses the String form of a schedule. Errors name the
// offending part and the expected form.
func ParseSchedule(str string) (*Schedule, error) {
	str = strings.TrimSpace(str)
	fields := strings.Split(str, "/")
	if len(fields) < 4 {
		return nil, fmt.Errorf("malformed schedule: want v1/<workload>/<fix>/[key=value/...]<segments>, got %d '/'-separated fields", len(fields))
	}
	if fields[0] != scheduleVersion {
		return nil, fmt.Errorf("malformed schedule: unknown format version %q (this pagelab reads %s)", fields[0], scheduleVersion)
	}
	s := &Schedule{Workload: fields[1], Fix: fields[2]}
	if !validID(s.Workload) {
		return nil, fmt.Errorf("malformed schedule: bad workload id %q", s.Workload)
	}
	if !validFix(s.Fix) {
		return nil, fmt.Errorf("malformed schedule: bad fix id %q", s.Fix)
	}
	seen := map[string]bool{}
	for _, f := range fields[3 : len(fields)-1] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !validID(k) || !validValue(v) {
			return nil, fmt.Errorf("malformed schedule: parameter %q is not key=value", f)
		}
		if seen[k] {
			return nil, fmt.Errorf("malformed schedule: parameter %q given twice", k)
		}
		seen[k] = true
		s.Params = append(s.Params, Param{k, v})
	}
	last := fields[len(fields)-1]
	if last == "" {
		return s, nil
	}
	for i, part := range strings.Split(last, ",") {
		seg, err := parseSegment(part)
		if err != nil {
			return nil, fmt.Errorf("malformed schedule: segment %d %q: %v", i+1, part, err)
		}
		s.Segments = append(s.Segments, seg)
	}
	return s, nil
}

func parseSegment(part string) (Segment, error) {
	var seg Segment
	task, rest, ok := strings.Cut(part, "@")
	if !ok {
		return seg, fmt.Errorf("want task@label..until")
	}
	if !validID(task) {
		return seg, fmt.Errorf("bad task name %q", task)
	}
	at, until, ok := strings.Cut(rest, "..")
	if !ok {
		return seg, fmt.Errorf("want task@label..until")
	}
	if !validLabel(at) {
		return seg, fmt.Errorf("bad label %q", at)
	}
	if u, c, ok := strings.Cut(until, "#"); ok {
		n, err := strconv.Atoi(c)
		if err != nil || n < 2 || n > 1<<20 || u == "" {
			return seg, fmt.Errorf("bad count %q (want until#N with N >= 2)", c)
		}
		until, seg.Count = u, n
	}
	if until != "" && !validLabel(until) {
		return seg, fmt.Errorf("bad label %q", until)
	}
	seg.Task, seg.At, seg.Until = task, at, until
	return seg, nil
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func validFix(s string) bool {
	for _, p := range strings.Split(s, "+") {
		if !validID(p) {
			return false
		}
	}
	return true
}

func validValue(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ValidLabel reports whether s can be a scheduling point label: letters,
// digits, '_' and ':'.
func ValidLabel(s string) bool { return validLabel(s) }

func validLabel(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// Segments turns the decisions recorded by an Explorer (Record set) into
// label-bounded segments: one per maximal run of decisions of one task.
func (x *Explorer) Segments() []Segment {
	d := x.Decisions
	var segs []Segment
	for i := 0; i < len(d); {
		j := i
		for j+1 < len(d) && d[j+1].Task == d[i].Task {
			j++
		}
		t := x.tasks[d[i].Task]
		seg := Segment{Task: t.Name, At: d[i].Label}
		if !d[j].Stopped {
			// The task was preempted at a scheduling point. It stays there
			// until it next runs, so that point is its next decision's
			// label (or, if it never ran again, its final label).
			seg.Until = t.label
			for k := j + 1; k < len(d); k++ {
				if d[k].Task == d[i].Task {
					seg.Until = d[k].Label
					break
				}
			}
			n := 1
			for k := i + 1; k <= j; k++ {
				if d[k].Label == seg.Until {
					n++
				}
			}
			if n > 1 {
				seg.Count = n
			}
		}
		segs = append(segs, seg)
		i = j + 1
	}
	return segs
}
