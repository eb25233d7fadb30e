// Package bench is the harness: it runs (workload, fix variant) cells of
// executions, gathers failure counts and the first failing schedule of each
// failure id, and replays recorded schedules.
package bench

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// Strategy names accepted by Config.Strategy.
var Strategies = []string{"random", "pct", "pct-racy", "pct-task", "pct-irq", "pct-point", "pos", "surw", "racefuzz", "greybox", "greybox-irq", "dfs", "dpor", "timed", "native"}

// Config describes one cell: a workload with parameters under one fix
// variant, explored for Runs executions.
type Config struct {
	Workload *workloads.Workload
	Params   workloads.Values
	Variant  *fixes.Variant
	Strategy string  // one of Strategies
	Depth    int     // PCT depth; greybox's genome bound (sim.Greybox.SetDepth), 0 for its default
	Preempt  float64 // random: preemption probability at each point
	// Focus is surw's given set of interesting objects (mm.ParseFocus);
	// empty, the walk draws them.
	Focus string
	Seed  uint64
	// First and Runs are the executions to run: numbers First to
	// First+Runs-1 of the batch. An execution depends only on the seed and
	// its number, so that a cell split into parts (pagelab -j, -shard)
	// runs exactly the executions of the whole; dfs and dpor, whose
	// executions follow from those before, take First 0.
	First int
	Runs  int
	// Part and Parts split a dfs cell: it runs part Part of Parts of the
	// enumeration (sim.DFS.Split), and Runs bounds the executions run.
	Part, Parts int
	MaxSteps    int // per execution; 0 means the default
	Handoff     sim.Handoff
	// CPUs and Costs configure the timed strategy; CPUs, Inject and
	// Timeout the native one (Timeout: wall-clock ns an execution may
	// take before it counts as a livelock).
	CPUs    int
	Costs   sim.Costs
	Inject  map[string]int64
	Timeout int64
	// Progress, if set, is called after every execution.
	Progress func(done int)
	// Until, if set, is asked after every execution whether the cell has
	// what it runs for (a hunt's first failure): then it ends there.
	Until func(c *Cell) bool
}

// DefaultPreempt is the random strategy's default preemption probability.
const DefaultPreempt = 0.1

// DefaultDepth is PCT's default bug depth (pct, pct-racy).
const DefaultDepth = 3

// MaxDepth bounds the PCT depth d a run, a hunt or a record may ask for.
// PCT's guarantee 1/(n·k^(d−1)) fades fast with d, but pct-task's change
// points fall only on racy steps of one task each, and the deep races find
// more of their orderings among more of them: on race D's vm-bug-index
// pct-task fires 0.09% of executions at d = 6 and 1.6% at d = 30, 15× the
// random walk (pagelab hunt; README). The bound keeps the work of a racy
// step, which checks every change point not yet taken, small.
const MaxDepth = 64

// DefaultMaxSteps bounds one execution (livelock beyond);
// DefaultTimedMaxSteps is the bound for the long executions of timed runs.
const (
	DefaultMaxSteps      = 20000
	DefaultTimedMaxSteps = 50_000_000
)

// TimedMaxSteps is the step bound of one timed execution of wl: the
// workload's own budget if it sets one, else DefaultTimedMaxSteps.
func TimedMaxSteps(wl *workloads.Workload) int {
	if wl.TimedMaxSteps > 0 {
		return wl.TimedMaxSteps
	}
	return DefaultTimedMaxSteps
}

// Cell is the result of a cell.
type Cell struct {
	Workload string
	Fix      string
	Strategy string
	Depth    int
	Focus    string // surw's focus, if given
	Seed     uint64
	Params   []string // non-default parameters, name=value
	// From is the number of the cell's first execution (a part of a
	// split cell starts past 0); Runs the executions counted.
	From int
	Runs int
	// Planned is the executions the cell was to run; Partial marks a cell
	// an interrupt cut short after Runs of them.
	Planned int
	Partial bool
	// Failures counts, per failure id, the executions in which it fired.
	Failures [mm.NumFailures]int
	// First is, per failure id, the schedule of the first execution in
	// which it fired, and FirstReport its first report there.
	First       [mm.NumFailures]string
	FirstReport [mm.NumFailures]mm.Report
	// FirstRun is, per failure id, the number of that execution; for dfs,
	// FirstChoices are its choices, its place in the enumeration.
	FirstRun     [mm.NumFailures]int
	FirstChoices [mm.NumFailures][]int
	// Failing counts executions in which any failure fired.
	Failing    int
	Steps      int64 // scheduling decisions over all executions
	MaxStepsIn int   // most decisions in one execution
	Wakeups    int64
	// Switches is sim.Result.Switches over all executions (explore
	// mode, this process only: records do not carry it).
	Switches int64
	// PCT's guarantee for the tasks and steps seen (0 for random).
	PCTBound float64
	PCTN     int
	PCTK     int
	// FocusPoints are, for pct-point with a focus, the racy points its
	// change points fall on (sim.PCTPoint.Candidates): where the focus
	// aims it. This process only: records do not carry them.
	FocusPoints []string
	// Exhausted: dfs ran every interleaving within its preemption bound
	// (Depth) in Runs executions.
	Exhausted bool
	// Timed runs: the simulated CPUs, the virtual time of every run, and
	// the latency statistics of every operation the model timed.
	CPUs      int
	Makespans []int64
	Latencies []*Latency
	// Counts are the count metrics of the timed and native runs
	// (counts.go), in their units.
	Counts []*Latency
}

// Exec is everything about one execution.
type Exec struct {
	Result  sim.Result
	Fired   mm.FailureSet
	Reports []mm.Report
	Kernel  *mm.Kernel
}

// runner holds what is reused across the executions of a cell.
type runner struct {
	onKernel func(*mm.Kernel)
	cfg      *Config
	x        *sim.Explorer
	k        *mm.Kernel
	kcfg     mm.Config
	maxSteps int
	// e is what exec returns, valid until the next exec.
	e Exec
}

func newRunner(cfg *Config, s sim.Strategy) *runner {
	if cfg.Params[workloads.CPUs] == 0 {
		cfg.Params = maps.Clone(cfg.Params)
		cfg.Params[workloads.CPUs] = max(cfg.CPUs, 1)
	}
	r := &runner{cfg: cfg, kcfg: workloads.KernelConfig(cfg.Params), maxSteps: cfg.MaxSteps}
	if r.maxSteps == 0 {
		r.maxSteps = DefaultMaxSteps
	}
	r.x = sim.NewExplorer(s, cfg.Handoff)
	r.x.MaxSteps = r.maxSteps
	r.x.Watchdog = r.kcfg.SoftLockupNS
	r.x.OnSoftLockup = mm.OnSoftLockup
	r.x.Record = true
	return r
}

// exec runs one execution. What it returns is the runner's, valid until
// the next exec (as the kernel it points to, which the next exec resets).
func (r *runner) exec() (*Exec, error) {
	x := r.x
	x.Reset()
	if r.k == nil {
		r.k = mm.NewKernel(r.kcfg, x)
	} else {
		r.k.Reset(r.kcfg, x)
	}
	k := r.k
	if r.onKernel != nil {
		r.onKernel(k)
	}
	r.cfg.Variant.Apply(&k.Ops)
	if err := k.Setup(x, r.cfg.Workload.Setup(k, r.cfg.Params)); err != nil {
		return nil, fmt.Errorf("workload %s set-up: %w", r.cfg.Workload.ID, err)
	}
	res, err := x.Run()
	if err != nil {
		return nil, err
	}
	switch res.Outcome {
	case sim.Completed:
		k.CheckQuiescent()
	case sim.Hang:
		k.RaiseGlobal(mm.Hang, hangMessage(x))
	case sim.Livelock:
		k.RaiseGlobal(mm.Livelock, fmt.Sprintf("%d steps without every task finishing", res.Steps))
	}
	r.e = Exec{Result: res, Fired: k.Fired(), Reports: k.Reports(), Kernel: k}
	return &r.e, nil
}

func hangMessage(x *sim.Explorer) string {
	s := "asleep forever:"
	for _, t := range x.Tasks() {
		if !t.Done() {
			s += " " + t.Name + "@" + t.Label()
		}
	}
	return s
}

// Schedule is the recorded schedule of the last execution.
func (r *runner) schedule() *sim.Schedule {
	s := &sim.Schedule{Workload: r.cfg.Workload.ID, Fix: r.cfg.Variant.ID}
	s.Params = append(s.Params, sim.Param{Key: "seed", Value: strconv.FormatUint(r.cfg.Seed, 10)})
	for _, p := range r.cfg.Workload.NonDefault(r.cfg.Params) {
		k, v, _ := cut(p)
		s.Params = append(s.Params, sim.Param{Key: k, Value: v})
	}
	s.Segments = r.x.Segments()
	return s
}

func cut(p string) (string, string, bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == '=' {
			return p[:i], p[i+1:], true
		}
	}
	return p, "", false
}

// FocusError is Run's error for a focus that names objects the
// workload's profiled steps never touch (surw), or that no racy step
// touches (pct-point): bad input for that workload.
type FocusError struct {
	Focus, Workload string
	// Strategy is the strategy given the focus ("": surw).
	Strategy string
	// Valid are the focus names some step of the workload touches (a
	// racy one, for pct-point).
	Valid []string
}

func (e *FocusError) Error() string {
	if e.Strategy == "pct-point" {
		return fmt.Sprintf("focus %q: no racy step of %s touches such an object, so pct-point would have no change points (valid for %s: %s)",
			e.Focus, e.Workload, e.Workload, strings.Join(e.Valid, ", "))
	}
	return fmt.Sprintf("focus %q: no step of %s touches such an object, so surw would have no interesting events (valid for %s: %s)",
		e.Focus, e.Workload, e.Workload, strings.Join(e.Valid, ", "))
}

// CheckFocus reports whether cfg's focus names objects its workload's
// profiled steps touch (a *FocusError if not); without a focus, nil.
func CheckFocus(cfg *Config) error {
	if cfg.Focus == "" {
		return nil
	}
	if !TakesFocus(cfg.Strategy) {
		return fmt.Errorf("%s takes no focus (only surw and pct-point do)", cfg.Strategy)
	}
	prof, err := CellProfile(cfg)
	if err != nil {
		return err
	}
	if cfg.Strategy == "pct-point" {
		_, err = newPCTPointFocus(cfg, prof)
		return err
	}
	_, err = newSURWFocus(cfg, prof)
	return err
}

// TakesFocus reports whether a strategy takes a focus (-focus): surw's
// interesting events, pct-point's candidate points.
func TakesFocus(strategy string) bool { return strategy == "surw" || strategy == "pct-point" }

// newPCTPointFocus is pct-point over cfg's focus.
func newPCTPointFocus(cfg *Config, prof *sim.Profile) (*sim.PCTPoint, error) {
	focus, err := mm.ParseFocus(cfg.Focus)
	if err != nil {
		return nil, err
	}
	p, err := sim.NewPCTPointFocus(cfg.Seed, cfg.Depth, prof, focus)
	if err != nil {
		return nil, &FocusError{Focus: cfg.Focus, Workload: cfg.Workload.ID, Strategy: cfg.Strategy, Valid: mm.FocusNamesOf(prof.RacyObjects())}
	}
	return p, nil
}

// FocusKey is what the executions of cfg's focused sampler depend on
// besides its profile, seed and depth: pct-point's candidate points
// (sim.PCTPoint.Candidates), surw's interesting points and counts
// (sim.SURW.Interesting). Two foci with the same key run the same
// executions; a focus that names no object the sampler can use is a
// *FocusError.
func FocusKey(cfg *Config) ([]string, error) {
	if !TakesFocus(cfg.Strategy) || cfg.Focus == "" {
		return nil, fmt.Errorf("%s with focus %q has no focus key (only surw and pct-point with a focus)", cfg.Strategy, cfg.Focus)
	}
	prof, err := CellProfile(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Strategy == "pct-point" {
		p, err := newPCTPointFocus(cfg, prof)
		if err != nil {
			return nil, err
		}
		return p.Candidates(), nil
	}
	s, err := newSURWFocus(cfg, prof)
	if err != nil {
		return nil, err
	}
	return s.Interesting(), nil
}

// newSURWFocus is surw over cfg's focus.
func newSURWFocus(cfg *Config, prof *sim.Profile) (*sim.SURW, error) {
	focus, err := mm.ParseFocus(cfg.Focus)
	if err != nil {
		return nil, err
	}
	s, err := sim.NewSURWFocus(cfg.Seed, prof, focus)
	if err != nil {
		return nil, &FocusError{Focus: cfg.Focus, Workload: cfg.Workload.ID, Valid: mm.FocusNamesOf(prof.Objects())}
	}
	return s, nil
}

// CompletionsError is Run's error for pct-irq or greybox-irq on a cell
// whose profiled I/O completions take no racy step (or that has none):
// its change points would have nowhere to fall, and it would run as PCT,
// or greybox, without them. Bad input for that workload.
type CompletionsError struct {
	Workload string
	Strategy string // pct-irq or greybox-irq
	// Valid are the exploration workloads whose completions race at
	// their defaults under the baseline (CompletionWorkloads), if known.
	Valid []string
}

func (e *CompletionsError) Error() string {
	valid := ""
	if len(e.Valid) > 0 {
		valid = "valid: " + strings.Join(e.Valid, ", ") + "; "
	}
	other := "pct-task"
	if e.Strategy == "greybox-irq" {
		other = "greybox"
	}
	return fmt.Sprintf("%s: no I/O completion of %s takes a racy step, so %s would have no change points (%s%s draws them among every task)", e.Strategy, e.Workload, e.Strategy, valid, other)
}

// CompletionWorkloads are the exploration workloads whose I/O completions
// take racy steps at their default parameters under the baseline: those
// pct-irq and greybox-irq run on (each profiled, once per process).
func CompletionWorkloads() ([]string, error) {
	base, err := fixes.Parse("baseline")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, wl := range workloads.All() {
		if wl.Latency {
			continue
		}
		cfg := &Config{Workload: wl, Params: wl.Defaults(), Variant: base, Strategy: "pct-irq", Seed: 1, Runs: 1}
		err := CheckCompletions(cfg)
		if ce := (*CompletionsError)(nil); errors.As(err, &ce) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, wl.ID)
	}
	return out, nil
}

// OnCompletions reports whether a strategy's change points fall only on
// I/O completions: pct-irq and greybox-irq.
func OnCompletions(strategy string) bool {
	return strategy == "pct-irq" || strategy == "greybox-irq"
}

// CheckCompletions reports whether the workload of a cell whose strategy
// holds only completions (OnCompletions) has I/O completions that take
// racy steps (a *CompletionsError if not); for the other strategies, nil.
func CheckCompletions(cfg *Config) error {
	if !OnCompletions(cfg.Strategy) {
		return nil
	}
	prof, err := CellProfile(cfg)
	if err != nil {
		return err
	}
	return checkCompletions(cfg, prof)
}

// checkCompletions is CheckCompletions over cfg's profile: a
// *CompletionsError when no profiled completion takes a racy step.
func checkCompletions(cfg *Config, prof *sim.Profile) error {
	if len(prof.CompletionNames()) == 0 {
		return &CompletionsError{Workload: cfg.Workload.ID, Strategy: cfg.Strategy}
	}
	return nil
}

// ErrInterrupted is returned by Run when ctx-like cancellation stopped it;
// the partial Cell is still returned.
var ErrInterrupted = errors.New("interrupted")

// Run runs a cell. stop, if non-nil, is polled between executions; when it
// returns true the cell ends early with the executions done so far and
// ErrInterrupted.
func Run(cfg *Config, stop func() bool) (*Cell, error) {
	var strat sim.Strategy
	var pct *sim.PCT
	var rpct *sim.PCTRacy
	var ppt *sim.PCTPoint
	var prof *sim.Profile
	var err error
	if Profiled(cfg.Strategy) {
		if prof, err = CellProfile(cfg); err != nil {
			return nil, err
		}
	}
	var timed *sim.Timed
	var dfs *sim.DFS
	var dpor *sim.DPOR
	var grey *sim.Greybox
	switch cfg.Strategy {
	case "random":
		strat = sim.NewRandom(cfg.Seed, cfg.Preempt)
	case "pct":
		pct = sim.NewPCT(cfg.Seed, cfg.Depth, cfg.Workload.StepsEstimate)
		strat = pct
	case "pct-racy", "pct-task", "pct-irq":
		rpct = sim.NewPCTRacy(cfg.Seed, cfg.Depth, prof)
		rpct.PerTask = cfg.Strategy != "pct-racy"
		if cfg.Strategy == "pct-irq" {
			if err := checkCompletions(cfg, prof); err != nil {
				return nil, err
			}
			rpct.Completions = true
		}
		strat = rpct
	case "pct-point":
		if cfg.Focus == "" {
			ppt = sim.NewPCTPoint(cfg.Seed, cfg.Depth, prof)
		} else if ppt, err = newPCTPointFocus(cfg, prof); err != nil {
			return nil, err
		}
		strat = ppt
	case "pos":
		strat = sim.NewPOS(cfg.Seed, prof)
	case "surw":
		if cfg.Focus == "" {
			strat = sim.NewSURW(cfg.Seed, prof)
			break
		}
		s, err := newSURWFocus(cfg, prof)
		if err != nil {
			return nil, err
		}
		strat = s
	case "racefuzz":
		strat = sim.NewRaceFuzz(cfg.Seed, cfg.Preempt, prof)
	case "greybox", "greybox-irq":
		if cfg.Strategy == "greybox" {
			grey = sim.NewGreybox(cfg.Seed, prof)
		} else {
			if err := checkCompletions(cfg, prof); err != nil {
				return nil, err
			}
			if grey, err = sim.NewGreyboxIRQ(cfg.Seed, prof); err != nil {
				return nil, err
			}
		}
		if cfg.Depth > 0 {
			grey.SetDepth(cfg.Depth)
		}
		strat = grey
	case "dfs":
		dfs = sim.NewDFS(cfg.Depth)
		if cfg.Parts > 1 {
			dfs.Split(cfg.Part, cfg.Parts)
		}
		strat = dfs
	case "dpor":
		// The exhaustive search of Verify, counted as a cell: every
		// execution it runs (each ends at a state explored before, or
		// where every enabled transition is asleep, or at the end).
		dpor = sim.NewDPOR(sim.SourceSets, DefaultVerifyDepth)
		dpor.MaxStates = DefaultVerifyStates
		strat = dpor
	case "native":
	case "timed":
		if cfg.CPUs < 1 || cfg.CPUs > sim.MaxCPUs {
			return nil, fmt.Errorf("timed: %d CPUs (valid: 1 to %d)", cfg.CPUs, sim.MaxCPUs)
		}
		timed = sim.NewTimed(cfg.Seed, cfg.CPUs, cfg.Costs)
		strat = timed
	default:
		return nil, fmt.Errorf("unknown strategy %q (valid: %s)", cfg.Strategy, strings.Join(Strategies, ", "))
	}
	if cfg.Focus != "" && !TakesFocus(cfg.Strategy) {
		return nil, fmt.Errorf("%s takes no focus (only surw and pct-point do)", cfg.Strategy)
	}
	if cfg.Strategy == "native" {
		return runNative(cfg, stop)
	}
	if (dfs != nil || dpor != nil || grey != nil) && cfg.First != 0 {
		return nil, fmt.Errorf("%s: a search starts at execution 0, not %d (its executions follow from those before)", cfg.Strategy, cfg.First)
	}
	if dpor != nil && cfg.MaxSteps == 0 {
		c := *cfg
		c.MaxSteps = DefaultVerifyDepth + 1
		cfg = &c
	}
	r := newRunner(cfg, strat)
	defer r.x.Close()
	r.x.Interrupt = stop
	if dpor != nil {
		r.x.EnableFootprints()
		dpor.Attach(r.x)
	}
	if grey != nil {
		r.x.EnableAccessLog()
	}
	r.x.RecordOps = timed != nil
	r.x.SetRun(cfg.First)
	c := &Cell{
		Workload: cfg.Workload.ID, Fix: cfg.Variant.ID, Strategy: cfg.Strategy,
		Seed: cfg.Seed, Params: cfg.Workload.NonDefault(cfg.Params), From: cfg.First, Planned: cfg.Runs,
	}
	if pct != nil || rpct != nil || ppt != nil || dfs != nil || grey != nil {
		c.Depth = cfg.Depth // greybox: 0 for its default genome bounds
	}
	c.Focus = cfg.Focus
	if ppt != nil && cfg.Focus != "" {
		c.FocusPoints = ppt.Candidates()
	}
	if timed != nil {
		c.CPUs = cfg.CPUs
	}
	for i := 0; i < cfg.Runs; i++ {
		if stop != nil && stop() {
			err = ErrInterrupted
			break
		}
		e, xerr := r.exec()
		if dfs != nil && dfs.Exhausted() {
			// exec's Reset found no interleaving left: that execution
			// repeated the first one and is not counted.
			c.Exhausted = true
			break
		}
		if dpor != nil && dpor.Exhausted() {
			c.Exhausted = dpor.Complete()
			break
		}
		if xerr != nil {
			return c, xerr
		}
		if e.Result.Interrupted {
			err = ErrInterrupted // cut short: not counted
			break
		}
		if dfs != nil && !dfs.Own() {
			continue // another part's execution, run to learn the tree
		}
		c.MaxStepsIn = max(c.MaxStepsIn, e.Result.Steps)
		c.Switches += int64(e.Result.Switches)
		for _, f := range c.countExecution(e.Result.Steps, e.Result.Wakeups, e.Fired, e.Reports) {
			c.First[f] = r.schedule().String()
			c.FirstRun[f] = cfg.First + i
			if dfs != nil {
				c.FirstChoices[f] = dfs.Choices()
			}
		}
		if timed != nil {
			c.addTimed(r.x.Ops(), timed.Makespan())
			c.addCounts(r.x.Counts())
		}
		if cfg.Progress != nil {
			cfg.Progress(c.Runs)
		}
		if cfg.Until != nil && cfg.Until(c) {
			break
		}
	}
	c.summarize()
	if pct != nil {
		c.PCTBound, c.PCTN, c.PCTK = pct.Bound()
	}
	if rpct != nil {
		c.PCTBound, c.PCTN, c.PCTK = rpct.Bound()
	}
	if ppt != nil {
		c.PCTBound, c.PCTN, c.PCTK = ppt.Bound()
	}
	return c, err
}

// countExecution adds one finished execution to the cell: its steps and
// wake-ups, whether it failed, each failure it fired, and the first report
// of a failure the cell had not seen yet. It returns those newly seen
// failures, for the caller to record how to reproduce them.
func (c *Cell) countExecution(steps, wakeups int, fired mm.FailureSet, reports []mm.Report) (first []mm.Failure) {
	c.Runs++
	c.Steps += int64(steps)
	c.Wakeups += int64(wakeups)
	if !fired.Empty() {
		c.Failing++
	}
	for _, f := range fired.List() {
		c.Failures[f]++
		if c.Failures[f] > 1 {
			continue
		}
		first = append(first, f)
		for _, rep := range reports {
			if rep.Failure == f {
				c.FirstReport[f] = rep
				break
			}
		}
	}
	return first
}

// ReplayConfig describes a replay of a recorded schedule.
type ReplayConfig struct {
	Workload *workloads.Workload
	Params   workloads.Values
	Variant  *fixes.Variant
	Schedule *sim.Schedule
	// Then continues the execution once the schedule is exhausted or no
	// longer applies: "sequential" (the default), "random", "pct" or
	// "stop".
	Then  string
	Seed  uint64
	Depth int
	// Loose replays the schedule as sim.Replay.Loose does: its segments'
	// tasks and Until points, wherever the tasks are (the shrinker's
	// candidates).
	Loose bool
	// Trace, if set, sees every decision before it executes.
	Trace func(t *sim.Task, step int)

	// Hooks of TraceReplay.
	onAccess  func(t *sim.Task, line uint64, kind sim.AccessKind)
	onWake    func(waker, wakee *sim.Task)
	onKernel  func(k *mm.Kernel)
	onStepped func(t *sim.Task)
	// onFootprint, when set, turns the access log on and sees every
	// step's footprint after onStepped.
	onFootprint func(t *sim.Task, fp sim.Footprint)
}

// Replayed is the outcome of a replay.
type Replayed struct {
	Exec      *Exec
	Diverged  *sim.Divergence
	Exhausted bool
	Schedule  *sim.Schedule // the schedule actually followed, recorded
}

// ThenStrategies are the valid values of ReplayConfig.Then.
var ThenStrategies = []string{"sequential", "random", "pct", "stop"}

// Replay runs one execution that follows cfg.Schedule.
func Replay(cfg *ReplayConfig) (*Replayed, error) {
	var then sim.Strategy
	switch cfg.Then {
	case "", "sequential":
		then = sim.Sequential{}
	case "random":
		then = sim.NewRandom(cfg.Seed, DefaultPreempt)
	case "pct":
		then = sim.NewPCT(cfg.Seed, max(cfg.Depth, 1), cfg.Workload.StepsEstimate)
	case "stop":
		then = nil
	default:
		return nil, fmt.Errorf("unknown continuation %q (valid: sequential, random, pct, stop)", cfg.Then)
	}
	rp := sim.NewReplay(cfg.Schedule.Segments, then)
	rp.Loose = cfg.Loose
	rc := &Config{Workload: cfg.Workload, Params: cfg.Params, Variant: cfg.Variant, Seed: cfg.Seed}
	r := newRunner(rc, rp)
	defer r.x.Close()
	r.x.Trace = cfg.Trace
	r.x.OnAccess, r.x.OnWake, r.x.AfterStep = cfg.onAccess, cfg.onWake, cfg.onStepped
	if cfg.onFootprint != nil {
		x := r.x
		x.EnableAccessLog()
		x.AfterStep = func(t *sim.Task) {
			if cfg.onStepped != nil {
				cfg.onStepped(t)
			}
			cfg.onFootprint(t, x.StepFootprint())
		}
	}
	r.onKernel = cfg.onKernel
	e, err := r.exec()
	if err != nil {
		return nil, err
	}
	return &Replayed{Exec: e, Diverged: rp.Diverged(), Exhausted: rp.Exhausted(), Schedule: r.schedule()}, nil
}

// ReplayConfigFor resolves a parsed schedule into a replay configuration:
// its workload, its parameters and seed, and the fix (the schedule's own
// when fix is ""). Errors name the problem and the valid choices.
func ReplayConfigFor(s *sim.Schedule, fix string) (*ReplayConfig, error) {
	wl, err := workloads.Lookup(s.Workload)
	if err != nil {
		return nil, fmt.Errorf("schedule: %v", err)
	}
	if fix == "" {
		fix = s.Fix
	}
	v, err := wl.ParseFix(fix)
	if err != nil {
		return nil, err
	}
	var seed uint64 = 1
	var pairs []string
	for _, p := range s.Params {
		if p.Key == "seed" {
			if seed, err = strconv.ParseUint(p.Value, 10, 64); err != nil {
				return nil, fmt.Errorf("schedule: seed %q is not a number", p.Value)
			}
			continue
		}
		pairs = append(pairs, p.Key+"="+p.Value)
	}
	params, err := wl.ParseParams(pairs)
	if err != nil {
		return nil, fmt.Errorf("schedule: %v", err)
	}
	return &ReplayConfig{Workload: wl, Params: params, Variant: v, Schedule: s, Seed: seed, Depth: 3}, nil
}
