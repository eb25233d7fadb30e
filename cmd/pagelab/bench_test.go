package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
)

func benchArgs(dir string) []string {
	return []string{"bench", "-o", dir, "-workload", "writeback-restart,lock-storm", "-fix", "baseline,v5.8",
		"-runs", "2000", "-count", "6", "-cpus", "2,8", "-seed", "3", "-verify-states", "3000"}
}

// TestBenchTwice: pagelab bench writes a complete results directory; a
// second run with the same seed gives the same records, whatever the
// number of searches at once (-j), and compare finds no significant change
// between the two.
func TestBenchTwice(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for i, dir := range []string{a, b} {
		stdout, stderr, err := runCLI(append(benchArgs(dir), "-j", []string{"1", "2"}[i])...)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"search 1/2 writeback-restart ", "search 2/2 writeback-restart "} {
			if !strings.Contains(stderr, want) {
				t.Errorf("no progress line %q in:\n%s", want, stderr)
			}
		}
		if !strings.Contains(stdout, "verdict: exhaustive search of every interleaving") {
			t.Errorf("the summary does not explain its verdict column:\n%s", stdout)
		}
		if !strings.HasPrefix(stdout, "pagelab results, complete") {
			t.Errorf("stdout does not start with the summary: %.80q", stdout)
		}
		for _, f := range []string{"results.jsonl", "bench.txt", "summary.txt", "manifest.json",
			"plots/failures-writeback-restart.png", "plots/throughput-lock-storm.svg"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	ra, _ := os.ReadFile(filepath.Join(a, "results.jsonl"))
	rb, _ := os.ReadFile(filepath.Join(b, "results.jsonl"))
	if string(ra) != string(rb) {
		t.Error("two bench runs with the same seed (-j 1 and -j 2) wrote different results.jsonl")
	}
	_, recs, err := bench.ReadResults(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if verified := r.Latency == nil; r.Verified() != verified || (r.Verify != nil && r.Verify.MaxStates != 3000) {
			t.Errorf("%s %s: verdicts %v, verify %+v", r.Workload, r.Fix, r.Verdicts, r.Verify)
		}
	}
	man, _ := os.ReadFile(filepath.Join(a, "manifest.json"))
	for _, want := range []string{`"verify_states": 3000`, `"verify_cells": 2`, `"writeback-restart/baseline/cpus=0/": `} {
		if !strings.Contains(string(man), want) {
			t.Errorf("manifest lacks %s:\n%s", want, man)
		}
	}
	out, _, err := runCLI("compare", a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "(p=") && !strings.Contains(line, "~") {
			t.Errorf("compare of two identical runs reports a change: %s", line)
		}
	}
	if _, _, err := runCLI(benchArgs(a)...); !isUsage(err) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("bench into a non-empty directory: %v, want a usage error", err)
	}
}

func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// TestResultsBadInput: a malformed or truncated results file given to
// compare or plot is a one-line usage error naming the file and line, with
// nothing written.
func TestResultsBadInput(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good")
	if _, _, err := runCLI(append(benchArgs(good), "-noplots")...); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(good, "results.jsonl"))
	lines := strings.SplitAfter(string(data), "\n")
	for name, content := range map[string]string{
		"truncated": string(data[:len(data)-40]),
		"malformed": lines[0] + "{\"workload\": 7}\n",
		// Random runs fired what the search verified.
		"contradiction": lines[0] + `{"workload":"writeback-restart","fix":"baseline","strategy":"random","seed":3,"runs":2000,"failing":1,"failures":{"bug-writeback":1},"first_failure":{},"steps":1,"most_steps":1,"verdicts":{"bug-writeback":"verified"},"verify":{"complete":true,"states":5,"transitions":5,"executions":1,"max_depth":3}}` + "\n",
	} {
		dir := filepath.Join(t.TempDir(), name)
		os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, "results.jsonl")
		os.WriteFile(path, []byte(content), 0o644)
		for _, args := range [][]string{{"compare", good, dir}, {"compare", dir, good}, {"plot", dir}} {
			stdout, _, err := runCLI(args...)
			if !isUsage(err) || !strings.Contains(err.Error(), path+":") || strings.Contains(err.Error(), "\n") {
				t.Errorf("pagelab %s: %v, want a one-line usage error naming %s:line", strings.Join(args, " "), err, path)
			}
			if stdout != "" {
				t.Errorf("pagelab %s wrote %q", strings.Join(args, " "), stdout)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "plots")); err == nil {
			t.Errorf("plot of a %s file created a plots directory", name)
		}
	}
	for _, args := range [][]string{{"compare", good}, {"plot"}, {"compare", good, filepath.Join(good, "nosuch")},
		{"bench", "-verify-states", "-1"}, {"bench", "-j", "0"}} {
		if _, _, err := runCLI(args...); !isUsage(err) {
			t.Errorf("pagelab %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}

// TestVCSRevision: the manifest's revision comes from the binary's build
// stamp, never from the repository of the directory it runs in.
func TestVCSRevision(t *testing.T) {
	for _, tc := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, "unknown"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}, "0123456789ab"},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}, "0123456789ab-dirty"},
		{[]debug.BuildSetting{{Key: "vcs.modified", Value: "false"}, {Key: "vcs.revision", Value: "abc"}}, "abc"},
	} {
		if got := vcsRevision(tc.settings); got != tc.want {
			t.Errorf("vcsRevision(%v) = %q, want %q", tc.settings, got, tc.want)
		}
	}
	// A test binary has no VCS stamp: whatever repository the test runs
	// in, the revision is unknown (the old code ran git in the cwd).
	if got := gitRevision(); got != "unknown" {
		t.Errorf("gitRevision() in a test binary = %q, want unknown", got)
	}
}

// TestBenchDestination: a destination that cannot be a results directory
// fails before the first cell, with nothing written, naming the flag; two
// runs given one directory never share it.
func TestBenchDestination(t *testing.T) {
	tmp := t.TempDir()
	small := func(out string) []string {
		return []string{"bench", "-o", out, "-workload", "writeback-restart", "-fix", "baseline", "-runs", "50", "-verify-states", "0", "-noplots"}
	}
	file := filepath.Join(tmp, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	ro := filepath.Join(tmp, "ro")
	os.Mkdir(ro, 0o555)
	os.Symlink(filepath.Join(tmp, "nowhere"), filepath.Join(tmp, "dangling"))
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"a file", small(file), true, "-o " + file + " is not a directory"},
		{"unwritable", small(filepath.Join(ro, "x")), false, "cannot create the results directory (-o " + filepath.Join(ro, "x")},
		// Under a file: bad input (the path cannot be a directory), for
		// root too.
		{"under a file", small(filepath.Join(file, "x")), true, "-o " + filepath.Join(file, "x") + ": a file stands where a directory of the path should be"},
		{"a dangling link", small(filepath.Join(tmp, "dangling")), true, "taken by something that is not a directory"},
		{"label too long", []string{"bench", "-label", strings.Repeat("x", 300), "-workload", "writeback-restart", "-fix", "baseline", "-runs", "50"}, true, "name too long"},
	} {
		if tc.name == "unwritable" && os.Geteuid() == 0 {
			continue // root writes anywhere
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(tmp) // -label writes under ./results
			stdout, _, err := runCLI(tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			var ue usageError
			if errors.As(err, &ue) != tc.usage {
				t.Errorf("usage error %v, want %v", !tc.usage, tc.usage)
			}
			if stdout != "" {
				t.Errorf("output %q", stdout)
			}
		})
	}
	// A second run into a directory a first one claimed fails at once.
	dir := filepath.Join(tmp, "shared")
	if err := bench.ClaimDir(dir, &bench.Manifest{Command: []string{"other"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(small(dir)...); err == nil || !strings.Contains(err.Error(), "already exists and is not empty") {
		t.Errorf("second run into a claimed directory: %v", err)
	}
	// A claimed but empty directory (a race between two runs that both
	// saw it empty) cannot be claimed twice.
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)
	if err := bench.ClaimDir(empty, &bench.Manifest{}); err != nil {
		t.Fatal(err)
	}
	if err := bench.ClaimDir(empty, &bench.Manifest{}); !errors.Is(err, bench.ErrDirTaken) {
		t.Errorf("claiming twice: %v, want ErrDirTaken", err)
	}
}

// failWriter fails every write, as stdout on a full disk does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestBenchStdoutFails: when printing the summary fails after the results
// directory was written whole, bench says so (exit 1) and the directory
// stays complete, not "marked incomplete" as a failed write of it would.
func TestBenchStdoutFails(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	var stderr bytes.Buffer
	err := run([]string{"bench", "-o", out, "-workload", "writeback-restart", "-fix", "baseline", "-runs", "50",
		"-verify-states", "0", "-noplots"}, failWriter{}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "printing the summary") || !strings.Contains(err.Error(), "are whole") {
		t.Fatalf("error %v, want one saying the summary could not be printed and the results are whole", err)
	}
	var ue usageError
	if errors.As(err, &ue) {
		t.Errorf("an I/O error reported as bad input (exit 2)")
	}
	m, _, rerr := bench.ReadResults(out)
	if rerr != nil || !m.Complete {
		t.Errorf("results after the failed print: %v, complete %v", rerr, m != nil && m.Complete)
	}
}
