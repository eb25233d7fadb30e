package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pagelab/pagelab/workloads"
)

// TestHunt: a small hunt prints, per target, its rates and its first
// failures in 80 columns, marks a best strategy, and writes the same rows
// and what they found as Markdown with -markdown,
// and with -bench in the benchmark format: per row its rate and each seed's first failure.
func TestHunt(t *testing.T) {
	md := filepath.Join(t.TempDir(), "hunt.md")
	bf := filepath.Join(t.TempDir(), "hunt.txt")
	var stdout, stderr bytes.Buffer
	err := run([]string{"hunt", "-target", "race-e,race-d-tail", "-strategy", "random,pct-task:6,surw",
		"-runs", "600", "-seeds", "3", "-j", "2", "-markdown", md, "-bench", bf}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("hunt: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"race-e bug-not-locked", "race-d-tail vm-bug-tail", "pct-task d=6", "surw", "600 executions per rate, 6000 for the random walk", "/6000 ",
		"\nfound: each target's first failing execution under its * strategy", "\n  v1/isize-compress/baseline/seed=1/"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// Each target's best strategy is marked in its rates and again in its
	// first failures; every line but a schedule to paste fits in 80
	// columns.
	best := 0
	for i, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, " * ") {
			best++
		}
		if n := utf8.RuneCountInString(l); n > 80 && !strings.HasPrefix(l, "  v1/") {
			t.Errorf("line %d is %d columns: %q", i+1, n, l)
		}
	}
	if n := best; n != 4 {
		t.Errorf("%d lines marked best, want two per target:\n%s", n, out)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(b), "\n| race-"); rows != 6 {
		t.Errorf("Markdown has %d rows, want 6:\n%s", rows, b)
	}
	// The Markdown carries what the text found, schedule for schedule,
	// each in a code block, to paste.
	scheds := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "  v1/") {
			scheds++
			if !strings.Contains(string(b), "\n```\n") || !strings.Contains(string(b), "\n"+l+"\n") {
				t.Errorf("Markdown lacks the schedule %q in a code block:\n%s", l, b)
			}
		}
	}
	if scheds != 2 {
		t.Errorf("%d schedules found, want one per target:\n%s", scheds, out)
	}
	b, err = os.ReadFile(bf)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\npagelab-revision: ", "\npagelab-seed: 1\n",
		"\nBenchmarkHunt/target=race-e/fix=baseline/failure=bug-not-locked/strategy=pct-task/depth=6 600 ",
		"\nBenchmarkHunt/target=race-e/fix=baseline/failure=bug-not-locked/strategy=surw 1 "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("-bench file lacks %q:\n%s", want, b)
		}
	}
	// Per row its rate, and unless its first failure was estimated from
	// the rate (the surw row of race-d-tail: 0 of 600), its 3 seeds.
	results := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		if name, _, ok := strings.Cut(l, " "); ok && strings.HasPrefix(name, "BenchmarkHunt/") {
			results[name]++
		}
	}
	if len(results) != 6 {
		t.Errorf("-bench file has %d rows, want 6:\n%s", len(results), b)
	}
	for name, n := range results {
		if n != 1+3 && (n != 1 || strings.Contains(name, "race-e")) {
			t.Errorf("%s: %d results, want the rate and 3 seeds (race-d-tail: or the rate alone)", name, n)
		}
	}
}

// TestHuntCustom: -workload hunts a failure id in one workload under
// every fix of -fix, with -param's parameters, one target each, named by
// workload, fix, the parameters that differ from the defaults and the
// failure.
func TestHuntCustom(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"hunt", "-workload", "writeback-restart", "-fix", "all", "-param", "rounds=2,fsyncs=3,waiters=2", "-failure", "fsync-early,bug-writeback",
		"-strategy", "random", "-runs", "300", "-reference-runs", "300", "-seeds", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("hunt: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	wl, err := workloads.Lookup("writeback-restart")
	if err != nil {
		t.Fatal(err)
	}
	// A name too long for 80 columns wraps before its failure id
	// (hold-ref+no-waiters-check's); the verify commands do not wrap.
	for _, fix := range wl.Fixes {
		for _, f := range []string{"fsync-early", "bug-writeback"} {
			name := "\nwriteback-restart/" + fix + " rounds=2,fsyncs=3,waiters=2"
			if !strings.Contains(out, name+" "+f+"\n") && !strings.Contains(out, name+"\n  "+f+"\n") {
				t.Errorf("no target %q in:\n%s", strings.TrimSpace(name)+" "+f, out)
			}
		}
	}
	for i, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > 80 && !strings.HasPrefix(l, "  pagelab verify ") && !strings.HasPrefix(l, "  v1/") {
			t.Errorf("line %d is %d columns: %q", i+1, n, l)
		}
	}
	if n := strings.Count(out, "\n  random "); n != 2*2*len(wl.Fixes) {
		t.Errorf("%d random rows, want one rate and one first failure for each of %d targets:\n%s", n, 2*len(wl.Fixes), out)
	}
}

// TestHuntSeedUnderFix: -fix with -target hunts each seed's race under
// each fix; the seed's own fix keeps the seed's name, and a fix under
// which nothing fired is listed with the verify command for its cell.
func TestHuntSeedUnderFix(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run([]string{"hunt", "-target", "race-a", "-fix", "baseline,v5.8", "-strategy", "random,pct-task:6",
		"-runs", "3000", "-reference-runs", "3000", "-seeds", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("hunt: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"\nrace-a bug-writeback", "\nrace-a/v5.8 bug-writeback",
		"\n  pagelab verify -workload writeback-restart -fix v5.8\n    (bug-writeback)\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "-fix baseline\n") {
		t.Errorf("the baseline, which fired race A, is listed as never fired:\n%s", out)
	}
}

// TestHuntInterrupted: SIGINT during a hunt prints the rows finished so
// far, says so (on stderr and under the table, with the rows planned),
// and exits with 128+SIGINT.
func TestHuntInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	// No fixed delay holds both on an idle machine and inside go test ./...
	// with other packages' tests on the same cores: the test measures how
	// long race-e's row takes right now, alone, then runs it first of four
	// rows, each race B row costing about as much (longer executions, but
	// no first-failure seeds: the walk never fires them), and signals at
	// twice that: race-e's row is done, race-b-page's under way,
	// race-b-truncate's (the fourth, done about four rows in) not
	// finished, as long as the load
	// does not change twofold within seconds. Twice is the geometric middle
	// of that window: at one and a half times, go test ./... with the bench
	// package's tests starting beside it once caught race-e's row unfinished.
	rows := []string{"-strategy", "random", "-runs", "100000", "-reference-runs", "100000", "-seeds", "20", "-j", "1"}
	began := time.Now()
	cal, _, calErr := startMain(t, t.TempDir(), append([]string{"hunt", "-target", "race-e"}, rows...)...)
	if status, _ := exitOf(t, cal.Wait()); status != 0 {
		t.Fatalf("race-e alone: exit %d\n%s", status, calErr)
	}
	row := time.Since(began)
	cmd, stdout, stderr := startMain(t, t.TempDir(), append([]string{"hunt", "-target", "race-e,race-b-page,race-b-thp,race-b-truncate"}, rows...)...)
	deadline := time.Now().Add(70*time.Second + 10*row)
	time.Sleep(2 * row)
	cmd.Process.Signal(syscall.SIGINT)
	status, killed := exitOf(t, cmd.Wait())
	if time.Now().After(deadline) {
		t.Fatal("the hunt did not stop within a minute of SIGINT")
	}
	if killed || status != 128+int(syscall.SIGINT) {
		t.Fatalf("exit %d (killed %v), want %d\n%s", status, killed, 128+int(syscall.SIGINT), stderr)
	}
	if !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), " of 4 planned rows it finished") {
		t.Errorf("stderr does not say what was kept: %s", stderr)
	}
	// So does the table, which may be read without the terminal.
	if out := strings.Join(strings.Fields(stdout.String()), " "); !strings.Contains(out, "interrupted: the hunt was stopped; the table holds the ") ||
		!strings.Contains(out, " of 4 planned rows it finished") {
		t.Errorf("the table does not say it was interrupted:\n%s", stdout)
	}
	if !strings.Contains(stdout.String(), "race-e bug-not-locked") {
		t.Errorf("the finished rows were not printed:\n%s", stdout)
	}
	if strings.Contains(stdout.String(), "race-b-truncate data-corruption") {
		t.Errorf("an unfinished row was printed:\n%s", stdout)
	}
}

// TestFocus: surw with a focus says so in run's table and JSON record and
// in hunt's row, and the focus on i_size fires race E in more executions
// than the walk that draws its objects (same seed).
func TestFocus(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"run", "-workload", "isize-compress", "-strategy", "surw", "-runs", "2000", "-json"}
	if err := run(append(args, "-focus", "i_size"), &stdout, &stderr); err != nil {
		t.Fatalf("run -focus: %v\n%s", err, stderr.String())
	}
	focused := stdout.String()
	if !strings.Contains(focused, `"strategy":"surw","focus":"i_size"`) {
		t.Errorf("record lacks the focus:\n%.300s", focused)
	}
	stdout.Reset()
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	failing := func(rec string) int {
		_, after, _ := strings.Cut(rec, `"failing":`)
		n, _ := strconv.Atoi(after[:strings.IndexByte(after, ',')])
		return n
	}
	if f, d := failing(focused), failing(stdout.String()); f <= 2*d {
		t.Errorf("focused on i_size: %d of 2000 fire race E, drawn objects %d: want well over twice as many", f, d)
	}
	stdout.Reset()
	if err := run([]string{"run", "-workload", "isize-compress", "-strategy", "surw", "-focus", "i_size", "-runs", "100"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "strategy=surw focus=i_size seed=1") {
		t.Errorf("run's table does not name the focus:\n%s", stdout.String())
	}
	stdout.Reset()
	if err := run([]string{"hunt", "-target", "race-e", "-strategy", "random,surw:i_size", "-runs", "300", "-seeds", "2"}, &stdout, &stderr); err != nil {
		t.Fatalf("hunt: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "surw focus=i_size") {
		t.Errorf("hunt's row does not name the focus:\n%s", stdout.String())
	}
}

// TestFocusPoints: run with pct-point and a focus says where the focus put
// its change points, per fix, fixes with the same points together: on
// writeback-restart, bio is touched at the completion's wake-up under the
// baseline and wait-to-set, and at its put_page under hold-ref (where the
// focus never fires race A), and not in the JSON records.
func TestFocusPoints(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"run", "-workload", "writeback-restart", "-fix", "baseline,hold-ref,wait-to-set", "-strategy", "pct-point", "-depth", "14", "-focus", "bio", "-runs", "200"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := strings.Join(strings.Fields(stdout.String()), " ")
	want := "pct-point focus=bio: its change points are first arrivals at the racy points whose steps touched the focus in the profile: " +
		"under baseline, wait-to-set, 3 racy points (dma, wake_up_page, wake_up_page_bit); under hold-ref, 2 racy points (dma, put_page)."
	if !strings.Contains(out, want) {
		t.Errorf("run's output lacks %q:\n%s", want, stdout.String())
	}
	stdout.Reset()
	if err := run(append(args, "-json"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "wake_up_page_bit") {
		t.Errorf("the JSON records carry the focus's points:\n%.300s", stdout.String())
	}
	stdout.Reset()
	if err := run([]string{"run", "-workload", "writeback-restart", "-strategy", "surw", "-focus", "bio", "-runs", "50"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "its change points are") {
		t.Errorf("surw's run says where change points fall:\n%s", stdout.String())
	}
}
