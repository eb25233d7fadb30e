package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/pagelab/pagelab/mm"
)

// ShardID names one of Count deterministic parts of a run (pagelab bench
// -shard Index/Count).
type ShardID struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

func (s ShardID) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// MaxShards bounds a shard count.
const MaxShards = 10000

// ParseShard parses "i/n" with 0 <= i < n <= MaxShards.
func ParseShard(s string) (ShardID, error) {
	a, b, ok := strings.Cut(s, "/")
	var id ShardID
	if ok {
		_, err1 := fmt.Sscanf(a, "%d", &id.Index)
		_, err2 := fmt.Sscanf(b, "%d", &id.Count)
		ok = err1 == nil && err2 == nil && fmt.Sprint(id.Index) == a && fmt.Sprint(id.Count) == b
	}
	if !ok || id.Count < 1 || id.Count > MaxShards || id.Index < 0 || id.Index >= id.Count {
		return ShardID{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n <= %d (e.g. 0/4)", s, MaxShards)
	}
	return id, nil
}

// PartRecord is what a shard's record carries beyond the record itself,
// so that pagelab merge turns the shards' records into those of the whole
// run exactly: where its executions start, the number of the execution
// behind each first failure, and the latency histograms themselves (a
// record keeps only quantiles of them). A record of a whole run has none.
//
// A dfs cell's part is a part of its enumeration, not a range of
// executions: From is 0, and FirstChoices order the parts' first failures
// as the whole enumeration does.
type PartRecord struct {
	Shard        ShardID            `json:"shard"`
	From         int                `json:"from"`
	FirstRun     map[string]int     `json:"first_run,omitempty"`
	FirstChoices map[string][]int   `json:"first_choices,omitempty"`
	Exhausted    bool               `json:"exhausted,omitempty"`
	Bound        int                `json:"bound,omitempty"` // dfs: -runs, where the unsplit enumeration stops
	Latency      map[string]*OpPart `json:"latency,omitempty"`
	Counts       map[string]*OpPart `json:"counts,omitempty"`
}

// OpPart is one operation's latency in a shard, exactly: the HDR histogram
// (V2 compressed encoding, base64, as HdrHistogram's libraries exchange
// them), the exact minimum, and the wake-up counts.
type OpPart struct {
	Hist     string `json:"hist"`
	Min      int64  `json:"min_ns"`
	Wakeups  int64  `json:"wakeups"`
	Spurious int64  `json:"spurious"`
}

// NewPartRecord is the record of a cell run as shard s.
func NewPartRecord(c *Cell, s ShardID) (*Record, error) {
	r := NewRecord(c)
	p := &PartRecord{Shard: s, From: c.From}
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		if c.Failures[f] > 0 {
			if p.FirstRun == nil {
				p.FirstRun = map[string]int{}
			}
			p.FirstRun[f.String()] = c.FirstRun[f]
			if c.Strategy == "dfs" {
				if p.FirstChoices == nil {
					p.FirstChoices = map[string][]int{}
				}
				p.FirstChoices[f.String()] = c.FirstChoices[f]
			}
		}
	}
	// A record says exhausted only of the whole enumeration; a part's
	// own exhaustion is kept here.
	p.Exhausted = c.Exhausted
	r.Exhausted = false
	if c.Strategy == "dfs" {
		p.Bound = c.Planned
	}
	for _, l := range c.Latencies {
		enc, err := l.Hist.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: encoding the %s histogram: %v", c.Workload, c.Fix, l.Op, err)
		}
		if p.Latency == nil {
			p.Latency = map[string]*OpPart{}
		}
		p.Latency[l.Op] = &OpPart{Hist: string(enc), Min: l.Min, Wakeups: l.Wakeups, Spurious: l.Spurious}
	}
	cp, err := countParts(c)
	if err != nil {
		return nil, err
	}
	p.Counts = cp
	r.Part = p
	return r, nil
}

// PartCell is the cell a shard's record describes, to be merged (Cell.Merge)
// with the cells of the other shards in shard order. Of the per-execution
// virtual times it keeps only their total, which is all a record uses.
func PartCell(r *Record) (*Cell, error) {
	p := r.Part
	if p == nil {
		return nil, fmt.Errorf("%s/%s: not a shard's record (no part)", r.Workload, r.Fix)
	}
	c := &Cell{
		Workload: r.Workload, Fix: r.Fix, Strategy: r.Strategy, Depth: r.Depth, Focus: r.Focus, Seed: r.Seed,
		From: p.From, Runs: r.Runs, Planned: r.Runs, Partial: r.Partial, Failing: r.Failing,
		Steps: r.Steps, MaxStepsIn: r.MostSteps, PCTBound: r.PCTBound, PCTN: r.PCTTasks, PCTK: r.PCTSteps,
		CPUs: r.CPUs, Exhausted: p.Exhausted,
	}
	for k, v := range r.Params {
		c.Params = append(c.Params, k+"="+v)
	}
	slices.Sort(c.Params)
	for id, n := range r.Failures {
		f, _ := mm.ParseFailure(id)
		c.Failures[f] = n
		c.First[f] = r.FirstFailure[id]
		c.FirstChoices[f] = p.FirstChoices[id]
		run, ok := p.FirstRun[id]
		if n > 0 && (!ok || run < p.From || (r.Strategy != "dfs" && run >= p.From+r.Runs)) {
			return nil, fmt.Errorf("%s/%s: first %s at execution %d, outside the shard's %d to %d", r.Workload, r.Fix, id, run, p.From, p.From+r.Runs-1)
		}
		c.FirstRun[f] = run
	}
	if r.CPUs > 0 {
		c.Makespans = []int64{r.VirtualNS}
	}
	for _, op := range slices.Sorted(maps.Keys(r.Latency)) {
		l, lp := r.Latency[op], p.Latency[op]
		if lp == nil {
			return nil, fmt.Errorf("%s/%s: latency of %s without its histogram", r.Workload, r.Fix, op)
		}
		h, err := hdrhistogram.Decode([]byte(lp.Hist))
		if err != nil {
			return nil, fmt.Errorf("%s/%s: the %s histogram: %v", r.Workload, r.Fix, op, err)
		}
		if h.TotalCount() != l.Count {
			return nil, fmt.Errorf("%s/%s: the %s histogram holds %d latencies, the record %d", r.Workload, r.Fix, op, h.TotalCount(), l.Count)
		}
		c.Latencies = append(c.Latencies, &Latency{
			Op: op, Count: l.Count, Hist: h, Min: lp.Min, Max: int64(l.Max), Wakeups: lp.Wakeups, Spurious: lp.Spurious,
			RunPerSec: l.RunOpsPerSec, RunP50: l.RunP50, RunP99: l.RunP99,
			RunWakeups: l.RunWakeupsOp, RunSpurious: l.RunSpuriousOp,
		})
	}
	if err := partCounts(r, c); err != nil {
		return nil, err
	}
	c.summarize()
	return c, nil
}

// validatePart checks a shard's part of a record.
func (r *Record) validatePart() error {
	p := r.Part
	if p == nil {
		return nil
	}
	if p.Shard.Count < 1 || p.Shard.Count > MaxShards || p.Shard.Index < 0 || p.Shard.Index >= p.Shard.Count {
		return fmt.Errorf("part: shard %d/%d", p.Shard.Index, p.Shard.Count)
	}
	if p.From < 0 || p.From > MaxRuns {
		return fmt.Errorf("part: from %d out of range (0 to %d)", p.From, MaxRuns)
	}
	for id, run := range p.FirstRun {
		if r.Failures[id] == 0 {
			return fmt.Errorf("part: first_run of %q, which never fired", id)
		}
		if run < p.From || (r.Strategy != "dfs" && run-p.From >= r.Runs) {
			return fmt.Errorf("part: first_run of %s: %d, outside executions %d to %d", id, run, p.From, p.From+r.Runs-1)
		}
	}
	for op, lp := range p.Latency {
		if lp == nil || r.Latency[op] == nil {
			return fmt.Errorf("part: histogram of %q, which has no latency", op)
		}
		if lp.Min < 0 || float64(lp.Min) > r.Latency[op].Max || lp.Wakeups < 0 || lp.Spurious < 0 || lp.Spurious > lp.Wakeups {
			return fmt.Errorf("part: %s: min %d, wakeups %d, spurious %d", op, lp.Min, lp.Wakeups, lp.Spurious)
		}
		if len(lp.Hist) > MaxRecordBytes {
			return fmt.Errorf("part: %s: histogram too large", op)
		}
	}
	for op := range r.Latency {
		if p.Latency[op] == nil {
			return fmt.Errorf("part: no histogram of %s", op)
		}
	}
	for name, lp := range p.Counts {
		if lp == nil || r.Counts[name] == nil {
			return fmt.Errorf("part: histogram of count %q, which has no record", name)
		}
		if lp.Min < 0 || float64(lp.Min) > r.Counts[name].Max || lp.Wakeups != 0 || lp.Spurious != 0 {
			return fmt.Errorf("part: count %s: min %d, wakeups %d, spurious %d", name, lp.Min, lp.Wakeups, lp.Spurious)
		}
		if len(lp.Hist) > MaxRecordBytes {
			return fmt.Errorf("part: count %s: histogram too large", name)
		}
	}
	for name := range r.Counts {
		if p.Counts[name] == nil {
			return fmt.Errorf("part: no histogram of count %s", name)
		}
	}
	return nil
}

// Plan is a fingerprint of what a bench runs — every cell's workload, fix,
// strategy, parameters, executions, CPUs, costs and seed, and the search
// budget — for pagelab merge to refuse shards of different benches.
func Plan(cfgs []*Config, verifyStates int, plots bool) string {
	h := sha256.New()
	fmt.Fprintf(h, "verify-states %d plots %v\n", verifyStates, plots)
	for _, c := range cfgs {
		var ps []string
		for k, v := range c.Params {
			ps = append(ps, fmt.Sprintf("%s=%d", k, v))
		}
		slices.Sort(ps)
		fmt.Fprintf(h, "%s %s %s depth=%d preempt=%v seed=%d runs=%d max-steps=%d cpus=%d costs=%+v params=%s\n",
			c.Workload.ID, c.Variant.ID, c.Strategy, c.Depth, math.Float64bits(c.Preempt), c.Seed, c.Runs, c.MaxSteps, c.CPUs, c.Costs, strings.Join(ps, ","))
		if c.Focus != "" {
			// After the line, so that a plan without one hashes as before.
			fmt.Fprintf(h, "focus=%s\n", c.Focus)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
