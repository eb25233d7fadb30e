package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/hunt"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/perf/benchfmt"
)

// cmdHunt is `pagelab hunt`: the search-power table. For every seed
// interleaving's failure id (or, with -workload, every failure id of
// -failure under every fix of -fix) and every sampling strategy, the
// probability that one execution fires it and the time to the first
// failure.
func cmdHunt(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hunt", flag.ContinueOnError)
	var targets, strategies string
	var runs, refRuns, seeds, depth, jobs, maxTTF, campaign int
	var seed uint64
	var markdown, benchOut, workload, fix, params, failures string
	fs.StringVar(&targets, "target", "all", "seed interleavings, comma-separated, or all (see pagelab list: -script names)")
	fs.StringVar(&workload, "workload", "", "instead of -target: hunt -failure in this race workload, with -param, under -fix (a race no seed scripts, or a seed's race under a candidate fix)")
	fs.StringVar(&fix, "fix", "baseline", "fix variants, comma-separated ('+' composes), or all: each target under each that applies to its workload (with -target, a seed's race under a candidate fix)")
	fs.StringVar(&params, "param", "", "with -workload: workload parameters name=value,name=value")
	fs.StringVar(&failures, "failure", "", "with -workload: failure ids to hunt, comma-separated (see pagelab list)")
	fs.StringVar(&strategies, "strategy", strings.Join(hunt.Strategies, ","), "strategies to compare, comma-separated: "+strings.Join(hunt.Samplers, ", ")+"; the PCT variants at -depth, or at depth d as name:d; greybox:d and greybox-irq:d bound their genomes to d-1 change points and d edits; surw:focus and pct-point:focus (or pct-point:d:focus) give a focus, and surw:all and pct-point:all (pct-point:d:all) a row per focus the target's steps touch: a sweep for the race's variable")
	fs.IntVar(&runs, "runs", 100000, "executions per rate")
	fs.IntVar(&refRuns, "reference-runs", 0, "executions of the random walk's rate, the reference of × random (0: 10 × -runs)")
	fs.IntVar(&seeds, "seeds", 100, "seeds for the median time to the first failure")
	fs.IntVar(&depth, "depth", 3, "PCT bug depth d of pct, pct-racy, pct-task, pct-irq and pct-point without their own :d (1 to 64)")
	fs.IntVar(&jobs, "j", runtime.GOMAXPROCS(0), "goroutines for the rates (the times to first failure run on one)")
	fs.IntVar(&maxTTF, "max-ttf-runs", 2_000_000, "executions one (target, strategy) may spend on its times to first failure; past that the median is estimated from the rate")
	fs.IntVar(&campaign, "campaign-runs", 50_000, "executions a greybox or greybox-irq campaign may spend on one seed's first failure (its executions are not independent: no estimate from the rate)")
	fs.Uint64Var(&seed, "seed", 1, "seed of the rates; the times to first failure use seeds seed..seed+seeds-1")
	fs.StringVar(&markdown, "markdown", "", "also write the table (the README's), its footnotes and what it found as Markdown to this file")
	fs.StringVar(&benchOut, "bench", "", "also write the rows in the Go benchmark format to this file: each seed's first failure (ns, executions, hand-offs, found, ns per execution) and each row's rate, for go tool benchstat (-col /strategy; or old.txt new.txt across revisions)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ts, err := huntTargets(fs, targets, workload, fix, params, failures)
	if err != nil {
		return err
	}
	var ss []string
	for _, s := range strings.Split(strategies, ",") {
		if _, err := hunt.ParseStrategy(s); err != nil {
			return usagef("hunt: %v", err)
		}
		ss = append(ss, s)
	}
	switch {
	case runs < 1 || runs > 1e9:
		return usagef("hunt: -runs %d out of range (valid: 1 to 1000000000)", runs)
	case refRuns < 0 || refRuns > 1e9:
		return usagef("hunt: -reference-runs %d out of range (valid: 0 to 1000000000; 0: 10 × -runs)", refRuns)
	case seeds < 1 || seeds > 1e6:
		return usagef("hunt: -seeds %d out of range (valid: 1 to 1000000)", seeds)
	case depth < 1 || depth > bench.MaxDepth:
		return usagef("hunt: -depth %d out of range (valid: 1 to %d)", depth, bench.MaxDepth)
	case jobs < 1 || jobs > 256:
		return usagef("hunt: -j %d out of range (valid: 1 to 256)", jobs)
	case maxTTF < 1:
		return usagef("hunt: -max-ttf-runs %d: want at least 1", maxTTF)
	case campaign < 1:
		return usagef("hunt: -campaign-runs %d: want at least 1", campaign)
	case seed > math.MaxUint64-uint64(seeds)-hunt.Campaigns:
		// The first failures take seed..seed+seeds-1 and greybox's
		// campaigns the next ones: none may wrap around to 0.
		return usagef("hunt: -seed %d out of range (valid: 0 to %d with -seeds %d)", seed, uint64(math.MaxUint64)-uint64(seeds)-hunt.Campaigns, seeds)
	}
	if err := checkOutFile("hunt", "-markdown", markdown); err != nil {
		return err
	}
	if err := checkOutFile("hunt", "-bench", benchOut); err != nil {
		return err
	}
	if markdown != "" && filepath.Clean(markdown) == filepath.Clean(benchOut) {
		return usagef("hunt: -markdown and -bench are the same file %s (choose two)", markdown)
	}
	// A strategy given twice would run twice and print two rows for one
	// sampler; "pct" and "pct:3" are the same one at -depth 3.
	seen := map[string]string{}
	for _, s := range ss {
		sp, _ := hunt.ParseStrategy(s)
		key := sp.Key(depth)
		if prev, ok := seen[key]; ok {
			if prev == s {
				return usagef("hunt: strategy %q given twice", s)
			}
			return usagef("hunt: strategies %q and %q are the same at -depth %d", prev, s, depth)
		}
		seen[key] = s
	}
	if refRuns == 0 {
		refRuns = min(10*runs, 1e9)
	}
	in := watchInterrupt()
	defer in.release()
	start := time.Now()
	cfg := &hunt.Config{Targets: ts, Strategies: ss, Depth: depth, Seed: seed, Runs: runs, ReferenceRuns: refRuns, Seeds: seeds,
		MaxTTFRuns: maxTTF, CampaignRuns: campaign, Jobs: jobs, Now: func() time.Duration { return time.Since(start) }, Stop: in.stopped,
		Handoff: sim.HandoffSample}
	if isTerminal(stderr) {
		// A sweep's rows are known once the targets are profiled: the
		// bar starts when Run has planned them.
		var bar *progressbar.ProgressBar
		cfg.Planned = func(n int) { bar = newBar(stderr, n, "hunt") }
		cfg.Progress = func(*hunt.Row) { bar.Add(1) } // nil: a row left out
		defer func() {
			if bar != nil {
				bar.Finish()
			}
		}()
	}
	rows, err := hunt.Run(cfg)
	if fe := (*bench.FocusError)(nil); errors.As(err, &fe) {
		return usagef("hunt: %v", err) // before any row: nothing to keep
	}
	if err != nil && !errors.Is(err, hunt.ErrInterrupted) {
		return err
	}
	// The table goes to stdout before the Markdown file is written, so
	// that a disk that fills up at the end does not take it with it.
	var out, md bytes.Buffer
	if werr := hunt.Write(&out, cfg, rows, false); werr != nil {
		return werr
	}
	if _, werr := stdout.Write(out.Bytes()); werr != nil {
		return werr
	}
	if markdown != "" {
		if werr := hunt.Write(&md, cfg, rows, true); werr != nil {
			return werr
		}
		if werr := bench.WriteFileAtomic(markdown, md.Bytes()); werr != nil {
			return fmt.Errorf("hunt: writing -markdown %s: %v (the table is on stdout)", markdown, werr)
		}
	}
	if benchOut != "" {
		var bb bytes.Buffer
		conf := []benchfmt.Config{
			{Key: "goos", Value: []byte(runtime.GOOS), File: true},
			{Key: "goarch", Value: []byte(runtime.GOARCH), File: true},
			{Key: "pagelab-revision", Value: []byte(gitRevision()), File: true},
			{Key: "pagelab-seed", Value: []byte(strconv.FormatUint(seed, 10)), File: true},
		}
		if werr := hunt.WriteBench(&bb, rows, conf); werr != nil {
			return werr
		}
		if werr := bench.WriteFileAtomic(benchOut, bb.Bytes()); werr != nil {
			return fmt.Errorf("hunt: writing -bench %s: %v (the table is on stdout)", benchOut, werr)
		}
	}
	if err != nil {
		return in.errorf("kept %s", cfg.Kept(rows))
	}
	return nil
}

// huntTargets resolves hunt's targets: the seed interleavings -target
// names, or, with -workload, one custom target per fix variant of -fix
// and failure id of -failure, all with -param's parameters.
func huntTargets(fs *flag.FlagSet, targets, workload, fix, params, failures string) ([]*hunt.Target, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if workload == "" {
		for _, name := range []string{"workload", "param", "failure"} {
			if set[name] {
				return nil, usagef("hunt: -%s needs -workload (a seed target carries its own workload, parameters and failure)", name)
			}
		}
		if strings.TrimSpace(targets) == "" {
			// As -strategy '' is: an empty list is a mistake, not "all".
			return nil, usagef("hunt: -target is empty (valid: all, or seed interleavings as pagelab list names them)")
		}
		all, err := hunt.Targets()
		if err != nil {
			return nil, err
		}
		ts, err := hunt.SelectTargets(all, targets)
		if err != nil {
			return nil, usagef("hunt: %v", err)
		}
		if !set["fix"] {
			return ts, nil
		}
		// -fix: each seed's race under each fix that applies to its
		// workload, in -fix's order.
		var wls []*workloads.Workload
		for _, t := range ts {
			if !slices.Contains(wls, t.Workload) {
				wls = append(wls, t.Workload)
			}
		}
		per, _, err := resolveFixes("hunt", wls, fix)
		if err != nil {
			return nil, err
		}
		var under []*hunt.Target
		for _, t := range ts {
			for _, v := range per[slices.Index(wls, t.Workload)] {
				under = append(under, t.Under(v))
			}
		}
		return under, nil
	}
	if set["target"] {
		return nil, usagef("hunt: -target and -workload are alternatives (valid: seed interleavings with -target, or one workload with -workload, -fix, -param and -failure)")
	}
	wl, err := workloads.Lookup(workload)
	if err != nil {
		return nil, usagef("hunt: %v", err)
	}
	if wl.Race == "" {
		return nil, usagef("hunt: workload %s is a latency workload: no failure to hunt (valid: %s)", wl.ID, strings.Join(raceWorkloadIDs(), ", "))
	}
	per, _, err := resolveFixes("hunt", []*workloads.Workload{wl}, fix)
	if err != nil {
		return nil, err
	}
	var pairs []string
	if params != "" {
		pairs = strings.Split(params, ",")
	}
	p, err := wl.ParseParams(pairs)
	if err != nil {
		return nil, usagef("hunt: %v", err)
	}
	fl, err := parseFailures("hunt", failures)
	if err != nil {
		return nil, err
	}
	var ts []*hunt.Target
	for _, v := range per[0] {
		for _, f := range fl {
			ts = append(ts, hunt.Custom(wl, v, p, f))
		}
	}
	return ts, nil
}

// parseFailures parses a list of failure ids (-failure), separated by
// commas, for command cmd: each a known id, none twice, at least one.
func parseFailures(cmd, list string) ([]mm.Failure, error) {
	var ids []string
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		ids = append(ids, f.String())
	}
	if strings.TrimSpace(list) == "" {
		return nil, usagef("%s: -workload needs -failure, the failure ids to hunt (valid: %s)", cmd, strings.Join(ids, ", "))
	}
	var out []mm.Failure
	for _, id := range strings.Split(list, ",") {
		f, ok := mm.ParseFailure(id)
		if !ok {
			return nil, usagef("%s: unknown failure id %q (valid: %s)", cmd, id, strings.Join(ids, ", "))
		}
		if slices.Contains(out, f) {
			return nil, usagef("%s: failure %s given twice", cmd, id)
		}
		out = append(out, f)
	}
	return out, nil
}
