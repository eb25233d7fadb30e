package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pagelab/pagelab/workloads"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files")

// mainEnv makes the test binary behave as pagelab itself (see TestMain), so
// that TestExitStatus can check what main does with run's errors.
const mainEnv = "PAGELAB_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Args = append([]string{"pagelab"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runCLI calls run as main does and returns what it wrote.
func runCLI(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = run(args, &out, &errb)
	return out.String(), errb.String(), err
}

// goldenCases are the commands whose stdout is kept in testdata/<name>.golden.
var goldenCases = []struct {
	name string
	args []string
	json bool // JSON Lines, not text meant for a terminal
}{
	{"list", []string{"list"}, false},
	{"run-restart", []string{"run", "-workload", "writeback-restart", "-fix", "baseline,loop-wait,hold-ref+loop-wait", "-runs", "3000", "-seed", "7"}, false},
	{"run-restart-json", []string{"run", "-workload", "writeback-restart", "-fix", "baseline,loop-wait,hold-ref+loop-wait", "-runs", "3000", "-seed", "7", "-json"}, true},
	{"run-reuse-all", []string{"run", "-workload", "writeback-reuse", "-fix", "all", "-runs", "1500", "-seed", "3"}, false},
	{"run-isize", []string{"run", "-workload", "isize-compress", "-fix", "all", "-runs", "2000", "-seed", "1"}, false},
	{"replay-race-a", []string{"replay", "-workload", "writeback-restart", "-script", "race-a"}, false},
	{"replay-race-a-loop-wait", []string{"replay", "-workload", "writeback-restart", "-script", "race-a", "-fix", "loop-wait"}, false},
	{"replay-race-b-thp-trace", []string{"replay", "-workload", "writeback-reuse", "-script", "race-b-thp", "-trace"}, false},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, err := runCLI(tc.args...)
			if err != nil {
				t.Fatalf("pagelab %s: %v", strings.Join(tc.args, " "), err)
			}
			if stderr != "" {
				t.Errorf("pagelab %s: unexpected stderr:\n%s", strings.Join(tc.args, " "), stderr)
			}
			path := filepath.Join("testdata", tc.name+".golden")
			if *rewrite {
				if err := os.MkdirAll("testdata", 0o777); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(stdout), 0o666); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./cmd/pagelab -run TestGolden -rewrite creates it)", err)
			}
			if stdout != string(want) {
				t.Errorf("pagelab %s: stdout differs from %s (- want, + got; go test ./cmd/pagelab -run TestGolden -rewrite updates it):\n%s",
					strings.Join(tc.args, " "), path, lineDiff(string(want), stdout))
			}
		})
	}
}

// lineDiff is a minimal line diff of want and got: common lines are
// prefixed "  ", lines only in want "- ", lines only in got "+ ". Runs of
// more than 3 common lines are elided.
func lineDiff(want, got string) string {
	split := func(s string) []string {
		l := strings.SplitAfter(s, "\n")
		if l[len(l)-1] == "" {
			l = l[:len(l)-1]
		}
		return l
	}
	a, b := split(want), split(got)
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	show := make([]bool, len(lines))
	for k, l := range lines {
		if l.op != ' ' {
			for d := max(k-3, 0); d <= min(k+3, len(lines)-1); d++ {
				show[d] = true
			}
		}
	}
	var out strings.Builder
	for k, l := range lines {
		if !show[k] {
			if k == 0 || show[k-1] {
				out.WriteString("  ...\n")
			}
			continue
		}
		text := l.text
		if !strings.HasSuffix(text, "\n") {
			text = fmt.Sprintf("%q (no newline at end)\n", text)
		}
		fmt.Fprintf(&out, "%c %s", l.op, text)
	}
	return out.String()
}

// TestLineWidth checks that the text outputs fit an 80-column terminal.
// Schedule strings and pagelab commands are the exceptions: they must stay
// one line that can be copied and pasted, however long.
func TestLineWidth(t *testing.T) {
	for _, tc := range goldenCases {
		if tc.json {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := runCLI(tc.args...)
			if err != nil {
				t.Fatalf("pagelab %s: %v", strings.Join(tc.args, " "), err)
			}
			for n, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
				if strings.HasPrefix(strings.TrimLeft(line, " "), "v1/") {
					if strings.ContainsAny(strings.TrimLeft(line, " "), " \t") {
						t.Errorf("pagelab %s: line %d: schedule is not one word: %q", strings.Join(tc.args, " "), n+1, line)
					}
					continue
				}
				if strings.HasPrefix(strings.TrimLeft(line, " "), "pagelab ") {
					continue
				}
				if w := utf8.RuneCountInString(line); w > 80 {
					t.Errorf("pagelab %s: line %d is %d columns, want at most 80:\n%s", strings.Join(tc.args, " "), n+1, w, line)
				}
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	seeds, err := workloads.Seeds("writeback-restart")
	if err != nil || len(seeds) == 0 {
		t.Fatalf("workloads.Seeds(writeback-restart) = %v, %v; want a seed", seeds, err)
	}
	valid := seeds[0].Schedule // v1/writeback-restart/...
	unknownWorkload := strings.Replace(valid, "/writeback-restart/", "/nosuch/", 1)
	if unknownWorkload == valid {
		t.Fatalf("seed schedule %q does not name writeback-restart", valid)
	}

	validWorkloads := strings.Join(workloads.IDs(), ", ")
	const (
		validCommands = "valid: list, run, verify, hunt, replay"
		validFixes    = "valid: baseline, v5.8, fair-handoff, hold-ref, loop-wait, no-waiters-check, wait-to-set, folio"
	)
	wl := []string{"run", "-workload", "writeback-restart"}
	runWith := func(args ...string) []string { return append(append([]string(nil), wl...), args...) }
	tests := []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"no command", nil, []string{"no command", validCommands}},
		{"unknown command", []string{"frob"}, []string{`unknown command "frob"`, validCommands}},
		{"run without workload", []string{"run"}, []string{"-workload is required", "valid: " + validWorkloads + ", all"}},
		{"run focus without surw", []string{"run", "-workload", "isize-compress", "-focus", "i_size"}, []string{"-focus needs -strategy surw"}},
		{"run focus under pos", []string{"run", "-workload", "isize-compress", "-strategy", "pos", "-focus", "i_size"}, []string{"-focus needs -strategy surw"}},
		{"run unknown focus", []string{"run", "-workload", "isize-compress", "-strategy", "surw", "-focus", "i_size+nope"}, []string{`unknown focus "nope"`, "valid: bio, block,", "PG_writeback"}},
		{"run focus on nothing the workload touches", []string{"run", "-workload", "writeback-reuse", "-strategy", "surw", "-focus", "i_size", "-runs", "10"}, []string{`focus "i_size": no step of writeback-reuse touches such an object`, "valid for writeback-reuse: PG_active,", "PG_writeback,", "xa-slot)"}},
		{"run pct-point focus on nothing racy", []string{"run", "-workload", "writeback-restart", "-strategy", "pct-point", "-focus", "i_size", "-runs", "10"}, []string{`focus "i_size": no racy step of writeback-restart touches such an object, so pct-point would have no change points`, "valid for writeback-restart: "}},
		{"hunt pct-point focus and depth swapped", []string{"hunt", "-strategy", "pct-point:lock:30"}, []string{`strategy "pct-point:lock:30"`, `unknown focus "30"`}},
		{"run pct-irq without completions", []string{"run", "-workload", "thp-collapse-truncate", "-strategy", "pct-irq", "-runs", "10"}, []string{"pct-irq: no I/O completion of thp-collapse-truncate takes a racy step, so pct-irq would have no change points", "valid: writeback-restart, writeback-reuse, gup-dio-buffers"}},
		{"run greybox-irq without completions", []string{"run", "-workload", "thp-truncate-opens", "-strategy", "greybox-irq", "-runs", "10"}, []string{"greybox-irq: no I/O completion of thp-truncate-opens takes a racy step, so greybox-irq would have no change points", "valid: writeback-restart, writeback-reuse, gup-dio-buffers", "greybox draws them among every task"}},
		{"hunt greybox-irq bad depth", []string{"hunt", "-strategy", "greybox-irq:0"}, []string{`strategy "greybox-irq:0": depth "0" out of range (valid: 1 to 64)`}},
		{"hunt focus on nothing a target touches", []string{"hunt", "-target", "race-e,race-a", "-strategy", "surw:i_size", "-runs", "10", "-seeds", "1"}, []string{`target race-a: focus "i_size": no step of writeback-restart touches such an object`}},
		{"hunt unknown focus", []string{"hunt", "-strategy", "surw:nope"}, []string{`strategy "surw:nope": unknown focus "nope"`}},
		{"unknown workload", []string{"run", "-workload", "nosuch"}, []string{`unknown workload "nosuch"`, "valid: " + validWorkloads}},
		{"unknown workload in list", []string{"run", "-workload", "writeback-restart,nosuch"}, []string{`unknown workload "nosuch"`, "valid: " + validWorkloads}},
		{"unknown fix", runWith("-fix", "nosuch"), []string{`unknown fix "nosuch"`, validFixes}},
		{"unknown fix in composition", runWith("-fix", "loop-wait+nosuch"), []string{`unknown fix "nosuch"`, validFixes}},
		{"empty fix", runWith("-fix", ""), []string{"empty fix id", validFixes}},
		{"fixes replacing the same function", runWith("-fix", "v5.8+fair-handoff"), []string{"v5.8 and fair-handoff both replace", "cannot be composed"}},
		{"baseline composed", runWith("-fix", "baseline+hold-ref"), []string{"baseline cannot be composed"}},
		{"fix of another race", runWith("-fix", "hold-ref,invalidate-lock"), []string{"fix invalidate-lock does not apply to workload writeback-restart", "its fixes: baseline, v5.8, fair-handoff, hold-ref, loop-wait, no-waiters-check, wait-to-set, folio, folio-no-loop;"}},
		{"fix of another race in composition", runWith("-fix", "hold-ref+read-once"), []string{"fix read-once does not apply to workload writeback-restart"}},
		{"fix of no race run", []string{"run", "-workload", "writeback-restart,isize-compress", "-fix", "baseline,invalidate-lock"}, []string{"fix invalidate-lock applies to none of the workloads writeback-restart, isize-compress (their fixes: baseline, v5.8,", "read-once; compose"}},
		{"a workload without a fix", []string{"run", "-workload", "writeback-restart,isize-compress", "-fix", "hold-ref"}, []string{`no fix of "hold-ref" applies to workload isize-compress (its fixes: baseline, read-once;`}},
		{"bench fix of another race", []string{"bench", "-workload", "isize-compress", "-fix", "hold-ref"}, []string{"bench: fix hold-ref does not apply to workload isize-compress"}},
		{"fix twice", runWith("-fix", "hold-ref+hold-ref"), []string{`fix "hold-ref" appears twice`}},
		{"runs 0", runWith("-runs", "0"), []string{"-runs 0 out of range", "valid: 1 to"}},
		{"runs negative", runWith("-runs", "-3"), []string{"-runs -3 out of range", "valid: 1 to"}},
		{"runs not a number", runWith("-runs", "many"), []string{"-runs", "valid flags:"}},
		{"unknown strategy", runWith("-strategy", "foo"), []string{`unknown strategy "foo"`, "valid: random, pct"}},
		{"depth 0", runWith("-depth", "0"), []string{"-depth 0 out of range", "1 to 64"}},
		{"depth 65", runWith("-strategy", "pct", "-depth", "65"), []string{"-depth 65 out of range", "1 to 64"}},
		{"hunt unknown target", []string{"hunt", "-target", "race-z"}, []string{`unknown target "race-z"`, "valid: all, race-a,"}},
		{"hunt unknown strategy", []string{"hunt", "-strategy", "random,dfs"}, []string{`unknown strategy "dfs"`, "valid: random, pct, pct-racy, pct-task, pct-irq, pct-point, pos, surw, racefuzz, greybox, greybox-irq"}},
		{"hunt depth of pos", []string{"hunt", "-strategy", "pos:3"}, []string{`strategy "pos:3": pos takes no depth`}},
		{"hunt strategy depth 0", []string{"hunt", "-strategy", "pct:0"}, []string{`strategy "pct:0": depth "0" out of range`}},
		{"hunt strategy twice", []string{"hunt", "-strategy", "random,pos,random"}, []string{`strategy "random" given twice`}},
		{"hunt strategy twice by depth", []string{"hunt", "-strategy", "pct-task,pct-task:3"}, []string{`strategies "pct-task" and "pct-task:3" are the same at -depth 3`}},
		{"hunt target twice", []string{"hunt", "-target", "race-a,race-e,race-a"}, []string{`target "race-a" given twice`}},
		{"hunt sweep twice", []string{"hunt", "-strategy", "surw:all,pct-point:all,surw:all"}, []string{`strategy "surw:all" given twice`}},
		{"hunt sweep of greybox", []string{"hunt", "-strategy", "greybox:all"}, []string{`strategy "greybox:all": greybox takes no focus, so no sweep`}},
		{"hunt bad focus", []string{"hunt", "-strategy", "surw:al"}, []string{`strategy "surw:al": unknown focus "al"`, "or all: a row per focus"}},
		{"hunt runs 0", []string{"hunt", "-runs", "0"}, []string{"-runs 0 out of range"}},
		{"hunt reference runs negative", []string{"hunt", "-reference-runs", "-1"}, []string{"-reference-runs -1 out of range", "0: 10 × -runs"}},
		{"hunt seeds 0", []string{"hunt", "-seeds", "0"}, []string{"-seeds 0 out of range"}},
		{"hunt depth 65", []string{"hunt", "-depth", "65"}, []string{"-depth 65 out of range"}},
		{"hunt j 0", []string{"hunt", "-j", "0"}, []string{"-j 0 out of range"}},
		{"hunt campaign runs 0", []string{"hunt", "-campaign-runs", "0"}, []string{"-campaign-runs 0: want at least 1"}},
		{"hunt argument", []string{"hunt", "extra"}, []string{`unexpected argument "extra"`}},
		{"hunt empty target", []string{"hunt", "-target", ""}, []string{"hunt: -target is empty"}},
		{"hunt fix of no target's workload", []string{"hunt", "-target", "race-a,race-e", "-fix", "v5.8"}, []string{`hunt: no fix of "v5.8" applies to workload isize-compress`}},
		{"hunt param without a workload", []string{"hunt", "-target", "race-a", "-param", "rounds=2"}, []string{"hunt: -param needs -workload"}},
		{"hunt failure without a workload", []string{"hunt", "-target", "race-a", "-failure", "fsync-early"}, []string{"hunt: -failure needs -workload"}},
		{"hunt target and workload", []string{"hunt", "-target", "race-a", "-workload", "writeback-restart", "-failure", "bug-writeback"}, []string{"hunt: -target and -workload are alternatives"}},
		{"hunt workload without a failure", []string{"hunt", "-workload", "writeback-restart"}, []string{"hunt: -workload needs -failure", "valid: bug-writeback, bug-end-writeback,"}},
		{"hunt unknown failure", []string{"hunt", "-workload", "writeback-restart", "-failure", "bug-writeback,oops"}, []string{`hunt: unknown failure id "oops"`, "valid: bug-writeback,"}},
		{"hunt failure twice", []string{"hunt", "-workload", "writeback-restart", "-failure", "hang,hang"}, []string{"hunt: failure hang given twice"}},
		{"hunt unknown workload", []string{"hunt", "-workload", "nope", "-failure", "hang"}, []string{`unknown workload "nope"`}},
		{"hunt latency workload", []string{"hunt", "-workload", "lock-storm", "-failure", "hang"}, []string{"hunt: workload lock-storm is a latency workload", "valid: writeback-restart,"}},
		{"hunt fix of another race", []string{"hunt", "-workload", "writeback-restart", "-fix", "read-once", "-failure", "hang"}, []string{"hunt: fix read-once does not apply to workload writeback-restart"}},
		{"hunt bad parameter", []string{"hunt", "-workload", "writeback-restart", "-param", "rounds=0", "-failure", "hang"}, []string{"hunt: parameter rounds=\"0\" out of range"}},
		{"hunt seed wraps", []string{"hunt", "-seed", "18446744073709551615", "-seeds", "2"}, []string{"-seed 18446744073709551615 out of range", "valid: 0 to 18446744073709551603 with -seeds 2"}},
		{"bench destination under a file", []string{"bench", "-o", "/dev/null/x", "-workload", "writeback-restart"}, []string{"bench: -o /dev/null/x: a file stands where a directory of the path should be"}},
		{"diagram unknown failure", []string{"diagram", "-workload", "writeback-restart", "-script", "race-a", "-failure", "bogus"}, []string{`unknown failure id "bogus"`, "valid: the ids the schedule fires under baseline: bug-writeback"}},
		{"hunt markdown in a missing directory", []string{"hunt", "-markdown", "/nonexistent/h.md"}, []string{"hunt: -markdown /nonexistent/h.md: directory /nonexistent does not exist"}},
		{"hunt markdown a directory", []string{"hunt", "-markdown", "/"}, []string{"hunt: -markdown /: not a regular file"}},
		{"hunt markdown under a file", []string{"hunt", "-markdown", "/dev/null/h.md"}, []string{"hunt: -markdown /dev/null/h.md: /dev/null is not a directory"}},
		{"hunt bench a directory", []string{"hunt", "-bench", "/"}, []string{"hunt: -bench /: not a regular file"}},
		{"hunt markdown and bench one file", []string{"hunt", "-markdown", "/tmp/h.txt", "-bench", "/tmp/./h.txt"}, []string{"hunt: -markdown and -bench are the same file"}},
		{"hunt markdown name too long", []string{"hunt", "-markdown", strings.Repeat("h", 300) + ".md"}, []string{"name too long for the file system"}},
		{"sweep plot in a missing directory", []string{"sweep", "-plot", "/nonexistent/s.svg"}, []string{"sweep: -plot /nonexistent/s.svg: directory /nonexistent does not exist"}},
		{"sweep markdown a directory", []string{"sweep", "-markdown", "/"}, []string{"sweep: -markdown /: not a regular file"}},
		{"sweep markdown and plot one file", []string{"sweep", "-markdown", "/tmp/s.svg", "-plot", "/tmp/./s.svg"}, []string{"sweep: -markdown and -plot are the same file"}},
		{"preempt 0", runWith("-preempt", "0"), []string{"-preempt 0 out of range"}},
		{"preempt 1.5", runWith("-preempt", "1.5"), []string{"-preempt 1.5 out of range"}},
		{"preempt NaN", runWith("-preempt", "NaN"), []string{"-preempt NaN out of range"}},
		{"max-steps 0", runWith("-max-steps", "0"), []string{"-max-steps 0"}},
		{"unknown handoff", runWith("-handoff", "pigeon"), []string{`unknown -handoff "pigeon"`, "valid: coroutine, channel"}},
		{"unknown param", runWith("-param", "nosuch=1"), []string{`unknown parameter "nosuch"`, "valid: rounds, fsyncs, waiters, readers"}},
		{"param out of range", runWith("-param", "rounds=0"), []string{"rounds=", "out of range"}},
		{"param not a number", runWith("-param", "rounds=two"), []string{"rounds=", "out of range"}},
		{"param without value", runWith("-param", "rounds"), []string{`"rounds" is not name=value`, "rounds, fsyncs"}},
		{"undefined flag", runWith("-bogus"), []string{"-bogus", "valid flags:", "-workload", "-fix", "-runs"}},
		{"extra argument", runWith("extra"), []string{`unexpected argument "extra"`}},
		{"list argument", []string{"list", "extra"}, []string{`unexpected argument "extra"`}},
		{"workload twice", []string{"run", "-workload", "writeback-restart,writeback-restart"}, []string{"workload writeback-restart given twice"}},
		{"fix twice", runWith("-fix", "loop-wait+hold-ref,hold-ref+loop-wait"), []string{"fix hold-ref+loop-wait given twice"}},
		{"replay without schedule or script", []string{"replay"}, []string{"exactly one of -schedule or -script"}},
		{"replay with schedule and script", []string{"replay", "-schedule", valid, "-workload", "writeback-restart", "-script", "race-a"}, []string{"exactly one of -schedule or -script"}},
		{"replay garbage schedule", []string{"replay", "-schedule", "garbage"}, []string{"malformed schedule"}},
		{"replay bad segment", []string{"replay", "-schedule", "v1/writeback-restart/baseline/seed=1/cpu2@"}, []string{"malformed schedule", `"cpu2@"`}},
		{"replay bad version", []string{"replay", "-schedule", strings.Replace(valid, "v1/", "v9/", 1)}, []string{"malformed schedule", `"v9"`}},
		{"replay unknown workload in schedule", []string{"replay", "-schedule", unknownWorkload}, []string{`unknown workload "nosuch"`, "valid: " + validWorkloads}},
		{"replay workload mismatch", []string{"replay", "-schedule", valid, "-workload", "writeback-reuse"}, []string{"for workload writeback-restart, not writeback-reuse"}},
		{"replay bad seed", []string{"replay", "-schedule", "v1/writeback-restart/baseline/seed=x/"}, []string{`seed "x"`}},
		{"replay unknown fix", []string{"replay", "-schedule", valid, "-fix", "nosuch"}, []string{`unknown fix "nosuch"`, validFixes}},
		{"replay fix of another race", []string{"replay", "-schedule", valid, "-fix", "bounce-pinned"}, []string{"fix bounce-pinned does not apply to workload writeback-restart"}},
		{"replay script without workload", []string{"replay", "-script", "race-a"}, []string{"-script needs -workload", "valid: " + validWorkloads}},
		{"replay script of unknown workload", []string{"replay", "-workload", "nosuch", "-script", "race-a"}, []string{`unknown workload "nosuch"`, "valid: " + validWorkloads}},
		{"replay unknown script", []string{"replay", "-workload", "writeback-restart", "-script", "nosuch"}, []string{`unknown script "nosuch"`, "valid: race-a"}},
		{"replay unknown then", []string{"replay", "-workload", "writeback-restart", "-script", "race-a", "-then", "foo"}, []string{`unknown -then "foo"`, "valid: sequential, random, pct, stop"}},
		{"replay undefined flag", []string{"replay", "-runs", "3"}, []string{"-runs", "valid flags:", "-schedule", "-script"}},
		{"verify without workload", []string{"verify"}, []string{"-workload is required", "writeback-restart", "isize-compress, all"}},
		{"verify unknown workload", []string{"verify", "-workload", "nosuch"}, []string{`unknown workload "nosuch"`, "valid: " + validWorkloads}},
		{"verify latency workload", []string{"verify", "-workload", "lock-storm"}, []string{"lock-storm is a latency workload", "valid: writeback-restart"}},
		{"verify workload twice", []string{"verify", "-workload", "isize-compress,isize-compress"}, []string{"workload isize-compress given twice"}},
		{"verify unknown fix", []string{"verify", "-workload", "writeback-restart", "-fix", "nosuch"}, []string{`unknown fix "nosuch"`, validFixes}},
		{"verify fix of another race", []string{"verify", "-workload", "isize-compress", "-fix", "invalidate-lock"}, []string{"fix invalidate-lock does not apply to workload isize-compress (its fixes: baseline, read-once; compose them with '+')"}},
		{"verify fix twice", []string{"verify", "-workload", "writeback-restart", "-fix", "loop-wait+hold-ref,hold-ref+loop-wait"}, []string{"fix hold-ref+loop-wait given twice"}},
		{"verify bad param", []string{"verify", "-workload", "writeback-restart", "-param", "rounds=0"}, []string{"rounds=", "out of range"}},
		{"verify max-states 0", []string{"verify", "-workload", "writeback-restart", "-max-states", "0"}, []string{"-max-states 0", "at least 1"}},
		{"verify max-depth 0", []string{"verify", "-workload", "writeback-restart", "-max-depth", "0"}, []string{"-max-depth 0", "at least 1"}},
		{"verify j 0", []string{"verify", "-workload", "writeback-restart", "-j", "0"}, []string{"-j 0 out of range", "1 to 256"}},
		{"verify unknown reduction", []string{"verify", "-workload", "writeback-restart", "-reduction", "magic"}, []string{`unknown -reduction "magic"`, "source-sets, sleep-sets, full"}},
		{"verify preemptions too many", []string{"verify", "-workload", "writeback-restart", "-preemptions", "101"}, []string{"-preemptions 101 out of range", "0 to 100"}},
		{"verify preemptions negative", []string{"verify", "-workload", "writeback-restart", "-preemptions", "-2"}, []string{"-preemptions -2 out of range", "0 to 100"}},
		{"verify preemptions with a reduction", []string{"verify", "-workload", "writeback-restart", "-preemptions", "2", "-reduction", "source-sets"}, []string{"-preemptions needs -reduction full"}},
		{"bench workload twice", []string{"bench", "-o", "/nonexistent/x", "-workload", "writeback-restart,writeback-restart"}, []string{"bench: workload writeback-restart given twice"}},
		{"bench fix twice", []string{"bench", "-o", "/nonexistent/x", "-workload", "writeback-restart", "-fix", "baseline,baseline"}, []string{"bench: fix baseline given twice"}},
		{"bench composition twice", []string{"bench", "-o", "/nonexistent/x", "-workload", "writeback-restart", "-fix", "loop-wait+hold-ref,hold-ref+loop-wait"}, []string{"bench: fix hold-ref+loop-wait given twice (as loop-wait+hold-ref and hold-ref+loop-wait)"}},
		{"bench cpus 0", []string{"bench", "-o", "/nonexistent/x", "-cpus", "0"}, []string{"bench: bad -cpus \"0\""}},
		{"undefined flag has a colon", runWith("-bogus"), []string{"run: flag provided but not defined: -bogus"}},
		{"compare undefined flag", []string{"compare", "-x", "a", "b"}, []string{"compare: flag provided but not defined: -x (valid flags: -html)"}},
		{"diagram script of a workload without scripts", []string{"diagram", "-workload", "lock-storm", "-script", "x"}, []string{`unknown script "x": lock-storm has no scripts`, "workloads with scripts: writeback-restart"}},
		{"param twice", runWith("-param", "rounds=2,rounds=3"), []string{"parameter rounds given twice"}},
		{"cost twice", []string{"run", "-workload", "lock-storm", "-cost", "step=5,step=6"}, []string{"-cost step given twice"}},
		{"cost no cell uses", []string{"run", "-workload", "writeback-restart", "-cost", "step=5"}, []string{"run: -cost needs -strategy timed (writeback-restart runs pct-irq)"}},
		{"cpus no cell uses", []string{"run", "-workload", "writeback-restart,isize-compress", "-cpus", "8"}, []string{"run: -cpus needs -strategy timed or native (writeback-restart runs pct-irq, isize-compress runs surw)"}},
		{"cost too large", []string{"run", "-workload", "lock-storm", "-cost", "ctxsw=9000000000000000"}, []string{`bad -cost "ctxsw=9000000000000000"`, "0 to 1000000000"}},
		{"inject twice", []string{"run", "-workload", "lock-storm", "-strategy", "native", "-inject", "lock_page=5,lock_page=6"}, []string{"-inject lock_page given twice"}},
		{"runs too many", runWith("-runs", "2000000000000"), []string{"-runs 2000000000000 out of range"}},
		{"max-steps too many", runWith("-max-steps", "2000000000"), []string{"-max-steps 2000000000 out of range"}},
		{"bench runs too many", []string{"bench", "-o", "/nonexistent/x", "-runs", "2000000000000"}, []string{"bench: -runs 2000000000000, -count 6 out of range"}},
		{"max-memory garbage", runWith("-max-memory", "lots"), []string{`run: -max-memory "lots"`, "64MiB to 1024TiB"}},
		{"max-memory too small", runWith("-max-memory", "1MiB"), []string{`-max-memory "1MiB"`}},
		{"replay unknown task", []string{"replay", "-schedule", "v1/writeback-restart/baseline/seed=1/cpu9@writeback.."}, []string{`names task "cpu9"`, "valid: cpu2, cpu3, io1"}},
		{"replay unknown label", []string{"replay", "-schedule", "v1/writeback-restart/baseline/seed=1/cpu2@writebak.."}, []string{`names label "writebak"`, "valid: ", "lock_page"}},
		{"inject label not reached", []string{"run", "-workload", "lock-storm", "-strategy", "native", "-inject", "lock_pag=5"}, []string{"-inject lock_pag: not a scheduling point", "valid: fault, filemap_map_pages, page_cache_get_speculative"}},
		{"verify undefined flag", []string{"verify", "-workload", "writeback-restart", "-runs", "3"}, []string{"-runs", "valid flags:", "-max-states"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := runCLI(tc.args...)
			cmd := "pagelab " + strings.Join(tc.args, " ")
			if err == nil {
				t.Fatalf("%s: no error; want a usage error containing %q", cmd, tc.want)
			}
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("%s: error %q is a %T, not a usageError (exit status 1, not 2)", cmd, err, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("%s: error is not one line:\n%s", cmd, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: error %q does not contain %q", cmd, msg, w)
				}
			}
			if stdout != "" {
				t.Errorf("%s: wrote to stdout on bad input:\n%s", cmd, stdout)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, args := range [][]string{
		{"run", "-workload", "writeback-restart,writeback-reuse", "-fix", "all", "-runs", "300", "-seed", "5", "-json"},
		{"run", "-workload", "writeback-restart,writeback-reuse", "-fix", "baseline,hold-ref", "-strategy", "pct", "-runs", "300", "-seed", "5", "-json"},
		{"run", "-workload", "lock-storm,fsync-storm", "-fix", "baseline", "-cpus", "2,8", "-runs", "2", "-seed", "5", "-json"},
		{"run", "-workload", "writeback-reuse", "-fix", "all", "-runs", "300", "-seed", "5", "-handoff", "channel", "-json"},
	} {
		first, _, err := runCLI(args...)
		if err != nil {
			t.Fatalf("pagelab %s: %v", strings.Join(args, " "), err)
		}
		second, _, err := runCLI(args...)
		if err != nil {
			t.Fatalf("pagelab %s: %v", strings.Join(args, " "), err)
		}
		if first != second {
			t.Errorf("pagelab %s: two runs differ (- first, + second):\n%s", strings.Join(args, " "), lineDiff(first, second))
		}
	}
}

// TestFirstFailureReplays checks that every first_failure schedule printed
// by run reproduces its failure under replay.
func TestFirstFailureReplays(t *testing.T) {
	args := []string{"run", "-workload", "writeback-restart", "-fix", "baseline", "-runs", "20000", "-seed", "1", "-json"}
	stdout, _, err := runCLI(args...)
	if err != nil {
		t.Fatalf("pagelab %s: %v", strings.Join(args, " "), err)
	}
	found := 0
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var cell struct {
			Fix          string            `json:"fix"`
			Failures     map[string]int    `json:"failures"`
			FirstFailure map[string]string `json:"first_failure"`
		}
		if err := json.Unmarshal([]byte(line), &cell); err != nil {
			t.Fatalf("bad JSON line %q: %v", line, err)
		}
		if len(cell.FirstFailure) != len(cell.Failures) {
			t.Errorf("fix %s: failures %v but first_failure %v", cell.Fix, cell.Failures, cell.FirstFailure)
		}
		for id, sched := range cell.FirstFailure {
			found++
			if !strings.HasPrefix(sched, "v1/writeback-restart/"+cell.Fix+"/") {
				t.Errorf("fix %s: first_failure[%s] = %q: not a schedule of this cell", cell.Fix, id, sched)
			}
			out, _, err := runCLI("replay", "-schedule", sched)
			if err != nil {
				t.Errorf("pagelab replay -schedule %s: %v", sched, err)
				continue
			}
			if !reportsFailure(out, id) {
				t.Errorf("pagelab replay -schedule %s: no %s reported:\n%s", sched, id, out)
			}
		}
	}
	if found == 0 {
		t.Fatalf("pagelab %s found no failure; want bug-writeback:\n%s", strings.Join(args, " "), stdout)
	}
	if !strings.Contains(stdout, `"bug-writeback":`) {
		t.Errorf("pagelab %s: no bug-writeback:\n%s", strings.Join(args, " "), stdout)
	}
}

// reportsFailure reports whether replay output out has a failure report
// for id: a line "<id>:" or "<id> in <task> at <label>:".
func reportsFailure(out, id string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, id+":") || strings.HasPrefix(line, id+" in ") {
			return true
		}
	}
	return false
}

// TestExitStatus runs main in a subprocess (the test binary, see TestMain).
func TestExitStatus(t *testing.T) {
	tests := []struct {
		args       []string
		status     int
		wantStdout bool
		stderr     string
	}{
		{[]string{"list"}, 0, true, ""},
		{[]string{"run", "-workload", "writeback-restart", "-runs", "10"}, 0, true, ""},
		{[]string{"run", "-workload", "nosuch"}, 2, false, `pagelab: run: unknown workload "nosuch"`},
		{nil, 2, false, "pagelab: no command"},
		{[]string{"replay", "-schedule", "garbage"}, 2, false, "pagelab: replay: malformed schedule"},
	}
	for _, tc := range tests {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), mainEnv+"=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		status := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			status = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("pagelab %s: %v", strings.Join(tc.args, " "), err)
		}
		name := "pagelab " + strings.Join(tc.args, " ")
		if status != tc.status {
			t.Errorf("%s: exit status %d, want %d (stderr %q)", name, status, tc.status, stderr.String())
		}
		if got := stdout.Len() > 0; got != tc.wantStdout {
			t.Errorf("%s: stdout %q, want empty: %v", name, stdout.String(), !tc.wantStdout)
		}
		if tc.stderr == "" && stderr.Len() > 0 {
			t.Errorf("%s: unexpected stderr %q", name, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%s: stderr %q does not contain %q", name, stderr.String(), tc.stderr)
		}
		if tc.status != 0 && strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%s: stderr is not one line: %q", name, stderr.String())
		}
	}
}

// TestHelp: -h is not an error: the command's flags go to stdout, in 80
// columns (a long default list broken after its commas).
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "replay", "list", "verify", "hunt", "bench", "merge", "submit",
		"compare", "plot", "report", "sweep", "diagram"} {
		var stdout, stderr bytes.Buffer
		if err := run([]string{cmd, "-h"}, &stdout, &stderr); err != nil {
			t.Errorf("pagelab %s -h: %v", cmd, err)
		}
		if !strings.HasPrefix(stdout.String(), "usage: pagelab "+cmd) {
			t.Errorf("pagelab %s -h printed %q", cmd, stdout.String())
		}
		for i, line := range strings.Split(stdout.String(), "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("pagelab %s -h: line %d is %d columns", cmd, i+1, n)
			}
		}
	}
}

// TestListColumns: in pagelab list every description starts in column 24,
// whatever the width of its id (a long id gets a line of its own).
func TestListColumns(t *testing.T) {
	stdout, _, err := runCLI("list")
	if err != nil {
		t.Fatal(err)
	}
	for n, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(line, "  ") || line[2] == ' ' {
			continue
		}
		id, rest, ok := strings.Cut(line[2:], " ")
		if !ok {
			continue // an id alone: its description is on the next line
		}
		if len(id) > 20 || len(line) < 24 || line[22] != ' ' || line[23] == ' ' || strings.TrimSpace(rest) == "" {
			t.Errorf("line %d: description not in column 24: %q", n+1, line)
		}
	}
}

// TestEightyColumns: text output keeps to the 80 columns of a plain-text
// mail (SPEC §1) where its rows are widest: compositions of fixes as long
// as hold-ref+loop-wait+walk-break-128 in a latency table and a search
// table, a search that stops short, an unknown verdict's explanation.
// Schedule strings, one word that a mail client must not break, are
// exempt.
func TestEightyColumns(t *testing.T) {
	for _, args := range [][]string{
		{"run", "-workload", "writeback-chase", "-fix", "all", "-cpus", "4", "-runs", "1"},
		{"run", "-workload", "writeback-restart", "-strategy", "dpor", "-runs", "50"},
		{"run", "-workload", "writeback-restart", "-strategy", "dfs", "-runs", "50"},
		{"verify", "-workload", "thp-collapse-truncate", "-fix", "all", "-max-states", "2000"},
	} {
		stdout, stderr, err := runCLI(args...)
		if err != nil {
			t.Fatalf("pagelab %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		for i, line := range strings.Split(stdout, "\n") {
			if n := utf8.RuneCountInString(line); n > 80 && !strings.Contains(line, "v1/") {
				t.Errorf("pagelab %s: line %d is %d columns: %q", strings.Join(args, " "), i+1, n, line)
			}
		}
	}
}

// TestFixesPerWorkload: with several workloads, a listed fix runs on those
// it applies to, and the others say on stderr that they skip it.
func TestFixesPerWorkload(t *testing.T) {
	for _, cmd := range [][]string{
		{"run", "-workload", "writeback-restart,gup-dio-wrprotect", "-fix", "fs-tolerant,baseline", "-runs", "10", "-json"},
		{"verify", "-workload", "writeback-restart,gup-dio-wrprotect", "-fix", "fs-tolerant,baseline", "-max-states", "10", "-json"},
	} {
		stdout, stderr, err := runCLI(cmd...)
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		var cells []string
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var c struct{ Workload, Fix string }
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("%v: %v in %q", cmd, err, line)
			}
			cells = append(cells, c.Workload+"/"+c.Fix)
		}
		want := []string{"writeback-restart/baseline", "gup-dio-wrprotect/fs-tolerant", "gup-dio-wrprotect/baseline"}
		if !slices.Equal(cells, want) {
			t.Errorf("%v: cells %v, want %v", cmd, cells, want)
		}
		note := "pagelab: " + cmd[0] + ": skipping fs-tolerant on workload writeback-restart: not among its fixes\n"
		if stderr != note {
			t.Errorf("%v: stderr %q, want %q", cmd, stderr, note)
		}
	}
}

// TestGreyboxDepth: greybox takes a depth only when -depth is given (its
// genomes' bound), and the header and the record say so; without it the
// campaign keeps its default bounds and shows no depth.
func TestGreyboxDepth(t *testing.T) {
	for _, c := range []struct {
		args   []string
		header string
		depth  int
	}{
		{[]string{"-depth", "2"}, "gup-dio-buffers  strategy=greybox depth=2 seed=1\n", 2},
		{nil, "gup-dio-buffers  strategy=greybox seed=1\n", 0},
	} {
		base := []string{"run", "-workload", "gup-dio-buffers", "-fix", "baseline", "-strategy", "greybox", "-runs", "50"}
		out, _, err := runCLI(append(base, c.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, c.header) {
			t.Errorf("%v: header %q, want %q", c.args, firstLine(out), c.header)
		}
		out, _, err = runCLI(append(append(base, "-json"), c.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct{ Depth int }
		if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Depth != c.depth {
			t.Errorf("%v: record depth %d (%v), want %d", c.args, rec.Depth, err, c.depth)
		}
	}
	if _, _, err := runCLI("hunt", "-strategy", "greybox:2,random,greybox:2"); err == nil || !strings.Contains(err.Error(), `strategy "greybox:2" given twice`) {
		t.Errorf("hunt greybox:2 twice: %v", err)
	}
}
