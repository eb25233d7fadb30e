package bench

import (
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// DefaultNativeTimeout is how long a native execution may take before it
// counts as a livelock.
const DefaultNativeTimeout = int64(10 * time.Second)

// epoch anchors the monotonic clock handed to the native runner: the
// harness is where the lab reads clocks, never the model.
var epoch = time.Now()

func wallClock() int64 { return int64(time.Since(epoch)) }

// runNative runs a cell on real goroutines: each execution on a fresh
// kernel and runner, wall-clock latencies, GOMAXPROCS=CPUs.
func runNative(cfg *Config, stop func() bool) (*Cell, error) {
	if cfg.CPUs < 1 {
		return nil, fmt.Errorf("native: %d CPUs (want at least 1)", cfg.CPUs)
	}
	params := maps.Clone(cfg.Params)
	params[workloads.CPUs] = cfg.CPUs
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultNativeTimeout
	}
	c := &Cell{
		Workload: cfg.Workload.ID, Fix: cfg.Variant.ID, Strategy: "native",
		Seed: cfg.Seed, Params: cfg.Workload.NonDefault(cfg.Params), CPUs: cfg.CPUs, From: cfg.First, Planned: cfg.Runs,
	}
	var err error
	for i := 0; i < cfg.Runs; i++ {
		if stop != nil && stop() {
			err = ErrInterrupted
			break
		}
		n := sim.NewNative(cfg.CPUs, wallClock)
		n.Inject = cfg.Inject
		n.RecordOps = true
		k := mm.NewKernel(workloads.KernelConfig(params), n)
		cfg.Variant.Apply(&k.Ops)
		if err := k.Setup(n, cfg.Workload.Setup(k, params)); err != nil {
			return c, fmt.Errorf("workload %s set-up: %w", cfg.Workload.ID, err)
		}
		// The execution ends at its timeout (a livelock) or, cut short and
		// not counted, at the user's interrupt, polled every 50 ms.
		deadline := make(chan struct{})
		var once sync.Once
		end := func() { once.Do(func() { close(deadline) }) }
		timer := time.AfterFunc(time.Duration(timeout), end)
		var cut atomic.Bool
		polled := make(chan struct{})
		if stop != nil {
			go func() {
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-polled:
						return
					case <-t.C:
						if stop() {
							cut.Store(true)
							end()
							return
						}
					}
				}
			}()
		}
		res, rerr := n.Run(deadline)
		timer.Stop()
		close(polled)
		if rerr != nil {
			return c, rerr
		}
		if cut.Load() {
			err = ErrInterrupted
			break
		}
		switch res.Outcome {
		case sim.Completed:
			k.CheckQuiescent()
		case sim.Hang:
			k.RaiseGlobal(mm.Hang, "every unfinished task is parked and nobody is left to wake them")
		case sim.Livelock:
			k.RaiseGlobal(mm.Livelock, fmt.Sprintf("not finished after %v", time.Duration(timeout)))
		}
		for _, f := range c.countExecution(res.Steps, res.Wakeups, k.Fired(), k.Reports()) {
			c.FirstRun[f] = cfg.First + i
		}
		c.addTimed(n.Ops(), n.Elapsed())
		c.addCounts(n.Counts())
		if cfg.Progress != nil {
			cfg.Progress(c.Runs)
		}
	}
	c.summarize()
	return c, err
}
