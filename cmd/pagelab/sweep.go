package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/plots"
	"github.com/pagelab/pagelab/sweep"
	"github.com/pagelab/pagelab/workloads"
)

// cmdSweep is `pagelab sweep`: a latency workload's throughput over a grid
// of one swept parameter (columns) and variants (rows), with the ratios to
// the first variant. The defaults are Larabel's page-lock fairness sweep.
func cmdSweep(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	var wlID, axis, variants, base, costs, markdown, plotFile string
	var cpus, count, jobs int
	var seed uint64
	fs.StringVar(&wlID, "workload", sweep.DefaultWorkload, "the latency workload")
	fs.StringVar(&axis, "param", sweep.DefaultAxis, "the swept parameter and its values, name=v1,v2,... (lock-storm's tasks: concurrent users)")
	fs.StringVar(&variants, "variants", sweep.DefaultVariants, "the rows, separated by ';': fix[:name=value,...], a fix variant with parameters of its own (kernel: unfairness, walk_break, ...); ratios are to the first")
	fs.StringVar(&base, "base", sweep.DefaultBase, "parameters of every cell, name=value,... (empty: the workload's defaults)")
	fs.IntVar(&cpus, "cpus", sweep.DefaultCPUs, "simulated CPUs (1 to 256)")
	fs.IntVar(&count, "count", sweep.DefaultCount, "timed runs per cell (1 to 1000)")
	fs.Uint64Var(&seed, "seed", 1, "seed of the timed runs")
	fs.StringVar(&costs, "cost", "", "cost-model overrides name=ns,... (as pagelab run)")
	fs.IntVar(&jobs, "j", runtime.GOMAXPROCS(0), "goroutines (the output is the same, byte for byte, for any value)")
	fs.StringVar(&markdown, "markdown", "", "also write the table as Markdown to this file")
	fs.StringVar(&plotFile, "plot", "", "also draw throughput against the swept parameter, one line per variant, to this .svg or .png file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	wl, err := workloads.Lookup(wlID)
	if err != nil {
		return usagef("sweep: %v", err)
	}
	if err := sweep.CheckWorkload(wl); err != nil {
		return usagef("sweep: %v", err)
	}
	ax, err := sweep.ParseAxis(wl, axis)
	if err != nil {
		return usagef("sweep: %v", err)
	}
	vs, err := sweep.ParseVariants(wl, variants)
	if err != nil {
		return usagef("sweep: %v", err)
	}
	bs, err := sweep.ParseBase(wl, base)
	if err != nil {
		return usagef("sweep: %v", err)
	}
	cm, err := parseCosts(costs)
	if err != nil {
		return usagef("sweep: %s", strings.TrimPrefix(err.Error(), "run: "))
	}
	if jobs < 1 || jobs > 256 {
		return usagef("sweep: -j %d out of range (valid: 1 to 256)", jobs)
	}
	format := ""
	if plotFile != "" {
		switch ext := filepath.Ext(plotFile); ext {
		case ".svg", ".png":
			format = ext[1:]
		default:
			return usagef("sweep: -plot %q: want a file name ending in .svg or .png", plotFile)
		}
	}
	if err := checkOutFile("sweep", "-markdown", markdown); err != nil {
		return err
	}
	if err := checkOutFile("sweep", "-plot", plotFile); err != nil {
		return err
	}
	if markdown != "" && plotFile != "" && filepath.Clean(markdown) == filepath.Clean(plotFile) {
		return usagef("sweep: -markdown and -plot are the same file %s: the plot would replace the table", plotFile)
	}
	cfg := &sweep.Config{Workload: wl, Axis: ax, Variants: vs, Base: bs, CPUs: cpus, Count: count, Seed: seed,
		Costs: cm, Jobs: jobs}
	cells, err := cfg.Cells()
	if err != nil {
		return usagef("sweep: %v", err)
	}
	in := watchInterrupt()
	defer in.release()
	cfg.Stop = in.stopped
	if isTerminal(stderr) {
		bar := newBar(stderr, len(cells), "sweep")
		cfg.CellDone = func() { bar.Add(1) }
		defer bar.Finish()
	}
	res, err := sweep.Run(cfg)
	interrupted := errors.Is(err, sweep.ErrInterrupted)
	if err != nil && !interrupted {
		return err
	}
	// The table goes to stdout before the files are written, so that a
	// disk that fills up at the end does not take it with it.
	var out, md bytes.Buffer
	if err := sweep.Write(&out, res, false); err != nil {
		return err
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if markdown != "" {
		if err := sweep.Write(&md, res, true); err != nil {
			return err
		}
		if err := bench.WriteFileAtomic(markdown, md.Bytes()); err != nil {
			return fmt.Errorf("sweep: writing -markdown %s: %v (the table is on stdout)", markdown, err)
		}
	}
	if plotFile != "" && len(res.Rows) > 0 {
		xs, names, ys := res.Lines()
		xlabel := ax.Name
		if wl.ID == "lock-storm" && ax.Name == "tasks" {
			xlabel = "concurrent users (tasks)"
		}
		b, err := plots.Sweep(&plots.SweepPlot{Workload: wl.ID, CPUs: cpus, Op: res.Op, XLabel: xlabel,
			Xs: xs, Names: names, Ys: ys}, format)
		if err != nil {
			return err
		}
		if err := bench.WriteFileAtomic(plotFile, b); err != nil {
			return fmt.Errorf("sweep: writing -plot %s: %v (the table is on stdout)", plotFile, err)
		}
	}
	if interrupted {
		return in.errorf("kept the %d of %d rows finished", len(res.Rows), len(vs))
	}
	return nil
}
