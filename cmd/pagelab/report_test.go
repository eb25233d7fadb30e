package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/report"
)

// reportBench runs a small bench: a race workload and a latency one.
func reportBench(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"bench", "-o", dir, "-workload", "writeback-restart,lock-storm", "-fix", "baseline,v5.8",
		"-runs", "1000", "-count", "2", "-cpus", "4", "-seed", "1", "-verify-states", "1000"}
	if _, stderr, err := runCLI(args...); err != nil {
		t.Fatalf("pagelab %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return dir
}

// TestBenchWritesReport: pagelab bench writes report.html and lists it in
// the manifest; pagelab report rewrites the same bytes.
func TestBenchWritesReport(t *testing.T) {
	dir := reportBench(t)
	page := filepath.Join(dir, report.File)
	want, err := os.ReadFile(page)
	if err != nil {
		t.Fatalf("pagelab bench wrote no report: %v", err)
	}
	for _, w := range []string{"writeback-restart", "lock-storm"} {
		if !bytes.Contains(want, []byte(`<section id="`+w+`">`)) {
			t.Errorf("report.html has no section %s", w)
		}
	}
	// The latency workload's pooled distribution, as summary.txt has it.
	if _, lock, _ := bytes.Cut(want, []byte(`<section id="lock-storm">`)); !bytes.Contains(lock, []byte(`<table class="dist">`)) ||
		!bytes.Contains(lock, []byte(`<th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>wake/op</th>`)) {
		t.Error("report.html's lock-storm has no pooled distribution table")
	}
	m, err := bench.ReadManifest(filepath.Join(dir, bench.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(m.Files, report.File) {
		t.Errorf("the manifest does not list %s: %v", report.File, m.Files)
	}
	if err := os.Remove(page); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI("report", dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(stdout) != page {
		t.Errorf("pagelab report printed %q, want %q", stdout, page)
	}
	got, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("pagelab report wrote another page than pagelab bench")
	}
}

// TestRedrawMissingPictures: a results directory whose plots/ and
// diagrams/ are gone gets a report that says how many of the pictures its
// manifest lists are missing, and which first failure lost its diagram
// (not "nothing to draw"); a run with nothing to draw says nothing of the
// kind (TestSubmitSlurm: a merged run's page is the unsharded one's);
// pagelab plot draws both again, byte for byte as bench drew them, and the
// report then is bench's own.
func TestRedrawMissingPictures(t *testing.T) {
	dir := reportBench(t)
	want := map[string][]byte{}
	for _, sub := range []string{"plots", "diagrams", report.File} {
		filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				want[path], err = os.ReadFile(path)
			}
			return err
		})
	}
	if len(want) < 3 {
		t.Fatalf("bench drew %d files", len(want))
	}
	// The pictures the report shows: SVGs and the diagrams' texts.
	pictures := 0
	for path := range want {
		if strings.HasSuffix(path, ".svg") || strings.Contains(path, "diagrams") && strings.HasSuffix(path, ".txt") {
			pictures++
		}
	}
	for _, sub := range []string{"plots", "diagrams"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := runCLI("report", dir); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, report.File))
	for _, s := range []string{fmt.Sprintf("This directory lacks %d of the pictures its manifest.json lists", pictures),
		"<code>pagelab plot DIR</code>", "the first failing run (its diagram, listed in manifest.json, is missing)"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("the report of a directory without pictures lacks %q", s)
		}
	}
	if _, _, err := runCLI("plot", dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI("report", dir); err != nil {
		t.Fatal(err)
	}
	for path, b := range want {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s: not as bench wrote it after plot and report (%v)", path, err)
		}
	}
}

// TestReportBadInput: one-line errors, exit status 2, and no page.
func TestReportBadInput(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)
	notDir := filepath.Join(tmp, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	// A results directory with a picture that would run code.
	bad := filepath.Join(tmp, "bad")
	os.MkdirAll(filepath.Join(bad, "plots"), 0o755)
	recs := `{"workload":"writeback-restart","fix":"baseline","strategy":"random","seed":1,"runs":10,"failing":0,"failures":{},"first_failure":{},"steps":100,"most_steps":10}` + "\n"
	os.WriteFile(filepath.Join(bad, bench.ResultsFile), []byte(recs), 0o644)
	os.WriteFile(filepath.Join(bad, "plots", "failures-writeback-restart.svg"),
		[]byte(`<svg width="10" height="10" onload="alert(1)"></svg>`), 0o644)
	for _, tc := range []struct {
		args []string
		dir  string // where no report may appear
		want string
	}{
		{[]string{"report"}, "", "want one results directory"},
		{[]string{"report", empty, bad}, "", "want one results directory"},
		{[]string{"report", filepath.Join(tmp, "missing")}, filepath.Join(tmp, "missing"), "not a pagelab results directory"},
		{[]string{"report", empty}, empty, "not a pagelab results directory"},
		{[]string{"report", notDir}, "", "not a pagelab results directory"},
		{[]string{"report", "-x", bad}, bad, "flag provided but not defined"},
		{[]string{"report", bad}, bad, "event handler"},
	} {
		stdout, _, err := runCLI(tc.args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("pagelab %s: %v, want a usage error (exit 2)", strings.Join(tc.args, " "), err)
			continue
		}
		if exitStatus(err) != 2 || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("pagelab %s: exit %d, %q; want one line, exit 2, saying %q", strings.Join(tc.args, " "), exitStatus(err), err, tc.want)
		}
		if stdout != "" {
			t.Errorf("pagelab %s printed %q", strings.Join(tc.args, " "), stdout)
		}
		if tc.dir != "" {
			if _, err := os.Stat(filepath.Join(tc.dir, report.File)); err == nil {
				t.Errorf("pagelab %s wrote a report", strings.Join(tc.args, " "))
			}
		}
	}
	if entries, _ := os.ReadDir(bad); len(entries) != 2 {
		t.Errorf("pagelab report left files behind in %s: %d entries", bad, len(entries))
	}
}

// TestCompareHTML: compare -html writes the page and prints the same text
// as compare; bad input writes nothing.
func TestCompareHTML(t *testing.T) {
	dir := reportBench(t)
	text, _, err := runCLI("compare", dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "cmp.html")
	stdout, _, err := runCLI("compare", "-html", page, dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != text {
		t.Errorf("compare -html prints another text than compare:\n%s\nwant:\n%s", stdout, text)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"writeback-restart", "lock-storm"} {
		if !bytes.Contains(b, []byte(`<section id="`+w+`">`)) {
			t.Errorf("the comparison page has no section %s", w)
		}
	}
	if bytes.Contains(bytes.ToLower(b), []byte("<script")) || !bytes.Contains(b, []byte(`<figure class="plot"`)) {
		t.Error("the comparison page has a script or no plot")
	}
	// -html=FILE works too.
	page2 := filepath.Join(t.TempDir(), "cmp2.html")
	if _, _, err := runCLI("compare", dir, dir, "-html="+page2); err != nil {
		t.Fatal(err)
	}
	if b2, _ := os.ReadFile(page2); !bytes.Equal(b, b2) {
		t.Error("compare -html=FILE and -html FILE write different pages")
	}

	tmp := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "-html", tmp, dir, dir}, "not a regular file"},
		{[]string{"compare", "-html", "", dir, dir}, "want a file name"},
		{[]string{"compare", "-html", filepath.Join(tmp, "x.html"), dir, filepath.Join(tmp, "missing")}, "not a pagelab results directory"},
		{[]string{"compare", "-html", filepath.Join(tmp, "x.html"), dir}, "want two results directories"},
		{[]string{"compare", "-html", filepath.Join(dir, "results.jsonl"), dir, dir}, "a file of the results directory " + dir},
		{[]string{"compare", "-html", filepath.Join(dir, "summary.txt"), dir, dir}, "choose a path outside it"},
	} {
		stdout, _, err := runCLI(tc.args...)
		var ue usageError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("pagelab %s: %v; want a one-line usage error saying %q", strings.Join(tc.args, " "), err, tc.want)
		}
		if stdout != "" {
			t.Errorf("pagelab %s printed %q", strings.Join(tc.args, " "), stdout)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("bad compare -html left %d files", len(entries))
	}
}

// TestWithoutManifest: a results directory whose manifest.json is gone is
// still read, as a complete run, but compare, its page and report say
// that nothing vouches for it, and never print a seed of 0 for it.
func TestWithoutManifest(t *testing.T) {
	dir := reportBench(t)
	bare := filepath.Join(t.TempDir(), "bare")
	if err := os.Mkdir(bare, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, bench.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bare, bench.ResultsFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	const unknown = "no manifest.json: revision, seed and completeness unknown"
	const warning = "warning: the old run has no manifest.json: read as complete, unconfirmed."
	whole, _, err := runCLI("compare", dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(whole, unknown) || strings.Contains(whole, warning) {
		t.Errorf("compare of two directories with manifests says one is missing:\n%s", whole)
	}
	page := filepath.Join(t.TempDir(), "cmp.html")
	text, _, err := runCLI("compare", "-html", page, bare, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "old: "+bare+" ("+unknown+")") || !strings.Contains(text, warning) ||
		strings.Contains(text, "new: "+dir+" (no manifest") {
		t.Errorf("compare of a directory without manifest.json:\n%s", text)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("no manifest.json: completeness unknown")) != 1 || bytes.Contains(b, []byte("seed 0)")) {
		t.Errorf("the comparison page does not mark the old side alone as without manifest.json")
	}
	if _, _, err := runCLI("report", bare); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(bare, report.File))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("the directory has no manifest.json")) {
		t.Error("the report of a directory without manifest.json does not say so")
	}
}

// TestDrawDiagramsRemovesStale: a first failure whose diagram cannot be
// drawn from its schedule leaves no diagram there, not one an earlier run
// drew (which the report would show as this run's), and says so on
// stderr; one that can is drawn.
func TestDrawDiagramsRemovesStale(t *testing.T) {
	dir := t.TempDir()
	firing := "v1/writeback-restart/baseline/seed=1/io1@dma..wake_up_page,cpu2@writeback..,cpu3@fsync..,io1@wake_up_page..,cpu3@io_schedule.."
	// The same workload run without preemption: no BUG_ON.
	quiet := "v1/writeback-restart/baseline/seed=1/cpu2@writeback.."
	rec := func(s string) []*bench.Record {
		return []*bench.Record{{Workload: "writeback-restart", Fix: "baseline", FirstFailure: map[string]string{"bug-writeback": s}}}
	}
	name := filepath.Join(dir, bench.DiagramFile("writeback-restart", "baseline", "bug-writeback"))
	var warn bytes.Buffer
	files, err := drawDiagrams(dir, rec(firing), &warn)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || warn.Len() != 0 {
		t.Fatalf("drew %v, want the text and the SVG, warning %q", files, warn.String())
	}
	for _, ext := range []string{".txt", ".svg"} {
		if _, err := os.Stat(name + ext); err != nil {
			t.Fatal(err)
		}
	}
	if files, err = drawDiagrams(dir, rec(quiet), &warn); err != nil {
		t.Fatal(err)
	}
	if len(files) != 0 {
		t.Errorf("drew %v from a schedule that fires nothing", files)
	}
	// Said, on one line naming the cell and the failure.
	if w := warn.String(); strings.Count(w, "\n") != 1 || !strings.Contains(w, "writeback-restart under baseline: the diagram of bug-writeback is not drawn: ") {
		t.Errorf("warning %q, want one line naming the cell and the failure", w)
	}
	for _, ext := range []string{".txt", ".svg"} {
		if _, err := os.Stat(name + ext); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s%s: the earlier diagram is still there (%v)", name, ext, err)
		}
	}
}
