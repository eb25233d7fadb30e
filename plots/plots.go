// Package plots draws a results directory's figures with gonum/plot, as PNG
// (to look at) and SVG (to attach): failure rates per fix variant with
// their confidence intervals, latency ECDFs and box plots per fix variant,
// and throughput against the number of simulated CPUs.
package plots

import (
	"bytes"
	"cmp"
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
	Name string
	Plot *plot.Plot
	// Legend, if not nil, is drawn in a strip right of the plot, outside
	// its axes: it never covers data, whatever the data (the plot's own
	// Plot.Legend stays empty).
	Legend        *plot.Legend
	Width, Height vg.Length

	// data is what the plot draws, for the test that the legend covers
	// none of it: each series' points in data coordinates, with the
	// half-size of the mark drawn at each.
	data []series
}

type series struct {
	pts    plotter.XYs
	radius vg.Length
}

func (f *Figure) addData(pts plotter.XYs, radius vg.Length) {
	f.data = append(f.data, series{pts, radius})
}

// legendPad is the space around the legend's strip.
const legendPad vg.Length = 10

// layout splits the figure's canvas c into the plot's part and, right of
// it, the legend's strip, which starts at the top of the plot's data area.
func (f *Figure) layout(c draw.Canvas) (plotC, legendC draw.Canvas) {
	if f.Legend == nil {
		return c, draw.Canvas{Canvas: c.Canvas}
	}
	w := f.Legend.Rectangle(c).Size().X
	if w == 0 {
		return c, draw.Canvas{Canvas: c.Canvas}
	}
	strip := w + 2*legendPad
	plotC = draw.Crop(c, 0, -strip, 0, 0)
	legendC = draw.Crop(c, c.Size().X-strip+legendPad, -legendPad, 0, 0)
	legendC.Max.Y = f.Plot.DataCanvas(plotC).Max.Y
	return plotC, legendC
}

// Render draws the figure in format ("png" or "svg"). gonum/plot panics on
// data it cannot draw (a log axis reaching zero): that is an error here.
func (f *Figure) Render(format string) ([]byte, error) {
	return f.render(format, true)
}

// render draws the figure, the legend only if legend (the test of the
// legend's place compares the two).
func (f *Figure) render(format string, legend bool) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("plot %s: cannot draw: %v", f.Name, r)
		}
	}()
	fixAxes(f.Plot)
	c, err := draw.NewFormattedCanvas(f.Width, f.Height, format)
	if err != nil {
		return nil, fmt.Errorf("plot %s: %v", f.Name, err)
	}
	dc := draw.New(c)
	plotC, legendC := f.layout(dc)
	f.Plot.Draw(plotC)
	if legend && f.Legend != nil {
		f.Legend.Draw(legendC)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %s: %v", f.Name, err)
	}
	return buf.Bytes(), nil
}

// newLegend is a legend for a figure's strip: icons on the left, names
// after them, entries from the top.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	return &l
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
	p.Add(plotter.NewGrid())
	return p
}

// strategyName is how a title names a record's sampler.
func strategyName(r *bench.Record) string {
	switch {
	case r.Strategy == "random":
		return "random walk"
	case bench.HasDepth(r.Strategy):
		return fmt.Sprintf("%s depth %d", r.Strategy, r.Depth)
	case r.Focus != "":
		return fmt.Sprintf("%s focus %s", r.Strategy, r.Focus)
	}
	return r.Strategy
}

// Legend entries of the failure plot's marks on zero counts.
const (
	legendVerified   = "verified: no interleaving fires it"
	legendUnproven   = "0 of n: not found, not proven"
	legendSearchOnly = "fails: found by the search only"
)

// failureRates: per fix variant (x) and failure id (one series each), the
// rate of runs in which it fired, per 100,000 runs, with the 95% Wilson
// interval as error bars. A zero count is drawn at the floor, marked by
// what the exhaustive search says of it: ringed in green, without an error
// bar, when the search verified it (no interleaving fires the id: the rate
// is exactly zero in the model); under a grey open triangle, with its
// rule-of-three bar, when nothing proves it (0 of n runs, and no search or
// one cut short); crossed out in red when the search contradicts it (it
// found an interleaving the random runs missed).
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
	none := len(ids) == 0
	if none {
		ids = []string{"(none fired)"}
	}
	p := newPlot(fmt.Sprintf("%s: failing runs per 100,000 (%s, %s runs per fix, 95%% Wilson CI)", w, strategyName(rs[0]), bench.Thousands(int64(rs[0].Runs))),
		"fix variant", "failing runs per 100,000 (log scale)")
	f := &Figure{Name: "failures-" + w, Plot: p, Legend: newLegend(), Width: 10 * vg.Inch, Height: 5 * vg.Inch}
	// The marks on zero counts are larger than a line of text.
	f.Legend.Padding = vg.Points(4)
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
	p.Y.Tick.Marker = log10Ticks{floorTicks{plot.LogTicks{Prec: -1}, floor}}
	p.Y.Min = math.Log10(floor / 2)
	width := 0.8 / float64(len(ids))
	var verified, unproven, searchOnly plotter.XYs
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
			pts[i] = plotter.XY{X: float64(i) + (float64(j)-float64(len(ids)-1)/2)*width, Y: math.Log10(y)}
			switch zeroMark(r, id, none) {
			case markVerified:
				verified = append(verified, pts[i])
				continue
			case markSearchOnly:
				searchOnly = append(searchOnly, pts[i])
			case markUnproven:
				unproven = append(unproven, pts[i])
			}
			barPts = append(barPts, pts[i])
			ly := math.Log10(y)
			errs = append(errs, struct{ Low, High float64 }{max(ly-math.Log10(max(lo*1e5, floor)), 0), max(math.Log10(max(hi*1e5, floor))-ly, 0)})
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
		f.addData(pts, s.GlyphStyle.Radius)
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
			for i, pt := range barPts {
				f.addData(plotter.XYs{{X: pt.X, Y: pt.Y - errs[i].Low}, {X: pt.X, Y: pt.Y + errs[i].High}}, eb.CapWidth/2)
			}
		}
		if !none {
			f.Legend.Add(id, s)
		}
	}
	// Room above the highest error bar, under the title.
	p.Y.Max += 0.1
	for _, m := range []struct {
		pts    plotter.XYs
		shape  draw.GlyphDrawer
		color  color.Color
		legend string
	}{
		{verified, ringGlyph{}, color.RGBA{G: 0x80, A: 0xff}, legendVerified},
		{unproven, triangleGlyph{}, color.Gray{Y: 0x60}, legendUnproven},
		{searchOnly, crossGlyph{}, color.RGBA{R: 0xd0, A: 0xff}, legendSearchOnly},
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
		f.addData(m.pts, s.GlyphStyle.Radius)
		f.Legend.Add(m.legend, s)
	}
	return f, nil
}

// mark is what the failure plot draws over a cell's count.
type mark int

const (
	markNone       mark = iota // a count above zero
	markVerified               // 0 of n, and the search verified the id
	markUnproven               // 0 of n, and nothing proves the rate zero
	markSearchOnly             // 0 of n, but the search found an interleaving
)

// zeroMark is the mark of failure id's count in r; none says the figure
// has no failure id (its one series is "no failure").
func zeroMark(r *bench.Record, id string, none bool) mark {
	if r.Failures[id] > 0 {
		return markNone
	}
	v, ok := r.Verdict(id)
	if none {
		v, ok = allVerified(r), true
	}
	switch {
	case ok && v == bench.Verified:
		return markVerified
	case ok && v == bench.Fails:
		return markSearchOnly
	}
	return markUnproven
}

// allVerified is the verdict of a cell on "no failure": verified when the
// search verified every failure id, unknown otherwise (fails cannot be:
// the id would have its own series).
func allVerified(r *bench.Record) bench.Verdict {
	if !r.Verified() {
		return bench.Unknown
	}
	for _, s := range r.Verdicts {
		if v, ok := bench.ParseVerdict(s); !ok || v != bench.Verified {
			return bench.Unknown
		}
	}
	return bench.Verified
}

// log10Ticks marks a linear axis of log10(v) at the ticks its Ticker gives
// for v on a log scale. The figures draw log10 of their values on a linear
// axis rather than use plot.LogScale: to pad the data area gonum places an
// axis label at the arithmetic middle of the range, which on a log axis
// leaves an empty band beside the data.
type log10Ticks struct{ plot.Ticker }

func (t log10Ticks) Ticks(min, max float64) []plot.Tick {
	ticks := t.Ticker.Ticks(math.Pow(10, min), math.Pow(10, max))
	for i := range ticks {
		ticks[i].Value = math.Log10(ticks[i].Value)
	}
	return ticks
}

// floorTicks labels the floor of the failure plot's log axis, where the
// zero counts are drawn, "0 of n".
type floorTicks struct {
	plot.Ticker
	floor float64
}

func (t floorTicks) Ticks(min, max float64) []plot.Tick {
	ticks := inRange(t.Ticker.Ticks(min, max), min, max)
	for i := range ticks {
		if math.Abs(ticks[i].Value-t.floor) < 1e-9*t.floor {
			ticks[i].Label = "0 of n"
		}
	}
	return ticks
}

// ringGlyph, triangleGlyph and crossGlyph are draw.RingGlyph,
// draw.TriangleGlyph (pointing down: an upper bound) and draw.CrossGlyph
// with a stroke that stands out over the series' own glyphs.
type ringGlyph struct{}

func (ringGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.5)})
	var p vg.Path
	p.Move(vg.Point{X: pt.X + sty.Radius, Y: pt.Y})
	p.Arc(pt, sty.Radius, 0, 2*math.Pi)
	p.Close()
	c.Stroke(p)
}

type triangleGlyph struct{}

func (triangleGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.5)})
	r := sty.Radius
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X + r*0.87, Y: pt.Y + r*0.5})
	p.Line(vg.Point{X: pt.X - r*0.87, Y: pt.Y + r*0.5})
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

// cpuRange names the CPU counts of a figure: "64 CPUs", "4-64 CPUs".
func cpuRange(cpus []int) string {
	if len(cpus) == 1 {
		return fmt.Sprintf("%d CPUs", cpus[0])
	}
	return fmt.Sprintf("%d-%d CPUs", cpus[0], cpus[len(cpus)-1])
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
	axis := fmt.Sprintf("latency (%s time, log scale)", clock)
	var figs []*Figure
	for _, n := range cpus {
		ecdf := &Figure{Name: fmt.Sprintf("latency-ecdf-%s-%dcpus", w, n), Legend: newLegend(), Width: 8 * vg.Inch, Height: 5 * vg.Inch,
			Plot: newPlot(fmt.Sprintf("%s, %d CPUs: %s latency in %s time, ECDF", w, n, op, clock), axis, "fraction of operations at or below")}
		ecdf.Plot.X.Tick.Marker = log10Ticks{durationTicks{plot.LogTicks{Prec: -1}}}
		ecdf.Plot.Y.Min, ecdf.Plot.Y.Max = 0, 1
		box := &Figure{Name: fmt.Sprintf("latency-box-%s-%dcpus", w, n), Width: 8 * vg.Inch, Height: 5 * vg.Inch,
			Plot: newPlot(fmt.Sprintf("%s, %d CPUs: %s latency in %s time, per fix", w, n, op, clock), "fix variant", axis)}
		box.Plot.Y.Tick.Marker = log10Ticks{durationTicks{plot.LogTicks{Prec: -1}}}
		var names []string
		for _, r := range rs {
			if r.CPUs != n {
				continue
			}
			l := r.Latency[op]
			if l == nil || len(l.Quantiles) == 0 {
				continue
			}
			pts := make(plotter.XYs, len(l.Quantiles))
			for q, v := range l.Quantiles {
				pts[q] = plotter.XY{X: math.Log10(math.Max(v, 1)), Y: float64(q) / float64(len(l.Quantiles)-1)}
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			c := slices.Index(fixes, r.Fix)
			line.Color = plotutil.Color(c)
			line.Dashes = plotutil.Dashes(c)
			line.Width = vg.Points(1.5)
			ecdf.Plot.Add(line)
			ecdf.addData(pts, line.Width)
			ecdf.Legend.Add(r.Fix, line)

			vals := make(plotter.Values, len(l.Quantiles))
			bpts := make(plotter.XYs, len(l.Quantiles))
			for q, v := range l.Quantiles {
				vals[q] = math.Log10(math.Max(v, 1))
				bpts[q] = plotter.XY{X: float64(len(names)), Y: vals[q]}
			}
			bp, err := plotter.NewBoxPlot(vg.Points(30), float64(len(names)), vals)
			if err != nil {
				return nil, err
			}
			bp.FillColor = withAlpha(plotutil.Color(c), 0x60)
			box.Plot.Add(bp)
			box.addData(bpts, bp.Width/2)
			names = append(names, r.Fix)
		}
		if len(names) == 0 {
			continue
		}
		box.Plot.NominalX(names...)
		figs = append(figs, ecdf, box)
	}
	thr := &Figure{Name: "throughput-" + w, Legend: newLegend(), Width: 8 * vg.Inch, Height: 5 * vg.Inch,
		Plot: newPlot(fmt.Sprintf("%s, %s: %s throughput (ops/s of %s time)", w, cpuRange(cpus), op, clock),
			"simulated CPUs (log scale)", fmt.Sprintf("%s per second of %s time (median of runs)", op, clock))}
	thr.Plot.X.Tick.Marker = log10Ticks{cpuTicks(cpus)}
	thr.Plot.Y.Min = 0
	thr.Plot.Y.Tick.Marker = siTicks{}
	for c, fix := range fixes {
		var pts plotter.XYs
		for _, r := range rs {
			if r.Fix == fix && r.Latency[op] != nil {
				pts = append(pts, plotter.XY{X: math.Log10(float64(max(r.CPUs, 1))), Y: median(r.Latency[op].RunOpsPerSec)})
			}
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = plotutil.Color(c), plotutil.Color(c)
		line.Dashes = plotutil.Dashes(c)
		points.Shape = plotutil.Shape(c)
		thr.Plot.Add(line, points)
		thr.addData(pts, points.Radius)
		thr.Legend.Add(fix, line, points)
	}
	// Room above the highest point, under the title.
	thr.Plot.Y.Max *= 1.05
	figs = append(figs, thr)
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

// durationTicks labels a time axis in nanoseconds with the unit that
// reads best ("80ns", "250µs", "1ms") at the ticks of the Ticker it wraps
// (plot.LogTicks, plot.DefaultTicks). On a log axis spanning less than
// three labelled powers of ten it labels the 2s and 5s too.
type durationTicks struct{ plot.Ticker }

func (t durationTicks) Ticks(min, max float64) []plot.Tick {
	ticks := inRange(t.Ticker.Ticks(min, max), min, max)
	labelled := 0
	for _, tk := range ticks {
		if tk.Label != "" {
			labelled++
		}
	}
	_, isLog := t.Ticker.(plot.LogTicks)
	for i, tk := range ticks {
		if tk.Label != "" || isLog && labelled < 3 && (mantissa(tk.Value) == 2 || mantissa(tk.Value) == 5) {
			ticks[i].Label = bench.NsDur(tk.Value)
		}
	}
	return ticks
}

// inRange drops the ticks outside [min, max]: plot.LogTicks labels the
// powers of ten around the range, and gonum pads the data area to make
// room for labels it does not draw.
func inRange(ticks []plot.Tick, min, max float64) []plot.Tick {
	return slices.DeleteFunc(ticks, func(t plot.Tick) bool {
		return t.Value < min*(1-1e-9) || t.Value > max*(1+1e-9)
	})
}

// mantissa is v's leading digit when v is a digit times a power of ten,
// else 0.
func mantissa(v float64) int {
	if v <= 0 {
		return 0
	}
	m := v / math.Pow10(int(math.Floor(math.Log10(v))))
	d := math.Round(m)
	if math.Abs(m-d) > 1e-9*d {
		return 0
	}
	return int(d)
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
