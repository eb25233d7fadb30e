package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/internal/textwrap"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// cmdVerify is `pagelab verify`: the exhaustive search of every
// (workload, fix) cell, with a verdict per failure id.
func cmdVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var workload, fix, params string
	var maxStates, maxDepth, jobs, preemptions int
	var asJSON, noDiagram bool
	var reduction, maxMemory string
	fs.StringVar(&workload, "workload", "", "race workload ids, comma-separated, or all")
	fs.StringVar(&fix, "fix", "baseline", "fix variants, comma-separated ('+' composes), or all")
	fs.StringVar(&params, "param", "", "workload parameters name=value,name=value")
	fs.IntVar(&maxStates, "max-states", bench.DefaultVerifyStates, "budget: distinct states per cell (unknown beyond)")
	fs.IntVar(&maxDepth, "max-depth", bench.DefaultVerifyDepth, "decisions of one execution (unknown beyond)")
	fs.IntVar(&jobs, "j", runtime.GOMAXPROCS(0), "cells searched at once (output is the same for any value)")
	fs.BoolVar(&asJSON, "json", false, "JSON Lines: one object per (workload, fix)")
	fs.StringVar(&reduction, "reduction", "source-sets", "on top of state caching: source-sets (source-DPOR with sleep sets), sleep-sets, or full (every edge of the state graph)")
	fs.IntVar(&preemptions, "preemptions", -1, "search only the executions with at most this many preemptions (0 to 100; implies -reduction full): clean ids are 'bounded', not verified")
	fs.BoolVar(&noDiagram, "no-diagram", false, "print counterexample schedules without shrinking and drawing them")
	fs.StringVar(&maxMemory, "max-memory", fmtBytes(DefaultMaxMemory), "memory budget: past it the searches stop (unknown) and the command fails")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	budget, berr := parseBytes("verify: -max-memory", maxMemory)
	if berr != nil {
		return berr
	}
	cfgs, notes, err := verifyCells(workload, fix, params)
	if err != nil {
		return err
	}
	if maxStates < 1 {
		return usagef("verify: -max-states %d: want at least 1", maxStates)
	}
	if maxDepth < 1 {
		return usagef("verify: -max-depth %d: want at least 1", maxDepth)
	}
	if jobs < 1 || jobs > 256 {
		return usagef("verify: -j %d out of range (valid: 1 to 256)", jobs)
	}
	mode, ok := sim.ParseDPORMode(reduction)
	if !ok {
		return usagef("verify: unknown -reduction %q (valid: source-sets, sleep-sets, full)", reduction)
	}
	reductionSet := false
	fs.Visit(func(fl *flag.Flag) { reductionSet = reductionSet || fl.Name == "reduction" })
	bounded := preemptions >= 0
	if preemptions != -1 {
		switch {
		case preemptions < 0 || preemptions > sim.MaxPreemptionBound:
			return usagef("verify: -preemptions %d out of range (valid: 0 to %d)", preemptions, sim.MaxPreemptionBound)
		case reductionSet && mode != sim.Full:
			return usagef("verify: -preemptions needs -reduction full (sleep sets and source sets are not sound under a preemption bound)")
		}
		mode = sim.Full
	}
	for _, c := range cfgs {
		c.MaxStates, c.MaxDepth, c.Mode = maxStates, maxDepth, mode
		c.Bounded, c.Preemptions = bounded, preemptions
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "pagelab:", n)
	}
	in := watchInterrupt()
	defer in.release()
	in.watchMemory(budget)

	prog := newVerifyProgress(stderr, cfgs)
	results := runVerify(cfgs, jobs, in.stopped, prog.done)
	prog.close()
	var done []*verified
	interrupted := false
	for _, r := range results {
		if r.err != nil && !errors.Is(r.err, bench.ErrInterrupted) {
			return r.err
		}
		if r.v == nil {
			break
		}
		if r.v.Interrupted {
			interrupted = true
		}
		done = append(done, r)
	}
	if asJSON {
		for _, r := range done {
			if err := writeVerifyJSON(stdout, r); err != nil {
				return err
			}
		}
	} else if err := writeVerifyTable(stdout, done, noDiagram); err != nil {
		return err
	}
	if interrupted || in.stopped() {
		return in.errorf("%d of %d searches finished; the ones cut short say unknown where they had found nothing", countFinished(done), len(cfgs))
	}
	return nil
}

// verifyCells resolves the flags into search configurations, validating
// everything before anything runs.
func verifyCells(workload, fix, params string) ([]*bench.VerifyConfig, []string, error) {
	races := raceWorkloadIDs()
	if workload == "" {
		return nil, nil, usagef("verify: -workload is required (valid: %s, all)", strings.Join(races, ", "))
	}
	var wls []*workloads.Workload
	ids := strings.Split(workload, ",")
	if workload == "all" {
		ids = races
	}
	for _, id := range ids {
		wl, err := workloads.Lookup(id)
		if err != nil {
			return nil, nil, usagef("verify: %v", err)
		}
		if wl.Race == "" {
			return nil, nil, usagef("verify: %s is a latency workload: nothing to verify (valid: %s, all)", id, strings.Join(races, ", "))
		}
		if slices.Contains(wls, wl) {
			return nil, nil, usagef("verify: workload %s given twice", id)
		}
		wls = append(wls, wl)
	}
	perFix, notes, err := resolveFixes("verify", wls, fix)
	if err != nil {
		return nil, nil, err
	}
	var out []*bench.VerifyConfig
	for i, wl := range wls {
		p, err := wl.ParseParams(strings.Split(params, ","))
		if err != nil {
			return nil, nil, usagef("verify: %v", err)
		}
		for _, v := range perFix[i] {
			out = append(out, &bench.VerifyConfig{Workload: wl, Params: p, Variant: v})
		}
	}
	return out, notes, nil
}

// verified is one cell's search and how long it took (wall clock, the one
// field that differs between runs).
type verified struct {
	cfg     *bench.VerifyConfig
	v       *bench.Verification
	err     error
	elapsed time.Duration
}

// runVerify searches the cells on up to jobs goroutines (bench.VerifyAll),
// calling finished as each search ends.
// Each search is sequential and deterministic, so the results do not
// depend on jobs.
func runVerify(cfgs []*bench.VerifyConfig, jobs int, stop func() bool, finished func()) []*verified {
	out := make([]*verified, len(cfgs))
	for i, r := range bench.VerifyAll(cfgs, jobs, stop, func(int, *bench.VerifyResult) { finished() }) {
		out[i] = &verified{cfg: cfgs[i], v: r.V, err: r.Err, elapsed: r.Elapsed}
	}
	return out
}

// writeVerifyTable prints, per workload, one line per fix with its
// verdict, the search's size and time; then each failing id's
// counterexample, shrunk and drawn.
func writeVerifyTable(w io.Writer, rs []*verified, noDiagram bool) error {
	var b strings.Builder
	for i, r := range rs {
		v := r.v
		if i == 0 || rs[i-1].v.Workload != v.Workload {
			if i > 0 {
				b.WriteString("\n")
			}
			how := map[sim.DPORMode]string{
				sim.SourceSets: "source sets and sleep sets", sim.SleepSets: "sleep sets", sim.Full: "none"}[v.Mode]
			if v.Bounded {
				fmt.Fprintf(&b, "%s: every state reachable with at most %s\n", v.Workload, bench.Preemptions(v.Preemptions))
			} else {
				fmt.Fprintf(&b, "%s: every reachable state, no preemption bound\n", v.Workload)
			}
			fmt.Fprintf(&b, "search: state caching; reduction: %s\n", how)
			if len(v.Params) > 0 {
				fmt.Fprintf(&b, "params: %s\n", strings.Join(v.Params, ","))
			}
			fmt.Fprintf(&b, "%-20s %-27s %9s %9s %8s\n", "fix", "verdict", "states", "execs", "seconds")
		}
		summary := v.Summary()
		if len(summary) > 27 {
			summary = summary[:24] + "..."
		}
		fmt.Fprintf(&b, "%-20s %-27s %9d %9d %8.3f\n", bench.FixColumn(&b, "", v.Fix, 20), summary, v.Stats.States, v.Stats.Executions, r.elapsed.Seconds())
		if last := i == len(rs)-1 || rs[i+1].v.Workload != v.Workload; last {
			for _, r := range rs[:i+1] {
				if r.v.Workload == v.Workload && r.v.Bounded && r.v.Complete && len(r.v.Failing()) == 0 {
					fmt.Fprintf(&b, "%s\n", textwrap.Wrap(fmt.Sprintf("verified ≤%s: no execution with at most %s fires any failure id (livelock unknown); one with more may", bench.Preemptions(v.Preemptions), bench.Preemptions(v.Preemptions)), 78, 2))
					break
				}
			}
			for _, r := range rs[:i+1] {
				if r.v.Workload == v.Workload && r.v.LivelockUnknown() {
					b.WriteString("* every failure id verified but livelock: the model's retry loops\n" +
						"  can spin, and the reduction skips edges a cycle may need\n" +
						"  (-reduction full decides it)\n")
					break
				}
			}
		}
	}
	// Unknown verdicts say how far the search got; failures show their
	// counterexample.
	for _, r := range rs {
		v := r.v
		if !v.Complete {
			why := "the search was interrupted"
			switch {
			case v.Stats.BudgetHit:
				why = fmt.Sprintf("the state budget (-max-states %d) ran out", r.cfg.MaxStates)
			case v.Stats.Truncated > 0:
				why = fmt.Sprintf("%d executions reached -max-depth %d", v.Stats.Truncated, r.cfg.MaxDepth)
			}
			fmt.Fprintf(&b, "\n%s\n", textwrap.Wrap(fmt.Sprintf("%s under %s: unknown where nothing failed: %s after %d states, %d transitions",
				v.Workload, v.Fix, why, v.Stats.States, v.Stats.Transitions), 78, 0))
		}
		for _, f := range v.Failing() {
			fmt.Fprintf(&b, "\n")
			if f == mm.Livelock && v.LassoCycle != nil {
				fmt.Fprintf(&b, "%s under %s: livelock: %s\nstem: %s\ncycle: %s\n", v.Workload, v.Fix, v.FirstReport[f].Msg,
					strings.Join(v.LassoStem, " "), strings.Join(v.LassoCycle, " "))
				continue
			}
			if noDiagram || v.First[f] == "" {
				fmt.Fprintf(&b, "%s under %s: %s\nschedule:\n%s\n", v.Workload, v.Fix, f, v.First[f])
				continue
			}
			text, err := drawCounterexample(v, f)
			if err != nil {
				return err
			}
			b.WriteString(text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// drawCounterexample shrinks a failing schedule and draws it.
func drawCounterexample(v *bench.Verification, f mm.Failure) (string, error) {
	s, err := sim.ParseSchedule(v.First[f])
	if err != nil {
		return "", err
	}
	cfg, err := bench.ReplayConfigFor(s, "")
	if err != nil {
		return "", err
	}
	d, err := bench.DrawFailure(cfg, f, false)
	if err != nil {
		return "", fmt.Errorf("verify: drawing %s under %s: %w", f, v.Fix, err)
	}
	return d.Text, nil
}

// verifyJSON is one line of `pagelab verify -json`.
type verifyJSON struct {
	Workload     string            `json:"workload"`
	Fix          string            `json:"fix"`
	Params       []string          `json:"params,omitempty"`
	Search       string            `json:"search"`
	Preemptions  *int              `json:"preemption_bound,omitempty"`
	Complete     bool              `json:"complete"`
	Verdicts     map[string]string `json:"verdicts"`
	FirstFailure map[string]string `json:"first_failure,omitempty"`
	LassoStem    []string          `json:"lasso_stem,omitempty"`
	LassoCycle   []string          `json:"lasso_cycle,omitempty"`
	States       int               `json:"states"`
	Transitions  int               `json:"transitions"`
	Executions   int               `json:"executions"`
	Cached       int               `json:"cached"`
	SleepBlocked int               `json:"sleep_blocked"`
	Truncated    int               `json:"truncated"`
	Steps        int64             `json:"steps"`
	MaxDepth     int               `json:"max_depth"`
	Seconds      float64           `json:"seconds"`
}

func writeVerifyJSON(w io.Writer, r *verified) error {
	v := r.v
	j := verifyJSON{
		Workload: v.Workload, Fix: v.Fix, Params: v.Params, Search: "dpor", Complete: v.Complete,
		Verdicts: map[string]string{}, LassoStem: v.LassoStem, LassoCycle: v.LassoCycle,
		States: v.Stats.States, Transitions: v.Stats.Transitions, Executions: v.Stats.Executions,
		Cached: v.Stats.Cached, SleepBlocked: v.Stats.SleepBlocked, Truncated: v.Stats.Truncated,
		Steps: v.Stats.Steps, MaxDepth: v.Stats.MaxDepth, Seconds: r.elapsed.Seconds(),
	}
	j.Search = "dpor/" + v.Mode.String()
	if v.Bounded {
		j.Preemptions = &v.Preemptions
	}
	for f := range mm.NumFailures {
		j.Verdicts[mm.Failure(f).String()] = v.Verdicts[f].String()
		if v.First[f] != "" {
			if j.FirstFailure == nil {
				j.FirstFailure = map[string]string{}
			}
			j.FirstFailure[mm.Failure(f).String()] = v.First[f]
		}
	}
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

// countFinished counts the searches that ran to their end.
func countFinished(done []*verified) int {
	n := 0
	for _, r := range done {
		if r.v != nil && !r.v.Interrupted {
			n++
		}
	}
	return n
}
