package plots

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

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
