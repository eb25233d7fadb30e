package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/workloads"
)

// jsonCell is the JSON Lines record of SPEC §3.
type jsonCell struct {
	Workload     string             `json:"workload"`
	Fix          string             `json:"fix"`
	Strategy     string             `json:"strategy"`
	Depth        int                `json:"depth,omitempty"`
	Seed         uint64             `json:"seed"`
	Params       map[string]string  `json:"params,omitempty"`
	Runs         int                `json:"runs"`
	Failing      int                `json:"failing"`
	Failures     map[string]int     `json:"failures"`
	FirstFailure map[string]string  `json:"first_failure"`
	Steps        int64              `json:"steps"`
	MostSteps    int                `json:"most_steps"` // most decisions in one run
	PCTBound     float64            `json:"pct_bound,omitempty"`
	PCTTasks     int                `json:"pct_tasks,omitempty"`
	PCTSteps     int                `json:"pct_steps,omitempty"`
	CPUs         int                `json:"cpus,omitempty"`
	VirtualNS    int64              `json:"virtual_ns,omitempty"`
	Latency      map[string]jsonLat `json:"latency,omitempty"`
}

// jsonLat is one operation's latency distribution (ns) in a timed cell.
type jsonLat struct {
	Count      int64   `json:"count"`
	P50        float64 `json:"p50_ns"`
	P90        float64 `json:"p90_ns"`
	P99        float64 `json:"p99_ns"`
	P999       float64 `json:"p99.9_ns"`
	Max        float64 `json:"max_ns"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	WakeupsOp  float64 `json:"wakeups_per_op"`
	SpuriousOp float64 `json:"spurious_per_op"`
}

func writeJSON(w io.Writer, c *bench.Cell) error {
	j := jsonCell{
		Workload: c.Workload, Fix: c.Fix, Strategy: c.Strategy, Depth: c.Depth, Seed: c.Seed,
		Runs: c.Runs, Failing: c.Failing, Failures: map[string]int{}, FirstFailure: map[string]string{},
		Steps: c.Steps, MostSteps: c.MaxStepsIn, PCTBound: c.PCTBound, PCTTasks: c.PCTN, PCTSteps: c.PCTK,
	}
	if c.CPUs > 0 {
		j.CPUs = c.CPUs
		for _, m := range c.Makespans {
			j.VirtualNS += m
		}
		j.Latency = map[string]jsonLat{}
		for _, l := range c.Latencies {
			j.Latency[l.Op] = jsonLat{Count: l.Count, P50: l.P50, P90: l.P90, P99: l.P99, P999: l.P999, Max: l.Max,
				OpsPerSec: l.PerSec, WakeupsOp: l.WakeupsPerOp(), SpuriousOp: l.SpuriousPerOp()}
		}
	}
	if len(c.Params) > 0 {
		j.Params = map[string]string{}
		for _, p := range c.Params {
			k, v, _ := strings.Cut(p, "=")
			j.Params[k] = v
		}
	}
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		if c.Failures[f] > 0 {
			j.Failures[f.String()] = c.Failures[f]
			j.FirstFailure[f.String()] = c.First[f]
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

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
	if c0.Strategy == "pct" {
		fmt.Fprintf(b, " depth=%d", c0.Depth)
	}
	fmt.Fprintf(b, " seed=%d", c0.Seed)
	if len(c0.Params) > 0 {
		fmt.Fprintf(b, "\nparameters: %s", wrap(strings.Join(c0.Params, " "), 68, 12))
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
			fmt.Fprintf(b, "%-*s  %8d  %8d  %s\n", fixW, c.Fix, c.Runs, c.Failing, wrap(strings.Join(parts, " "), 80-fixW-22, fixW+22))
		}
	}
	for _, c := range cells {
		if c.PCTBound > 0 {
			fmt.Fprintf(b, "\nPCT d=%d: each run finds a given depth-%d bug with probability >= 1/(n*k^(d-1))\n= %.3g for n=%d tasks, k=%d steps (the most seen in one run).\n",
				c.Depth, c.Depth, c.PCTBound, c.PCTN, c.PCTK)
			break
		}
	}
	first := true
	for _, c := range cells {
		for _, f := range ids {
			if c.Failures[f] == 0 {
				continue
			}
			if first {
				b.WriteString("\nfirst failing run per (fix, failure id), replay with pagelab replay -schedule:\n")
				first = false
			}
			r := c.FirstReport[f]
			where := ""
			if r.Task != "" {
				where = " in " + r.Task
			}
			if r.Label != "" {
				where += " at " + r.Label
			}
			fmt.Fprintf(b, "\n%s %s%s:\n  %s\n  %s\n", c.Fix, f, where, wrap(r.Msg, 76, 2), c.First[f])
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
		fmt.Fprintf(b, "\nparameters: %s", wrap(strings.Join(c0.Params, " "), 68, 12))
	}
	clock := "virtual time, deterministic for the seed"
	if c0.Strategy == "native" {
		clock = "wall-clock time, GOMAXPROCS=cpus"
	}
	fmt.Fprintf(b, "\n%s latency in %s;\npercentiles over all runs\n\n", op, clock)
	fixW := len("fix")
	for _, c := range cells {
		fixW = max(fixW, len(c.Fix))
	}
	fmt.Fprintf(b, "%-*s %4s %7s %7s %7s %7s %7s %7s %7s\n", fixW, "fix", "cpus", "ops/s", "p50", "p99", "p99.9", "max", "wake/op", "spur/op")
	var failing []string
	for _, c := range cells {
		l := c.Latency(op)
		if l == nil {
			l = &bench.Latency{}
		}
		fmt.Fprintf(b, "%-*s %4d %7s %7s %7s %7s %7s %7.2f %7.2f\n", fixW, c.Fix, c.CPUs,
			siRate(l.PerSec), nsDur(l.P50), nsDur(l.P99), nsDur(l.P999), nsDur(l.Max), l.WakeupsPerOp(), l.SpuriousPerOp())
		for f := mm.Failure(0); f < mm.NumFailures; f++ {
			if c.Failures[f] > 0 {
				failing = append(failing, fmt.Sprintf("%s at %d cpus: %s in %d/%d runs", c.Fix, c.CPUs, f, c.Failures[f], c.Runs))
			}
		}
	}
	if len(failing) > 0 {
		b.WriteString("\nfailures in timed runs:\n")
		for _, f := range failing {
			fmt.Fprintf(b, "  %s\n", f)
		}
	}
	b.WriteByte('\n')
}

// nsDur formats nanoseconds with an SI unit, three significant digits.
func nsDur(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.3gµs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.3gms", ns/1e6)
	}
	return fmt.Sprintf("%.3gs", ns/1e9)
}

// siRate formats a rate with an SI prefix.
func siRate(r float64) string {
	switch {
	case r >= 1e9:
		return fmt.Sprintf("%.3gG", r/1e9)
	case r >= 1e6:
		return fmt.Sprintf("%.3gM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.3gk", r/1e3)
	}
	return fmt.Sprintf("%.3g", r)
}
