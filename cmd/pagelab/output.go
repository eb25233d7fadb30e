package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/hunt"
	"github.com/pagelab/pagelab/internal/textwrap"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/workloads"
)

// checkOutFile refuses, before any work, a file the command is asked to
// write at its end but could not or should not: a path that exists and is
// not a regular file or is a file of a results directory (compare -html
// results/NEW/results.jsonl would destroy what it reads), a name too long
// for the file system, or a directory that does not exist, is not a
// directory or is not writable. A long hunt or sweep must not run for an
// hour and then lose its table to a typo. The empty path is a flag left
// off.
func checkOutFile(cmd, flagName, path string) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return usagef("%s: %s %s: not a regular file", cmd, flagName, path)
	case err == nil:
		// The results directory's own files, and those of its
		// diagrams/ and plots/.
		dir := filepath.Dir(path)
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if _, err := os.Stat(filepath.Join(d, bench.ManifestFile)); err == nil {
				return usagef("%s: %s %s: a file of the results directory %s (choose a path outside it)", cmd, flagName, path, d)
			}
		}
		return nil
	case errors.Is(err, syscall.ENAMETOOLONG):
		return usagef("%s: %s %s: name too long for the file system", cmd, flagName, path)
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usagef("%s: %s %s: directory %s does not exist", cmd, flagName, path, dir)
	case err != nil:
		return usagef("%s: %s %s: %v", cmd, flagName, path, err)
	case !di.IsDir():
		return usagef("%s: %s %s: %s is not a directory", cmd, flagName, path, dir)
	case syscall.Access(dir, 2) != nil: // W_OK
		return usagef("%s: %s %s: directory %s is not writable", cmd, flagName, path, dir)
	}
	return nil
}

func writeJSON(w io.Writer, c *bench.Cell) error { return bench.NewRecord(c).WriteJSON(w) }

// writeTable prints, per workload, the LKP-style table of failing runs per
// fix variant and failure id, then the first failing schedule of each.
func writeTable(w io.Writer, cells []*bench.Cell) error {
	var b strings.Builder
	for i := 0; i < len(cells); {
		j := i
		for j < len(cells) && cells[j].Workload == cells[i].Workload {
			j++
		}
		writeWorkloadTable(&b, cells[i:j])
		i = j
	}
	for _, c := range cells {
		if c.Partial {
			fmt.Fprintf(&b, "%s\n\n", textwrap.Wrap(fmt.Sprintf("PARTIAL: %s under %s was interrupted after %d of %d runs; its row counts those runs only.",
				c.Workload, c.Fix, c.Runs, c.Planned), 78, 0))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeWorkloadTable(b *strings.Builder, cells []*bench.Cell) {
	c0 := cells[0]
	if c0.CPUs > 0 {
		writeLatencyTable(b, cells)
		return
	}
	fmt.Fprintf(b, "%s  strategy=%s", c0.Workload, c0.Strategy)
	if bench.DepthOf(c0.Strategy, c0.Depth) > 0 {
		fmt.Fprintf(b, " depth=%d", c0.Depth)
	}
	if c0.Strategy == "dfs" {
		fmt.Fprintf(b, " preemptions<=%d", c0.Depth)
	}
	if c0.Focus != "" {
		fmt.Fprintf(b, " focus=%s", c0.Focus)
	}
	fmt.Fprintf(b, " seed=%d", c0.Seed)
	if note := bench.SamplerNote(c0.Workload, c0.Strategy, c0.Focus); note != "" {
		fmt.Fprintf(b, "\n%s", textwrap.Wrap(note, 72, 0))
	}
	if len(c0.Params) > 0 {
		fmt.Fprintf(b, "\nparameters: %s", textwrap.Wrap(strings.Join(c0.Params, " "), 68, 12))
	}
	b.WriteString("\n\n")

	var ids []mm.Failure
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		for _, c := range cells {
			if c.Failures[f] > 0 {
				ids = append(ids, f)
				break
			}
		}
	}
	fixW := len("fix")
	for _, c := range cells {
		fixW = max(fixW, len(c.Fix))
	}
	// One column per failure id that fired, as fail:runs counts; if they
	// do not fit in 80 columns, one line per fix listing id=count.
	width := fixW + 2 + 8 + 2 + 8
	for _, f := range ids {
		width += 2 + max(len(f.String()), 6)
	}
	if width <= 80 {
		fmt.Fprintf(b, "%-*s  %8s  %8s", fixW, "fix", "runs", "failing")
		for _, f := range ids {
			fmt.Fprintf(b, "  %*s", max(len(f.String()), 6), f)
		}
		b.WriteByte('\n')
		for _, c := range cells {
			fmt.Fprintf(b, "%-*s  %8d  %8d", fixW, c.Fix, c.Runs, c.Failing)
			for _, f := range ids {
				fmt.Fprintf(b, "  %*d", max(len(f.String()), 6), c.Failures[f])
			}
			b.WriteByte('\n')
		}
	} else {
		fmt.Fprintf(b, "%-*s  %8s  %8s  %s\n", fixW, "fix", "runs", "failing", "failure ids (runs)")
		for _, c := range cells {
			var parts []string
			for _, f := range ids {
				if c.Failures[f] > 0 {
					parts = append(parts, fmt.Sprintf("%s=%d", f, c.Failures[f]))
				}
			}
			if len(parts) == 0 {
				parts = []string{"-"}
			}
			fmt.Fprintf(b, "%-*s  %8d  %8d  %s\n", fixW, c.Fix, c.Runs, c.Failing, textwrap.Wrap(strings.Join(parts, " "), 80-fixW-22, fixW+22))
		}
	}
	if c0.Strategy == "dfs" || c0.Strategy == "dpor" {
		b.WriteString("\n")
		for _, c := range cells {
			state := "exhausted: every interleaving within the bound was run"
			if c.Strategy == "dpor" {
				state = "exhausted: every reachable state was explored"
			}
			if !c.Exhausted {
				state = "NOT exhausted: stopped at the -runs limit or the search's budget"
			}
			unit := "schedules"
			if c.Strategy == "dpor" {
				unit = "executions"
			}
			fmt.Fprintf(b, "%-*s  %s\n", fixW, c.Fix, textwrap.Wrap(fmt.Sprintf("%d %s, %s", c.Runs, unit, state), 78-fixW, fixW+2))
		}
	}
	for _, c := range cells {
		if note := bench.BoundNote(c.Strategy, c.Depth, c.PCTBound, c.PCTN, c.PCTK); note != "" {
			b.WriteString("\n" + textwrap.Wrap(note, 80, 0) + "\n")
			break
		}
	}
	if note := focusPointsNote(cells); note != "" {
		b.WriteString("\n" + textwrap.Wrap(note, 80, 0) + "\n")
	}
	if note := zeroNote(cells); note != "" {
		fmt.Fprintf(b, "\n%s\n", note)
	}
	first := true
	for _, c := range cells {
		for _, f := range ids {
			if c.Failures[f] == 0 {
				continue
			}
			if first {
				b.WriteString("\n" + textwrap.Wrap("first failing run per (fix, failure id), shrunk to the fewest context switches up to the failure that still fire it: replay with pagelab replay -schedule, draw with pagelab diagram -schedule (-json gives the run's own schedules):", 80, 0) + "\n")
				first = false
			}
			// What is printed is the shrunk schedule and the report its
			// replay raises; the run's own first failing schedule, often
			// fifteen or more switches of which two or three make the
			// race, stays in -json's first_failure.
			where, body := bench.FailureText(c.First[f], c.FirstReport[f], f, "")
			fmt.Fprintf(b, "\n%s %s%s:\n%s", c.Fix, f, where, body)
		}
	}
	b.WriteByte('\n')
}

// writeLatencyTable prints a timed workload's primary operation per fix and
// CPU count: throughput and latency percentiles in virtual time.
func writeLatencyTable(b *strings.Builder, cells []*bench.Cell) {
	c0 := cells[0]
	w, _ := workloads.Lookup(c0.Workload)
	op := mm.OpNames[w.PrimaryOp]
	fmt.Fprintf(b, "%s  strategy=%s seed=%d runs=%d", c0.Workload, c0.Strategy, c0.Seed, c0.Runs)
	if len(c0.Params) > 0 {
		fmt.Fprintf(b, "\nparameters: %s", textwrap.Wrap(strings.Join(c0.Params, " "), 68, 12))
	}
	clock := "virtual time, deterministic for the seed"
	if c0.Strategy == "native" {
		clock = "wall-clock time, GOMAXPROCS=cpus"
	}
	fmt.Fprintf(b, "\n%s latency in %s;\npercentiles over all runs\n\n", op, clock)
	// A fix name wider than 19 columns (a composition) gets a line of
	// its own: a row is the fix column and 61 more.
	fixW := len("fix")
	for _, c := range cells {
		fixW = max(fixW, min(len(c.Fix), 19))
	}
	fmt.Fprintf(b, "%-*s %4s %7s %7s %7s %7s %7s %7s %7s\n", fixW, "fix", "cpus", "ops/s", "p50", "p99", "p99.9", "max", "wake/op", "spur/op")
	var failing []string
	for _, c := range cells {
		l := c.Latency(op)
		if l == nil {
			l = &bench.Latency{}
		}
		fmt.Fprintf(b, "%-*s %4d %7s %7s %7s %7s %7s %7.2f %7.2f\n", fixW, bench.FixColumn(b, "", c.Fix, fixW), c.CPUs,
			siRate(l.PerSec), nsDur(l.P50), nsDur(l.P99), nsDur(l.P999), nsDur(float64(l.Max)), l.WakeupsPerOp(), l.SpuriousPerOp())
		for f := mm.Failure(0); f < mm.NumFailures; f++ {
			if c.Failures[f] > 0 {
				failing = append(failing, fmt.Sprintf("%s at %d cpus: %s in %d/%d runs", c.Fix, c.CPUs, f, c.Failures[f], c.Runs))
			}
		}
	}
	if len(failing) > 0 {
		fmt.Fprintf(b, "\nfailures in %s runs:\n", cells[0].Strategy)
		for _, f := range failing {
			fmt.Fprintf(b, "  %s\n", f)
		}
	}
	b.WriteByte('\n')
}

func nsDur(ns float64) string { return bench.NsDur(ns) }

func siRate(r float64) string { return bench.SIRate(r) }

// zeroNote is the caveat a sampled table needs on its zeros, or "". An
// aimed sampler (not the walk, not a search) was measured on the seed
// races (pagelab hunt), each under its seed's fix and parameters; a zero
// it leaves elsewhere bounds the rate under that sampler and may be its
// blind spot, not the fix. Such zeros are a failure id left at 0 under
// one fix and fired under another in the same table, and a seed race's
// failure id left at 0, at its seed's parameters, under a fix that is
// not the seed's (a developer's own fix, run alone, is the case that
// matters most: nothing beside it fired). The caveat ends with the
// verify command that decides them and the hunt command that compares
// the samplers on them, naming exactly their fixes (in the table's
// order, or all) and failure ids, unwrapped so that they can be pasted.
func zeroNote(cells []*bench.Cell) string {
	c0 := cells[0]
	switch c0.Strategy {
	case "random", "dfs", "dpor":
		return ""
	}
	params := strings.Join(c0.Params, ",")
	seeds := seedFixes(c0.Workload, params)
	var ids []string // the failure ids with such a zero
	zeroFix := map[string]bool{}
	for f := range mm.NumFailures {
		fired := slices.ContainsFunc(cells, func(c *bench.Cell) bool { return c.Failures[f] > 0 })
		seedFix, seeded := seeds[f]
		zero := false
		for _, c := range cells {
			if c.Partial || c.Failures[f] > 0 {
				continue
			}
			if fired || (seeded && !seedFix[c.Fix]) {
				zero = true
				zeroFix[c.Fix] = true
			}
		}
		if zero {
			ids = append(ids, f.String())
		}
	}
	if len(ids) == 0 {
		return ""
	}
	var fixes []string // in the table's order; all: the workload's every variant
	for _, c := range cells {
		if zeroFix[c.Fix] && !slices.Contains(fixes, c.Fix) {
			fixes = append(fixes, c.Fix)
		}
	}
	if wl, err := workloads.Lookup(c0.Workload); err == nil && len(fixes) == len(wl.Fixes) &&
		!slices.ContainsFunc(wl.Fixes, func(f string) bool { return !zeroFix[f] }) {
		fixes = []string{"all"}
	}
	var b strings.Builder
	b.WriteString(textwrap.Wrap(fmt.Sprintf("zeros: %s aims its preemptions, and a fix moves a race: a zero under a fix bounds the rate under this sampler and may be its blind spot, not the fix. Under no-waiters-check race A's BUG_ON fires in 14 of 1,000,000 random walks and in none of 100,000 runs of pct-irq at depth 6, writeback-restart's default, chosen on the seed race under baseline (README, pagelab hunt). For the zeros here that may be such (a failure id fired under another fix, or a seed race's under a fix not the seed's), pagelab verify searches every interleaving and pagelab hunt compares the samplers:",
		c0.Strategy), 80, 0))
	p := ""
	if params != "" {
		p = " -param " + params
	}
	fmt.Fprintf(&b, "\n  pagelab verify -workload %s -fix %s%s\n", c0.Workload, strings.Join(fixes, ","), p)
	fmt.Fprintf(&b, "  pagelab hunt -workload %s -fix %s%s -failure %s", c0.Workload, strings.Join(fixes, ","), p, strings.Join(ids, ","))
	return b.String()
}

// seedFixes maps each failure id a seed race of workload wl expects at
// parameters params (non-default name=value pairs, as a cell keeps them)
// to the fixes of those seeds: what the workload's default sampler was
// chosen on.
func seedFixes(wl, params string) map[mm.Failure]map[string]bool {
	ts, err := hunt.Targets()
	if err != nil {
		panic(err) // the seed files are compiled in and parsed by the tests
	}
	out := map[mm.Failure]map[string]bool{}
	for _, t := range ts {
		if t.Workload.ID != wl || t.ParamArg() != params {
			continue
		}
		if out[t.Failure] == nil {
			out[t.Failure] = map[string]bool{}
		}
		out[t.Failure][t.Fix.ID] = true
	}
	return out
}

// focusPointsNote says where pct-point's focus put its change points: the
// racy points of each fix's profile that touched the focus, the fixes
// with the same points together ("" when no cell has them).
func focusPointsNote(cells []*bench.Cell) string {
	type group struct{ fixes, points []string }
	var groups []*group
	focus := ""
	for _, c := range cells {
		if len(c.FocusPoints) == 0 {
			continue
		}
		focus = c.Focus
		if i := slices.IndexFunc(groups, func(g *group) bool { return slices.Equal(g.points, c.FocusPoints) }); i >= 0 {
			groups[i].fixes = append(groups[i].fixes, c.Fix)
			continue
		}
		groups = append(groups, &group{fixes: []string{c.Fix}, points: c.FocusPoints})
	}
	if len(groups) == 0 {
		return ""
	}
	var parts []string
	for _, g := range groups {
		where := fmt.Sprintf("%d racy point", len(g.points))
		if len(g.points) > 1 {
			where += "s"
		}
		if len(groups) > 1 {
			where = "under " + strings.Join(g.fixes, ", ") + ", " + where
		}
		parts = append(parts, where+" ("+strings.Join(g.points, ", ")+")")
	}
	return fmt.Sprintf("pct-point focus=%s: its change points are first arrivals at the racy points whose steps touched the focus in the profile: %s.", focus, strings.Join(parts, "; "))
}
