// Package hunt measures search power: for every seed interleaving's
// failure id and every sampling strategy, the probability that one
// execution fires it (with its 95% interval) and the time to the first
// failing execution, the number a user waits for when a new race is
// reported. The clock is the caller's: hunt itself reads none.
package hunt

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// Target is what a sampler is to find: a failure id in a workload with
// given parameters, under a fix variant. A seed target is the failure a
// seed interleaving fires (the first its seed file expects), with the
// seed's parameters and fix (the baseline, for every seed so far); a
// custom target (Custom) is one a user names: a race the seeds do not
// script, or a seed's race under a candidate fix.
type Target struct {
	Seed     string // the seed's name: race-a, race-b-page, ...; "" for a custom target
	Workload *workloads.Workload
	Fix      *fixes.Variant // nil: the baseline
	Params   workloads.Values
	Failure  mm.Failure

	seedFix string // a seed target's own fix, its schedule's: the name omits it
}

// Custom is the target of failure f in workload wl with parameters p
// under fix variant v (nil: the baseline). The caller checks that v
// applies to wl (workloads.Workload.CheckFix) and p came from
// wl.ParseParams.
func Custom(wl *workloads.Workload, v *fixes.Variant, p workloads.Values, f mm.Failure) *Target {
	return &Target{Workload: wl, Fix: v, Params: p, Failure: f}
}

// Under is the target under fix variant v: a seed's race under a
// candidate fix, named "race-a/v5.8 bug-writeback". The caller checks
// that v applies to the target's workload (workloads.Workload.CheckFix).
func (t *Target) Under(v *fixes.Variant) *Target {
	u := *t
	u.Fix = v
	return &u
}

// Name is the target's name in tables: the seed (and the fix, under a
// fix not the seed's own) and the failure id, or
// for a custom target its workload and fix, the parameters that differ
// from the workload's defaults, and the failure id
// ("writeback-restart/v5.8 fsync-early",
// "writeback-reuse/baseline thp=1,write2=0 vm-bug-tail").
func (t *Target) Name() string { return t.label() + " " + t.Failure.String() }

// label is the target's name without its failure id.
func (t *Target) label() string {
	if t.Seed != "" {
		if v := t.variant().ID; v != t.seedFix {
			return t.Seed + "/" + v
		}
		return t.Seed
	}
	n := t.Workload.ID + "/" + t.variant().ID
	if p := t.ParamArg(); p != "" {
		n += " " + p
	}
	return n
}

// ParamArg is the target's parameters that differ from its workload's
// defaults, as -param takes them ("rounds=2,fsyncs=3"; "" for none), and
// as a bench.Cell's Params read joined by commas.
func (t *Target) ParamArg() string { return strings.Join(t.Workload.NonDefault(t.Params), ",") }

// VerifyCommand is the pagelab verify command that searches every
// interleaving of the target's cell.
func (t *Target) VerifyCommand() string {
	c := "pagelab verify -workload " + t.Workload.ID + " -fix " + t.variant().ID
	if p := t.ParamArg(); p != "" {
		c += " -param " + p
	}
	return c
}

// baseline is the variant of a target without a Fix.
var baseline = func() *fixes.Variant {
	v, err := fixes.Parse("baseline")
	if err != nil {
		panic(err) // the registry has no baseline: a build broken at init
	}
	return v
}()

// variant is the fix variant the target runs under.
func (t *Target) variant() *fixes.Variant {
	if t.Fix == nil {
		return baseline
	}
	return t.Fix
}

// Targets are the seed interleavings' failures, in workload order and by
// seed name within a workload.
func Targets() ([]*Target, error) {
	var out []*Target
	for _, wl := range workloads.All() {
		seeds, err := workloads.Seeds(wl.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range seeds {
			sc, err := sim.ParseSchedule(s.Schedule)
			if err != nil {
				return nil, fmt.Errorf("seed %s: %v", s.Name, err)
			}
			var pairs []string
			for _, p := range sc.Params {
				if p.Key != "seed" {
					pairs = append(pairs, p.Key+"="+p.Value)
				}
			}
			params, err := wl.ParseParams(pairs)
			if err != nil {
				return nil, fmt.Errorf("seed %s: %v", s.Name, err)
			}
			if len(s.Expect) == 0 {
				return nil, fmt.Errorf("seed %s: no expect line", s.Name)
			}
			f, ok := mm.ParseFailure(s.Expect[0])
			if !ok {
				return nil, fmt.Errorf("seed %s: unknown failure id %q", s.Name, s.Expect[0])
			}
			v, err := wl.ParseFix(sc.Fix)
			if err != nil {
				return nil, fmt.Errorf("seed %s: %v", s.Name, err)
			}
			out = append(out, &Target{Seed: s.Name, Workload: wl, Fix: v, Params: params, Failure: f, seedFix: v.ID})
		}
	}
	return out, nil
}

// SelectTargets picks targets by seed name ("all" or a comma-separated
// list); an unknown name is an error naming the valid ones, and so is a
// name given twice (it would measure the target twice).
func SelectTargets(all []*Target, names string) ([]*Target, error) {
	if names == "" || names == "all" {
		return all, nil
	}
	var out []*Target
	for _, n := range strings.Split(names, ",") {
		if slices.ContainsFunc(out, func(t *Target) bool { return t.Seed == n }) {
			return nil, fmt.Errorf("target %q given twice", n)
		}
		i := slices.IndexFunc(all, func(t *Target) bool { return t.Seed == n })
		if i < 0 {
			var valid []string
			for _, t := range all {
				valid = append(valid, t.Seed)
			}
			return nil, fmt.Errorf("unknown target %q (valid: all, %s)", n, strings.Join(valid, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// Strategies are the sampling strategies hunt compares by default: the
// PCT variants at Config.Depth and, as "name:d", at depth d.
var Strategies = []string{"random", "pct", "pct-racy", "pct-task", "pct-task:6", "pct-task:14", "pct-task:30", "pct-irq:6", "pct-irq:14", "pct-point:6", "pct-point:14", "pct-point:30", "pos", "surw", "racefuzz", "greybox", "greybox-irq"}

// Samplers are the strategy names hunt accepts.
var Samplers = []string{"random", "pct", "pct-racy", "pct-task", "pct-irq", "pct-point", "pos", "surw", "racefuzz", "greybox", "greybox-irq"}

// Sampler is a strategy of a hunt as given: a name of Samplers, the PCT
// depth of a PCT variant (0: the hunt's -depth) or greybox's genome bound
// (0: its default; sim.Greybox.SetDepth), and the focus of surw (empty:
// the objects drawn) or pct-point (empty: every racy point).
type Sampler struct {
	Name  string
	Depth int
	Focus string
}

// Key names the sampler at a hunt's default depth: two strategies with
// the same key are one sampler ("pct" and "pct:3" at depth 3), and would
// run the same executions twice.
func (s Sampler) Key(depth int) string {
	if s.Depth == 0 && bench.HasDepth(s.Name) {
		s.Depth = depth
	}
	return fmt.Sprintf("%s:%d:%s", s.Name, s.Depth, s.Focus)
}

// FocusAll, as a focus of surw or pct-point ("surw:all",
// "pct-point:30:all"), is a sweep: one row per focus the sampler accepts
// on the target (Expand).
const FocusAll = "all"

// ParseStrategy reads a strategy of a hunt: a name of Samplers; for the
// PCT variants and greybox an optional ":d", the depth (1 to
// bench.MaxDepth); for surw an optional ":focus" (mm.ParseFocus:
// "surw:i_size", or FocusAll); for pct-point either or both, depth first
// ("pct-point:30:xa-slot").
func ParseStrategy(spec string) (Sampler, error) {
	name, arg, hasArg := strings.Cut(spec, ":")
	if !slices.Contains(Samplers, name) {
		return Sampler{}, fmt.Errorf("unknown strategy %q (valid: %s; pct, pct-racy, pct-task, pct-irq, pct-point, greybox and greybox-irq take a depth as name:d, surw and pct-point a focus as name:focus or a row per focus as name:all, pct-point both as pct-point:d:focus)", spec, strings.Join(Samplers, ", "))
	}
	s := Sampler{Name: name}
	if !hasArg {
		return s, nil
	}
	focusArg := ""
	switch {
	case name == "surw":
		focusArg, arg = arg, ""
	case name == "pct-point":
		d, f, both := strings.Cut(arg, ":")
		if _, err := strconv.Atoi(d); err != nil && !both {
			// One argument that is not a number: the focus.
			d, f, both = "", arg, true
		}
		if both {
			arg, focusArg = d, f
			if f == "" {
				return Sampler{}, fmt.Errorf("strategy %q: empty focus (valid: pct-point:d, pct-point:focus or pct-point:d:focus)", spec)
			}
		}
	case bench.DepthOf(name, 1) == 0:
		return Sampler{}, fmt.Errorf("strategy %q: %s takes no depth (only pct, pct-racy, pct-task, pct-irq, pct-point, greybox and greybox-irq do; surw takes a focus)", spec, name)
	}
	if focusArg != "" || name == "surw" {
		if focusArg != FocusAll {
			if _, err := mm.ParseFocus(focusArg); err != nil {
				return Sampler{}, fmt.Errorf("strategy %q: %v (or all: a row per focus)", spec, err)
			}
		}
		s.Focus = focusArg
	}
	if arg == "" && (name == "surw" || s.Focus != "") {
		return s, nil
	}
	if arg == FocusAll {
		return Sampler{}, fmt.Errorf("strategy %q: %s takes no focus, so no sweep (only surw and pct-point do: surw:all, pct-point:all)", spec, name)
	}
	depth, err := strconv.Atoi(arg)
	if err != nil || depth < 1 || depth > bench.MaxDepth {
		return Sampler{}, fmt.Errorf("strategy %q: depth %q out of range (valid: 1 to %d)", spec, arg, bench.MaxDepth)
	}
	s.Depth = depth
	return s, nil
}

// Config is a hunt.
type Config struct {
	Targets    []*Target
	Strategies []string
	Depth      int    // PCT depth of pct and pct-racy
	Seed       uint64 // the rate's seed; time to first uses seeds Seed..Seed+Seeds-1
	Runs       int    // executions per rate
	// ReferenceRuns is the executions of the random walk's rate, the
	// reference of every ratio (0: Runs). More than Runs narrows its
	// interval, and a walk that fires nothing in Runs gets an upper
	// bound ten times lower: the ratio of a sampler that fires a race
	// the walk never does is a lower bound over that upper end.
	ReferenceRuns int
	Seeds         int // seeds for the time to the first failure
	// MaxTTFRuns bounds the executions spent measuring one cell's time
	// to first failure over all seeds: a cell whose rate makes that
	// longer gets an estimate from its rate instead (Row.TTFEstimated).
	MaxTTFRuns int
	// CampaignRuns bounds one seed's campaign of an adaptive strategy
	// (greybox) looking for its first failure (0: MaxTTFRuns/Seeds).
	CampaignRuns int
	Jobs         int
	// Now is a monotonic clock (time since any fixed instant).
	Now func() time.Duration
	// Handoff, if set, times the bare coroutine hand-off on this
	// goroutine, in ns per decision (sim.HandoffSample): the reference
	// every first failure is also counted in, so that a table taken in
	// a slow spell of the machine reads like one taken in a fast one. It
	// is sampled after a row's rate and again between its seeds once
	// HandoffResample has passed since the last sample.
	Handoff func() (float64, error)
	// Stop, if set, is polled between executions: the hunt ends early
	// with the rows done so far.
	Stop func() bool
	// Planned, if set, is told the number of rows once Run knows it: a
	// sweep's rows are known only once its targets are profiled (Expand).
	Planned func(rows int)
	// Progress, if set, sees every row as it is finished, and nil for a
	// planned row left out (no I/O completion of its target takes a racy
	// step): with Planned's count, a progress bar's.
	Progress func(r *Row)

	profileNs map[string]float64 // by Target.cell
	// noCompletions are the targets Run measured no pct-irq or
	// greybox-irq row of (the strategies in onCompletions): no I/O
	// completion of theirs takes a racy step (bench.CompletionsError).
	noCompletions []*Target
	onCompletions []string
	// planned is the rows Run planned (Planned's count); interrupted is
	// set when Stop ended it: Write says so above its footnotes.
	planned     int
	interrupted bool
}

// Row is one (target, strategy) measurement.
type Row struct {
	Target   *Target
	Strategy string
	Depth    int
	Focus    string // surw's focus, if given
	// Same are the foci a sweep left to this row (Planned.Same).
	Same   []string
	Fired  int // executions that fired the target's failure
	Runs   int
	Lo, Hi float64 // Wilson 95% interval of Fired/Runs
	// Bound is the strategy's own guarantee per execution, for a bug of
	// its depth (PCT variants; 0 when the strategy has none).
	Bound float64
	// ExecNs is the mean wall time of one execution in the rate run
	// (all Jobs goroutines), per goroutine.
	ExecNs float64
	// Time to the first failing execution over Seeds seeds, on one
	// goroutine: medians of the wall time and of the executions it took
	// (the first failing one included), and how many seeds found it
	// within their budget. TTFEstimated: not measured (the rate is 0 or
	// too low for MaxTTFRuns), the median is ln 2 / rate executions.
	TTFNs        float64
	TTFRuns      float64
	TTFFound     int
	TTFSeeds     int
	TTFEstimated bool
	// TTFHandoffs is the median time to the first failure in bare
	// hand-offs: each seed's time over the hand-off sample taken last
	// before it (for an estimate, TTFNs over the sample after the rate);
	// HandoffNs is the median of those samples. Both 0 without
	// Config.Handoff, or when the first failure was not timed.
	TTFHandoffs float64
	HandoffNs   float64
	// TTFInterrupted: the hunt was stopped while timing the first
	// failure; the rate stands, the first failure was not measured.
	TTFInterrupted bool
	// FirstFailures are the seeds' times to the first failure, in seed
	// order, that the medians above are of (none for an estimate or an
	// interrupted row): what WriteBench gives benchstat.
	FirstFailures []FirstFailure
	// Campaigns is set for an adaptive strategy (greybox): the rate is
	// over that many independent campaigns and Lo, Hi are Student's t
	// over their rates (NaN when none fired); the time to first failure
	// is always measured. CampaignsFired is how many of them fired it
	// at least once: with a deep race, a few campaigns fire it often and
	// the rest never, which the interval alone does not show.
	Campaigns      int
	CampaignsFired int
	// First is the schedule of the first execution that fired the
	// target's failure, and FirstReport its report there: the rate's
	// lowest-numbered (a campaign row's, from the first campaign in seed
	// order that fired it), or, where the rate never fired it, the first
	// seed's of the first failure that found it; "" if none did. Write
	// prints the best row's, shrunk, to replay and draw.
	First       string
	FirstReport mm.Report
	// foundWhere and foundBody cache First shrunk and printed
	// (failureText).
	foundWhere, foundBody string
	// ProfileNs is the time the cell's profile took to build (once per
	// process and cell: a profile built before the hunt, by an earlier
	// hunt in the same process, costs nothing; 0 for strategies without
	// one).
	ProfileNs float64
}

// FirstFailure is one seed's search for the first failure. Found: it
// fired within the seed's budget; Ns is the wall time on one goroutine,
// Runs the executions (the failing one included), Handoffs that time in
// bare hand-offs (0 without Config.Handoff). For a seed that did not find
// it they are what it spent, its budget: a lower bound.
type FirstFailure struct {
	Seed               uint64
	Found              bool
	Ns, Runs, Handoffs float64
}

// Rate is Fired/Runs.
func (r *Row) Rate() float64 {
	if r.Runs == 0 {
		return 0
	}
	return float64(r.Fired) / float64(r.Runs)
}

// Kept says what an interrupted Run kept of what it planned (a sweep is
// many rows of one strategy): its rows finished, and the rate of the row
// it stopped in when Stop came while its first failure was being timed.
func (cfg *Config) Kept(rows []*Row) string {
	done, cut := len(rows), ""
	if done > 0 && rows[done-1].TTFInterrupted {
		done, cut = done-1, ", and the rate of the row it stopped in (its first failure not measured)"
	}
	return fmt.Sprintf("the %d of %d planned rows it finished%s", done, cfg.planned, cut)
}

// ErrInterrupted: Stop ended the hunt; the rows done so far are returned.
var ErrInterrupted = bench.ErrInterrupted

// Run measures every (target, strategy) pair.
func Run(cfg *Config) ([]*Row, error) {
	if cfg.Runs < 1 || cfg.Seeds < 1 {
		return nil, fmt.Errorf("hunt: want at least one execution and one seed, not %d and %d", cfg.Runs, cfg.Seeds)
	}
	if err := checkFocus(cfg); err != nil {
		return nil, err
	}
	plan, err := Expand(cfg)
	if err != nil {
		return nil, err
	}
	cfg.planned, cfg.interrupted = 0, false
	for _, p := range plan {
		cfg.planned += len(p)
	}
	if cfg.Planned != nil {
		cfg.Planned(cfg.planned)
	}
	var rows []*Row
	cfg.noCompletions, cfg.onCompletions = nil, nil
	for i, t := range cfg.Targets {
		for _, p := range plan[i] {
			skip, err := cfg.withoutCompletions(t, p.Spec)
			if err != nil {
				return rows, err
			}
			if skip {
				if cfg.Progress != nil {
					cfg.Progress(nil)
				}
				continue
			}
			row, err := measure(cfg, t, p.Spec, t.variant())
			if row != nil {
				row.Same = p.Same
			}
			// A row whose rate did not finish is dropped; one stopped
			// while timing its first failure keeps its rate
			// (TTFInterrupted).
			if row != nil && (err == nil || row.Runs > 0) {
				rows = append(rows, row)
				if cfg.Progress != nil {
					cfg.Progress(row)
				}
			}
			if err != nil {
				cfg.interrupted = errors.Is(err, ErrInterrupted)
				return rows, err
			}
		}
	}
	return rows, nil
}

// Planned is a row a hunt plans: its strategy, and for a sweep's
// pct-point row the foci after it in the sweep whose change points fall
// among the same racy points (sim.PCTPoint.Candidates), whose executions
// would be the row's own.
type Planned struct {
	Spec string
	Same []string
}

// Expand is the rows of the hunt per target, in cfg.Targets' order:
// cfg.Strategies, with a sweep (a focus of FocusAll) replaced by one
// strategy per focus the sampler accepts on the target (surw: every
// object kind and page flag a profiled step touched; pct-point: those a
// racy step touched), in name order, each at the sweep's depth; a focus
// the hunt also lists itself at that depth is left to its own row. No
// focus is left out for naming objects no two tasks contend for (two
// touching, one writing): such a focus still marks where the race's steps
// are, and on the tail flavour of thp-truncate-opens surw focused on
// page-index, one of them, fires it as often as focused on PG_head. A
// focus whose key (bench.FocusKey) an earlier focus of the sweep had is
// that row's (Planned.Same): they would run the same executions. For
// pct-point the key is its candidate points: on race C1, 18 foci,
// nrpages and most page flags among them, keep one point, reclaim's
// page_ref_freeze(), whose step deletes the page from the cache and frees
// it. For surw it is the points the focus marks and each task name's
// interesting events there: on the tail flavour of thp-truncate-opens, 15
// page flags mark the same points with the same counts as PG_active; a
// focus on two of them counts each step twice, and is a sampler of its
// own.
func Expand(cfg *Config) ([][]Planned, error) {
	listed := map[string]bool{}
	for _, spec := range cfg.Strategies {
		s, err := ParseStrategy(spec)
		if err != nil {
			return nil, err
		}
		listed[s.Key(cfg.Depth)] = true
	}
	plan := make([][]Planned, len(cfg.Targets))
	for i, t := range cfg.Targets {
		v := t.variant()
		for _, spec := range cfg.Strategies {
			s, _ := ParseStrategy(spec)
			if s.Focus != FocusAll {
				plan[i] = append(plan[i], Planned{Spec: spec})
				continue
			}
			if s.Depth == 0 && bench.HasDepth(s.Name) {
				s.Depth = cfg.Depth
			}
			if _, err := cfg.profile(t, s, v); err != nil {
				return nil, err
			}
			prof, err := bench.CellProfile(cellConfig(cfg, t, s, v, cfg.Seed, 1))
			if err != nil {
				return nil, err
			}
			// The object kinds first, then the page flags: a row that
			// stands for several foci is named by the first, and
			// "free-list" says more than "PG_active" of a step that
			// frees a page (it touches every flag).
			foci := mm.FocusNamesOf(prof.Objects())
			flag := func(f string) int {
				if strings.HasPrefix(f, "PG_") {
					return 1
				}
				return 0
			}
			slices.SortStableFunc(foci, func(a, b string) int { return cmp.Compare(flag(a), flag(b)) })
			rowOf := map[string]int{} // focus key -> row in plan[i]
			for _, f := range foci {
				one := s
				one.Focus = f
				if listed[one.Key(cfg.Depth)] {
					continue
				}
				// The focus's key, built once, is both its check and what
				// its rows are merged by.
				key, err := bench.FocusKey(cellConfig(cfg, t, one, v, cfg.Seed, 1))
				if fe := (*bench.FocusError)(nil); errors.As(err, &fe) {
					continue // pct-point: no racy step touches it
				}
				if err != nil {
					return nil, err
				}
				sig := strings.Join(key, "\x00")
				if r, ok := rowOf[sig]; ok {
					plan[i][r].Same = append(plan[i][r].Same, f)
					continue
				}
				rowOf[sig] = len(plan[i])
				plan[i] = append(plan[i], Planned{Spec: one.Spec()})
			}
		}
	}
	return plan, nil
}

// Spec is the strategy as ParseStrategy reads it: "surw:nrpages",
// "pct-point:30:xa-slot", "pct-task:14".
func (s Sampler) Spec() string {
	spec := s.Name
	if s.Depth > 0 {
		spec += ":" + strconv.Itoa(s.Depth)
	}
	if s.Focus != "" {
		spec += ":" + s.Focus
	}
	return spec
}

func cellConfig(cfg *Config, t *Target, s Sampler, v *fixes.Variant, seed uint64, runs int) *bench.Config {
	return &bench.Config{
		Workload: t.Workload, Params: t.Params, Variant: v, Strategy: s.Name,
		Depth: s.Depth, Focus: s.Focus, Preempt: bench.DefaultPreempt, Seed: seed, Runs: runs,
	}
}

func measure(cfg *Config, t *Target, spec string, v *fixes.Variant) (*Row, error) {
	s, err := ParseStrategy(spec)
	if err != nil {
		return nil, err
	}
	if s.Depth == 0 && bench.HasDepth(s.Name) {
		s.Depth = cfg.Depth
	}
	strategy := s.Name
	row := &Row{Target: t, Strategy: strategy, Focus: s.Focus, TTFSeeds: cfg.Seeds}
	row.Depth = bench.DepthOf(strategy, s.Depth)
	if bench.Profiled(strategy) {
		if row.ProfileNs, err = cfg.profile(t, s, v); err != nil {
			return nil, err
		}
	}

	if !bench.Splittable(&bench.Config{Strategy: strategy}) {
		return row, campaigns(cfg, t, s, v, row)
	}

	// The rate: Runs executions (ReferenceRuns for the random walk), on
	// Jobs goroutines.
	runs := cfg.Runs
	if strategy == "random" && cfg.ReferenceRuns > 0 {
		runs = cfg.ReferenceRuns
	}
	b := &bench.Batch{Cfgs: []*bench.Config{cellConfig(cfg, t, s, v, cfg.Seed, runs)}, Jobs: cfg.Jobs, Stop: cfg.Stop}
	t0 := cfg.Now()
	cells, err := b.Run()
	el := cfg.Now() - t0
	if len(cells) == 0 || cells[0] == nil {
		return nil, err
	}
	c := cells[0]
	if c.Partial {
		return nil, ErrInterrupted
	}
	if err != nil {
		return nil, err
	}
	row.Fired, row.Runs = c.Failures[t.Failure], c.Runs
	row.First, row.FirstReport = c.First[t.Failure], c.FirstReport[t.Failure]
	row.Lo, row.Hi = bench.Wilson(row.Fired, row.Runs)
	row.Bound = c.PCTBound
	row.ExecNs = float64(el) * float64(max(cfg.Jobs, 1)) / float64(c.Runs)

	// The time to the first failure, one seed after another on this
	// goroutine. A seed's budget is 20/rate executions (a seed runs out
	// with probability e^-20); the cell's, MaxTTFRuns.
	rate := row.Rate()
	if row.Fired == 0 || float64(cfg.Seeds)/rate > float64(cfg.MaxTTFRuns) {
		row.TTFEstimated = true
		if row.Fired > 0 {
			row.TTFRuns = math.Ln2 / rate
			row.TTFNs = row.TTFRuns * row.ExecNs
			if cfg.Handoff != nil {
				if row.HandoffNs, err = cfg.Handoff(); err != nil {
					return nil, err
				}
				row.TTFHandoffs = row.TTFNs / row.HandoffNs
			}
		}
		return row, nil
	}
	return row, timeToFirst(cfg, t, s, v, row, int(math.Ceil(20/rate)))
}

// Label names the row's strategy in the table: "pct-task d=6",
// "surw focus=i_size", "pct-point d=30 focus=xa-slot".
func (r *Row) Label() string {
	l := r.Strategy
	if r.Depth > 0 {
		l += fmt.Sprintf(" d=%d", r.Depth)
	}
	if r.Focus != "" {
		l += " focus=" + r.Focus
	}
	return l
}

// cell names the target's cell: workload, fix variant and parameters.
// Targets that differ only in their failure id share it, and its
// profile: bench builds a cell's once per process, so only the first
// target of a cell can time it.
func (t *Target) cell() string {
	return t.Workload.ID + "/" + t.variant().ID + "/" + t.ParamArg()
}

// profile builds the cell's profile, once per process and cell, by the
// first strategy that needs it, timed on its own so that the times to
// first failure do not hide it; it returns the time it took.
func (cfg *Config) profile(t *Target, s Sampler, v *fixes.Variant) (float64, error) {
	if ns, ok := cfg.profileNs[t.cell()]; ok {
		return ns, nil
	}
	t0 := cfg.Now()
	if _, err := bench.CellProfile(cellConfig(cfg, t, s, v, cfg.Seed, 1)); err != nil {
		return 0, err
	}
	ns := float64(cfg.Now() - t0)
	if cfg.profileNs == nil {
		cfg.profileNs = map[string]float64{}
	}
	cfg.profileNs[t.cell()] = ns
	return ns, nil
}

// withoutCompletions reports whether strategy spec holds only I/O
// completions (pct-irq, greybox-irq) and target t has no completion that
// takes a racy step: a row that would have no change points, left out of
// the table (and t and the strategy noted, once, for its footnote).
func (cfg *Config) withoutCompletions(t *Target, spec string) (bool, error) {
	s, err := ParseStrategy(spec)
	if err != nil || !bench.OnCompletions(s.Name) {
		return false, err
	}
	v := t.variant()
	if _, err := cfg.profile(t, s, v); err != nil {
		return false, err
	}
	err = bench.CheckCompletions(cellConfig(cfg, t, s, v, cfg.Seed, 1))
	if ce := (*bench.CompletionsError)(nil); errors.As(err, &ce) {
		if !slices.Contains(cfg.noCompletions, t) {
			cfg.noCompletions = append(cfg.noCompletions, t)
		}
		if !slices.Contains(cfg.onCompletions, s.Name) {
			cfg.onCompletions = append(cfg.onCompletions, s.Name)
		}
		return true, nil
	}
	return false, err
}

// checkFocus refuses, before anything is measured, a surw focus that
// names no object some target's steps touch (a *bench.FocusError).
func checkFocus(cfg *Config) error {
	for _, t := range cfg.Targets {
		v := t.variant()
		for _, spec := range cfg.Strategies {
			s, err := ParseStrategy(spec)
			if err != nil {
				return err
			}
			if s.Focus == "" || s.Focus == FocusAll {
				continue // a sweep's foci are the ones Expand finds
			}
			if _, err := cfg.profile(t, s, v); err != nil {
				return err
			}
			if err := bench.CheckFocus(cellConfig(cfg, t, s, v, cfg.Seed, 1)); err != nil {
				return fmt.Errorf("target %s: %w", t.label(), err)
			}
		}
	}
	return nil
}

// Campaigns is the number of independent campaigns a rate of an adaptive
// strategy (greybox) is measured over, and tCampaigns the 97.5% quantile
// of Student's t with Campaigns-1 degrees of freedom.
const (
	Campaigns  = 10
	tCampaigns = 2.2622
)

// campaigns measures an adaptive strategy, one whose executions follow
// from those before it (greybox's corpus). Its executions are not
// independent draws, so neither Wilson's interval nor ln 2 / rate applies:
// the rate is over Campaigns independent campaigns of Runs/Campaigns
// executions (seeds Seed+Seeds..Seed+Seeds+Campaigns-1, apart from the
// time-to-first seeds), its interval Student's t over the campaigns'
// rates, and the time to the first failure is always measured: every seed
// a campaign from scratch, of at most CampaignRuns executions.
func campaigns(cfg *Config, t *Target, s Sampler, v *fixes.Variant, row *Row) error {
	row.Campaigns = Campaigns
	per := (cfg.Runs + Campaigns - 1) / Campaigns
	b := &bench.Batch{Jobs: cfg.Jobs, Stop: cfg.Stop}
	for i := range Campaigns {
		b.Cfgs = append(b.Cfgs, cellConfig(cfg, t, s, v, cfg.Seed+uint64(cfg.Seeds)+uint64(i), per))
	}
	t0 := cfg.Now()
	cells, err := b.Run()
	el := cfg.Now() - t0
	if err == nil && len(cells) < Campaigns {
		err = fmt.Errorf("hunt: %d of %d campaigns ran", len(cells), Campaigns)
	}
	for _, c := range cells {
		if c != nil && c.Partial {
			return ErrInterrupted
		}
	}
	if err != nil {
		return err
	}
	rates := make([]float64, Campaigns)
	for i, c := range cells {
		row.Fired += c.Failures[t.Failure]
		row.Runs += c.Runs
		rates[i] = float64(c.Failures[t.Failure]) / float64(c.Runs)
		if c.Failures[t.Failure] > 0 {
			row.CampaignsFired++
			if row.First == "" {
				row.First, row.FirstReport = c.First[t.Failure], c.FirstReport[t.Failure]
			}
		}
	}
	row.Lo, row.Hi = tInterval(rates)
	row.ExecNs = float64(el) * float64(min(max(cfg.Jobs, 1), Campaigns)) / float64(row.Runs)
	return timeToFirst(cfg, t, s, v, row, cfg.campaignRuns())
}

func (cfg *Config) campaignRuns() int {
	if cfg.CampaignRuns > 0 {
		return cfg.CampaignRuns
	}
	return max(cfg.MaxTTFRuns/cfg.Seeds, 1)
}

// tInterval is the 95% interval of the mean of Campaigns rates by
// Student's t, clipped at 0; NaN when every rate is 0 (the campaigns
// give no spread to scale an interval by).
func tInterval(rates []float64) (lo, hi float64) {
	n := float64(len(rates))
	mean, ss := 0.0, 0.0
	for _, r := range rates {
		mean += r
	}
	mean /= n
	for _, r := range rates {
		ss += (r - mean) * (r - mean)
	}
	if mean == 0 {
		return math.NaN(), math.NaN()
	}
	half := tCampaigns * math.Sqrt(ss/(n-1)) / math.Sqrt(n)
	return max(mean-half, 0), mean + half
}

// HandoffResample is how long a hand-off sample holds between the seeds
// of one row: a row whose seeds take milliseconds is timed against one
// sample; one that takes minutes against a sample per second of it.
const HandoffResample = time.Second

// timeToFirst measures the time to the first failure, one seed after
// another on this goroutine, each seed with budget executions; with
// Config.Handoff, each seed's time in hand-offs as well.
func timeToFirst(cfg *Config, t *Target, s Sampler, v *fixes.Variant, row *Row, budget int) error {
	var handoff float64
	var sampled time.Duration
	var ffs []FirstFailure
	var samples []float64 // the hand-off sample each seed was timed against
	for i := range cfg.Seeds {
		if cfg.Handoff != nil && (i == 0 || cfg.Now()-sampled >= HandoffResample) {
			var err error
			if handoff, err = cfg.Handoff(); err != nil {
				return err
			}
			sampled = cfg.Now()
		}
		seed := cfg.Seed + uint64(i)
		one := cellConfig(cfg, t, s, v, seed, budget)
		f := t.Failure
		one.Until = func(c *bench.Cell) bool { return c.Failures[f] > 0 }
		t0 := cfg.Now()
		c, err := bench.Run(one, cfg.Stop)
		el := cfg.Now() - t0
		if err != nil {
			if err == bench.ErrInterrupted {
				row.TTFInterrupted = true
				return ErrInterrupted
			}
			return err
		}
		ff := FirstFailure{Seed: seed, Found: c.Failures[f] > 0, Ns: float64(el), Runs: float64(c.Runs)}
		if ff.Found {
			row.TTFFound++
			if row.First == "" {
				row.First, row.FirstReport = c.First[f], c.FirstReport[f]
			}
		}
		if cfg.Handoff != nil {
			ff.Handoffs = float64(el) / handoff
		}
		ffs = append(ffs, ff)
		samples = append(samples, handoff)
	}
	row.FirstFailures = ffs
	// A seed that did not find it counts as never, above every time.
	field := func(get func(FirstFailure) float64) []float64 {
		var xs []float64
		for _, ff := range ffs {
			x := math.Inf(1)
			if ff.Found {
				x = get(ff)
			}
			xs = append(xs, x)
		}
		return xs
	}
	row.TTFNs = median(field(func(ff FirstFailure) float64 { return ff.Ns }))
	row.TTFRuns = median(field(func(ff FirstFailure) float64 { return ff.Runs }))
	if cfg.Handoff != nil {
		row.TTFHandoffs = median(field(func(ff FirstFailure) float64 { return ff.Handoffs }))
		row.HandoffNs = median(samples)
	}
	return nil
}

// median of xs (+Inf for a seed that did not find the failure: the
// median is +Inf when half of them did not).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
