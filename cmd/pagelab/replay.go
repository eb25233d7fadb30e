package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/internal/textwrap"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

func cmdReplay(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var schedule, script, workload, fix, then string
	var trace bool
	fs.StringVar(&schedule, "schedule", "", "a schedule string printed by pagelab run")
	fs.StringVar(&script, "script", "", "a scripted seed interleaving of -workload (see pagelab list)")
	fs.StringVar(&workload, "workload", "", "workload (must match the schedule's)")
	fs.StringVar(&fix, "fix", "", "fix variant to replay under (default: the schedule's)")
	fs.StringVar(&then, "then", "sequential", "after the schedule ends or diverges: sequential, random, pct or stop")
	fs.BoolVar(&trace, "trace", false, "print every step")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	validThen := false
	for _, t := range bench.ThenStrategies {
		validThen = validThen || t == then
	}
	if !validThen {
		return usagef("replay: unknown -then %q (valid: %s)", then, strings.Join(bench.ThenStrategies, ", "))
	}
	cfg, err := replayConfig("replay", schedule, script, workload, fix)
	if err != nil {
		return err
	}
	cfg.Then = then
	s, v := cfg.Schedule, cfg.Variant

	var b strings.Builder
	if trace {
		cfg.Trace = func(t *sim.Task, step int) {
			line := fmt.Sprintf("%5d  %-6s %-28s ", step, t.Name, t.Label())
			stack := t.Stack()
			if n := len(stack); n > 0 && strings.HasPrefix(t.Label(), stack[n-1]) {
				stack = stack[:n-1] // the label already names the innermost function
			}
			b.WriteString(strings.TrimRight(line+fitStack(stack, 80-len(line)), " "))
			b.WriteByte('\n')
		}
	}
	var steps []string
	seen := newNameSet()
	userTrace := cfg.Trace
	cfg.Trace = func(t *sim.Task, step int) {
		steps = append(steps, t.Name+" at "+t.Label())
		seen.add(t)
		if userTrace != nil {
			userTrace(t, step)
		}
	}
	r, err := bench.Replay(cfg)
	if err != nil {
		return err
	}
	if r.Diverged != nil {
		if err := checkScheduleNames(cfg, seen); err != nil {
			return err
		}
	}
	// Under another fix than the schedule's, also run the schedule's own
	// fix and say where the two executions part.
	var parting string
	if v.ID != s.Fix {
		if orig, err := fixes.Parse(s.Fix); err == nil {
			var origSteps []string
			oc := *cfg
			oc.Variant = orig
			oc.Trace = func(t *sim.Task, step int) { origSteps = append(origSteps, t.Name+" at "+t.Label()) }
			if or, err := bench.Replay(&oc); err == nil {
				parting = partingLine(s.Fix, v.ID, origSteps, steps, or.Exec)
			}
		}
	}
	out := &strings.Builder{}
	fmt.Fprintf(out, "replay of %s under %s: %s after %d steps\n", s.Workload, v.ID, r.Exec.Result.Outcome, r.Exec.Result.Steps)
	if v.ID != s.Fix {
		fmt.Fprintf(out, "(the schedule was recorded under %s)\n", s.Fix)
	}
	switch {
	case r.Diverged != nil:
		fmt.Fprintf(out, "the schedule no longer applies:\n  %s\n", textwrap.Wrap(r.Diverged.String(), 78, 2))
		if then == "stop" {
			out.WriteString("stopped there (-then stop)\n")
		} else {
			fmt.Fprintf(out, "continued with %s scheduling\n", then)
		}
	case r.Exhausted && then == "stop":
		fmt.Fprintf(out, "followed all %d segments of the schedule,\nthen stopped (-then stop)\n", len(s.Segments))
	case r.Exhausted:
		fmt.Fprintf(out, "followed all %d segments of the schedule,\nthen continued with %s scheduling\n", len(s.Segments), then)
	default:
		fmt.Fprintf(out, "followed the schedule to the end\n")
	}
	if parting != "" {
		out.WriteString(parting)
	}
	if trace {
		out.WriteString("\n step  task   paused at                    called from (innermost last)\n")
		out.WriteString(b.String())
		out.WriteByte('\n')
	}
	if len(r.Exec.Reports) == 0 {
		out.WriteString("no failure\n")
	}
	for _, rep := range r.Exec.Reports {
		where := ""
		if rep.Task != "" {
			where = " in " + rep.Task
		}
		if rep.Label != "" {
			where += " at " + rep.Label
		}
		fmt.Fprintf(out, "%s%s:\n  %s\n", rep.Failure, where, textwrap.Wrap(rep.Msg, 76, 2))
	}
	fmt.Fprintf(out, "schedule followed:\n  %s\n", r.Schedule)
	_, err = io.WriteString(stdout, out.String())
	return err
}

// fitStack renders a call stack outermost first in at most width columns,
// dropping outer frames (shown as "..") when it does not fit.
func fitStack(stack []string, width int) string {
	s := strings.Join(stack, " > ")
	for len(s) > width && len(stack) > 1 {
		stack = stack[1:]
		s = ".. > " + strings.Join(stack, " > ")
	}
	if len(s) > width && width > 2 {
		s = ".." + s[len(s)-width+2:]
	}
	return s
}

// partingLine says where an execution under fix b first differs from the
// same schedule's execution under fix a, and how a's ended.
func partingLine(a, b string, as, bs []string, ae *bench.Exec) string {
	i := 0
	for i < len(as) && i < len(bs) && as[i] == bs[i] {
		i++
	}
	var sb strings.Builder
	first := fmt.Sprintf("under %s the same schedule ended %s", a, ae.Result.Outcome)
	if ids := ae.Fired.List(); len(ids) > 0 {
		first += fmt.Sprintf(" with %v", ids)
	}
	sb.WriteString(textwrap.Wrap(first+";", 78, 0) + "\n")
	switch {
	case i == len(as) && i == len(bs):
		sb.WriteString("the two executions take the same steps\n")
	case i == len(as):
		fmt.Fprintf(&sb, "the executions part after step %d: under %s it ended there,\nunder %s %s\n", i, a, b, bs[i])
	case i == len(bs):
		fmt.Fprintf(&sb, "the executions part after step %d: under %s it ended there,\nunder %s %s\n", i, b, a, as[i])
	default:
		fmt.Fprintf(&sb, "the executions part at step %d: under %s %s,\nunder %s %s\n", i, a, as[i], b, bs[i])
	}
	return sb.String()
}

// nameSet is the tasks and scheduling-point labels executions reached.
type nameSet struct{ tasks, labels map[string]bool }

func newNameSet() *nameSet { return &nameSet{map[string]bool{}, map[string]bool{}} }

func (n *nameSet) add(t *sim.Task) {
	n.tasks[t.Name] = true
	n.labels[t.Label()] = true
}

// NameSamples is how many random executions checkScheduleNames runs, under
// the replayed fix and the schedule's own, to learn the workload's names.
const NameSamples = 200

// checkScheduleNames: a schedule that stopped applying may name a task or
// a label the workload does not have at all (a typo, a schedule of another
// model version); replaying it would only say "no failure", which reads
// like a passing fix. Every name of the schedule must be one the replay
// reached, or the schedule's own fix does when it follows the schedule,
// or one of NameSamples random executions of each fix does; otherwise the
// replay is a usage error naming what is unknown and what exists.
func checkScheduleNames(cfg *bench.ReplayConfig, seen *nameSet) error {
	s := cfg.Schedule
	known := func() (string, string) {
		for _, seg := range s.Segments {
			if !seen.tasks[seg.Task] {
				return "task", seg.Task
			}
			for _, l := range []string{seg.At, seg.Until} {
				if l != "" && !seen.labels[l] {
					return "label", l
				}
			}
		}
		return "", ""
	}
	if kind, _ := known(); kind == "" {
		return nil
	}
	variants := []*fixes.Variant{cfg.Variant}
	if orig, err := fixes.Parse(s.Fix); err == nil && orig.ID != cfg.Variant.ID {
		variants = append(variants, orig)
	}
	for _, v := range variants {
		c := *cfg
		c.Variant, c.Trace, c.Then = v, func(t *sim.Task, _ int) { seen.add(t) }, "random"
		if _, err := bench.Replay(&c); err != nil {
			return err
		}
		if err := reachedNames(cfg.Workload, cfg.Params, v, seen); err != nil {
			return err
		}
	}
	kind, name := known()
	if kind == "" {
		return nil
	}
	set := seen.tasks
	if kind == "label" {
		set = seen.labels
	}
	var valid []string
	for n := range set {
		valid = append(valid, n)
	}
	slices.Sort(valid)
	return usagef("replay: the schedule names %s %q, which %s never reaches in %d executions (valid: %s)",
		kind, name, s.Workload, len(variants)*(NameSamples+1)+1, strings.Join(valid, ", "))
}

// reachedNames adds to seen the tasks and labels of NameSamples random
// executions of workload wl at params under variant v.
func reachedNames(wl *workloads.Workload, params workloads.Values, v *fixes.Variant, seen *nameSet) error {
	for i := range NameSamples {
		c := &bench.ReplayConfig{Workload: wl, Params: params, Variant: v, Then: "random", Seed: uint64(i + 1), Depth: 3,
			Schedule: &sim.Schedule{Workload: wl.ID, Fix: v.ID}, Trace: func(t *sim.Task, _ int) { seen.add(t) }}
		if _, err := bench.Replay(c); err != nil {
			return err
		}
	}
	return nil
}
