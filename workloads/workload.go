// Package workloads holds the contention scenarios: one file per race and per
// performance question. A workload builds the history that leads to the race
// (in a set-up task that runs alone), then spawns the racing tasks and the
// bystanders a real system has on the same pages. Its parameters are
// integers with defaults and bounds; its seed interleavings are scripted
// schedules in testdata/seeds.
package workloads

import (
	"embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/mm"
)

// Param is a workload (or kernel) parameter.
type Param struct {
	Name     string
	Default  int
	Min, Max int
	Desc     string
}

// Values are parameter values by name.
type Values map[string]int

// Workload is one registered scenario.
type Workload struct {
	ID   string
	Race string // "A", "B", … or "" for performance workloads
	Desc string
	// Fixes are the variants -fix all runs, baseline first.
	Fixes  []string
	Params []Param
	// Setup returns the set-up task's function for one execution with
	// parameters p: it builds the state before the race and spawns the
	// racing tasks.
	Setup func(k *mm.Kernel, p Values) func(t *mm.Thread)
	// StepsEstimate bounds the scheduling decisions of one execution at
	// default parameters (measured: at least the most seen in 3,000 PCT
	// runs under every fix). It is PCT's k, the range its change points
	// are drawn from, fixed so that executions are independent.
	StepsEstimate int
	// Latency marks a performance workload: it runs under the timed
	// scheduler by default and reports PrimaryOp's latency.
	Latency   bool
	PrimaryOp int
	// TimedMaxSteps, if set, is the step budget of one timed execution
	// (livelock beyond) instead of the harness's default.
	TimedMaxSteps int
	// Sampler is the strategy run and bench use for a race workload
	// unless -strategy says otherwise: the one the hunt table (README,
	// `pagelab hunt`) shows finds this workload's seed failures fastest;
	// SamplerWhy says so in one line. Empty: the random walk, with no
	// reason given (a race workload whose best is the walk names it,
	// "random", to say why).
	Sampler    string
	SamplerWhy string
	// SamplerDepth is the Sampler's depth if it is a PCT variant (0: the
	// harness's default).
	SamplerDepth int
	// SamplerFocus is a surw Sampler's focus (mm.ParseFocus): the
	// objects the race's report names, given as its interesting events.
	SamplerFocus string
	// KernelDefaults override the kernel parameters' defaults for this
	// workload (each with its reason in the workload's doc comment); the
	// user's -param still wins.
	KernelDefaults Values
}

// DefaultStrategy is the strategy of a run or bench that names none: timed
// for a latency workload, else the workload's Sampler, else random.
func (w *Workload) DefaultStrategy() string {
	switch {
	case w.Latency:
		return "timed"
	case w.Sampler != "":
		return w.Sampler
	}
	return "random"
}

// CPUs is the parameter the harness sets to the number of simulated CPUs of
// a timed run (1 in explore mode), for workloads that size themselves by it.
const CPUs = "cpus"

// KernelParams apply to every workload: they configure the modelled kernel.
var KernelParams = []Param{
	{Name: "debug_vm", Default: 1, Min: 0, Max: 1, Desc: "CONFIG_DEBUG_VM and _PGFLAGS: VM_BUG_ONs, flag checks at free"},
	{Name: "wait_table_bits", Default: 8, Min: 0, Max: 12, Desc: "PAGE_WAIT_TABLE_BITS: 2^bits hashed page wait queues"},
	{Name: "walk_break", Default: 64, Min: 1, Max: 1 << 20, Desc: "WAITQUEUE_WALK_BREAK_CNT: wake-up walk bookmark interval"},
	{Name: "unfairness", Default: 5, Min: 0, Max: 1000, Desc: "sysctl_page_lock_unfairness"},
	{Name: "pcp", Default: 1, Min: 0, Max: 1, Desc: "v5.10 allocator: per-CPU order-0 lists over a merging buddy (0: one global LIFO list)"},
	{Name: "pcp_high", Default: 378, Min: 1, Max: 1 << 16, Desc: "pcp->high: a CPU's list frees pcp_batch pages to the buddy at this count (v5.10, zones >= 1 GiB)"},
	{Name: "softlockup_us", Default: 20000, Min: 0, Max: 1e9, Desc: "soft-lockup watchdog threshold, µs of virtual time in non-preemptible code (timed runs; 0: off)"},
	{Name: "pcp_batch", Default: 63, Min: 1, Max: 1 << 16, Desc: "pcp->batch: pages per pcp refill and overflow free (v5.10 zone_batchsize, zones >= 1 GiB)"},
}

// registry is every workload, races first, in the order of SPEC §3.
var registry = []*Workload{
	WritebackRestart,
	WritebackReuse,
	GupDioBuffers,
	GupDioWrprotect,
	ThpCollapseTruncate,
	ThpTruncateOpens,
	ISizeCompress,
	LockStorm,
	FsyncStorm,
	WritebackChase,
}

// All returns the registered workloads in registry order.
func All() []*Workload { return registry }

// IDs lists the workload ids.
func IDs() []string {
	var ids []string
	for _, w := range registry {
		ids = append(ids, w.ID)
	}
	return ids
}

// Lookup returns the workload with id, or an error naming the valid ids.
func Lookup(id string) (*Workload, error) {
	for _, w := range registry {
		if w.ID == id {
			return w, nil
		}
	}
	return nil, fmt.Errorf("unknown workload %q (valid: %s)", id, strings.Join(IDs(), ", "))
}

// AllParams are the workload's parameters followed by the kernel's.
func (w *Workload) AllParams() []Param {
	return append(slices.Clone(w.Params), KernelParams...)
}

// Defaults returns the default value of every parameter.
func (w *Workload) Defaults() Values {
	v := Values{}
	for _, p := range w.AllParams() {
		v[p.Name] = p.Default
	}
	for k, d := range w.KernelDefaults {
		v[k] = d
	}
	return v
}

// ParseParams applies "k=v,k=v" (or key=value pairs from a schedule) over
// the defaults. Errors name the valid parameters and bounds.
func (w *Workload) ParseParams(pairs []string) (Values, error) {
	v := w.Defaults()
	given := map[string]bool{}
	for _, pair := range pairs {
		if pair == "" {
			continue
		}
		name, val, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("parameter %q is not name=value (valid for %s: %s)", pair, w.ID, w.paramNames())
		}
		if given[name] {
			return nil, fmt.Errorf("parameter %s given twice", name)
		}
		given[name] = true
		p, ok := w.param(name)
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q for workload %s (valid: %s)", name, w.ID, w.paramNames())
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < p.Min || n > p.Max {
			return nil, fmt.Errorf("parameter %s=%q out of range (want an integer from %d to %d)", name, val, p.Min, p.Max)
		}
		v[name] = n
	}
	return v, nil
}

func (w *Workload) param(name string) (Param, bool) {
	for _, p := range w.AllParams() {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

func (w *Workload) paramNames() string {
	var n []string
	for _, p := range w.AllParams() {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// NonDefault lists the parameters whose value differs from the default, as
// name=value in parameter order: what a schedule must carry to be replayed.
func (w *Workload) NonDefault(v Values) []string {
	var out []string
	def := w.Defaults()
	for _, p := range w.AllParams() {
		if v[p.Name] != def[p.Name] {
			out = append(out, fmt.Sprintf("%s=%d", p.Name, v[p.Name]))
		}
	}
	return out
}

// KernelConfig is the modelled kernel's configuration for parameters v.
func KernelConfig(v Values) mm.Config {
	c := mm.DefaultConfig()
	c.DebugVM = v["debug_vm"] != 0
	c.DebugVMPgflags = c.DebugVM
	c.WaitTableBits = v["wait_table_bits"]
	c.WalkBreakCnt = v["walk_break"]
	c.PageLockUnfairness = v["unfairness"]
	c.PCP = v["pcp"] != 0
	c.PcpHigh, c.PcpBatch = v["pcp_high"], v["pcp_batch"]
	c.SoftLockupNS = int64(v["softlockup_us"]) * 1000
	if !c.PCP {
		c.NrPages = 64 // the first model's mem_map
	}
	return c
}

// Seed is a scripted schedule from testdata/seeds: the interleaving of a
// seed document, with the failure ids it fires under the baseline.
type Seed struct {
	Name     string // file name without extension
	Comment  string
	Expect   []string
	Schedule string
}

//go:embed testdata/seeds/*.sched
var seedFS embed.FS

// Seeds returns the scripted schedules of workload id, by file name.
func Seeds(id string) ([]Seed, error) {
	entries, err := seedFS.ReadDir("testdata/seeds")
	if err != nil {
		return nil, err
	}
	var out []Seed
	for _, e := range entries {
		b, err := seedFS.ReadFile("testdata/seeds/" + e.Name())
		if err != nil {
			return nil, err
		}
		s, err := ParseSeed(strings.TrimSuffix(e.Name(), ".sched"), string(b))
		if err != nil {
			return nil, fmt.Errorf("testdata/seeds/%s: %v", e.Name(), err)
		}
		if strings.HasPrefix(s.Schedule, "v1/"+id+"/") {
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseSeed reads a seed file: '#' comment lines, "expect id..." and
// "schedule <schedule>".
func ParseSeed(name, text string) (Seed, error) {
	s := Seed{Name: name}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			s.Comment += strings.TrimSpace(strings.TrimPrefix(line, "#")) + "\n"
		case strings.HasPrefix(line, "expect "):
			s.Expect = strings.Fields(strings.TrimPrefix(line, "expect "))
		case strings.HasPrefix(line, "schedule "):
			s.Schedule = strings.TrimSpace(strings.TrimPrefix(line, "schedule "))
		default:
			return s, fmt.Errorf("line %d: want '# comment', 'expect <failure ids>' or 'schedule <schedule>'", i+1)
		}
	}
	if s.Schedule == "" {
		return s, fmt.Errorf("no schedule line")
	}
	return s, nil
}
