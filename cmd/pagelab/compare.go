package main

import (
	"flag"
	"io"

	"github.com/pagelab/pagelab/bench"
)

// cmdCompare compares two results directories cell by cell.
func cmdCompare(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	if err := parseFlags(fs, flagsOnly(args)); err != nil {
		return err
	}
	dirs := positional(args)
	if len(dirs) != 2 {
		return usagef("compare: want two results directories (pagelab compare results/OLD results/NEW)")
	}
	ma, a, err := bench.ReadResults(dirs[0])
	if err != nil {
		return usagef("compare: %v", err)
	}
	mb, b, err := bench.ReadResults(dirs[1])
	if err != nil {
		return usagef("compare: %v", err)
	}
	out, err := bench.Compare(dirs[0], ma, a, dirs[1], mb, b)
	if err != nil {
		return usagef("compare: %v", err)
	}
	_, err = io.WriteString(stdout, out)
	return err
}

// flagsOnly and positional split arguments into flags and the rest.
func flagsOnly(args []string) []string {
	var out []string
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' {
			out = append(out, a)
		}
	}
	return out
}

func positional(args []string) []string {
	var out []string
	for _, a := range args {
		if len(a) == 0 || a[0] != '-' {
			out = append(out, a)
		}
	}
	return out
}
