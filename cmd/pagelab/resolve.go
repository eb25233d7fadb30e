package main

import (
	"slices"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// resolveWorkloads resolves a -workload list ("all", or ids separated by
// commas) for command cmd, refusing unknown ids and an id given twice: one
// workload is one set of cells.
func resolveWorkloads(cmd, list string) ([]*workloads.Workload, error) {
	if list == "all" {
		return workloads.All(), nil
	}
	var wls []*workloads.Workload
	for _, id := range strings.Split(list, ",") {
		wl, err := workloads.Lookup(id)
		if err != nil {
			return nil, usagef("%s: %v", cmd, err)
		}
		if slices.Contains(wls, wl) {
			return nil, usagef("%s: workload %s given twice", cmd, id)
		}
		wls = append(wls, wl)
	}
	return wls, nil
}

// resolveFixes resolves a -fix list ("all": the workload's variants, or
// ids and '+' compositions separated by commas) for command cmd. Two
// spellings of one variant ("a+b" and "b+a") are the same cell: refused.
func resolveFixes(cmd string, wl *workloads.Workload, list string) ([]*fixes.Variant, error) {
	ids := strings.Split(list, ",")
	if list == "all" {
		ids = wl.Fixes
	}
	var vs []*fixes.Variant
	seen := map[string]string{}
	for _, id := range ids {
		v, err := fixes.Parse(id)
		if err != nil {
			return nil, usagef("%s: %v", cmd, err)
		}
		if first, ok := seen[v.ID]; ok {
			if first == id {
				return nil, usagef("%s: fix %s given twice", cmd, id)
			}
			return nil, usagef("%s: fix %s given twice (as %s and %s)", cmd, v.ID, first, id)
		}
		seen[v.ID] = id
		vs = append(vs, v)
	}
	return vs, nil
}

// parseCPUs parses a -cpus list of command cmd.
func parseCPUs(cmd, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > sim.MaxCPUs {
			return nil, usagef("%s: bad -cpus %q (want CPU counts from 1 to %d, comma-separated)", cmd, f, sim.MaxCPUs)
		}
		if slices.Contains(out, n) {
			return nil, usagef("%s: -cpus %d given twice", cmd, n)
		}
		out = append(out, n)
	}
	return out, nil
}
