package plots

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// SweepPlot is the data of a sweep's figure: throughput against the swept
// parameter, one line per variant.
type SweepPlot struct {
	Workload string
	CPUs     int
	Op       string // the operation counted, e.g. lock_page
	XLabel   string // the swept parameter, with its unit
	Xs       []float64
	Names    []string    // one per line
	Ys       [][]float64 // Ys[i][j]: line i at Xs[j], per second
}

// Sweep draws p as "svg" or "png": the lines with their points, a linear
// x axis labelled at the swept values, the y axis from zero in operations
// per second of virtual time, and the legend beside the plot.
func Sweep(p *SweepPlot, format string) ([]byte, error) {
	if format != "svg" && format != "png" {
		return nil, fmt.Errorf("sweep plot: unknown format %q (valid: svg, png)", format)
	}
	f, err := sweepFigure(p)
	if err != nil {
		return nil, err
	}
	b, err := f.Render(format)
	if err != nil {
		return nil, fmt.Errorf("sweep plot: %v", err)
	}
	return b, nil
}

func sweepFigure(p *SweepPlot) (*Figure, error) {
	if len(p.Names) != len(p.Ys) || len(p.Xs) == 0 {
		return nil, fmt.Errorf("sweep plot: %d lines with %d series over %d values", len(p.Names), len(p.Ys), len(p.Xs))
	}
	pl := newPlot(fmt.Sprintf("%s, %d CPUs: %s throughput (ops/s of virtual time)", p.Workload, p.CPUs, p.Op),
		p.XLabel, fmt.Sprintf("%s per second of virtual time", p.Op))
	f := &Figure{Name: "sweep-" + p.Workload, Plot: pl, Legend: newLegend(), Width: 9 * vg.Inch, Height: 5 * vg.Inch}
	ticks := make(cpuTicks, len(p.Xs))
	for i, x := range p.Xs {
		ticks[i] = int(x)
	}
	pl.X.Tick.Marker = ticks
	pl.Y.Min = 0
	pl.Y.Tick.Marker = siTicks{}
	top := 0.0
	for i, name := range p.Names {
		if len(p.Ys[i]) != len(p.Xs) {
			return nil, fmt.Errorf("sweep plot: line %s has %d points for %d values", name, len(p.Ys[i]), len(p.Xs))
		}
		pts := make(plotter.XYs, len(p.Xs))
		for j, x := range p.Xs {
			pts[j] = plotter.XY{X: x, Y: p.Ys[i][j]}
			top = math.Max(top, p.Ys[i][j])
		}
		slices.SortFunc(pts, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		line.Color, points.Color = plotutil.Color(i), plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i)
		line.Width = vg.Points(1.5)
		points.Shape = plotutil.Shape(i)
		pl.Add(line, points)
		f.addData(pts, points.Radius)
		f.Legend.Add(name, line, points)
	}
	pl.Y.Max = math.Max(top*1.05, 1)
	return f, nil
}
