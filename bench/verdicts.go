package bench

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pagelab/pagelab/mm"
)

// VerifyRecord is the exhaustive search of a cell as a results record
// keeps it (Record.Verify): how far the search went, deterministic for
// the model and the budget. Wall-clock time is not part of it (it goes to
// the manifest), so that two runs write the same results.jsonl.
type VerifyRecord struct {
	// Mode is the reduction on top of state caching (sim.DPORMode).
	Mode string `json:"mode,omitempty"`
	// Complete: every reachable state was explored.
	Complete    bool `json:"complete"`
	States      int  `json:"states"`
	Transitions int  `json:"transitions"`
	Executions  int  `json:"executions"`
	// MaxDepth is the longest execution, in decisions.
	MaxDepth int `json:"max_depth"`
	// MaxStates is the budget of distinct states; BudgetHit says it ran
	// out, Truncated counts executions cut at the depth bound.
	MaxStates int  `json:"max_states,omitempty"`
	BudgetHit bool `json:"budget_hit,omitempty"`
	Truncated int  `json:"truncated,omitempty"`
	// FirstFailure is, per failure id the search fired, the schedule of
	// the first execution that fired it (pagelab replay -schedule).
	FirstFailure map[string]string `json:"first_failure,omitempty"`
	// LassoStem and LassoCycle are a livelock's fair cycle, as task names.
	LassoStem  []string `json:"lasso_stem,omitempty"`
	LassoCycle []string `json:"lasso_cycle,omitempty"`
}

// SetVerification stores a finished search in the record: a verdict for
// every failure id and the search's size. maxStates is the budget the
// search ran with.
func (r *Record) SetVerification(v *Verification, maxStates int) {
	r.Verdicts = map[string]string{}
	vr := &VerifyRecord{
		Mode: v.Mode.String(), Complete: v.Complete,
		States: v.Stats.States, Transitions: v.Stats.Transitions, Executions: v.Stats.Executions,
		MaxDepth: v.Stats.MaxDepth, MaxStates: maxStates, BudgetHit: v.Stats.BudgetHit, Truncated: v.Stats.Truncated,
		LassoStem: v.LassoStem, LassoCycle: v.LassoCycle,
	}
	for f := range mm.NumFailures {
		id := mm.Failure(f).String()
		r.Verdicts[id] = v.Verdicts[f].String()
		if v.Verdicts[f] == Fails && v.First[f] != "" {
			if vr.FirstFailure == nil {
				vr.FirstFailure = map[string]string{}
			}
			vr.FirstFailure[id] = v.First[f]
		}
	}
	r.Verify = vr
}

// Verified says whether the record holds the verdicts of an exhaustive
// search.
func (r *Record) Verified() bool { return len(r.Verdicts) > 0 }

// Verdict is the search's verdict for failure id, and false when the cell
// was not verified (or the search said nothing about id).
func (r *Record) Verdict(id string) (Verdict, bool) {
	s, ok := r.Verdicts[id]
	if !ok {
		return Unknown, false
	}
	v, ok := ParseVerdict(s)
	return v, ok
}

// VerdictText is the verdict for failure id as the tables show it:
// verified, fails, unknown, or "-" when the cell was not verified.
func (r *Record) VerdictText(id string) string {
	if v, ok := r.Verdict(id); ok {
		return v.String()
	}
	return "-"
}

// SearchOnly lists the failure ids the search fired that no random run of
// the cell did, in id order.
func (r *Record) SearchOnly() []string {
	var out []string
	for f := range mm.NumFailures {
		id := mm.Failure(f).String()
		if v, _ := r.Verdict(id); v == Fails && r.Failures[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// CheckVerdicts fails when the record contradicts itself: a failure id
// that random runs fired but that the exhaustive search verified (no
// interleaving fires it). One of the two is wrong, the model's footprints
// or the search, and nothing should be printed from such a record.
func (r *Record) CheckVerdicts() error {
	for _, id := range slices.Sorted(maps.Keys(r.Failures)) {
		k := r.Failures[id]
		if v, ok := r.Verdict(id); ok && v == Verified && k > 0 {
			msg := fmt.Sprintf("%s under %s: %d of %d %s runs fired %s, but the exhaustive search verified that no interleaving fires it: the model's footprints or the search are wrong",
				r.Workload, r.Fix, k, r.Runs, r.Strategy, id)
			if s := r.FirstFailure[id]; s != "" {
				msg += " (replay the run: pagelab replay -schedule " + s + ")"
			}
			return fmt.Errorf("%s", msg)
		}
	}
	return nil
}

// validateVerdicts checks the verdict fields of a record read back.
func (r *Record) validateVerdicts() error {
	if len(r.Verdicts) == 0 {
		r.Verdicts = nil
	}
	for id, s := range r.Verdicts {
		if _, ok := mm.ParseFailure(id); !ok {
			return fmt.Errorf("verdicts: unknown failure id %q", id)
		}
		if v, ok := ParseVerdict(s); !ok || v == Bounded {
			return fmt.Errorf("verdicts: %s: %q is not a verdict (verified, fails or unknown)", id, s)
		}
	}
	if vr := r.Verify; vr != nil {
		if len(vr.FirstFailure) == 0 {
			vr.FirstFailure = nil
		}
		if len(vr.LassoStem) == 0 {
			vr.LassoStem = nil
		}
		if len(vr.LassoCycle) == 0 {
			vr.LassoCycle = nil
		}
		if vr.States < 0 || vr.Transitions < 0 || vr.Executions < 0 || vr.MaxDepth < 0 || vr.MaxStates < 0 || vr.Truncated < 0 {
			return fmt.Errorf("verify: negative count")
		}
		for id := range vr.FirstFailure {
			if v, _ := r.Verdict(id); v != Fails {
				return fmt.Errorf("verify: a schedule for %s, whose verdict is not fails", id)
			}
		}
		if r.Verdicts == nil {
			return fmt.Errorf("verify without verdicts")
		}
	} else if r.Verdicts != nil {
		return fmt.Errorf("verdicts without the search that made them (verify)")
	}
	return r.CheckVerdicts()
}

// VerifyResult is one search of VerifyAll.
type VerifyResult struct {
	V       *Verification
	Err     error
	Elapsed time.Duration // wall clock
}

// VerifyAll runs the searches of cfgs on up to jobs goroutines and returns
// their results in the order of cfgs. Each search is sequential and
// deterministic, so the results do not depend on jobs. done, if set, is
// called as each search finishes (in the order they finish, one call at a
// time). Once stop returns true no search starts and the running ones
// stop; those have Err ErrInterrupted (and V nil if they never started).
func VerifyAll(cfgs []*VerifyConfig, jobs int, stop func() bool, done func(i int, r *VerifyResult)) []*VerifyResult {
	out := make([]*VerifyResult, len(cfgs))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range max(min(jobs, len(cfgs)), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				start := time.Now()
				v, err := Verify(cfgs[i], stop)
				r := &VerifyResult{V: v, Err: err, Elapsed: time.Since(start)}
				mu.Lock()
				out[i] = r
				if done != nil {
					done(i, r)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range cfgs {
		if stop != nil && stop() {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for i, r := range out {
		if r == nil {
			out[i] = &VerifyResult{Err: ErrInterrupted}
		}
	}
	return out
}
