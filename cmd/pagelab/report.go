package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/report"
)

// cmdReport (re)writes a results directory's report.html from its files.
func cmdReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	if err := parseFlags(fs, flagsOnly(args)); err != nil {
		return err
	}
	dirs := positional(args)
	if len(dirs) != 1 {
		return usagef("report: want one results directory (pagelab report results/NAME)")
	}
	dir := dirs[0]
	m, recs, err := bench.ReadResults(dir)
	if err != nil {
		return usagef("report: %v", err)
	}
	if err := writeReport(dir, m, recs); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = fmt.Fprintln(stdout, filepath.Join(dir, report.File))
	return err
}

// writeReport writes dir/report.html; a picture of the directory that
// cannot be embedded is bad input.
func writeReport(dir string, m *bench.Manifest, recs []*bench.Record) error {
	err := report.WriteRecords(dir, m, recs)
	var fe *report.FileError
	if errors.As(err, &fe) {
		return usageError{fmt.Sprintf("%v (pagelab plot %s redraws the plots)", fe, dir)}
	}
	return err
}
