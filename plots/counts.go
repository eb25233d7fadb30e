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
	unit := bench.CountUnit(name)
	var figs []*Figure
	for _, n := range cpus {
		p := newPlot(fmt.Sprintf("%s, %d CPUs: %s per writeback wake-up walk, ECDF", w, n, unit),
			countAxis(unit, "visited by the walk"), "fraction of wake-ups at or below")
		p.X.Tick.Marker = log10Ticks{countTicks(unit)}
		p.Y.Min, p.Y.Max = 0, 1
		f := &Figure{Name: fmt.Sprintf("walk-ecdf-%s-%dcpus", w, n), Plot: p, Legend: newLegend(), Width: 8 * vg.Inch, Height: 5 * vg.Inch}
		for _, r := range rs {
			c := r.Counts[name]
			if r.CPUs != n || c == nil || len(c.Quantiles) == 0 {
				continue
			}
			pts := make(plotter.XYs, len(c.Quantiles))
			for q, v := range c.Quantiles {
				pts[q] = plotter.XY{X: math.Log10(math.Max(v, 1)), Y: float64(q) / float64(len(c.Quantiles)-1)}
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
			f.addData(pts, line.Width)
			f.Legend.Add(r.Fix, line)
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// countAxis is the label of a log axis of count metric values in unit:
// a duration ("ns") reads in the unit its ticks give.
func countAxis(unit, what string) string {
	if unit == "ns" {
		return what + " (virtual time, log scale)"
	}
	return fmt.Sprintf("%s %s (log scale)", unit, what)
}

// countTicks marks a log axis of count metric values in unit: durations
// as such ("250µs"), counts as numbers.
func countTicks(unit string) plot.Ticker {
	if unit == "ns" {
		return durationTicks{plot.LogTicks{Prec: -1}}
	}
	return logTicks{}
}

// logTicks is plot.LogTicks without the ticks outside the axis.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	return inRange(plot.LogTicks{Prec: -1}.Ticks(min, max), min, max)
}
