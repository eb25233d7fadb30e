package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepBadInput: every bad flag value is one line naming the problem
// and the valid choices, exit status 2, and nothing on stdout.
func TestSweepBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-workload", "nosuch"}, []string{`unknown workload "nosuch"`, "valid: writeback-restart"}},
		{[]string{"-workload", "writeback-restart", "-param", "tasks=1", "-variants", "baseline", "-base", ""}, []string{"writeback-restart is not a latency workload", "valid: lock-storm"}},
		{[]string{"-param", "users=1,2"}, []string{`unknown parameter "users"`, "valid: tasks"}},
		{[]string{"-param", "tasks=1,x"}, []string{`value "x" out of range`}},
		{[]string{"-variants", "v5.8;nosuch"}, []string{`unknown fix "nosuch"`, "valid: baseline"}},
		{[]string{"-variants", "baseline:unfairness=x"}, []string{"unfairness", "want an integer from 0 to 1000"}},
		{[]string{"-variants", "baseline:tasks=3"}, []string{"sets tasks, the swept parameter"}},
		{[]string{"-base", "pages=99"}, []string{"-base: parameter pages"}},
		{[]string{"-cpus", "0"}, []string{"-cpus 0 out of range (valid: 1 to 256)"}},
		{[]string{"-count", "0"}, []string{"-count 0 out of range"}},
		{[]string{"-cost", "nosuch=1"}, []string{`bad -cost "nosuch=1"`, "names: step"}},
		{[]string{"-j", "0"}, []string{"-j 0 out of range"}},
		{[]string{"-plot", "x.pdf"}, []string{`-plot "x.pdf": want a file name ending in .svg or .png`}},
	} {
		stdout, _, err := runCLI(append([]string{"sweep"}, tc.args...)...)
		if err == nil || exitStatus(err) != 2 {
			t.Errorf("pagelab sweep %s: err %v, want a usage error", strings.Join(tc.args, " "), err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("pagelab sweep %s: %q does not contain %q", strings.Join(tc.args, " "), err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") || stdout != "" {
			t.Errorf("pagelab sweep %s: error %q, stdout %q: want one line and no output", strings.Join(tc.args, " "), err, stdout)
		}
	}
}

// TestSweepFiles: a small sweep writes its table, its Markdown and its
// plot, the table the same for -j 1 and -j 2.
func TestSweepFiles(t *testing.T) {
	dir := t.TempDir()
	args := []string{"sweep", "-param", "tasks=1,8", "-variants", "v5.8;fair-handoff", "-base", "ops=10", "-cpus", "4", "-count", "1"}
	one, _, err := runCLI(append(args, "-j", "1", "-markdown", filepath.Join(dir, "t.md"), "-plot", filepath.Join(dir, "t.svg"))...)
	if err != nil {
		t.Fatal(err)
	}
	two, _, err := runCLI(append(args, "-j", "2")...)
	if err != nil {
		t.Fatal(err)
	}
	if one != two {
		t.Errorf("-j 1 and -j 2 differ:\n%s\n%s", one, two)
	}
	if !strings.Contains(one, "ratio to v5.8") || !strings.Contains(one, "fair-handoff") {
		t.Errorf("table:\n%s", one)
	}
	md, err := os.ReadFile(filepath.Join(dir, "t.md"))
	if err != nil || !strings.Contains(string(md), "| variant | tasks=1 | 8 |") {
		t.Errorf("markdown %q, %v", md, err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "t.svg"))
	if err != nil || !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "concurrent users") {
		t.Errorf("plot: %d bytes, %v", len(svg), err)
	}
}
