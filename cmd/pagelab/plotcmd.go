package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/plots"
)

// cmdPlot redraws a results directory's plots and race diagrams from its
// results.jsonl (as pagelab bench drew them: the same files, byte for
// byte).
func cmdPlot(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	if err := parseFlags(fs, flagsOnly(args)); err != nil {
		return err
	}
	dirs := positional(args)
	if len(dirs) != 1 {
		return usagef("plot: want one results directory (pagelab plot results/NAME)")
	}
	dir := dirs[0]
	_, recs, err := bench.ReadResults(dir)
	if err != nil {
		return usagef("plot: %v", err)
	}
	// Build every figure before writing any: bad data writes nothing.
	if _, err := plots.Figures(recs); err != nil {
		return usagef("plot: %s: %v", dir, err)
	}
	files, err := plots.Draw(dir, recs)
	if err != nil {
		return err
	}
	diagrams, err := drawDiagrams(dir, recs, stderr)
	if err != nil {
		return err
	}
	files = append(files, diagrams...)
	for _, f := range files {
		fmt.Fprintln(stdout, filepath.Join(dir, f))
	}
	return nil
}
