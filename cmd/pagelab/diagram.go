package main

import (
	"flag"
	"io"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// cmdDiagram shrinks a failing schedule and prints it as a race diagram.
func cmdDiagram(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("diagram", flag.ContinueOnError)
	var schedule, script, workload, fix, failure string
	var noShrink bool
	fs.StringVar(&schedule, "schedule", "", "a failing schedule")
	fs.StringVar(&script, "script", "", "a scripted seed interleaving of -workload")
	fs.StringVar(&workload, "workload", "", "workload (must match the schedule's)")
	fs.StringVar(&fix, "fix", "", "fix variant (default: the schedule's)")
	fs.StringVar(&failure, "failure", "", "failure id to keep while shrinking (default: the first that fires)")
	fs.BoolVar(&noShrink, "noshrink", false, "draw the schedule as given")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := replayConfig("diagram", schedule, script, workload, fix)
	if err != nil {
		return err
	}
	r, err := bench.Replay(cfg)
	if err != nil {
		return err
	}
	var f mm.Failure
	if failure != "" {
		var fired []string
		for g := range mm.NumFailures {
			if r.Exec.Fired.Has(g) {
				fired = append(fired, g.String())
			}
		}
		var ok bool
		if f, ok = mm.ParseFailure(failure); !ok {
			return usagef("diagram: unknown failure id %q (valid: the ids the schedule fires under %s: %s)", failure, cfg.Variant.ID, strings.Join(fired, ", "))
		}
		if !r.Exec.Fired.Has(f) {
			return usagef("diagram: the schedule does not fire %s under %s (valid: %s)", f, cfg.Variant.ID, strings.Join(fired, ", "))
		}
	} else {
		l := r.Exec.Fired.List()
		if len(l) == 0 {
			return usagef("diagram: the schedule fires no failure under %s: nothing to draw", cfg.Variant.ID)
		}
		f = l[len(l)-1]
		for _, x := range l {
			if x.Fatal() {
				f = x
			}
		}
	}
	d, err := bench.DrawFailure(cfg, f, noShrink)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, d.Text)
	return err
}

// replayConfig resolves the schedule flags shared by replay and diagram.
func replayConfig(cmd, schedule, script, workload, fix string) (*bench.ReplayConfig, error) {
	if (schedule == "") == (script == "") {
		return nil, usagef("%s: give exactly one of -schedule or -script", cmd)
	}
	if script != "" {
		if workload == "" {
			return nil, usagef("%s: -script needs -workload (valid: %s)", cmd, strings.Join(workloads.IDs(), ", "))
		}
		if _, err := workloads.Lookup(workload); err != nil {
			return nil, usagef("%s: %v", cmd, err)
		}
		seeds, err := workloads.Seeds(workload)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range seeds {
			names = append(names, s.Name)
			if s.Name == script {
				schedule = s.Schedule
			}
		}
		if schedule == "" {
			if len(names) == 0 {
				return nil, usagef("%s: unknown script %q: %s has no scripts (workloads with scripts: %s)", cmd, script, workload, strings.Join(scripted(), ", "))
			}
			return nil, usagef("%s: unknown script %q for %s (valid: %s)", cmd, script, workload, strings.Join(names, ", "))
		}
	}
	s, err := sim.ParseSchedule(schedule)
	if err != nil {
		return nil, usagef("%s: %v", cmd, err)
	}
	if workload != "" && workload != s.Workload {
		if _, err := workloads.Lookup(s.Workload); err == nil {
			return nil, usagef("%s: the schedule is for workload %s, not %s", cmd, s.Workload, workload)
		}
	}
	cfg, err := bench.ReplayConfigFor(s, fix)
	if err != nil {
		return nil, usagef("%s: %v", cmd, err)
	}
	return cfg, nil
}

// scripted lists the workloads that have seed scripts.
func scripted() []string {
	var ids []string
	for _, wl := range workloads.All() {
		if seeds, err := workloads.Seeds(wl.ID); err == nil && len(seeds) > 0 {
			ids = append(ids, wl.ID)
		}
	}
	return ids
}
