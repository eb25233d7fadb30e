package plots

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/pagelab/pagelab/bench"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden images in testdata")

// records is a fixed, synthetic results set: the figures must not depend on
// a run of the model.
func records() []*bench.Record {
	q := func(scale float64) []float64 {
		v := make([]float64, bench.NumQuantiles)
		for i := range v {
			v[i] = scale * (1 + float64(i*i)/400)
		}
		return v
	}
	lat := func(ops, scale float64) map[string]*bench.OpRecord {
		return map[string]*bench.OpRecord{"lock_page": {Count: 600, P50: scale * 26, P99: scale * 98, Max: scale * 101, OpsPerSec: ops,
			RunOpsPerSec: []float64{ops, ops * 1.01, ops * 0.99, ops, ops * 1.02, ops * 0.98},
			RunP50:       []float64{scale * 26, scale * 26, scale * 26, scale * 26, scale * 26, scale * 26},
			RunP99:       []float64{scale * 98, scale * 97, scale * 99, scale * 98, scale * 98, scale * 98},
			Quantiles:    q(scale)}}
	}
	var recs []*bench.Record
	// Verdicts: the search fails both ids under baseline and hold-ref,
	// verifies loop-wait, finds bug-writeback under wait-to-set where the
	// random runs did not, and did not run for folio.
	verdicts := []map[string]string{
		{"bug-writeback": "fails", "data-loss": "fails"},
		{"bug-writeback": "verified", "data-loss": "verified"},
		{"bug-writeback": "fails", "data-loss": "fails"},
		{"bug-writeback": "fails", "data-loss": "fails"},
		nil,
	}
	for i, fix := range []string{"baseline", "loop-wait", "hold-ref", "wait-to-set", "folio"} {
		r := &bench.Record{Workload: "writeback-restart", Fix: fix, Strategy: "random", Runs: 100000,
			Failures: map[string]int{"bug-writeback": []int{32, 0, 38, 0, 0}[i], "data-loss": []int{10, 0, 11, 12, 0}[i]}}
		if verdicts[i] != nil {
			r.Verdicts, r.Verify = verdicts[i], &bench.VerifyRecord{Complete: true, States: 1000}
		}
		recs = append(recs, r)
	}
	for _, fix := range []string{"v5.8", "fair-handoff", "baseline"} {
		for _, n := range []int{4, 16, 64} {
			ops := float64(n) * 30000
			if fix == "fair-handoff" && n > 4 {
				ops = 650000
			}
			recs = append(recs, &bench.Record{Workload: "lock-storm", Fix: fix, Strategy: "timed", Runs: 6, CPUs: n,
				Latency: lat(ops, float64(n)*10)})
		}
	}
	return recs
}

// TestGoldenImages renders every figure of the fixed records and compares
// the PNGs with testdata, pixel by pixel (allowing 0.5% of the pixels to
// differ, for antialiasing differences between machines).
func TestGoldenImages(t *testing.T) {
	figs, err := Figures(records())
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 1+2*3+1 {
		t.Fatalf("%d figures, want failures + 3x(ECDF, box) + throughput", len(figs))
	}
	for _, f := range figs {
		b, err := f.Render("png")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Render("svg"); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", f.Name+".png")
		if *rewrite {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./plots -rewrite creates it)", err)
		}
		if d := diff(t, want, b); d > 0.005 {
			t.Errorf("%s: %.1f%% of the pixels differ from the golden image (go test ./plots -rewrite updates it)", f.Name, d*100)
		}
	}
}

func diff(t *testing.T, a, b []byte) float64 {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return 1
	}
	r := ia.Bounds()
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !same(ia, ib, x, y) {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

func same(a, b image.Image, x, y int) bool {
	r1, g1, b1, a1 := a.At(x, y).RGBA()
	r2, g2, b2, a2 := b.At(x, y).RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

func TestDrawWritesFiles(t *testing.T) {
	dir := t.TempDir()
	files, err := Draw(dir, records())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2*8 {
		t.Fatalf("%d files, want PNG and SVG of 8 figures", len(files))
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestDrawDegenerateData: latencies that are all zero (every cost set to
// zero) and a single CPU count draw without gonum's log-scale panic.
func TestDrawDegenerateData(t *testing.T) {
	zero := make([]float64, bench.NumQuantiles)
	var recs []*bench.Record
	for _, fix := range []string{"baseline", "v5.8"} {
		recs = append(recs, &bench.Record{Workload: "lock-storm", Fix: fix, Strategy: "timed", Runs: 2, CPUs: 1,
			Latency: map[string]*bench.OpRecord{"lock_page": {Count: 4, RunOpsPerSec: []float64{0, 0}, RunP50: []float64{0, 0},
				RunP99: []float64{0, 0}, Quantiles: zero}}})
	}
	dir := t.TempDir()
	if _, err := Draw(dir, recs); err != nil {
		t.Fatalf("all-zero latencies: %v", err)
	}
}

// TestDrawReplacesWholeDirectory: drawing again replaces dir/plots as a
// whole (no file of the old set survives beside the new ones) and leaves
// no temporary directory.
func TestDrawReplacesWholeDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, Dir, "stale.png")
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Draw(dir, records()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a plot of the old set survived")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != Dir {
			t.Errorf("left in the results directory: %s", e.Name())
		}
	}
}

// chaseRecords is a writeback-chase results set: latency figures and the
// wake-up walk's ECDF.
func chaseRecords() []*bench.Record {
	var recs []*bench.Record
	for i, fix := range []string{"baseline", "walk-break"} {
		for _, n := range []int{4, 64} {
			lat := make([]float64, bench.NumQuantiles)
			walk := make([]float64, bench.NumQuantiles)
			for q := range lat {
				lat[q] = float64(n) * 1000 * (1 + float64(q*q)/float64(100*(i+1)))
				walk[q] = 1 + float64(q*q*n)/float64(500*(i+1))
			}
			recs = append(recs, &bench.Record{Workload: "writeback-chase", Fix: fix, Strategy: "timed", Runs: 4, CPUs: n,
				Latency: map[string]*bench.OpRecord{"fsync": {Count: 100, RunOpsPerSec: []float64{1e5, 1.1e5, 0.9e5, 1e5},
					RunP50: []float64{1, 1, 1, 1}, RunP99: []float64{2, 2, 2, 2}, Quantiles: lat}},
				Counts: map[string]*bench.CountRecord{"wb_wake_walk": {Unit: "entries", Count: 100, Quantiles: walk}}})
		}
	}
	return recs
}

// everyFigure is one figure of each type: failures, latency ECDF and box,
// throughput, the wake-up walk's ECDF, and a sweep.
func everyFigure(t *testing.T) []*Figure {
	t.Helper()
	figs, err := Figures(append(records(), chaseRecords()...))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := sweepFigure(&SweepPlot{Workload: "lock-storm", CPUs: 64, Op: "lock_page", XLabel: "tasks",
		Xs: []float64{1, 50, 100, 200, 250}, Names: []string{"v5.8", "fair-handoff", "baseline:unfairness=0", "baseline:unfairness=4"},
		Ys: [][]float64{{16.9e3, 764e3, 794e3, 818e3, 985e3}, {16.9e3, 379e3, 383e3, 384e3, 384e3},
			{16.9e3, 378e3, 381e3, 383e3, 384e3}, {16.9e3, 764e3, 787e3, 909e3, 901e3}}})
	if err != nil {
		t.Fatal(err)
	}
	figs = append(figs, sw)
	kinds := map[string]bool{}
	for _, f := range figs {
		kind, _, _ := strings.Cut(f.Name, "-")
		kinds[kind] = true
	}
	for _, k := range []string{"failures", "latency", "throughput", "walk", "sweep"} {
		if !kinds[k] {
			t.Fatalf("no %s figure among %d", k, len(figs))
		}
	}
	return figs
}

// pngScale is PNG pixels per point (the figures render at 96 dpi).
const pngScale = 96.0 / 72

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// legendBox is where f's legend is drawn, in PNG pixels: the bounding box
// of the pixels that differ between the figure with and without it.
func legendBox(t *testing.T, f *Figure) image.Rectangle {
	t.Helper()
	with, err := f.render("png", true)
	if err != nil {
		t.Fatal(err)
	}
	without, err := f.render("png", false)
	if err != nil {
		t.Fatal(err)
	}
	a, b := decode(t, with), decode(t, without)
	var box image.Rectangle
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if !same(a, b, x, y) {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

// dataBoxes are the marks f draws at its data points, in PNG pixels:
// each point's position on the plot's data canvas, widened by the size of
// its mark.
func dataBoxes(f *Figure) []image.Rectangle {
	c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: f.Width, Y: f.Height}}}
	plotC, _ := f.layout(c)
	dataC := f.Plot.DataCanvas(plotC)
	tx, ty := f.Plot.Transforms(&dataC)
	h := math.Round(float64(f.Height) * pngScale)
	var out []image.Rectangle
	for _, s := range f.data {
		for _, p := range s.pts {
			x, y := float64(tx(p.X))*pngScale, h-float64(ty(p.Y))*pngScale
			r := float64(s.radius) * pngScale
			out = append(out, image.Rect(int(math.Floor(x-r)), int(math.Floor(y-r)), int(math.Ceil(x+r)), int(math.Ceil(y+r))))
		}
	}
	return out
}

// covered lists the data marks of f that its legend covers.
func covered(t *testing.T, f *Figure) (image.Rectangle, []image.Rectangle) {
	t.Helper()
	lb := legendBox(t, f)
	var out []image.Rectangle
	for _, d := range dataBoxes(f) {
		if d.Overlaps(lb) {
			out = append(out, d)
		}
	}
	return lb, out
}

// TestLegendsCoverNoData: in every figure type the legend is drawn (its
// pixels are found) and its box overlaps no data point's mark; moved over
// the data by its offsets, the same check reports it.
func TestLegendsCoverNoData(t *testing.T) {
	figs := everyFigure(t)
	checked := 0
	for _, f := range figs {
		if len(f.data) == 0 {
			t.Errorf("%s: no data points recorded", f.Name)
			continue
		}
		if f.Legend == nil {
			if !strings.HasPrefix(f.Name, "latency-box-") {
				t.Errorf("%s: no legend", f.Name)
			}
			continue
		}
		lb, hits := covered(t, f)
		if lb.Empty() {
			t.Errorf("%s: the legend draws nothing", f.Name)
			continue
		}
		if len(hits) > 0 {
			t.Errorf("%s: the legend %v covers %d data points, the first at %v", f.Name, lb, len(hits), hits[0])
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("%d legends checked", checked)
	}

	// The check can fail: the same legend moved over a data point.
	for _, f := range figs {
		if f.Legend == nil {
			continue
		}
		lb := legendBox(t, f)
		d := dataBoxes(f)[len(f.data[0].pts)/2]
		dx, dy := d.Min.X-lb.Min.X-4, d.Min.Y-lb.Min.Y-4
		f.Legend.XOffs += vg.Length(float64(dx) / pngScale)
		f.Legend.YOffs -= vg.Length(float64(dy) / pngScale)
		if _, hits := covered(t, f); len(hits) == 0 {
			t.Errorf("%s: a legend moved over the data (by %d, %d pixels) is not reported", f.Name, dx, dy)
		}
		f.Legend.XOffs, f.Legend.YOffs = 0, 0
	}
}

// TestFailureMarks: the failure plot tells a zero the search verified
// (loop-wait) from a zero nothing proves (folio: no search) and from one
// the search contradicts (wait-to-set's bug-writeback), in its marks, its
// pixels and its legend.
func TestFailureMarks(t *testing.T) {
	recs := records()
	by := map[string]*bench.Record{}
	for _, r := range recs {
		if r.Workload == "writeback-restart" {
			by[r.Fix] = r
		}
	}
	for _, tc := range []struct {
		fix, id string
		want    mark
	}{
		{"baseline", "bug-writeback", markNone},
		{"loop-wait", "bug-writeback", markVerified},
		{"loop-wait", "data-loss", markVerified},
		{"wait-to-set", "bug-writeback", markSearchOnly},
		{"folio", "bug-writeback", markUnproven},
		{"folio", "data-loss", markUnproven},
	} {
		if got := zeroMark(by[tc.fix], tc.id, false); got != tc.want {
			t.Errorf("%s %s: mark %d, want %d", tc.fix, tc.id, got, tc.want)
		}
	}
	unknown := &bench.Record{Runs: 10, Failures: map[string]int{}, Verdicts: map[string]string{"bug-writeback": "unknown"}}
	if got := zeroMark(unknown, "bug-writeback", false); got != markUnproven {
		t.Errorf("0 of n with the search cut short: mark %d, want unproven", got)
	}

	f, err := failureRates("writeback-restart", recs[:5])
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{legendVerified, legendUnproven, legendSearchOnly} {
		if !bytes.Contains(svg, []byte(s)) {
			t.Errorf("the legend lacks %q", s)
		}
	}
	b, err := f.Render("png")
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, b)
	// The marks' colours around the cells' points (y = log10 0.1, the
	// floor): green rings on loop-wait's (x = 1), grey triangles on
	// folio's (x = 4).
	c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: f.Width, Y: f.Height}}}
	plotC, _ := f.layout(c)
	dataC := f.Plot.DataCanvas(plotC)
	tx, ty := f.Plot.Transforms(&dataC)
	h := math.Round(float64(f.Height) * pngScale)
	count := func(x, y float64, is func(r, g, b uint32) bool) int {
		px, py := int(float64(tx(x))*pngScale), int(h-float64(ty(y))*pngScale)
		n := 0
		for yy := py - 12; yy <= py+12; yy++ {
			for xx := px - 12; xx <= px+12; xx++ {
				r, g, b, _ := img.At(xx, yy).RGBA()
				if is(r>>8, g>>8, b>>8) {
					n++
				}
			}
		}
		return n
	}
	green := func(r, g, b uint32) bool { return g > 0x60 && r < 0x40 && b < 0x40 }
	grey := func(r, g, b uint32) bool { return r == g && g == b && r > 0x30 && r < 0xa0 }
	for _, x := range []float64{0.8, 1.2} {
		if count(x, -1, green) < 10 {
			t.Errorf("no green ring on loop-wait's verified zero at x=%.1f", x)
		}
	}
	for _, x := range []float64{3.8, 4.2} {
		if count(x, -1, green) > 0 {
			t.Errorf("a green mark on folio's unverified zero at x=%.1f", x)
		}
		if count(x, -1, grey) < 10 {
			t.Errorf("no grey mark on folio's unproven zero at x=%.1f", x)
		}
	}
}

// TestDurationTicks: latency axes read in ns, µs and ms.
func TestDurationTicks(t *testing.T) {
	labels := func(min, max float64) []string {
		var out []string
		for _, tk := range (durationTicks{plot.LogTicks{Prec: -1}}).Ticks(min, max) {
			if tk.Label != "" && tk.Value >= min && tk.Value <= max {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	if got, want := strings.Join(labels(50, 2e6), " "), "100ns 1µs 10µs 100µs 1ms"; got != want {
		t.Errorf("ticks from 50ns to 2ms: %s, want %s", got, want)
	}
	if got, want := strings.Join(labels(150e3, 900e3), " "), "200µs 500µs"; got != want {
		t.Errorf("ticks from 150µs to 900µs: %s, want %s", got, want)
	}
	if got, want := strings.Join(labels(60, 400), " "), "100ns 200ns"; got != want {
		t.Errorf("ticks from 60ns to 400ns: %s, want %s", got, want)
	}
	figs, err := Figures(records())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range figs {
		if !strings.HasPrefix(f.Name, "latency-") {
			continue
		}
		ax := f.Plot.X
		if strings.HasPrefix(f.Name, "latency-box-") {
			ax = f.Plot.Y
		}
		n := 0
		for _, tk := range ax.Tick.Marker.Ticks(ax.Min, ax.Max) {
			if tk.Label == "" {
				continue
			}
			n++
			if !strings.HasSuffix(tk.Label, "ns") && !strings.HasSuffix(tk.Label, "µs") && !strings.HasSuffix(tk.Label, "ms") {
				t.Errorf("%s: latency tick %q has no unit", f.Name, tk.Label)
			}
		}
		if n < 2 {
			t.Errorf("%s: %d labelled latency ticks", f.Name, n)
		}
		if ax.Label.Text != "latency (virtual time, log scale)" {
			t.Errorf("%s: latency axis %q", f.Name, ax.Label.Text)
		}
		if !strings.Contains(f.Plot.Title.Text, "CPUs") || !strings.Contains(f.Plot.Title.Text, "lock-storm") {
			t.Errorf("%s: title %q does not name the workload and the CPUs", f.Name, f.Plot.Title.Text)
		}
	}
}
