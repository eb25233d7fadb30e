package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
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
	userTrace := cfg.Trace
	cfg.Trace = func(t *sim.Task, step int) {
		steps = append(steps, t.Name+" at "+t.Label())
		if userTrace != nil {
			userTrace(t, step)
		}
	}
	r, err := bench.Replay(cfg)
	if err != nil {
		return err
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
	switch {
	case r.Diverged != nil:
		fmt.Fprintf(out, "the schedule no longer applies:\n  %s\n", wrap(r.Diverged.String(), 78, 2))
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
		fmt.Fprintf(out, "%s%s:\n  %s\n", rep.Failure, where, wrap(rep.Msg, 76, 2))
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
	sb.WriteString(wrap(first+";", 78, 0) + "\n")
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
