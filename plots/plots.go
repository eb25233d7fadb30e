// Package plots draws a results directory's figures with gonum/plot, as PNG
// (to look at) and SVG (to attach): failure rates per fix variant with
// their confidence intervals, latency ECDFs and box plots per fix variant,
// and throughput against the number of simulated CPUs.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/pagelab/pagelab/bench"
)

// Dir is the subdirectory of a results directory that holds the plots.
const Dir = "plots"

// Draw writes every figure of recs under dir/plots and returns the files
// written, relative to dir. Every figure is rendered in memory first, then
// written into a temporary directory that replaces dir/plots by a rename:
// a figure that cannot be drawn leaves the plots there before untouched,
// and no reader ever sees a mix of old and new plots.
func Draw(dir string, recs []*bench.Record) ([]string, error) {
	figs, err := Figures(recs)
	if err != nil {
		return nil, err
	}
	type file struct {
		name string
		data []byte
	}
	var out []file
	for _, f := range figs {
		for _, format := range []string{"png", "svg"} {
			b, err := f.Render(format)
			if err != nil {
				return nil, err
			}
			out = append(out, file{f.Name + "." + format, b})
		}
	}
	tmp, err := os.MkdirTemp(dir, "."+Dir+".tmp")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, f := range out {
		if err := bench.WriteFileAtomic(filepath.Join(tmp, f.name), f.data); err != nil {
			return nil, err
		}
		files = append(files, filepath.Join(Dir, f.name))
	}
	final := filepath.Join(dir, Dir)
	old := ""
	if _, err := os.Stat(final); err == nil {
		old = tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		if old != "" {
			os.Rename(old, final)
		}
		return nil, err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return files, nil
}

// Figure is one plot with its file name (without extension) and size.
type Figure struct {
	Name          string
	Plot          *plot.Plot
	Width, Height vg.Length
}

// Render draws the figure in format ("png" or "svg"). gonum/plot panics on
// data it cannot draw (a log axis reaching zero): that is an error here.
func (f *Figure) Render(format string) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("plot %s: cannot draw: %v", f.Name, r)
		}
	}()
	fixAxes(f.Plot)
	w, err := f.Plot.WriterTo(f.Width, f.Height, format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %s: %v", f.Name, err)
	}
	return buf.Bytes(), nil
}

// fixAxes gives a degenerate axis a range gonum can draw: a log axis must
// stay above zero, and no axis may be a single point (all-equal data, such
// as the latencies of a run with every cost zero).
func fixAxes(p *plot.Plot) {
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		_, isLog := ax.Scale.(plot.LogScale)
		if isLog {
			if ax.Max <= 0 {
				ax.Max = 1
			}
			if ax.Min <= 0 {
				ax.Min = math.Min(1, ax.Max)
			}
			if ax.Max <= ax.Min {
				ax.Min, ax.Max = ax.Min/2, ax.Max*2
			}
			continue
		}
		if ax.Max <= ax.Min {
			ax.Max = ax.Min + 1
		}
	}
}

// Figures builds every figure of recs, in a fixed order.
func Figures(recs []*bench.Record) ([]*Figure, error) {
	var figs []*Figure
	var order []string
	by := map[string][]*bench.Record{}
	for _, r := range recs {
		if by[r.Workload] == nil {
			order = append(order, r.Workload)
		}
		by[r.Workload] = append(by[r.Workload], r)
	}
	for _, w := range order {
		rs := by[w]
		if rs[0].Latency == nil {
			f, err := failureRates(w, rs)
			if err != nil {
				return nil, err
			}
			figs = append(figs, f)
			continue
		}
		fs, err := latencyFigures(w, rs)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fs...)
		if w == "writeback-chase" {
			fs, err := walkFigures(w, rs)
			if err != nil {
				return nil, err
			}
			figs = append(figs, fs...)
		}
	}
	return figs, nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// failureRates: per fix variant (x) and failure id (one series each), the
// rate of runs in which it fired, per 100,000 runs, with the 95% Wilson
// interval as error bars. A zero the exhaustive search verified (no
// interleaving fires the id) is ringed and has no error bar: the rate is
// exactly zero in the model. A zero the search contradicts (it found an
// interleaving the random runs missed) is crossed out.
func failureRates(w string, rs []*bench.Record) (*Figure, error) {
	var ids []string
	for _, r := range rs {
		for id, k := range r.Failures {
			if k > 0 && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		for _, id := range r.SearchOnly() {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		ids = []string{"(none fired)"}
	}
	p := newPlot(fmt.Sprintf("%s: runs in which each failure fired (95%% Wilson CI)", w),
		"fix variant", "failing runs per 100,000 (log scale; none: at 0.1)")
	var names []string
	for _, r := range rs {
		names = append(names, r.Fix)
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	// Rates span orders of magnitude, and most fixes exist to bring one to
	// zero: a log scale, with a zero count drawn at floor and its error bar
	// reaching the rule-of-three bound.
	const floor = 0.1
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min = floor / 2
	width := 0.8 / float64(len(ids))
	var verified, searchOnly plotter.XYs
	for j, id := range ids {
		pts := make(plotter.XYs, len(rs))
		var barPts plotter.XYs
		var errs plotter.YErrors
		for i, r := range rs {
			k := r.Failures[id]
			lo, hi := bench.Wilson(k, r.Runs)
			y := float64(k) / float64(r.Runs) * 1e5
			if k == 0 {
				y, hi = floor, bench.RuleOfThree(r.Runs)
			}
			pts[i] = plotter.XY{X: float64(i) + (float64(j)-float64(len(ids)-1)/2)*width, Y: y}
			v, ok := r.Verdict(id)
			switch {
			case k == 0 && ok && v == bench.Verified:
				verified = append(verified, pts[i])
				continue
			case k == 0 && ok && v == bench.Fails:
				searchOnly = append(searchOnly, pts[i])
			}
			barPts = append(barPts, pts[i])
			errs = append(errs, struct{ Low, High float64 }{max(y-max(lo*1e5, floor), 0), max(hi*1e5-y, 0)})
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		c := plotutil.Color(j)
		s.GlyphStyle.Color = c
		s.GlyphStyle.Shape = plotutil.Shape(j)
		s.GlyphStyle.Radius = vg.Points(3)
		p.Add(s)
		if len(barPts) > 0 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{barPts, errs})
			if err != nil {
				return nil, err
			}
			eb.LineStyle.Color = c
			p.Add(eb)
		}
		p.Legend.Add(id, s)
	}
	for _, m := range []struct {
		pts    plotter.XYs
		shape  draw.GlyphDrawer
		color  color.Color
		legend string
	}{
		{verified, ringGlyph{}, color.RGBA{G: 0x80, A: 0xff}, "verified: no interleaving fires it"},
		{searchOnly, crossGlyph{}, color.RGBA{R: 0xd0, A: 0xff}, "fails: found by the search only"},
	} {
		if len(m.pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(m.pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: m.color, Shape: m.shape, Radius: vg.Points(7)}
		p.Add(s)
		p.Legend.Add(m.legend, s)
	}
	return &Figure{Name: "failures-" + w, Plot: p, Width: 10 * vg.Inch, Height: 5 * vg.Inch}, nil
}

// ringGlyph and crossGlyph are draw.RingGlyph and draw.CrossGlyph with a
// stroke that stands out over the series' own glyphs.
type ringGlyph struct{}

func (ringGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.5)})
	var p vg.Path
	p.Move(vg.Point{X: pt.X + sty.Radius, Y: pt.Y})
	p.Arc(pt, sty.Radius, 0, 2*math.Pi)
	p.Close()
	c.Stroke(p)
}

type crossGlyph struct{}

func (crossGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.5)})
	r := sty.Radius * 0.7
	for _, d := range []vg.Length{r, -r} {
		var p vg.Path
		p.Move(vg.Point{X: pt.X - r, Y: pt.Y - d})
		p.Line(vg.Point{X: pt.X + r, Y: pt.Y + d})
		c.Stroke(p)
	}
}

func latencyFigures(w string, rs []*bench.Record) ([]*Figure, error) {
	ops := map[string]bool{}
	for k := range rs[0].Latency {
		ops[k] = true
	}
	op := bench.PrimaryOp(w, ops)
	clock := "virtual"
	if rs[0].Strategy == "native" {
		clock = "wall-clock"
	}
	var cpus []int
	var fixes []string
	for _, r := range rs {
		if !slices.Contains(cpus, r.CPUs) {
			cpus = append(cpus, r.CPUs)
		}
		if !slices.Contains(fixes, r.Fix) {
			fixes = append(fixes, r.Fix)
		}
	}
	slices.Sort(cpus)
	var figs []*Figure
	for _, n := range cpus {
		ecdf := newPlot(fmt.Sprintf("%s: %s latency, %d CPUs (ECDF)", w, op, n),
			fmt.Sprintf("latency, %s ns (log scale)", clock), "fraction of operations at or below")
		ecdf.X.Scale = plot.LogScale{}
		ecdf.X.Tick.Marker = plot.LogTicks{Prec: -1}
		ecdf.Y.Min, ecdf.Y.Max = 0, 1
		box := newPlot(fmt.Sprintf("%s: %s latency, %d CPUs", w, op, n), "fix variant",
			fmt.Sprintf("latency, %s ns (log scale)", clock))
		box.Y.Scale = plot.LogScale{}
		box.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		var names []string
		for i, r := range rs {
			if r.CPUs != n {
				continue
			}
			l := r.Latency[op]
			if l == nil || len(l.Quantiles) == 0 {
				continue
			}
			pts := make(plotter.XYs, len(l.Quantiles))
			for q, v := range l.Quantiles {
				pts[q] = plotter.XY{X: math.Max(v, 1), Y: float64(q) / float64(len(l.Quantiles)-1)}
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			c := slices.Index(fixes, r.Fix)
			line.Color = plotutil.Color(c)
			line.Dashes = plotutil.Dashes(c)
			line.Width = vg.Points(1.5)
			ecdf.Add(line)
			ecdf.Legend.Add(r.Fix, line)

			vals := make(plotter.Values, len(l.Quantiles))
			for q, v := range l.Quantiles {
				vals[q] = math.Max(v, 1)
			}
			bp, err := plotter.NewBoxPlot(vg.Points(30), float64(len(names)), vals)
			if err != nil {
				return nil, err
			}
			bp.FillColor = withAlpha(plotutil.Color(c), 0x60)
			box.Add(bp)
			names = append(names, r.Fix)
			_ = i
		}
		if len(names) == 0 {
			continue
		}
		ecdf.Legend.Top, ecdf.Legend.Left = false, false
		box.NominalX(names...)
		figs = append(figs,
			&Figure{Name: fmt.Sprintf("latency-ecdf-%s-%dcpus", w, n), Plot: ecdf, Width: 8 * vg.Inch, Height: 5 * vg.Inch},
			&Figure{Name: fmt.Sprintf("latency-box-%s-%dcpus", w, n), Plot: box, Width: 8 * vg.Inch, Height: 5 * vg.Inch})
	}
	thr := newPlot(fmt.Sprintf("%s: %s throughput against simulated CPUs", w, op),
		"simulated CPUs (log scale)", fmt.Sprintf("per second of %s time (median of runs)", clock))
	thr.X.Scale = plot.LogScale{}
	thr.X.Tick.Marker = cpuTicks(cpus)
	thr.Y.Min = 0
	thr.Y.Tick.Marker = siTicks{}
	for c, fix := range fixes {
		var pts plotter.XYs
		for _, r := range rs {
			if r.Fix == fix && r.Latency[op] != nil {
				pts = append(pts, plotter.XY{X: float64(r.CPUs), Y: median(r.Latency[op].RunOpsPerSec)})
			}
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int { return int(a.X - b.X) })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = plotutil.Color(c), plotutil.Color(c)
		line.Dashes = plotutil.Dashes(c)
		points.Shape = plotutil.Shape(c)
		thr.Add(line, points)
		thr.Legend.Add(fix, line, points)
	}
	thr.Legend.Left = true
	figs = append(figs, &Figure{Name: "throughput-" + w, Plot: thr, Width: 8 * vg.Inch, Height: 5 * vg.Inch})
	return figs, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// cpuTicks labels exactly the CPU counts measured.
type cpuTicks []int

func (t cpuTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, n := range t {
		out = append(out, plot.Tick{Value: float64(n), Label: fmt.Sprint(n)})
	}
	return out
}

// siTicks labels a rate axis with SI prefixes (600k, 1.2M).
type siTicks struct{}

func (siTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = bench.SIRate(ticks[i].Value)
		}
	}
	return ticks
}
