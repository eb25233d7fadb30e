package bench

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// ProfileRuns is the number of executions a cell's profile takes, and
// ProfileSeed their seed: the profile is a property of the cell (its
// workload, parameters and fix), not of the seed the user gives, so every
// seed, part and shard of a cell samples with the same profile.
const (
	ProfileRuns        = 64
	ProfileSeed uint64 = 0x70f11e
)

// Profiled reports whether a strategy samples over a cell's profile.
func Profiled(strategy string) bool {
	switch strategy {
	case "pct-racy", "pct-task", "pct-irq", "pct-point", "pos", "surw", "racefuzz", "greybox", "greybox-irq":
		return true
	}
	return false
}

// Adaptive reports whether a strategy is a campaign, each execution bred
// from those before it: greybox and greybox-irq. Its executions are not
// independent draws; its depth, if given, bounds its genomes.
func Adaptive(strategy string) bool {
	return strategy == "greybox" || strategy == "greybox-irq"
}

// HasDepth reports whether a strategy takes PCT's depth (-depth).
func HasDepth(strategy string) bool {
	return strategy == "pct" || strategy == "pct-racy" || strategy == "pct-task" || strategy == "pct-irq" || strategy == "pct-point"
}

// SamplerConfig is a cell of the exploration workload wl under its
// default strategy, at the depth and focus wl gives its sampler: the cell
// make bench runs.
func SamplerConfig(wl *workloads.Workload, params workloads.Values, v *fixes.Variant, seed uint64, runs int) *Config {
	return &Config{Workload: wl, Params: params, Variant: v, Strategy: wl.DefaultStrategy(),
		Depth: cmp.Or(wl.SamplerDepth, DefaultDepth), Focus: wl.SamplerFocus, Preempt: DefaultPreempt, Seed: seed, Runs: runs}
}

// DepthOf is the depth a cell of strategy with depth d shows in its
// header and name, 0 for none: a PCT variant's, and greybox's when it was
// given one (sim.Greybox.SetDepth; without, its genomes' default bounds).
func DepthOf(strategy string, d int) int {
	if HasDepth(strategy) || Adaptive(strategy) {
		return d
	}
	return 0
}

// PCTK says what k of a PCT strategy's bound 1/(n·k^(d-1)) counts, for
// the sentence that states it ("k=434 " + PCTK(strategy)): the range its
// change points are drawn from, which is not the same for the three
// (sim.PCT.Bound, sim.PCTRacy.Bound, sim.PCTPoint.Bound).
func PCTK(strategy string) string {
	switch strategy {
	case "pct-racy":
		return "racy steps, the most in one profiled run: change points fall only on racy steps"
	case "pct-task":
		return "= task names times the most racy steps one task took in a profiled run: a change point is a task and one of its racy steps"
	case "pct-irq":
		return "= I/O completion names times the most racy steps one completion took in a profiled run: a change point is a completion and one of its racy steps, so the bound covers bugs whose preemptions all fall on completions (no other task's priority ever drops)"
	case "pct-point":
		return "= task names that took a racy point (with a focus, one touching it) times the most such points one name took in a profiled run: a change point is a task and the first arrival at one of its points, so the bound covers bugs whose preemptions fall at first arrivals (a later arrival is never one)"
	}
	return "steps, the workload's estimate: change points fall in the first k steps"
}

// BoundNote is the sentence printed under a sampled cell (by run, the
// bench summary and the report): the probability bound of a PCT strategy
// (bound > 0, for n tasks and its k, PCTK saying what k counts), or why a
// sampler that aims at racy steps has none, so that its absence does not
// read as an omission. It is empty for the other strategies (the walk,
// the searches, timed and native runs).
func BoundNote(strategy string, depth int, bound float64, n, k int) string {
	if bound > 0 {
		return fmt.Sprintf("%s depth %d: each run finds a given depth-%d bug with probability at least 1/(n*k^(d-1)) = %.3g, for n=%d tasks, k=%d %s.",
			strategy, depth, depth, bound, n, k, PCTK(strategy))
	}
	switch strategy {
	case "pos":
		return "pos: no probability bound. Its priorities are redrawn at every step the profile predicts to race, and no lower bound on the chance of a given bug follows from that."
	case "surw":
		return "surw: no probability bound. The walk is uniform over the interleavings of its interesting events (Zhao et al., ASPLOS 2025) only when no task blocks and the profile counts those events exactly; the model's tasks block on locks and wait queues, so it is only close to uniform."
	case "racefuzz":
		return "racefuzz: no probability bound, as in race-directed random testing (Sen, PLDI 2008): it holds one step of a racing pair until its partner arrives, and which pair decides a bug is not known in advance."
	case "greybox", "greybox-irq":
		return strategy + ": no probability bound. A campaign mutates each execution from earlier ones, so its executions are not independent draws and its failure count includes re-firings."
	}
	return ""
}

var profiles sync.Map // profileKey → *profileEntry

type profileEntry struct {
	once sync.Once
	prof *sim.Profile
	err  error
}

func profileKey(cfg *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s/%d", cfg.Workload.ID, cfg.Variant.ID, cfg.MaxSteps)
	names := slices.Sorted(maps.Keys(cfg.Params))
	for _, n := range names {
		fmt.Fprintf(&b, "/%s=%d", n, cfg.Params[n])
	}
	return b.String()
}

// CellProfile is the profile of cfg's cell: ProfileRuns random-walk
// executions with footprints on (half preempting at each point with
// probability 0.1, half with 0.5), seeded by ProfileSeed. It is computed
// once per process and cell.
func CellProfile(cfg *Config) (*sim.Profile, error) {
	e, _ := profiles.LoadOrStore(profileKey(cfg), &profileEntry{})
	pe := e.(*profileEntry)
	pe.once.Do(func() { pe.prof, pe.err = buildProfile(cfg) })
	return pe.prof, pe.err
}

func buildProfile(cfg *Config) (*sim.Profile, error) {
	slow := sim.NewRandom(ProfileSeed, DefaultPreempt)
	fast := sim.NewRandom(ProfileSeed+1, 0.5)
	p := sim.NewProfiler(slow)
	c := *cfg
	c.Progress = nil
	r := newRunner(&c, p)
	defer r.x.Close()
	r.x.EnableAccessLog()
	for i := range ProfileRuns {
		p.Inner = slow
		if i%2 == 1 {
			p.Inner = fast
		}
		r.x.SetRun(i / 2)
		if _, err := r.exec(); err != nil {
			return nil, fmt.Errorf("%s/%s profile: %w", cfg.Workload.ID, cfg.Variant.ID, err)
		}
		p.Finish()
	}
	return p.Profile(), nil
}

// SamplerNote is the one line that says why strategy (with focus, surw's)
// is workload's default sampler ("" when it is not, or the workload gives
// no reason), or, for greybox, the caveat on its counts: what the run and
// bench summaries print under their headers.
func SamplerNote(workload, strategy, focus string) string {
	if Adaptive(strategy) {
		return strategy + " is a campaign: each execution is bred from those before it, so its counts are not independent draws; compare fixes by what they fire, not by rate (pagelab hunt measures it over independent campaigns)"
	}
	wl, err := workloads.Lookup(workload)
	if err != nil || wl.Sampler != strategy || wl.SamplerFocus != focus || wl.SamplerWhy == "" {
		return ""
	}
	return strategy + " is this workload's default: " + wl.SamplerWhy
}
