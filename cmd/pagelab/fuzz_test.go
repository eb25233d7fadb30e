package main

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// FuzzFlagValues: the parsers of -param, -cost, -inject, -cpus,
// -max-memory and hunt's -failure never panic, reject with one line, and accept only values in
// their documented ranges.
func FuzzFlagValues(f *testing.F) {
	f.Add("rounds=2,fsyncs=3", "step=5,ctxsw=1000", "wake_up_page=20000", "4,16", "8GiB")
	f.Add("rounds=0", "jitter_pct=101", "x=-1", "0", "1MiB")
	f.Add("", "", "", "3/4", "1GiB")
	f.Add("", "", "", "4/4", "1GiB")
	f.Add("", "", "a=1,a=2", "256,256", "999999TiB")
	f.Add("", "", "hang,data-loss", "1", "1GiB")
	f.Add("", "", "hang,hang", "1", "1GiB")
	f.Add("nosuch=1,rounds", "step=9000000000000", "=5", "1,,2", "64MiB")
	wl, err := workloads.Lookup("writeback-restart")
	if err != nil {
		f.Fatal(err)
	}
	oneLine := func(t *testing.T, err error) {
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error %q", err)
		}
	}
	f.Fuzz(func(t *testing.T, param, cost, inject, cpus, mem string) {
		if v, err := wl.ParseParams(strings.Split(param, ",")); err == nil {
			for _, p := range wl.AllParams() {
				if v[p.Name] < p.Min || v[p.Name] > p.Max {
					t.Fatalf("-param %q: %s=%d outside %d..%d", param, p.Name, v[p.Name], p.Min, p.Max)
				}
			}
		} else {
			oneLine(t, err)
		}
		if c, err := parseCosts(cost); err == nil {
			for _, ns := range []int64{c.Step, c.AtomicRMW, c.LineTransfer, c.SpinHandover, c.WakeCall, c.Wakeup, c.ContextSwitch, c.Timeslice, c.IOMedian} {
				if ns < 0 || ns > sim.MaxCost {
					t.Fatalf("-cost %q: %d accepted", cost, ns)
				}
			}
		} else {
			oneLine(t, err)
		}
		if m, err := parseInject(inject); err == nil {
			for l, ns := range m {
				if !sim.ValidLabel(l) || ns < 0 || ns > sim.MaxCost {
					t.Fatalf("-inject %q: %s=%d accepted", inject, l, ns)
				}
			}
		} else {
			oneLine(t, err)
		}
		// -failure of hunt, from the same text: known ids, none twice.
		if fl, err := parseFailures("hunt", inject); err == nil {
			if len(fl) == 0 || len(fl) != strings.Count(inject, ",")+1 {
				t.Fatalf("-failure %q: %v accepted", inject, fl)
			}
			for i, f := range fl {
				if f < 0 || f >= mm.NumFailures || slices.Contains(fl[:i], f) {
					t.Fatalf("-failure %q: %v accepted", inject, fl)
				}
			}
		} else {
			oneLine(t, err)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("-failure %q: %v is not a usage error", inject, err)
			}
		}
		if ns, err := parseCPUs("run", cpus); err == nil {
			for _, n := range ns {
				if n < 1 || n > sim.MaxCPUs {
					t.Fatalf("-cpus %q: %d accepted", cpus, n)
				}
			}
		} else {
			oneLine(t, err)
		}
		if b, err := parseBytes("run: -max-memory", mem); err == nil {
			if b < 64<<20 || b > 1<<50 {
				t.Fatalf("-max-memory %q: %d accepted", mem, b)
			}
		} else {
			oneLine(t, err)
		}
		// -shard, and the same text as Slurm's or Kubernetes' variables.
		env := func(k string) string {
			switch k {
			case "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX":
				a, _, _ := strings.Cut(cpus, "/")
				return a
			case "SLURM_ARRAY_TASK_COUNT":
				_, b, _ := strings.Cut(cpus, "/")
				return b
			}
			return ""
		}
		for _, flag := range []string{cpus, ""} {
			if id, err := resolveShard("bench", flag, 0, env); err == nil {
				if id != nil && (id.Count < 1 || id.Count > bench.MaxShards || id.Index < 0 || id.Index >= id.Count) {
					t.Fatalf("shard %q: %v accepted", cpus, *id)
				}
			} else {
				oneLine(t, err)
			}
		}
	})
}
