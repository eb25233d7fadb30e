// Package sweep runs a latency workload under the timed scheduler over a
// grid: one swept parameter (the columns, e.g. the number of concurrent
// users) against a list of variants (the rows: a fix variant with kernel or
// workload parameters of its own, e.g. baseline with unfairness=4), and
// tabulates the throughput of every cell and its ratio to the first
// variant's in the same column. Its default grid is Michael Larabel's page
// lock fairness sweep of September 2020 (Apache Siege on 5.8, 5.9-git and
// Linus' page_lock_unfairness patch at 1 to 250 concurrent users).
package sweep

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// Larabel's grid, the defaults of pagelab sweep.
const (
	// DefaultWorkload is the fault path of a web server's processes on
	// one hot mmapped file.
	DefaultWorkload = "lock-storm"
	// DefaultAxis is Siege's concurrent users.
	DefaultAxis = "tasks=1,50,100,200,250"
	// DefaultVariants are 5.8, 5.9-git (strict hand-off) and Linus'
	// unfairness patch (5ef64cc8987a, the baseline) with
	// page_lock_unfairness 0, 4 and 5.
	DefaultVariants = "v5.8;fair-handoff;baseline:unfairness=0;baseline:unfairness=4;baseline:unfairness=5"
	// DefaultBase is the rest of a request besides its page fault: 60 µs
	// of work (see the README: the one parameter fitted, to the 100-user
	// ratio of 5.9-git to 5.8).
	DefaultBase = "think=60000"
	// DefaultCPUs models Larabel's AMD EPYC server as the cost model's
	// 64-CPU class.
	DefaultCPUs = 64
	// DefaultCount is the timed runs per cell.
	DefaultCount = 6
)

// MaxValues bounds the swept values and MaxVariants the variants: a table
// that still reads in a mail.
const (
	MaxValues   = 12
	MaxVariants = 12
)

// Axis is the swept parameter and its values, in the order given.
type Axis struct {
	Name   string
	Values []int
}

// ParseAxis parses "name=v1,v2,...": a parameter of wl (or a kernel
// parameter) and distinct values within its bounds. Errors name the
// problem and the valid choices.
func ParseAxis(wl *workloads.Workload, s string) (Axis, error) {
	name, list, ok := strings.Cut(s, "=")
	if !ok || name == "" || list == "" {
		return Axis{}, fmt.Errorf("bad -param %q: want name=v1,v2,... (names for %s: %s)", s, wl.ID, paramNames(wl))
	}
	p, ok := param(wl, name)
	if !ok {
		return Axis{}, fmt.Errorf("-param: unknown parameter %q for workload %s (valid: %s)", name, wl.ID, paramNames(wl))
	}
	a := Axis{Name: name}
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < p.Min || n > p.Max {
			return Axis{}, fmt.Errorf("-param %s: value %q out of range (want integers from %d to %d, comma-separated)", name, f, p.Min, p.Max)
		}
		if slices.Contains(a.Values, n) {
			return Axis{}, fmt.Errorf("-param %s: value %d given twice", name, n)
		}
		a.Values = append(a.Values, n)
	}
	if len(a.Values) > MaxValues {
		return Axis{}, fmt.Errorf("-param %s: %d values, at most %d", name, len(a.Values), MaxValues)
	}
	return a, nil
}

// Variant is one row: a fix variant and parameters of its own.
type Variant struct {
	// Name is how the row is labelled: the fix id as given, then
	// ":name=value,..." if it sets parameters.
	Name   string
	Fix    *fixes.Variant
	Params []string // name=value, in the order given
}

// ParseVariants parses a ';'-separated list of variants, each
// fix[:name=value,...]: a fix id ('+' composes) and parameters of wl or of
// the kernel that apply to that row only.
func ParseVariants(wl *workloads.Workload, s string) ([]Variant, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("-variants is empty: want fix[:name=value,...] separated by ';' (fixes: %s)", strings.Join(fixes.IDs(), ", "))
	}
	var out []Variant
	for _, spec := range strings.Split(s, ";") {
		fix, params, hasParams := strings.Cut(spec, ":")
		v, err := wl.ParseFix(fix)
		if err != nil {
			return nil, fmt.Errorf("-variants %q: %v", spec, err)
		}
		vr := Variant{Name: fix, Fix: v}
		if hasParams {
			if params == "" {
				return nil, fmt.Errorf("-variants %q: no parameters after ':' (want name=value,...; names for %s: %s)", spec, wl.ID, paramNames(wl))
			}
			vr.Params = strings.Split(params, ",")
			if _, err := wl.ParseParams(vr.Params); err != nil {
				return nil, fmt.Errorf("-variants %q: %v", spec, err)
			}
			vr.Name += ":" + params
		}
		for _, o := range out {
			if o.Fix.ID == vr.Fix.ID && slices.Equal(o.Params, vr.Params) {
				return nil, fmt.Errorf("-variants: %s given twice", vr.Name)
			}
		}
		out = append(out, vr)
	}
	if len(out) > MaxVariants {
		return nil, fmt.Errorf("-variants: %d variants, at most %d", len(out), MaxVariants)
	}
	return out, nil
}

// ParseBase parses the parameters of every cell, "name=value,..." (empty:
// none), checking them against wl.
func ParseBase(wl *workloads.Workload, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	pairs := strings.Split(s, ",")
	if _, err := wl.ParseParams(pairs); err != nil {
		return nil, fmt.Errorf("-base: %v", err)
	}
	return pairs, nil
}

func param(wl *workloads.Workload, name string) (workloads.Param, bool) {
	for _, p := range wl.AllParams() {
		if p.Name == name {
			return p, true
		}
	}
	return workloads.Param{}, false
}

func paramNames(wl *workloads.Workload) string {
	var n []string
	for _, p := range wl.AllParams() {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// Config is a sweep.
type Config struct {
	Workload *workloads.Workload
	Axis     Axis
	Variants []Variant
	Base     []string // parameters of every cell, name=value
	CPUs     int
	Count    int // timed runs per cell
	Seed     uint64
	Costs    sim.Costs
	// Jobs is the goroutines the cells' runs are spread over; the result
	// is the same, byte for byte, for any value.
	Jobs int
	// Stop, if set, is polled during the runs: the sweep then ends with
	// the rows finished and ErrInterrupted.
	Stop func() bool
	// CellDone, if set, is told when a cell is finished (progress).
	CellDone func()
}

// ErrInterrupted ends a sweep that Stop cut short: the rows finished are
// returned.
var ErrInterrupted = errors.New("interrupted")

// CheckWorkload reports whether wl can be swept: a latency workload, whose
// primary operation the timed scheduler counts.
func CheckWorkload(wl *workloads.Workload) error {
	if wl.Latency {
		return nil
	}
	var ids []string
	for _, w := range workloads.All() {
		if w.Latency {
			ids = append(ids, w.ID)
		}
	}
	return fmt.Errorf("%s is not a latency workload: a sweep measures throughput under the timed scheduler (valid: %s)", wl.ID, strings.Join(ids, ", "))
}

// Cells resolves the grid into cell configurations, rows (variants) first,
// checking everything before anything runs: the parameters of a cell are
// the workload's defaults, then Base, then the variant's own, then the
// swept value; a variant or Base may not set the swept parameter.
func (c *Config) Cells() ([]*bench.Config, error) {
	wl := c.Workload
	if err := CheckWorkload(wl); err != nil {
		return nil, err
	}
	if c.CPUs < 1 || c.CPUs > sim.MaxCPUs {
		return nil, fmt.Errorf("-cpus %d out of range (valid: 1 to %d)", c.CPUs, sim.MaxCPUs)
	}
	if c.Count < 1 || c.Count > 1000 {
		return nil, fmt.Errorf("-count %d out of range (valid: 1 to 1000)", c.Count)
	}
	for _, b := range c.Base {
		if name, _, _ := strings.Cut(b, "="); name == c.Axis.Name {
			return nil, fmt.Errorf("-base sets %s, the swept parameter", name)
		}
	}
	var out []*bench.Config
	for _, v := range c.Variants {
		for _, p := range v.Params {
			if name, _, _ := strings.Cut(p, "="); name == c.Axis.Name {
				return nil, fmt.Errorf("variant %s sets %s, the swept parameter", v.Name, name)
			}
		}
		for _, x := range c.Axis.Values {
			params, err := wl.ParseParams(merge(c.Base, v.Params, fmt.Sprintf("%s=%d", c.Axis.Name, x)))
			if err != nil {
				return nil, fmt.Errorf("variant %s, %s=%d: %v", v.Name, c.Axis.Name, x, err)
			}
			out = append(out, &bench.Config{Workload: wl, Params: params, Variant: v.Fix, Strategy: "timed",
				Seed: c.Seed, Runs: c.Count, MaxSteps: bench.TimedMaxSteps(wl), CPUs: c.CPUs, Costs: c.Costs})
		}
	}
	return out, nil
}

// merge lists base, then over, then last, a later name replacing an
// earlier one in place.
func merge(base, over []string, last string) []string {
	vals := map[string]string{}
	var order []string
	for _, p := range slices.Concat(base, over, []string{last}) {
		name, val, _ := strings.Cut(p, "=")
		if _, ok := vals[name]; !ok {
			order = append(order, name)
		}
		vals[name] = val
	}
	out := make([]string, len(order))
	for i, name := range order {
		out[i] = name + "=" + vals[name]
	}
	return out
}

// Row is one variant's results, one cell per swept value.
type Row struct {
	Variant Variant
	Cells   []*bench.Cell
	// PerSec is each cell's throughput: the workload's primary operation
	// (lock-storm: the page lock of each request's fault, one per
	// request) per second of virtual time, over the cell's total makespan.
	PerSec []float64
}

// Result is a sweep's table.
type Result struct {
	Config *Config
	Op     string // the primary operation counted
	Rows   []Row
}

// Run runs the sweep. After an interrupt it returns the rows finished
// (whole variants, in order) and ErrInterrupted.
func Run(c *Config) (*Result, error) {
	cfgs, err := c.Cells()
	if err != nil {
		return nil, err
	}
	res := &Result{Config: c, Op: mm.OpNames[c.Workload.PrimaryOp]}
	batch := &bench.Batch{Cfgs: cfgs, Jobs: c.Jobs, Stop: c.Stop, CellDone: func(int, *bench.Cell) error {
		if c.CellDone != nil {
			c.CellDone()
		}
		return nil
	}}
	cells, err := batch.Run()
	interrupted := errors.Is(err, bench.ErrInterrupted)
	if err != nil && !interrupted {
		return nil, err
	}
	n := len(c.Axis.Values)
	for i, v := range c.Variants {
		if (i+1)*n > len(cells) || slices.ContainsFunc(cells[i*n:(i+1)*n], func(x *bench.Cell) bool { return x.Partial }) {
			break
		}
		row := Row{Variant: v, Cells: cells[i*n : (i+1)*n]}
		for _, cell := range row.Cells {
			var r float64
			if l := cell.Latency(res.Op); l != nil {
				r = l.PerSec
			}
			row.PerSec = append(row.PerSec, r)
		}
		res.Rows = append(res.Rows, row)
	}
	if interrupted {
		return res, ErrInterrupted
	}
	return res, nil
}

// Ratio is row i's throughput in column j over the first row's (0 when
// that is 0).
func (r *Result) Ratio(i, j int) float64 {
	ref := r.Rows[0].PerSec[j]
	if ref == 0 {
		return 0
	}
	return r.Rows[i].PerSec[j] / ref
}

// Write writes the table: throughput per variant and swept value, then the
// ratios to the first variant; as Markdown (one table, "throughput
// (ratio)" per cell) if markdown is set.
func Write(w io.Writer, r *Result, markdown bool) error {
	var b strings.Builder
	c := r.Config
	vals := make([]string, len(c.Axis.Values))
	for j, x := range c.Axis.Values {
		vals[j] = strconv.Itoa(x)
	}
	fixed := "none"
	if len(c.Base) > 0 {
		fixed = strings.Join(c.Base, ",")
	}
	ref := "-"
	if len(c.Variants) > 0 {
		ref = c.Variants[0].Name
	}
	if markdown {
		fmt.Fprintf(&b, "%s sweep over %s: %s per second of virtual time (ratio to %s), strategy=timed cpus=%d seed=%d runs=%d per cell, parameters: %s\n\n",
			c.Workload.ID, c.Axis.Name, r.Op, ref, c.CPUs, c.Seed, c.Count, fixed)
		fmt.Fprintf(&b, "| variant | %s=%s |\n", c.Axis.Name, strings.Join(vals, " | "))
		fmt.Fprintf(&b, "|---|%s\n", strings.Repeat("---|", len(vals)))
		for i, row := range r.Rows {
			fmt.Fprintf(&b, "| %s |", row.Variant.Name)
			for j, v := range row.PerSec {
				fmt.Fprintf(&b, " %s (%.2f) |", bench.SIRate(v), r.Ratio(i, j))
			}
			b.WriteString("\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%s sweep over %s  strategy=timed cpus=%d seed=%d runs=%d per cell\n", c.Workload.ID, c.Axis.Name, c.CPUs, c.Seed, c.Count)
	fmt.Fprintf(&b, "parameters of every cell: %s\n", fixed)
	fmt.Fprintf(&b, "%s per second of virtual time (all runs' operations over their\ntotal makespan), deterministic for the seed\n\n", r.Op)
	width := 12
	for _, v := range c.Variants {
		width = max(width, len(v.Name))
	}
	head := func(title string) {
		fmt.Fprintf(&b, "%-*s", width, title)
		for j, v := range vals {
			if j == 0 {
				v = c.Axis.Name + "=" + v
			}
			fmt.Fprintf(&b, " %*s", max(7, len(v)), v)
		}
		b.WriteString("\n")
	}
	cell := func(j int, s string) {
		w := 7
		if j == 0 {
			w = max(7, len(c.Axis.Name)+1+len(vals[0]))
		}
		fmt.Fprintf(&b, " %*s", w, s)
	}
	head("variant")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "%-*s", width, row.Variant.Name)
		for j, v := range row.PerSec {
			cell(j, bench.SIRate(v))
		}
		b.WriteString("\n")
	}
	if len(r.Rows) > 1 {
		b.WriteString("\n")
		head("ratio to " + ref)
		for i, row := range r.Rows[1:] {
			fmt.Fprintf(&b, "%-*s", width, row.Variant.Name)
			for j := range row.PerSec {
				cell(j, fmt.Sprintf("%.2f", r.Ratio(i+1, j)))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Lines are the plot's data: one line per variant, the swept values as x.
func (r *Result) Lines() (xs []float64, names []string, ys [][]float64) {
	for _, x := range r.Config.Axis.Values {
		xs = append(xs, float64(x))
	}
	for _, row := range r.Rows {
		names = append(names, row.Variant.Name)
		ys = append(ys, slices.Clone(row.PerSec))
	}
	return xs, names, ys
}
