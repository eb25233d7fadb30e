package bench

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
)

// Splittable reports whether a cell's executions can run in parts: those
// of the random, pct and timed strategies depend only on the seed and
// their number. dfs, dpor and greybox executions follow from those before, and
// native ones measure real time (running two at once would change what
// they measure).
func Splittable(cfg *Config) bool {
	switch cfg.Strategy {
	case "random", "pct", "pct-racy", "pct-task", "pct-irq", "pct-point", "pos", "surw", "racefuzz", "timed":
		return true
	}
	return false
}

// Dividable reports whether a cell's enumeration splits into parts
// (Config.Part): a dfs cell that is not already a part.
func Dividable(cfg *Config) bool { return cfg.Strategy == "dfs" && cfg.Parts <= 1 }

// ShardRange is shard i's part of n executions split into count shards:
// executions first to first+runs-1, with first = ⌊n·i/count⌋. The parts
// are contiguous, in shard order, and differ in size by at most one.
func ShardRange(n, i, count int) (first, runs int) {
	lo := int(int64(n) * int64(i) / int64(count))
	hi := int(int64(n) * int64(i+1) / int64(count))
	return lo, hi - lo
}

// chunkRuns is the size of the parts a cell of runs executions is cut into
// for jobs goroutines: about eight parts per goroutine, so that the cells
// balance over the goroutines, and at most 5,000 executions, so that an
// interrupt loses little. The size changes nothing in the results.
func chunkRuns(runs, jobs int) int {
	return min(max((runs+8*jobs-1)/(8*jobs), 1), 5000)
}

// Batch runs a list of cells on Jobs goroutines: each cell that is
// Splittable is cut into parts run independently and merged in execution
// order, so that the cells are those of Run, whatever Jobs.
type Batch struct {
	Cfgs []*Config
	Jobs int
	// Stop, if set, is polled between and inside executions: when it
	// reports true the batch ends with the cells finished and
	// ErrInterrupted.
	Stop func() bool
	// After are tasks run on the same goroutines once a cell and those
	// before it are finished (pagelab bench's exhaustive searches, each
	// after its own cell): Jobs bounds everything the batch runs at once.
	// A runnable task goes ahead of the parts not yet started, so that
	// the long tasks start early and the parts fill in around them at
	// the end. After its cell, not before: a search's verdicts belong to
	// its cell's record, and a search that finished before its cell ran
	// would be lost to an interrupt (a long search phase lost whole).
	After []AfterCell
	// Progress, if set, is told that cell i has run done executions so
	// far (in any order of cells); CellDone that cell i is finished, in
	// cell order. Both are called one at a time. An error from CellDone
	// stops the batch and is returned.
	Progress func(i, done int)
	CellDone func(i int, c *Cell) error
	// Started, if set, is told when the first part of cell i starts.
	Started func(i int)
}

// AfterCell is a task to run once cell Cell is finished.
type AfterCell struct {
	Cell int
	Run  func()
}

// part is a range of one cell's executions, or a part of a dfs cell's
// enumeration.
type part struct {
	cell, first, runs int
	dfsPart, dfsParts int
}

// Run runs the batch. It returns the finished cells in order, then, when
// an interrupt cut a cell short, that cell with the executions of its
// first numbers that finished, marked Partial. Model errors end the
// batch and are returned with the cells before.
func (b *Batch) Run() ([]*Cell, error) {
	jobs := max(b.Jobs, 1)
	var parts []part
	cellParts := make([][]int, len(b.Cfgs))
	for i, cfg := range b.Cfgs {
		if Dividable(cfg) && jobs > 1 {
			for k := range jobs {
				cellParts[i] = append(cellParts[i], len(parts))
				parts = append(parts, part{cell: i, runs: cfg.Runs, dfsPart: k, dfsParts: jobs})
			}
			continue
		}
		size := cfg.Runs
		if Splittable(cfg) {
			size = chunkRuns(cfg.Runs, jobs)
		}
		for lo := 0; lo < cfg.Runs; lo += size {
			cellParts[i] = append(cellParts[i], len(parts))
			parts = append(parts, part{cell: i, first: cfg.First + lo, runs: min(size, cfg.Runs-lo)})
		}
	}
	results := make([]*Cell, len(parts))
	cut := make([]bool, len(parts)) // cut short by an interrupt
	left := make([]int, len(b.Cfgs))
	done := make([]int, len(b.Cfgs))
	started := make([]bool, len(b.Cfgs))
	for i := range b.Cfgs {
		left[i] = len(cellParts[i])
	}
	var (
		mu       sync.Mutex
		failed   error
		next     int // the first cell not handed to CellDone
		finished []*Cell
	)
	stop := func() bool {
		mu.Lock()
		f := failed != nil
		mu.Unlock()
		return f || (b.Stop != nil && b.Stop())
	}
	doneCh := make(chan int, len(b.Cfgs))
	// after[i] are cell i's After tasks until it is finished; runnable
	// those whose cell is; wake tells the dispatcher that a cell was
	// finished or a part ended (mu guards the first two).
	after := make([][]func(), len(b.Cfgs))
	for _, a := range b.After {
		after[a.Cell] = append(after[a.Cell], a.Run)
	}
	var runnable []func()
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	// ready hands the cells whose parts are all in, in order, to
	// CellDone; mu is held.
	ready := func() {
		for failed == nil && next < len(b.Cfgs) && left[next] == 0 {
			c, complete := mergeParts(b.Cfgs[next], results, cut, cellParts[next])
			if !complete {
				return // interrupted: Run's end decides
			}
			if len(cellParts[next]) > 1 && Dividable(b.Cfgs[next]) && (!c.Exhausted || c.Runs > b.Cfgs[next].Runs) {
				// A part reached the executions' bound before the end
				// of its subtrees, or the parts together ran more than
				// it: they are not the first Runs executions of the
				// enumeration, which the unsplit run stops at. Run it
				// in one piece (rare: dfs is split only by -j, and
				// its bound is a safety limit).
				cfg := *b.Cfgs[next]
				cfg.Progress = nil
				one, err := Run(&cfg, b.Stop)
				if err != nil {
					failed = err
					return
				}
				c = one
			}
			// CellDone (which may write files) runs on its own
			// goroutine, in cell order, so that the parts go on meanwhile.
			finished = append(finished, c)
			doneCh <- next
			runnable = append(runnable, after[next]...)
			after[next] = nil
			next++
		}
	}
	runPart := func(k int) {
		// However it ends (an error included), the dispatcher may be
		// waiting for it.
		defer poke()
		p := parts[k]
		cfg := *b.Cfgs[p.cell]
		cfg.First, cfg.Runs = p.first, p.runs
		if p.dfsParts > 1 {
			cfg.Part, cfg.Parts = p.dfsPart, p.dfsParts
		}
		reported := 0
		cfg.Progress = func(n int) {
			// Every 64 executions: the lock is shared by the goroutines.
			if b.Progress == nil || (n%64 != 0 && n != p.runs) {
				return
			}
			mu.Lock()
			done[p.cell] += n - reported
			reported = n
			b.Progress(p.cell, done[p.cell])
			mu.Unlock()
		}
		if b.Started != nil {
			mu.Lock()
			if !started[p.cell] {
				started[p.cell] = true
				b.Started(p.cell)
			}
			mu.Unlock()
		}
		c, err := Run(&cfg, stop)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !errors.Is(err, ErrInterrupted) {
			if failed == nil {
				failed = err
			}
			return
		}
		results[k] = c
		cut[k] = err != nil
		if err == nil {
			left[p.cell]--
			ready()
		}
	}

	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for i := range doneCh {
			mu.Lock()
			c, f := finished[i], failed
			mu.Unlock()
			if b.CellDone == nil || f != nil {
				continue
			}
			if err := b.CellDone(i, c); err != nil {
				mu.Lock()
				if failed == nil {
					failed = err
				}
				mu.Unlock()
			}
		}
	}()
	tasks := make(chan func())
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				t()
			}
		}()
	}
	// The dispatcher: a runnable After task first, else the next part;
	// with every part handed out, it waits for the cells the remaining
	// tasks need. Every part that ends pokes it, so an interrupt or an
	// error that leaves a cell unfinished does not leave it waiting.
	for k, handed := 0, 0; (k < len(parts) || handed < len(b.After)) && !stop(); {
		mu.Lock()
		var t func()
		if len(runnable) > 0 {
			t, runnable = runnable[0], runnable[1:]
		}
		mu.Unlock()
		switch {
		case t != nil:
			tasks <- t
			handed++
		case k < len(parts):
			part := k
			tasks <- func() { runPart(part) }
			k++
		default:
			<-wake
		}
	}
	close(tasks)
	wg.Wait()
	close(doneCh)
	<-consumed

	if failed != nil {
		return finished, failed
	}
	if next == len(b.Cfgs) {
		return finished, nil
	}
	// Interrupted: the next cell keeps its executions from its first
	// number up to the first one that did not finish.
	if c, _ := mergeParts(b.Cfgs[next], results, cut, cellParts[next]); c != nil && c.Runs > 0 {
		c.Partial = true
		finished = append(finished, c)
	}
	return finished, ErrInterrupted
}

// mergeParts merges a cell's parts in execution order, up to the first
// part that is missing or cut short (included, with what it finished). It
// reports whether every part was complete; the cell is nil when the first
// part never ran.
func mergeParts(cfg *Config, results []*Cell, cut []bool, idx []int) (*Cell, bool) {
	var c *Cell
	for _, k := range idx {
		p := results[k]
		if p == nil {
			return c, false
		}
		if c == nil {
			c = p
		} else if err := c.MergePart(p); err != nil {
			panic(err) // parts of one cell, in order: cannot fail
		}
		if cut[k] {
			c.Planned = cfg.Runs
			return c, false
		}
	}
	if c != nil {
		c.Planned = cfg.Runs
	}
	return c, true
}

// Merge appends to c the cell p of the executions that follow c's: the
// counts add up, the first failure of each id is the one of the lowest
// execution number, latency histograms merge exactly and per-run values
// follow in execution order. The result is the cell that one Run over
// both ranges would have given.
func (c *Cell) Merge(p *Cell) error {
	switch {
	case p.Workload != c.Workload || p.Fix != c.Fix || p.Strategy != c.Strategy || p.Seed != c.Seed ||
		p.Depth != c.Depth || p.Focus != c.Focus || p.CPUs != c.CPUs || fmt.Sprint(p.Params) != fmt.Sprint(c.Params):
		return fmt.Errorf("merging %s/%s (%s, seed %d) with %s/%s (%s, seed %d): not the same cell",
			c.Workload, c.Fix, c.Strategy, c.Seed, p.Workload, p.Fix, p.Strategy, p.Seed)
	case p.From != c.From+c.Runs:
		return fmt.Errorf("%s/%s: executions %d to %d do not follow %d to %d", c.Workload, c.Fix,
			p.From, p.From+p.Runs-1, c.From, c.From+c.Runs-1)
	case c.Exhausted || p.Exhausted:
		return fmt.Errorf("%s/%s: a %s search is not split", c.Workload, c.Fix, c.Strategy)
	}
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		if c.Failures[f] == 0 && p.Failures[f] > 0 {
			c.First[f], c.FirstReport[f], c.FirstRun[f] = p.First[f], p.FirstReport[f], p.FirstRun[f]
		}
		c.Failures[f] += p.Failures[f]
	}
	c.Runs += p.Runs
	c.Planned += p.Planned
	c.Partial = c.Partial || p.Partial
	c.Failing += p.Failing
	c.Steps += p.Steps
	c.MaxStepsIn = max(c.MaxStepsIn, p.MaxStepsIn)
	c.Wakeups += p.Wakeups
	c.Switches += p.Switches
	if HasDepth(c.Strategy) {
		c.PCTN = max(c.PCTN, p.PCTN)
		c.PCTK = max(c.PCTK, p.PCTK)
		c.PCTBound = sim.PCTBound(c.PCTN, c.PCTK, c.Depth)
	}
	c.Makespans = append(c.Makespans, p.Makespans...)
	if err := mergeDists(&c.Latencies, p.Latencies); err != nil {
		return fmt.Errorf("%s/%s: %v", c.Workload, c.Fix, err)
	}
	if err := mergeDists(&c.Counts, p.Counts); err != nil {
		return fmt.Errorf("%s/%s: %v", c.Workload, c.Fix, err)
	}
	c.summarize()
	return nil
}

// mergeDists adds the distributions src (of the executions that follow)
// to dst, by name: the latencies of a cell's part, or its count metrics
// (which leave the wake-up and per-second fields empty, as latencies leave
// RunMax).
func mergeDists(dst *[]*Latency, src []*Latency) error {
	for _, pl := range src {
		i := slices.IndexFunc(*dst, func(l *Latency) bool { return l.Op == pl.Op })
		if i < 0 {
			*dst = append(*dst, &Latency{Op: pl.Op, Hist: newHist(), Min: pl.Min, Max: pl.Max})
			i = len(*dst) - 1
		}
		l := (*dst)[i]
		if dropped := l.Hist.Merge(pl.Hist); dropped != 0 {
			return fmt.Errorf("%s: %d values beyond the histogram's range", pl.Op, dropped)
		}
		l.Min, l.Max = min(l.Min, pl.Min), max(l.Max, pl.Max)
		l.Count += pl.Count
		l.Wakeups += pl.Wakeups
		l.Spurious += pl.Spurious
		l.RunPerSec = append(l.RunPerSec, pl.RunPerSec...)
		l.RunP50 = append(l.RunP50, pl.RunP50...)
		l.RunP99 = append(l.RunP99, pl.RunP99...)
		l.RunWakeups = append(l.RunWakeups, pl.RunWakeups...)
		l.RunSpurious = append(l.RunSpurious, pl.RunSpurious...)
		l.RunMax = append(l.RunMax, pl.RunMax...)
	}
	return nil
}

// MergePart adds to c the cell of the cell's next part: Merge, or
// MergeDFS for a part of a dfs enumeration.
func (c *Cell) MergePart(p *Cell) error {
	if c.Strategy == "dfs" {
		return c.MergeDFS(p)
	}
	return c.Merge(p)
}

// MergeDFS adds to c the cell p of another part of the same dfs
// enumeration (Config.Part): the counts add up, the first failure of each
// id is the one earliest in the enumeration (the least choices,
// lexicographically), and the enumeration is exhausted when every part is.
// The result is the cell of the unsplit enumeration.
func (c *Cell) MergeDFS(p *Cell) error {
	if p.Workload != c.Workload || p.Fix != c.Fix || p.Strategy != "dfs" || c.Strategy != "dfs" || p.Depth != c.Depth ||
		fmt.Sprint(p.Params) != fmt.Sprint(c.Params) {
		return fmt.Errorf("merging %s/%s (%s, bound %d) with %s/%s (%s, bound %d): not parts of one enumeration",
			c.Workload, c.Fix, c.Strategy, c.Depth, p.Workload, p.Fix, p.Strategy, p.Depth)
	}
	for f := mm.Failure(0); f < mm.NumFailures; f++ {
		if p.Failures[f] > 0 && (c.Failures[f] == 0 || slices.Compare(p.FirstChoices[f], c.FirstChoices[f]) < 0) {
			c.First[f], c.FirstReport[f], c.FirstRun[f], c.FirstChoices[f] = p.First[f], p.FirstReport[f], p.FirstRun[f], p.FirstChoices[f]
		}
		c.Failures[f] += p.Failures[f]
	}
	c.Runs += p.Runs
	c.Planned = max(c.Planned, p.Planned)
	c.Partial = c.Partial || p.Partial
	c.Exhausted = c.Exhausted && p.Exhausted
	c.Failing += p.Failing
	c.Steps += p.Steps
	c.MaxStepsIn = max(c.MaxStepsIn, p.MaxStepsIn)
	c.Wakeups += p.Wakeups
	c.Switches += p.Switches
	return nil
}
