package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// verifyArgs is a small configuration of race B (order-0 reuse after
// truncation) that the exhaustive search finishes in well under a second.
var verifyArgs = []string{"verify", "-workload", "writeback-reuse", "-param", "thp=0,write2=0,fsync2=0,truncate2=1,write3=1", "-fix", "baseline,hold-ref,hold-ref+loop-wait"}

// seconds masks the one column that differs between runs.
var seconds = regexp.MustCompile(`(?m)^(\S+ +.{27} +\d+ +\d+) +\d+\.\d+$`)

func maskSeconds(s string) string { return seconds.ReplaceAllString(s, "$1 <secs>") }

// TestVerifyGolden: the verdict table and the counterexamples' diagrams,
// against testdata/verify-reuse.golden (go test -rewrite regenerates it);
// the same output whatever -j.
func TestVerifyGolden(t *testing.T) {
	var outs []string
	for _, j := range []string{"1", "2"} {
		stdout, _, err := runCLI(append(verifyArgs, "-j", j)...)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, maskSeconds(stdout))
	}
	if outs[0] != outs[1] {
		t.Errorf("-j 1 and -j 2 differ:\n%s", lineDiff(outs[0], outs[1]))
	}
	got := outs[0]
	path := filepath.Join("testdata", "verify-reuse.golden")
	if *rewrite {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("verify output differs from %s (go test -rewrite):\n%s", path, lineDiff(string(want), got))
	}
	for _, line := range strings.Split(got, "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, "v1/") { // a schedule is one word
			t.Errorf("line longer than 80 columns: %q", line)
		}
	}
	if !strings.Contains(got, "baseline") || !strings.Contains(got, "fails: ") {
		t.Errorf("the baseline's failure is not reported:\n%s", got)
	}
}

// TestVerifyJSON: one object per cell, a verdict for every failure id, a
// replayable schedule for every failing one, and nothing verified that a
// schedule shows failing.
func TestVerifyJSON(t *testing.T) {
	stdout, _, err := runCLI(append(verifyArgs, "-json", "-no-diagram")...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), stdout)
	}
	for _, line := range lines {
		var v verifyJSON
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Verdicts) != 17 && len(v.Verdicts) < 12 {
			t.Errorf("%s: %d verdicts", v.Fix, len(v.Verdicts))
		}
		if !v.Complete || v.States == 0 || v.Executions == 0 {
			t.Errorf("%s: complete %v, %d states, %d executions", v.Fix, v.Complete, v.States, v.Executions)
		}
		for id, verdict := range v.Verdicts {
			_, has := v.FirstFailure[id]
			if (verdict == "fails") != has {
				t.Errorf("%s: %s is %s, schedule present %v", v.Fix, id, verdict, has)
			}
		}
		for id, sched := range v.FirstFailure {
			out, _, err := runCLI("replay", "-schedule", sched)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, id) {
				t.Errorf("%s: the schedule of %s does not replay to it:\n%s", v.Fix, id, out)
			}
		}
	}
}

// TestVerifyPreemptions: under -preemptions the header names the bound,
// a clean cell reads "verified ≤c preemptions", never "verified", and in
// JSON its ids are "bounded" (livelock "unknown") with the bound beside
// them; without the flag there is no bound in the JSON.
func TestVerifyPreemptions(t *testing.T) {
	args := []string{"verify", "-workload", "thp-collapse-truncate", "-param", "opens=1", "-fix", "baseline,drop-bogus-vm-bug", "-preemptions", "2"}
	stdout, _, err := runCLI(append(args, "-no-diagram")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"thp-collapse-truncate: every state reachable with at most 2 preemptions\n",
		"search: state caching; reduction: none\n",
		"drop-bogus-vm-bug    verified ≤2 preemptions ",
		"baseline             fails: ",
		"verified ≤2 preemptions: no execution with at most 2 preemptions fires any\n  failure id (livelock unknown); one with more may\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "verified*") {
		t.Errorf("a bounded search says verified*:\n%s", stdout)
	}
	stdout, _, err = runCLI(append(args, "-json")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var v verifyJSON
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		if v.Preemptions == nil || *v.Preemptions != 2 || v.Search != "dpor/full" || !v.Complete {
			t.Errorf("%s: bound %v, search %q, complete %v", v.Fix, v.Preemptions, v.Search, v.Complete)
		}
		for id, verdict := range v.Verdicts {
			want := "bounded"
			switch {
			case v.FirstFailure[id] != "":
				want = "fails"
			case id == "livelock":
				want = "unknown"
			}
			if verdict != want {
				t.Errorf("%s: %s is %s, want %s", v.Fix, id, verdict, want)
			}
		}
	}
	stdout, _, err = runCLI("verify", "-workload", "thp-truncate-opens", "-fix", "invalidate-lock", "-json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, "preemption_bound") || strings.Contains(stdout, `"bounded"`) {
		t.Errorf("an unbounded search reports a bound:\n%s", stdout)
	}
}
