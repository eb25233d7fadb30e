package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/report"
)

// cmdCompare compares two results directories cell by cell; with -html
// it also writes the comparison as a page.
func cmdCompare(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var html string
	fs.StringVar(&html, "html", "", "also write the comparison as one self-contained HTML page to this file")
	flagArgs, dirs := splitArgs(args, "html")
	if err := parseFlags(fs, flagArgs); err != nil {
		return err
	}
	htmlSet := false
	fs.Visit(func(f *flag.Flag) { htmlSet = htmlSet || f.Name == "html" })
	if len(dirs) != 2 {
		return usagef("compare: want two results directories (pagelab compare [-html FILE] results/OLD results/NEW)")
	}
	if htmlSet {
		if html == "" {
			return usagef("compare: -html: want a file name (pagelab compare -html FILE OLD NEW)")
		}
		if err := checkOutFile("compare", "-html", html); err != nil {
			return err
		}
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
	if htmlSet {
		page, err := report.Compare(dirs[0], ma, a, dirs[1], mb, b, out)
		var fe *report.FileError
		switch {
		case errors.As(err, &fe):
			return usagef("compare: %v", fe)
		case err != nil:
			return fmt.Errorf("compare: %v", err)
		}
		if err := bench.WriteFileAtomic(html, page); err != nil {
			return fmt.Errorf("compare: writing the page (-html %s): %v", html, err)
		}
	}
	_, err = io.WriteString(stdout, out)
	return err
}

// splitArgs splits arguments into flags (with the values of the named
// flags that take one, given as -name value) and the rest.
func splitArgs(args []string, valued ...string) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if slices.Contains(valued, name) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, rest
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
