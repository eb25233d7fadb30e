package sim

import (
	"strings"
	"testing"
)

func TestScheduleRoundTrip(t *testing.T) {
	for _, s := range []string{
		"v1/writeback-restart/baseline/seed=1/io1@dma..wake_up_page,cpu2@writeback..,cpu3@fsync..,io1@wake_up_page..",
		"v1/writeback-reuse/hold-ref+loop-wait/seed=18446744073709551615/debug_vm=0/thp=2/cpu3@io_schedule..lock_page#3",
		"v1/writeback-restart/v5.8/seed=0/",
		"v1/w/f/seed=1/a@x:y..x:y#2,b@z..",
	} {
		p, err := ParseSchedule(s)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", s, err)
		}
		if got := p.String(); got != s {
			t.Errorf("round trip:\n got %s\nwant %s", got, s)
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "want v1/<workload>/<fix>"},
		{"v2/w/f/seed=1/", "unknown format version \"v2\""},
		{"v1/W!/f/seed=1/", "bad workload id"},
		{"v1/w/f++g/seed=1/", "bad fix id"},
		{"v1/w/f/seed/", "parameter \"seed\" is not key=value"},
		{"v1/w/f/seed=1/seed=2/", "parameter \"seed\" given twice"},
		{"v1/w/f/seed=1/cpu2", "segment 1 \"cpu2\": want task@label..until"},
		{"v1/w/f/seed=1/cpu2@lock_page", "want task@label..until"},
		{"v1/w/f/seed=1/cpu2@..x", "bad label \"\""},
		{"v1/w/f/seed=1/cpu2@a..b#1", "bad count \"1\""},
		{"v1/w/f/seed=1/cpu2@a..b#x", "bad count \"x\""},
		{"v1/w/f/seed=1/cpu2@a..#2", "bad count"},
		{"v1/w/f/seed=1/cpu2@a..b c", "bad label \"b c\""},
		{"v1/w/f/seed=1/a@b..,", "segment 2 \"\""},
	} {
		_, err := ParseSchedule(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseSchedule(%q): error is not one line: %q", tc.in, err)
		}
	}
}

// FuzzParseSchedule: the parser never panics, accepts only what it can
// print back identically, and its errors are single lines.
func FuzzParseSchedule(f *testing.F) {
	f.Add("v1/writeback-restart/baseline/seed=1/io1@dma..wake_up_page,cpu2@writeback..,cpu3@fsync..,io1@wake_up_page..")
	f.Add("v1/writeback-reuse/hold-ref+loop-wait/seed=7/debug_vm=0/cpu3@io_schedule..lock_page#3")
	f.Add("v1/w/f/seed=1/")
	f.Add("v1//f/seed=1/a@b..c")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSchedule(in)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error for %q: %q", in, err)
			}
			return
		}
		out := s.String()
		s2, err := ParseSchedule(out)
		if err != nil {
			t.Fatalf("String() of a parsed schedule does not parse: %q: %v", out, err)
		}
		if s2.String() != out {
			t.Fatalf("not a fixed point: %q → %q → %q", in, out, s2.String())
		}
		if strings.ContainsAny(out, " \t\n'\"$;&|<>*?()") {
			t.Fatalf("schedule %q is not one shell-safe word", out)
		}
	})
}
