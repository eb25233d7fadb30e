package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// raceWorkloadIDs are the race workloads' ids, in registry order: the
// valid choices of verify's and hunt's -workload.
func raceWorkloadIDs() []string {
	var races []string
	for _, w := range workloads.All() {
		if w.Race != "" {
			races = append(races, w.ID)
		}
	}
	return races
}

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

// resolveFixes resolves a -fix list ("all": each workload's variants, or
// ids and '+' compositions separated by commas) for command cmd, per
// workload of wls. Two spellings of one variant ("a+b" and "b+a") are the
// same cell: refused. A listed fix runs on the workloads it applies to
// (workloads.Workload.CheckFix); one that applies to none of them is refused, as
// is a workload left without a fix. The notes say which listed fixes a
// workload skips, one line per workload.
func resolveFixes(cmd string, wls []*workloads.Workload, list string) (per [][]*fixes.Variant, notes []string, err error) {
	if list == "all" {
		for _, wl := range wls {
			var vs []*fixes.Variant
			for _, id := range wl.Fixes {
				v, err := wl.ParseFix(id)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: workload %s: %v", cmd, wl.ID, err) // a registration bug: exit 1
				}
				vs = append(vs, v)
			}
			per = append(per, vs)
		}
		return per, nil, nil
	}
	var vs []*fixes.Variant
	seen := map[string]string{}
	for _, id := range strings.Split(list, ",") {
		v, err := fixes.Parse(id)
		if err != nil {
			return nil, nil, usagef("%s: %v", cmd, err)
		}
		if first, ok := seen[v.ID]; ok {
			if first == id {
				return nil, nil, usagef("%s: fix %s given twice", cmd, id)
			}
			return nil, nil, usagef("%s: fix %s given twice (as %s and %s)", cmd, v.ID, first, id)
		}
		seen[v.ID] = id
		vs = append(vs, v)
	}
	per = make([][]*fixes.Variant, len(wls))
	skipped := make([][]string, len(wls))
	for _, v := range vs {
		var errs []error
		for i, wl := range wls {
			if err := wl.CheckFix(v); err != nil {
				errs = append(errs, err)
				skipped[i] = append(skipped[i], v.ID)
				continue
			}
			per[i] = append(per[i], v)
		}
		if len(errs) == len(wls) {
			if len(wls) == 1 {
				return nil, nil, usagef("%s: %v", cmd, errs[0])
			}
			var ids, fams []string
			for _, wl := range wls {
				ids, fams = append(ids, wl.ID), append(fams, wl.Fixes...)
			}
			return nil, nil, usagef("%s: fix %s applies to none of the workloads %s (their fixes: %s; compose them with '+')",
				cmd, v.ID, strings.Join(ids, ", "), strings.Join(fixes.FamilyParts(fams), ", "))
		}
	}
	for i, wl := range wls {
		if len(per[i]) == 0 {
			return nil, nil, usagef("%s: no fix of %q applies to workload %s (its fixes: %s; compose them with '+')",
				cmd, list, wl.ID, strings.Join(fixes.FamilyParts(wl.Fixes), ", "))
		}
		if len(skipped[i]) > 0 {
			notes = append(notes, fmt.Sprintf("%s: skipping %s on workload %s: not among its fixes", cmd, strings.Join(skipped[i], ", "), wl.ID))
		}
	}
	return per, notes, nil
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
