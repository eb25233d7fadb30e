package report

import (
	"bytes"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/plots"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden")

// testDir writes a small results directory as pagelab bench does: a race
// workload (two fixes, verdicts, diagrams, the failure plot) and a latency
// workload (latency and throughput plots, two CPU counts).
func testDir(t *testing.T) (string, *bench.Manifest, []*bench.Record) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	var recs []*bench.Record
	race, _ := workloads.Lookup("writeback-restart")
	for _, fix := range []string{"baseline", "loop-wait"} {
		v, err := fixes.Parse(fix)
		if err != nil {
			t.Fatal(err)
		}
		c, err := bench.Run(&bench.Config{Workload: race, Params: race.Defaults(), Variant: v, Strategy: "random",
			Preempt: bench.DefaultPreempt, Seed: 1, Runs: 2000}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := bench.NewRecord(c)
		ver, err := bench.Verify(&bench.VerifyConfig{Workload: race, Params: race.Defaults(), Variant: v,
			Mode: sim.SourceSets, MaxStates: 2000}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.SetVerification(ver, 2000)
		recs = append(recs, r)
	}
	lat, _ := workloads.Lookup("lock-storm")
	for _, fix := range []string{"v5.8", "baseline"} {
		v, _ := fixes.Parse(fix)
		for _, n := range []int{4, 16} {
			c, err := bench.Run(&bench.Config{Workload: lat, Params: lat.Defaults(), Variant: v, Strategy: "timed",
				Seed: 1, Runs: 3, CPUs: n, Costs: sim.DefaultCosts(), MaxSteps: bench.TimedMaxSteps(lat)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, bench.NewRecord(c))
		}
	}
	m := &bench.Manifest{Command: []string{"pagelab", "bench"}, GitRevision: "0123456789ab", GoVersion: "go1.26",
		Host: bench.Host{Hostname: "test", GOOS: "linux", GOARCH: "amd64", CPUs: 2}, Seed: 1, Runs: 2000, Count: 3,
		CPUs: []int{4, 16}, Workloads: []string{"writeback-restart", "lock-storm"}, Start: "2026-11-21T00:00:00Z",
		End: "2026-11-21T00:00:05Z", Complete: true, Cells: len(recs), CellsTotal: len(recs), VerifyStates: 2000,
		VerifyCells: 2, VerifyCellsTotal: 2}
	if err := bench.WriteRecordsFile(dir, recs); err != nil {
		t.Fatal(err)
	}
	// The diagrams, as pagelab bench draws them.
	drawn := 0
	for _, r := range recs {
		if r.CPUs > 0 {
			continue
		}
		for id, sched := range r.FirstFailure {
			f, _ := mm.ParseFailure(id)
			s, err := sim.ParseSchedule(sched)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := bench.ReplayConfigFor(s, "")
			if err != nil {
				t.Fatal(err)
			}
			d, err := bench.DrawFailure(cfg, f, false)
			if err != nil {
				continue
			}
			name := filepath.Join(dir, bench.DiagramFile(r.Workload, r.Fix, id))
			os.MkdirAll(filepath.Dir(name), 0o755)
			for ext, data := range map[string]string{".txt": d.Text, ".svg": d.SVG} {
				if err := bench.WriteFileAtomic(name+ext, []byte(data)); err != nil {
					t.Fatal(err)
				}
			}
			m.Files = append(m.Files, bench.DiagramFile(r.Workload, r.Fix, id)+".txt", bench.DiagramFile(r.Workload, r.Fix, id)+".svg")
			drawn++
		}
	}
	if drawn == 0 {
		t.Fatal("no diagram drawn: the test directory should have a first failure")
	}
	files, err := plots.Draw(dir, recs)
	if err != nil {
		t.Fatal(err)
	}
	m.Files = append(m.Files, files...)
	if err := WriteRecords(dir, m, recs); err != nil {
		t.Fatal(err)
	}
	m.Files = append(m.Files, File)
	if err := bench.WriteResults(dir, m, recs); err != nil {
		t.Fatal(err)
	}
	return dir, m, recs
}

var (
	svgRE     = regexp.MustCompile(`(?s)<svg\b.*?</svg>`)
	networkRE = regexp.MustCompile(`(?i)\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:[a-z][-a-z0-9+.]*:|//)`)
	figureRE  = regexp.MustCompile(`(?s)<figure\b([^>]*)>(.*?)</figure>`)
	sectionRE = regexp.MustCompile(`<section id="([^"]+)">`)
)

// TestReport checks the page of a small results directory: a section per
// workload, every plot and diagram inline, nothing to run or to load, the
// same bytes from the files as from the records, and the golden page (its
// pictures elided: plots/ has goldens of its own; go test ./report
// -rewrite regenerates it).
func TestReport(t *testing.T) {
	dir, m, recs := testDir(t)
	b, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)

	// Every workload has its section, in the order of the records.
	var ids []string
	for _, s := range sectionRE.FindAllStringSubmatch(page, -1) {
		ids = append(ids, s[1])
	}
	if want := []string{"writeback-restart", "lock-storm"}; !slices.Equal(ids, want) {
		t.Errorf("sections %v, want %v", ids, want)
	}
	for _, w := range ids {
		if !strings.Contains(page, `<a href="#`+w+`">`) {
			t.Errorf("the navigation does not link #%s", w)
		}
	}
	// Nothing runs, nothing is fetched.
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page has a <script>")
	}
	if m := networkRE.FindString(page); m != "" {
		t.Errorf("the page refers to a resource outside itself: %q", m)
	}
	if strings.Contains(page, "<?xml") || strings.Contains(page, "<!DOCTYPE svg") {
		t.Error("an XML prolog or SVG doctype is left inside the page")
	}
	// Every picture of the directory is on the page.
	svgs, _ := filepath.Glob(filepath.Join(dir, "plots", "*.svg"))
	ds, _ := filepath.Glob(filepath.Join(dir, "diagrams", "*.svg"))
	if len(svgs) < 5 || len(ds) == 0 {
		t.Fatalf("%d plots and %d diagrams: the test directory is too small", len(svgs), len(ds))
	}
	for _, f := range append(svgs, ds...) {
		data, _ := os.ReadFile(f)
		rel, _ := filepath.Rel(dir, f)
		emb, err := embedSVG(data, figureID(rel)+"-")
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if !strings.Contains(page, emb) {
			t.Errorf("%s is not embedded", rel)
		}
	}
	txts, _ := filepath.Glob(filepath.Join(dir, "diagrams", "*.txt"))
	for _, f := range txts {
		data, _ := os.ReadFile(f)
		if line, _, _ := strings.Cut(string(data), "\n"); !strings.Contains(page, "<pre class=\"cpu\">"+line) {
			t.Errorf("%s is not on the page", f)
		}
	}
	// Every figure is a plot or a diagram with a caption and a picture
	// of a known size.
	figs := figureRE.FindAllStringSubmatch(page, -1)
	if len(figs) != len(svgs)+len(ds) {
		t.Errorf("%d figures, want one per picture (%d)", len(figs), len(svgs)+len(ds))
	}
	for _, f := range figs {
		if !strings.Contains(f[1], `class="plot"`) && !strings.Contains(f[1], `class="diagram"`) {
			t.Errorf("figure %s: want class plot or diagram", f[1])
		}
		if !strings.Contains(f[2], "<figcaption>") {
			t.Errorf("figure %s: no caption", f[1])
		}
		svg := svgRE.FindString(f[2])
		root, _, _ := strings.Cut(svg, ">")
		if !strings.Contains(root, "viewBox=") || !strings.Contains(root, "width=") {
			t.Errorf("figure %s: picture without a viewBox and size: %.120s", f[1], root)
		}
	}
	// Each diagram comes with the command that replays it: the schedule
	// it draws (the run's failure shrunk), which its text ends with.
	if n := strings.Count(page, "pagelab replay -schedule &#39;v1/"); n < len(ds) {
		t.Errorf("%d replay commands for %d diagrams", n, len(ds))
	}
	shrunk := 0
	for _, f := range figs {
		if !strings.Contains(f[1], `class="diagram"`) {
			continue
		}
		cmd := regexp.MustCompile(`<pre class="cmd">pagelab replay -schedule &#39;([^&]*)&#39;</pre>`).FindStringSubmatch(f[2])
		cpu := regexp.MustCompile(`(?s)<pre class="cpu">(.*?)</pre>`).FindStringSubmatch(f[2])
		if cmd == nil || cpu == nil {
			t.Errorf("diagram %s: no replay command or no text", f[1])
			continue
		}
		text := html.UnescapeString(cpu[1])
		_, drawn, _ := strings.Cut(text, "\nschedule:\n")
		if want := strings.TrimSpace(drawn); html.UnescapeString(cmd[1]) != want {
			t.Errorf("diagram %s: replays %s, draws %s", f[1], cmd[1], want)
		}
		if strings.Contains(text, "shrunk from") {
			shrunk++
		}
	}
	if shrunk == 0 {
		t.Error("no diagram of the test directory is shrunk: the replay commands are not tested against the runs' own schedules")
	}
	// The numbers are the summary's.
	summary, err := os.ReadFile(filepath.Join(dir, bench.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	d := bench.FailureTable("writeback-restart", recs[:2])
	for _, row := range d.Cells {
		for _, c := range row {
			line := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.R.Fix) + ` +` + fmt.Sprintf("%d:%d", c.K, c.N) + `  ` +
				regexp.QuoteMeta(c.CI) + ` +` + c.Verdict + ` *` + regexp.QuoteMeta(c.VsBase) + `$`)
			if !line.Match(summary) {
				t.Errorf("%s %s: %d:%d %s %s %q is not a line of summary.txt", c.R.Fix, c.ID, c.K, c.N, c.CI, c.Verdict, c.VsBase)
			}
		}
	}

	// The same bytes from the directory as from the records, every time.
	again, err := Render(dir, m, recs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Error("rendering the same records twice gives different pages")
	}
	if err := Write(dir); err != nil {
		t.Fatal(err)
	}
	if fromDir, _ := os.ReadFile(filepath.Join(dir, File)); !bytes.Equal(fromDir, b) {
		t.Error("report.html from the directory's files differs from the one written from the records")
	}

	golden(t, "report.golden", svgRE.ReplaceAllString(page, "<svg>(elided)</svg>"))
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewrite {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./report -rewrite writes it)", err)
	}
	if string(want) != got {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(got, "\n")
		for i := range max(len(wl), len(gl)) {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				t.Fatalf("%s differs at line %d (go test ./report -rewrite updates it):\n- %s\n+ %s", path, i+1, w, g)
			}
		}
	}
}

// TestCompare: the comparison page has a section per workload with the
// comparison rows and both runs' plots side by side.
func TestCompare(t *testing.T) {
	dir, m, recs := testDir(t)
	text, err := bench.Compare(dir, m, recs, dir, m, recs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compare(dir, m, recs, dir, m, recs, text)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, w := range []string{"writeback-restart", "lock-storm"} {
		if !strings.Contains(page, `<section id="`+w+`">`) {
			t.Errorf("no section %s", w)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") || networkRE.MatchString(page) {
		t.Error("the page runs or loads something")
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "plots", "*.svg"))
	if n := strings.Count(page, `<figure class="plot"`); n != 2*len(svgs) {
		t.Errorf("%d plots on the page, want both runs' %d", n, len(svgs))
	}
	if n := strings.Count(page, `<div class="side">`); n != len(svgs) {
		t.Errorf("%d pairs of plots, want %d", n, len(svgs))
	}
	// Ids unique: the two runs' pictures are told apart.
	seen := map[string]bool{}
	for _, id := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if seen[id[1]] {
			t.Errorf("id %q twice", id[1])
		}
		seen[id[1]] = true
	}
	if !strings.Contains(page, "lock_page ops/s") || !strings.Contains(page, "bug-writeback") {
		t.Error("the comparison rows are not on the page")
	}
}

func TestEmbedSVG(t *testing.T) {
	ok := []struct{ in, want string }{
		{"<?xml version=\"1.0\"?>\n<!-- Generated -->\n<svg width=\"720pt\" height=\"360pt\" viewBox=\"0 0 720 360\"><g/></svg>\n",
			`<svg width="720pt" height="360pt" viewBox="0 0 720 360"><g/></svg>`},
		{`<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg" width="900" height="440"><rect/></svg>`,
			`<svg xmlns="http://www.w3.org/2000/svg" width="900" height="440" viewBox="0 0 900 440"><rect/></svg>`},
		{`<svg viewBox="0 0 10 10"><clipPath id="c"><rect/></clipPath><g clip-path="url(#c)"><use href="#c"/></g></svg>`,
			`<svg viewBox="0 0 10 10"><clipPath id="p-c"><rect/></clipPath><g clip-path="url(#p-c)"><use href="#p-c"/></g></svg>`},
	}
	for _, tc := range ok {
		got, err := embedSVG([]byte(tc.in), "p-")
		if err != nil || got != tc.want {
			t.Errorf("embedSVG(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		`<svg viewBox="0 0 1 1"><script>alert(1)</script></svg>`,
		`<svg viewBox="0 0 1 1" onload="alert(1)"></svg>`,
		`<svg viewBox="0 0 1 1"><image href="https://example.com/x.png"/></svg>`,
		`<svg viewBox="0 0 1 1"><image xlink:href="file:///etc/passwd"/></svg>`,
		`<svg viewBox="0 0 1 1"><rect style="fill:url(http://x/y)"/></svg>`,
		`<svg viewBox="0 0 1 1"><foreignObject><p>x</p></foreignObject></svg>`,
		`<svg><rect/></svg>`, // no size
		`<html><body>not a picture</body></html>`,
		`<svg viewBox="0 0 1 1"><rect/></svg><script>alert(1)</script><svg></svg>`,
	} {
		if got, err := embedSVG([]byte(in), "p-"); err == nil {
			t.Errorf("embedSVG(%q) = %q, want an error", in, got)
		}
	}
}
