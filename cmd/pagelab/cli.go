package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/internal/textwrap"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// usageError is bad input: exit status 2, nothing written to stdout.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// helpRequested is -h: the command's help goes to stdout, exit status 0.
type helpRequested struct{ text string }

func (h helpRequested) Error() string { return h.text }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

var commands = []string{"list", "run", "verify", "hunt", "replay", "diagram", "bench", "merge", "submit", "compare", "plot", "report", "sweep"}

func run(args []string, stdout, stderr io.Writer) error {
	err := dispatch(args, stdout, stderr)
	var h helpRequested
	if errors.As(err, &h) {
		_, err = io.WriteString(stdout, h.text)
	}
	return err
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("no command (valid: %s)", strings.Join(commands, ", "))
	}
	switch args[0] {
	case "list":
		return cmdList(args[1:], stdout)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(args[1:], stdout, stderr)
	case "hunt":
		return cmdHunt(args[1:], stdout, stderr)
	case "sweep":
		return cmdSweep(args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(args[1:], stdout)
	case "diagram":
		return cmdDiagram(args[1:], stdout)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "merge":
		return cmdMerge(args[1:], stdout, stderr)
	case "submit":
		return cmdSubmit(args[1:], stdout, stderr)
	case "compare":
		return cmdCompare(args[1:], stdout)
	case "plot":
		return cmdPlot(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprintf(stdout, "usage: pagelab <command> [flags]\ncommands: %s\nrun 'pagelab <command> -h' for the flags of a command\n", strings.Join(commands, ", "))
		return nil
	}
	return usagef("unknown command %q (valid: %s)", args[0], strings.Join(commands, ", "))
}

// parseFlags parses fs and turns flag errors into one-line usage errors that
// name the valid flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return helpRequested{flagHelp(fs)}
	}
	if err != nil {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
		if len(names) == 0 {
			return usagef("%s: %v (it takes no flags)", fs.Name(), err)
		}
		return usagef("%s: %v (valid flags: %s)", fs.Name(), err, strings.Join(names, " "))
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func flagHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: pagelab %s [flags]\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(&b, "  -%s", f.Name)
		if f.DefValue != "" && f.DefValue != "false" {
			if def := fmt.Sprintf(" (default %s)", f.DefValue); 3+len(f.Name)+len(def) <= 80 {
				b.WriteString(def)
			} else {
				// A list too long for the line: broken after its commas
				// and semicolons only, so that it reads as typed.
				b.WriteString(" (default")
				line := ""
				for rest := f.DefValue + ")"; rest != ""; {
					i := strings.IndexAny(rest, ",;") + 1
					if i == 0 {
						i = len(rest)
					}
					if line != "" && 6+len(line)+i > 80 {
						fmt.Fprintf(&b, "\n      %s", line)
						line = ""
					}
					line, rest = line+rest[:i], rest[i:]
				}
				fmt.Fprintf(&b, "\n      %s", line)
			}
		}
		fmt.Fprintf(&b, "\n      %s\n", textwrap.Wrap(f.Usage, 72, 6))
	})
	return b.String()
}

func cmdList(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintln(&b, "WORKLOADS")
	for _, wl := range workloads.All() {
		listEntry(&b, wl.ID, wl.Desc)
		fmt.Fprintf(&b, "  %-20s fixes: %s\n", "", textwrap.Wrap(strings.Join(wl.Fixes, " "), 50, 30))
		if wl.Sampler != "" {
			depth := ""
			if wl.SamplerDepth > 0 {
				depth = fmt.Sprintf(" (depth %d)", wl.SamplerDepth)
			}
			if wl.SamplerFocus != "" {
				depth = fmt.Sprintf(" (focus %s)", wl.SamplerFocus)
			}
			fmt.Fprintf(&b, "  %-20s default strategy: %s%s\n", "", wl.Sampler, depth)
		}
		for _, p := range wl.Params {
			fmt.Fprintf(&b, "  %-20s -param %s=%d (%d..%d)\n  %-20s   %s\n", "", p.Name, p.Default, p.Min, p.Max, "", textwrap.Wrap(p.Desc, 54, 25))
		}
		for _, k := range slices.Sorted(maps.Keys(wl.KernelDefaults)) {
			fmt.Fprintf(&b, "  %-20s kernel default here: %s=%d\n", "", k, wl.KernelDefaults[k])
		}
		seeds, err := workloads.Seeds(wl.ID)
		if err != nil {
			return err
		}
		for _, s := range seeds {
			fmt.Fprintf(&b, "  %-20s -script %s\n  %-20s   expect %s\n", "", s.Name, "", textwrap.Wrap(strings.Join(s.Expect, " "), 47, 32))
		}
	}
	fmt.Fprintln(&b, "\nKERNEL PARAMETERS (every workload)")
	for _, p := range workloads.KernelParams {
		fmt.Fprintf(&b, "  %-20s %s\n", fmt.Sprintf("%s=%d", p.Name, p.Default), textwrap.Wrap(fmt.Sprintf("%s (%d..%d)", p.Desc, p.Min, p.Max), 56, 23))
	}
	fmt.Fprintln(&b, "\nFIX VARIANTS (compose with '+')")
	for _, f := range fixes.All() {
		listEntry(&b, f.ID, f.Desc)
		if len(f.Ref) > 56 { // a message id: one word, moved left to fit
			fmt.Fprintf(&b, "  %*s\n", 77, f.Ref)
		} else {
			fmt.Fprintf(&b, "  %-20s %s\n", "", f.Ref)
		}
	}
	fmt.Fprintln(&b, "\nFAILURE IDS")
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		listEntry(&b, f.String(), f.Description())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// parseInject parses -inject: label=ns pairs, separated by commas.
func parseInject(list string) (map[string]int64, error) {
	inject := map[string]int64{}
	for _, kv := range strings.Split(list, ",") {
		label, val, ok := strings.Cut(kv, "=")
		ns, err := strconv.ParseInt(val, 10, 64)
		if !ok || err != nil || ns < 0 || ns > sim.MaxCost || !sim.ValidLabel(label) {
			return nil, usagef("run: bad -inject %q: want label=ns with ns from 0 to %d (labels as in schedules, e.g. wake_up_page=20000)", kv, sim.MaxCost)
		}
		if _, dup := inject[label]; dup {
			return nil, usagef("run: -inject %s given twice", label)
		}
		inject[label] = ns
	}
	return inject, nil
}

// parseCosts parses -cost: name=ns overrides of the timed cost model.
func parseCosts(list string) (sim.Costs, error) {
	costs := sim.DefaultCosts()
	if list == "" {
		return costs, nil
	}
	var seen []string
	for _, kv := range strings.Split(list, ",") {
		name, val, ok := strings.Cut(kv, "=")
		ns, err := strconv.ParseInt(val, 10, 64)
		if !ok || err != nil || !costs.Set(name, ns) {
			return costs, usagef("run: bad -cost %q: want name=ns with ns from 0 to %d (jitter_pct to 100; names: %s)", kv, sim.MaxCost, strings.Join(sim.CostNames, ", "))
		}
		if slices.Contains(seen, name) {
			return costs, usagef("run: -cost %s given twice", name)
		}
		seen = append(seen, name)
	}
	return costs, nil
}

// listEntry writes one id of pagelab list and its description, wrapped to
// 79 columns; an id wider than its 20-column field gets a line of its own.
func listEntry(b *strings.Builder, id, desc string) {
	if len(id) > 20 {
		fmt.Fprintf(b, "  %s\n  %-20s %s\n", id, "", textwrap.Wrap(desc, 56, 23))
		return
	}
	fmt.Fprintf(b, "  %-20s %s\n", id, textwrap.Wrap(desc, 56, 23))
}

type runFlags struct {
	workload, fix, strategy, params string
	focus                           string
	runs, depth, maxSteps           int
	preemptions                     int
	seed                            uint64
	preempt                         float64
	json                            bool
	handoff                         string
	cpus, costs, inject             string
	maxMemory                       string
	timeout                         time.Duration
	jobs, shards                    int
	shard                           string
	set                             map[string]bool // flags given
	notes                           []string        // set by cells: listed fixes a workload skips
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var f runFlags
	fs.StringVar(&f.workload, "workload", "", "workload ids, comma-separated, or all")
	fs.StringVar(&f.fix, "fix", "baseline", "fix variants, comma-separated ('+' composes), or all")
	fs.IntVar(&f.runs, "runs", 10000, "executions per (workload, fix); default 6 for timed and native runs")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the schedule generator")
	fs.StringVar(&f.strategy, "strategy", "random", "random, pct, pct-racy, pct-task, pct-irq, pct-point, pos, surw, racefuzz, greybox, greybox-irq, dfs, dpor, timed or native (default: the workload's, see pagelab list; timed for latency workloads)")
	fs.StringVar(&f.cpus, "cpus", "4", "timed: simulated CPU counts; native: GOMAXPROCS values; comma-separated (1 to 256)")
	fs.StringVar(&f.inject, "inject", "", "native: delays at scheduling points, label=ns,... (widens race windows)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "native: wall-clock time an execution may take (livelock beyond)")
	fs.StringVar(&f.costs, "cost", "", "timed: cost-model overrides name=ns,... (names: "+strings.Join(sim.CostNames, ", ")+")")
	fs.IntVar(&f.depth, "depth", 3, "PCT bug depth d of pct, pct-racy, pct-task, pct-irq and pct-point (1 to 64; without -strategy, the workload's default sampler's depth); given with greybox or greybox-irq, its genomes' bound: at most d-1 change points and d edits per mutation (without, 8 and 8)")
	fs.IntVar(&f.preemptions, "preemptions", 2, "dfs: preemption bound (0 to 10)")
	fs.StringVar(&f.focus, "focus", "", "surw: the interesting objects, given instead of drawn; pct-point: the objects whose racy points its change points fall on: object kinds or PG_ flags joined by + (e.g. i_size, PG_writeback+page-ref; the valid names are listed on a bad one)")
	fs.Float64Var(&f.preempt, "preempt", bench.DefaultPreempt, "random: probability of preempting the running task at each scheduling point, above 0 and at most 1")
	fs.StringVar(&f.params, "param", "", "workload parameters name=value,name=value")
	fs.IntVar(&f.maxSteps, "max-steps", bench.DefaultMaxSteps, "step budget of one execution (livelock beyond)")
	fs.BoolVar(&f.json, "json", false, "JSON Lines: one object per (workload, fix)")
	fs.StringVar(&f.handoff, "handoff", "coroutine", "task hand-off: coroutine or channel")
	fs.StringVar(&f.maxMemory, "max-memory", fmtBytes(DefaultMaxMemory), "memory budget: past it the run stops, reports what finished and fails")
	fs.IntVar(&f.jobs, "j", runtime.GOMAXPROCS(0), "goroutines: random, pct and timed cells are cut into parts that run at once (the output is the same, byte for byte, for any value; native cells run one at a time)")
	fs.StringVar(&f.shard, "shard", "", "with -json: run only part i of n, e.g. 0/4 (executions ⌊runs·i/n⌋ up to ⌊runs·(i+1)/n⌋ of every cell; for dfs, the subtrees below the first branching decisions that hash to i); pagelab merge OUT FILE... combines the n outputs into the whole run's (default: from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with -shards)")
	fs.IntVar(&f.shards, "shards", 0, "shard count, for a shard index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	shard, err := resolveShard("run", f.shard, f.shards, os.Getenv)
	if err != nil {
		return err
	}
	if f.jobs < 1 || f.jobs > 256 {
		return usagef("run: -j %d out of range (valid: 1 to 256)", f.jobs)
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	cfgs, err := f.cells()
	if err != nil {
		return err
	}
	jobs := f.jobs
	for _, cfg := range cfgs {
		if cfg.Strategy == "native" {
			jobs = 1 // real time: one execution at a time
		}
		if shard != nil {
			if !f.json {
				return usagef("run: -shard %s needs -json (pagelab merge combines the shards' JSON Lines)", shard)
			}
			switch cfg.Strategy {
			case "dpor", "greybox", "greybox-irq":
				return usagef("run: -shard splits the sampling, dfs, timed and native runs, not a %s run (its executions depend on every one before)", cfg.Strategy)
			case "dfs":
				// A part of the enumeration: the subtrees below its
				// first branching decisions that hash to it.
				cfg.Part, cfg.Parts = shard.Index, shard.Count
				continue
			}
			if cfg.Runs < shard.Count {
				return usagef("run: -shard %s: %d runs of %s, fewer than the shard count", shard, cfg.Runs, cfg.Workload.ID)
			}
			cfg.First, cfg.Runs = bench.ShardRange(cfg.Runs, shard.Index, shard.Count)
		}
	}
	budget, err := parseBytes("run: -max-memory", f.maxMemory)
	if err != nil {
		return err
	}
	for _, n := range f.notes {
		fmt.Fprintln(stderr, "pagelab:", n)
	}
	in := watchInterrupt()
	defer in.release()
	in.watchMemory(budget)

	// A bar on a terminal (quiet otherwise): a long run is not silent.
	prog := newProgress(stderr, "pagelab run", cfgs, 0)
	defer prog.finish()
	emit := func(c *bench.Cell) error {
		if !f.json {
			return nil
		}
		if shard != nil {
			r, err := bench.NewPartRecord(c, *shard)
			if err != nil {
				return err
			}
			return r.WriteJSON(stdout)
		}
		return writeJSON(stdout, c)
	}
	batch := &bench.Batch{Cfgs: cfgs, Jobs: jobs, Stop: in.stopped, Progress: prog.set,
		CellDone: func(i int, c *bench.Cell) error { return emit(c) }}
	cells, err := batch.Run()
	partial := false
	switch {
	case errors.Is(err, bench.ErrInterrupted):
		if len(cells) > 0 && cells[len(cells)-1].Partial {
			partial = true
			if err := emit(cells[len(cells)-1]); err != nil {
				return err
			}
		}
	case err != nil:
		return err
	}
	if !f.json && len(cells) > 0 {
		if err := writeTable(stdout, cells); err != nil {
			return err
		}
	}
	if in.stopped() {
		finished := len(cells)
		if partial {
			finished--
		}
		what := fmt.Sprintf("%d of %d cells finished", finished, len(cfgs))
		if partial {
			c := cells[len(cells)-1]
			what += fmt.Sprintf("; %s %s cut short after %d runs (reported, marked partial)", c.Workload, c.Fix, c.Runs)
		}
		return in.errorf("%s", what)
	}
	return nil
}

// cells resolves the flags into cell configurations, validating everything
// before anything runs.
func (f *runFlags) cells() ([]*bench.Config, error) {
	if f.workload == "" {
		return nil, usagef("run: -workload is required (valid: %s, all)", strings.Join(workloads.IDs(), ", "))
	}
	if f.runs < 1 || f.runs > bench.MaxRuns {
		return nil, usagef("run: -runs %d out of range (valid: 1 to %d)", f.runs, bench.MaxRuns)
	}
	if !slices.Contains(bench.Strategies, f.strategy) {
		return nil, usagef("run: unknown strategy %q (valid: %s)", f.strategy, strings.Join(bench.Strategies, ", "))
	}
	cpus, err := parseCPUs("run", f.cpus)
	if err != nil {
		return nil, err
	}
	var inject map[string]int64
	if f.inject != "" {
		if f.strategy != "native" {
			return nil, usagef("run: -inject needs -strategy native")
		}
		var err error
		if inject, err = parseInject(f.inject); err != nil {
			return nil, err
		}
	}
	if f.timeout <= 0 {
		return nil, usagef("run: -timeout %v: want a positive duration", f.timeout)
	}
	costs, err := parseCosts(f.costs)
	if err != nil {
		return nil, err
	}
	if f.preemptions < 0 || f.preemptions > 10 {
		return nil, usagef("run: -preemptions %d out of range (valid: 0 to 10)", f.preemptions)
	}
	if f.depth < 1 || f.depth > bench.MaxDepth {
		return nil, usagef("run: -depth %d out of range (valid: 1 to %d)", f.depth, bench.MaxDepth)
	}
	if !(f.preempt > 0 && f.preempt <= 1) {
		return nil, usagef("run: -preempt %v out of range (valid: above 0, at most 1)", f.preempt)
	}
	if f.set["focus"] {
		if !bench.TakesFocus(f.strategy) || !f.set["strategy"] {
			return nil, usagef("run: -focus needs -strategy surw (the walk whose interesting objects it names) or pct-point (whose change points it narrows to the points touching them)")
		}
		if _, err := mm.ParseFocus(f.focus); err != nil {
			return nil, usagef("run: -focus: %v", err)
		}
	}
	if f.maxSteps < 1 || f.maxSteps > sim.MaxSteps {
		return nil, usagef("run: -max-steps %d out of range (valid: 1 to %d)", f.maxSteps, sim.MaxSteps)
	}
	if f.timeout > 24*time.Hour {
		return nil, usagef("run: -timeout %v out of range (valid: up to 24h)", f.timeout)
	}
	handoff, err := parseHandoff(f.handoff)
	if err != nil {
		return nil, err
	}
	wls, err := resolveWorkloads("run", f.workload)
	if err != nil {
		return nil, err
	}
	perFix, notes, err := resolveFixes("run", wls, f.fix)
	if err != nil {
		return nil, err
	}
	f.notes = notes
	var out []*bench.Config
	var usesCPUs, usesCosts bool
	var ran []string
	for i, wl := range wls {
		params, err := wl.ParseParams(strings.Split(f.params, ","))
		if err != nil {
			return nil, usagef("run: %v", err)
		}
		strategy, runs, depth, focus := f.strategy, f.runs, f.depth, f.focus
		if strategy == "dpor" && !f.set["runs"] {
			runs = 10_000_000 // a safety limit: dpor stops when exhausted
		}
		if strategy == "dfs" {
			depth = f.preemptions
			if !f.set["runs"] {
				runs = 10_000_000 // a safety limit: dfs stops when exhausted
			}
		}
		if bench.Adaptive(strategy) && !f.set["depth"] {
			depth = 0 // its genomes' default bounds
		}
		if !f.set["strategy"] {
			strategy = wl.DefaultStrategy()
			if strategy == wl.Sampler && wl.SamplerDepth > 0 && !f.set["depth"] {
				depth = wl.SamplerDepth
			}
			if strategy == wl.Sampler {
				focus = wl.SamplerFocus
			}
		}
		maxSteps := f.maxSteps
		if strategy == "native" && !f.set["runs"] {
			runs = 6
		}
		if strategy == "timed" {
			if !f.set["runs"] {
				runs = 6
			}
			if !f.set["max-steps"] {
				maxSteps = bench.TimedMaxSteps(wl)
			}
		}
		cellCPUs := []int{1}
		if strategy == "timed" || strategy == "native" {
			cellCPUs = cpus
		}
		usesCPUs = usesCPUs || strategy == "timed" || strategy == "native"
		usesCosts = usesCosts || strategy == "timed"
		ran = append(ran, wl.ID+" runs "+strategy)
		for _, v := range perFix[i] {
			for _, n := range cellCPUs {
				out = append(out, &bench.Config{
					Workload: wl, Params: params, Variant: v, Strategy: strategy,
					Depth: depth, Preempt: f.preempt, Seed: f.seed, Runs: runs, MaxSteps: maxSteps, Handoff: handoff,
					CPUs: n, Costs: costs, Inject: inject, Timeout: int64(f.timeout), Focus: focus,
				})
			}
		}
	}
	// Options of the timed model that no cell would use: a latency
	// setting that changes nothing is a mistake to hear of, as -inject's
	// is. (With -workload all, the latency workloads use them.)
	switch {
	case f.set["cpus"] && !usesCPUs:
		return nil, usagef("run: -cpus needs -strategy timed or native (%s)", strings.Join(ran, ", "))
	case f.set["cost"] && !usesCosts:
		return nil, usagef("run: -cost needs -strategy timed (%s)", strings.Join(ran, ", "))
	}
	// A focus that names no object a workload's steps touch would run the
	// plain uniform walk under its name: refuse it before anything runs
	// (the profile is built once per cell and kept for the run; a cell
	// without a focus costs nothing here).
	// So would pct-irq or greybox-irq where no completion takes a racy
	// step: PCT, or greybox, without change points.
	for _, c := range out {
		for _, check := range []func(*bench.Config) error{bench.CheckFocus, bench.CheckCompletions} {
			if err := check(c); err != nil {
				var fe *bench.FocusError
				var ce *bench.CompletionsError
				if errors.As(err, &ce) {
					if ce.Valid, err = bench.CompletionWorkloads(); err != nil {
						return nil, err
					}
					return nil, usagef("run: %v", ce)
				}
				if errors.As(err, &fe) {
					return nil, usagef("run: %v", err)
				}
				return nil, err
			}
		}
	}
	if inject != nil {
		// An -inject label must be a scheduling point the workloads reach,
		// or the delay would silently never happen.
		seen := newNameSet()
		for _, c := range out {
			if err := reachedNames(c.Workload, c.Params, c.Variant, seen); err != nil {
				return nil, err
			}
		}
		for label := range inject {
			if !seen.labels[label] {
				var valid []string
				for l := range seen.labels {
					valid = append(valid, l)
				}
				slices.Sort(valid)
				return nil, usagef("run: -inject %s: not a scheduling point the workload reaches (valid: %s)", label, strings.Join(valid, ", "))
			}
		}
	}
	return out, nil
}

func parseHandoff(s string) (sim.Handoff, error) {
	switch s {
	case "coroutine":
		return sim.HandoffCoroutine, nil
	case "channel":
		return sim.HandoffChannel, nil
	}
	return 0, usagef("run: unknown -handoff %q (valid: coroutine, channel)", s)
}
