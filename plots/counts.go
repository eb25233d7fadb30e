package plots

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/pagelab/pagelab/bench"
)

// walkFigures: per CPU count, the ECDF (log x) of the entries each
// PG_writeback wake-up walk visited (the wb_wake_walk count), one line per
// fix variant. A walk that chases re-queued waiters (writeback-chase)
// shows as a tail reaching far past the number of tasks.
func walkFigures(w string, rs []*bench.Record) ([]*Figure, error) {
	const name = "wb_wake_walk"
	var cpus []int
	var fixes []string
	for _, r := range rs {
		if r.Counts[name] == nil {
			continue
		}
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
		p := newPlot(fmt.Sprintf("%s: wait-queue entries per writeback wake-up, %d CPUs (ECDF)", w, n),
			"entries the walk visited (log scale)", "fraction of wake-ups at or below")
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min, p.Y.Max = 0, 1
		for _, r := range rs {
			c := r.Counts[name]
			if r.CPUs != n || c == nil || len(c.Quantiles) == 0 {
				continue
			}
			pts := make(plotter.XYs, len(c.Quantiles))
			for q, v := range c.Quantiles {
				pts[q] = plotter.XY{X: math.Max(v, 1), Y: float64(q) / float64(len(c.Quantiles)-1)}
			}
			line, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			i := slices.Index(fixes, r.Fix)
			line.Color = plotutil.Color(i)
			line.Dashes = plotutil.Dashes(i)
			line.Width = vg.Points(1.5)
			p.Add(line)
			p.Legend.Add(r.Fix, line)
		}
		// Lower right: the lines climb from the left and end at 1 on the
		// right, so the corner under the top right stays clear.
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.YOffs = vg.Points(20)
		figs = append(figs, &Figure{Name: fmt.Sprintf("walk-ecdf-%s-%dcpus", w, n), Plot: p, Width: 8 * vg.Inch, Height: 5 * vg.Inch})
	}
	return figs, nil
}
