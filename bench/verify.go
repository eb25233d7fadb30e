package bench

import (
	"fmt"
	"strings"

	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// Verdict is what the exhaustive search established about one failure id
// under one fix.
type Verdict uint8

const (
	// Unknown: the search did not finish (budget, depth bound,
	// interruption) and found no interleaving that fires the id.
	Unknown Verdict = iota
	// Verified: the search visited every reachable state and no
	// interleaving fires the id.
	Verified
	// Fails: an interleaving fires the id (its schedule is kept).
	Fails
	// Bounded: the search under a preemption bound (VerifyConfig.Bounded)
	// visited every state an execution with at most that many
	// preemptions reaches, and none of them fires the id. Whether one
	// with more does is not known.
	Bounded
)

var verdictNames = [...]string{"unknown", "verified", "fails", "bounded"}

func (v Verdict) String() string { return verdictNames[v] }

// ParseVerdict is the inverse of String.
func ParseVerdict(s string) (Verdict, bool) {
	for i, n := range verdictNames {
		if n == s {
			return Verdict(i), true
		}
	}
	return Unknown, false
}

// DefaultVerifyStates is verify's default budget of distinct states per
// cell; DefaultVerifyDepth its bound on one execution's decisions (a
// model execution that long is a spin the search cannot see through).
const (
	DefaultVerifyStates = 2_000_000
	DefaultVerifyDepth  = 5_000
)

// VerifyConfig is one exhaustive search: a workload with parameters under
// one fix variant.
type VerifyConfig struct {
	Workload *workloads.Workload
	Params   workloads.Values
	Variant  *fixes.Variant
	// Mode is the reduction on top of state caching.
	Mode sim.DPORMode
	// MaxStates and MaxDepth bound the search (0: the defaults).
	MaxStates, MaxDepth int
	// Bounded limits the search to the executions with at most
	// Preemptions preemptions (sim.DPOR.SetPreemptionBound; Mode must be
	// Full): its clean ids are Bounded, not Verified.
	Bounded     bool
	Preemptions int
	// Progress, if set, is called after every execution with the states
	// found so far.
	Progress func(states int)

	// onExec, if set, sees every execution that ended by itself (not cut
	// off by the search): the soundness tests collect final states.
	onExec func(e *Exec, x *sim.Explorer)
	// fullReplay records the replayed prefix of every execution
	// (sim.Explorer.FullReplay): the tests compare.
	fullReplay bool
}

// Verification is the outcome of an exhaustive search.
type Verification struct {
	Workload string
	Fix      string
	Params   []string
	// Mode is the reduction the search used (sleep sets after a restart).
	Mode sim.DPORMode
	// Bounded: the search covered only the executions with at most
	// Preemptions preemptions (VerifyConfig.Bounded).
	Bounded     bool
	Preemptions int
	// Verdicts by failure id.
	Verdicts [mm.NumFailures]Verdict
	// First is, per failing id, the schedule of the first execution that
	// fired it, and FirstReport its report there.
	First       [mm.NumFailures]string
	FirstReport [mm.NumFailures]mm.Report
	// Lasso is the livelock's fair cycle, as task names, when one exists.
	LassoStem, LassoCycle []string
	Stats                 sim.DPORStats
	// Complete: every reachable state was explored.
	Complete bool
	// Interrupted: the caller stopped the search.
	Interrupted bool
}

// Failing lists the failure ids with verdict Fails, in id order.
func (v *Verification) Failing() []mm.Failure {
	var l []mm.Failure
	for f := range mm.NumFailures {
		if v.Verdicts[f] == Fails {
			l = append(l, mm.Failure(f))
		}
	}
	return l
}

// Summary is the verdict of the whole cell in a few words: "verified"
// (every id), "verified*" (every id but livelock, which is unknown: see
// LivelockUnknown), "fails: a, b" or "unknown"; under a preemption bound
// "verified ≤c preemptions" (every id but livelock Bounded).
func (v *Verification) Summary() string {
	if l := v.Failing(); len(l) > 0 {
		var s []string
		for _, f := range l {
			s = append(s, f.String())
		}
		return "fails: " + strings.Join(s, ", ")
	}
	for f := range mm.NumFailures {
		if v.Verdicts[f] == Unknown && mm.Failure(f) != mm.Livelock {
			return "unknown"
		}
	}
	if v.Bounded {
		return "verified ≤" + Preemptions(v.Preemptions)
	}
	if v.LivelockUnknown() {
		return "verified*"
	}
	return "verified"
}

// Preemptions is "c preemptions" ("1 preemption").
func Preemptions(c int) string {
	if c == 1 {
		return "1 preemption"
	}
	return fmt.Sprintf("%d preemptions", c)
}

// LivelockUnknown: the search was complete and found no fair cycle, but
// it passed CutPoints (spins, so cycles may exist) under a reduction that
// skips edges, so the absence of a livelock is not proved.
func (v *Verification) LivelockUnknown() bool {
	return v.Complete && !v.Bounded && v.Verdicts[mm.Livelock] == Unknown
}

// Verify runs the exhaustive search of one cell. stop, if non-nil, is
// polled between executions; a stopped search returns what it found, with
// verdicts it earned (fails) and unknown elsewhere, and ErrInterrupted.
func Verify(cfg *VerifyConfig, stop func() bool) (*Verification, error) {
	maxDepth := cfg.MaxDepth
	if maxDepth == 0 {
		maxDepth = DefaultVerifyDepth
	}
	maxStates := cfg.MaxStates
	if maxStates == 0 {
		maxStates = DefaultVerifyStates
	}
	d := sim.NewDPOR(cfg.Mode, maxDepth)
	d.MaxStates = maxStates
	if cfg.Bounded {
		if cfg.Mode != sim.Full || cfg.Preemptions < 0 || cfg.Preemptions > sim.MaxPreemptionBound {
			return nil, fmt.Errorf("verify: a preemption bound (%d) needs the full reduction and a bound from 0 to %d", cfg.Preemptions, sim.MaxPreemptionBound)
		}
		d.SetPreemptionBound(cfg.Preemptions)
	}
	rc := &Config{Workload: cfg.Workload, Params: cfg.Params, Variant: cfg.Variant, Seed: 1, MaxSteps: maxDepth + 1}
	r := newRunner(rc, d)
	defer r.x.Close()
	r.x.EnableFootprints()
	r.x.FullReplay = cfg.fullReplay
	d.Attach(r.x)
	v := &Verification{
		Workload: cfg.Workload.ID, Fix: cfg.Variant.ID,
		Params:  cfg.Workload.NonDefault(cfg.Params),
		Bounded: cfg.Bounded, Preemptions: cfg.Preemptions,
	}
	var err error
	for {
		if stop != nil && stop() {
			d.Stop()
			v.Interrupted = true
			err = ErrInterrupted
			break
		}
		e, xerr := r.exec()
		if d.Exhausted() {
			// Begin found nothing left to explore: that execution
			// repeated the first one and adds nothing.
			break
		}
		if xerr != nil {
			// A panic in the model is a bug of pagelab: say how to
			// reproduce it.
			v.Stats = d.Stats()
			return v, fmt.Errorf("%w\nreplay with: pagelab replay -schedule %s", xerr, r.schedule())
		}
		if cfg.onExec != nil && d.End() == sim.DPOREndNone {
			cfg.onExec(e, r.x)
		}
		for _, f := range e.Fired.List() {
			if v.Verdicts[f] == Fails {
				continue
			}
			v.Verdicts[f] = Fails
			v.First[f] = r.schedule().String()
			for _, rep := range e.Reports {
				if rep.Failure == f {
					v.FirstReport[f] = rep
					break
				}
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(d.Stats().States)
		}
	}
	v.Stats = d.Stats()
	v.Mode = v.Stats.Mode
	v.Complete = d.Complete()
	names := func(ids []int32) []string {
		var s []string
		for _, id := range ids {
			s = append(s, r.taskName(id))
		}
		return s
	}
	// Livelock: a fair cycle among the explored edges is one. Its absence
	// is a proof when no execution passed a CutPoint (the state graph is
	// then acyclic: every task's key changes with each of its steps), or
	// when every edge was executed (Mode Full).
	if l := d.FairCycle(); l != nil {
		v.Verdicts[mm.Livelock] = Fails
		v.LassoStem, v.LassoCycle = names(l.Stem), names(l.Cycle)
		v.FirstReport[mm.Livelock] = mm.Report{Failure: mm.Livelock,
			Msg: fmt.Sprintf("a fair cycle of %d decisions after %d: the tasks run forever without finishing", len(l.Cycle), len(l.Stem))}
	}
	for f := range mm.NumFailures {
		if v.Verdicts[f] != Unknown || !v.Complete {
			continue
		}
		if v.Bounded {
			// A livelock runs forever, and the bound cuts off the
			// executions that spin through preemptions: a fair cycle
			// among the explored edges is one, and its absence proves
			// nothing.
			if mm.Failure(f) != mm.Livelock {
				v.Verdicts[f] = Bounded
			}
			continue
		}
		if mm.Failure(f) == mm.Livelock && v.Stats.CutPoints && v.Mode != sim.Full {
			continue
		}
		v.Verdicts[f] = Verified
	}
	return v, err
}

// taskName is the name of task id in the last execution ("task<id>" if it
// did not exist there).
func (r *runner) taskName(id int32) string {
	if ts := r.x.Tasks(); int(id) < len(ts) {
		return ts[id].Name
	}
	return fmt.Sprintf("task%d", id)
}
