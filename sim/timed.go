package sim

import (
	"math"
	"math/rand/v2"
)

// Costs is the timed scheduler's cost model, in virtual nanoseconds. Every
// default is documented with its source or reasoning; every one can be
// overridden (pagelab run -cost name=ns).
type Costs struct {
	// Step is the cost of the code between two scheduling points, apart
	// from its memory traffic: a few dozen instructions.
	Step int64
	// AtomicRMW is a locked read-modify-write on a line this CPU already
	// holds exclusively: about 20 cycles on current x86 (Agner Fog's
	// instruction tables: LOCK XADD/CMPXCHG 18-25 cycles), ~8 ns at 2.5 GHz.
	AtomicRMW int64
	// LineTransfer is moving a cache line from the CPU that wrote it last:
	// core-to-core latency is 40-100 ns within a socket and 120-200 ns
	// across sockets on servers of the 64-CPU class (published
	// core-to-core latency matrices, Intel MLC); 100 ns is a mid-point.
	LineTransfer int64
	// SpinHandover is the delay between a spinlock's release and the
	// spinning CPU noticing it, on top of the line transfer: one PAUSE
	// (140 cycles on Skylake, about 40 ns).
	SpinHandover int64
	// WakeCall is what try_to_wake_up() costs the waker: taking the
	// target run queue's lock, enqueueing, and usually an IPI to the
	// target CPU — 0.3-1 µs in function-graph traces of try_to_wake_up on
	// servers. A walk that wakes 64 waiters pays it 64 times.
	WakeCall int64
	// Wakeup is try_to_wake_up() to the task running on an idle CPU:
	// 2-10 µs on a server in shallow idle states (cyclictest, schbench
	// wake-up latencies); more from deep C-states.
	Wakeup int64
	// ContextSwitch is switching a CPU to another task: 1-2 µs (lmbench
	// lat_ctx), charged when a waiting task is dispatched.
	ContextSwitch int64
	// Timeslice is how long a task runs before the scheduler lets a waiting
	// task have its CPU: CFS's sched_min_granularity scaled for 8+ CPUs,
	// 3 ms.
	Timeslice int64
	// IOMedian and IOSigma describe the log-normal time from submit_bio()
	// to the completion interrupt: a median of 50 µs is an NVMe write of one
	// page with its completion; sigma 0.5 gives a p99 about 3.2x the median.
	IOMedian int64
	IOSigma  float64
	// JitterPct is how much explicit work (Task.Work) varies around its
	// nominal duration, uniformly ±JitterPct%: real work is not constant,
	// and constant work locks tasks into step (with it off, lock-storm's
	// tasks fall into a lock-step pattern that hides the unfairness
	// budget's effect).
	JitterPct int64
}

// DefaultCosts is the documented cost model.
func DefaultCosts() Costs {
	return Costs{
		Step:          10,
		AtomicRMW:     8,
		LineTransfer:  100,
		SpinHandover:  40,
		WakeCall:      500,
		Wakeup:        3000,
		ContextSwitch: 1500,
		Timeslice:     3_000_000,
		IOMedian:      50_000,
		IOSigma:       0.5,
		JitterPct:     50,
	}
}

// CostNames lists the overridable integer costs, in order.
var CostNames = []string{"step", "atomic", "transfer", "spin_handover", "wake_call", "wakeup", "ctxsw", "timeslice", "io_median", "jitter_pct"}

// MaxCost bounds every cost: one second. With steps bounded by MaxSteps, an
// execution's virtual time stays far from the int64 range (at most about
// 1e17 ns), so no latency can wrap.
const MaxCost = 1_000_000_000

// MaxSteps bounds the step budget of one execution.
const MaxSteps = 10_000_000

// Set overrides the cost named name (one of CostNames); false for an
// unknown name or a value outside 0..MaxCost.
func (c *Costs) Set(name string, ns int64) bool {
	if ns < 0 || ns > MaxCost {
		return false
	}
	switch name {
	case "step":
		c.Step = ns
	case "atomic":
		c.AtomicRMW = ns
	case "transfer":
		c.LineTransfer = ns
	case "spin_handover":
		c.SpinHandover = ns
	case "wake_call":
		c.WakeCall = ns
	case "wakeup":
		c.Wakeup = ns
	case "ctxsw":
		c.ContextSwitch = ns
	case "timeslice":
		c.Timeslice = ns
	case "io_median":
		c.IOMedian = ns
	case "jitter_pct":
		if ns > 100 {
			return false
		}
		c.JitterPct = ns
	default:
		return false
	}
	return true
}

// Timed is a discrete-event simulation of CPUs simulated CPUs. Each task has
// a virtual clock; the step that starts earliest runs next; a step costs
// Costs.Step plus its memory traffic (atomic operations, cache-line
// transfers from the CPU that wrote the line last, waiting for a spinlock
// held by a step on another CPU) plus any explicit work. Tasks that are
// runnable but have no CPU wait for one (FIFO by the time they became
// runnable); a task that sleeps frees its CPU; a woken task becomes runnable
// Costs.Wakeup after the wake-up; a CPU switching to another task pays
// Costs.ContextSwitch; after Costs.Timeslice a running task yields its CPU
// to a waiting task. I/O completions (TaskIRQ) become runnable a log-normal
// I/O time after submission and run in interrupt context, without waiting
// for a CPU (their time is not charged to the interrupted task).
//
// Everything is deterministic for a seed.
type Timed struct {
	CPUs  int
	Costs Costs

	x     *Explorer
	seed  uint64
	pcg   rand.PCG
	rng   *rand.Rand
	cpus  []timedCPU
	lines map[uint64]*cacheLine
	end   int64 // the latest virtual time reached
}

type timedCPU struct {
	cur    *Task
	freeAt int64
}

// cacheLine is the coherence state of one line: which CPUs hold a copy,
// which wrote it last, and until when a spinlock in it is held.
type cacheLine struct {
	owner     int
	sharers   [4]uint64 // up to 256 CPUs
	busyUntil int64
}

func (l *cacheLine) has(cpu int) bool { return l.sharers[cpu>>6]&(1<<(cpu&63)) != 0 }

// MaxCPUs is the largest number of simulated CPUs.
const MaxCPUs = 256

// NewTimed returns the timed scheduler for cpus simulated CPUs (1 to
// MaxCPUs) and a seed (for I/O times).
func NewTimed(seed uint64, cpus int, costs Costs) *Timed {
	tm := &Timed{CPUs: cpus, Costs: costs, seed: seed, lines: map[uint64]*cacheLine{}}
	tm.rng = rand.New(&tm.pcg)
	return tm
}

// Makespan is the virtual time at which the last execution's last step
// ended.
func (tm *Timed) Makespan() int64 { return tm.end }

func (tm *Timed) Begin(run int) {
	tm.pcg.Seed(runSeed(tm.seed, run))
	if len(tm.cpus) != tm.CPUs {
		tm.cpus = make([]timedCPU, tm.CPUs)
	}
	for i := range tm.cpus {
		tm.cpus[i] = timedCPU{}
	}
	clear(tm.lines)
	tm.end = 0
}

func (tm *Timed) Spawned(t *Task) {
	var now int64
	if p := tm.x.cur; p != nil {
		now = p.Now()
	}
	t.cpu = -1
	t.readyAt = now
	if t.kind == TaskIRQ {
		io := float64(tm.Costs.IOMedian) * math.Exp(tm.Costs.IOSigma*tm.rng.NormFloat64())
		t.readyAt = now + int64(io)
	}
	t.now = t.readyAt
}

// Pick runs the step that starts earliest: that of a task on a CPU or of an
// I/O completion at its clock, or, when a CPU is idle, the dispatch of the
// task that became runnable first. Ties go to the lower task ID.
func (tm *Timed) Pick(runnable []*Task, last *Task, step int) *Task {
	idle := -1
	for i := range tm.cpus {
		if tm.cpus[i].cur == nil && (idle < 0 || tm.cpus[i].freeAt < tm.cpus[idle].freeAt) {
			idle = i
		}
	}
	var best *Task
	var bestAt int64
	for _, t := range runnable {
		var at int64
		switch {
		case t.kind == TaskIRQ || t.cpu >= 0:
			at = t.now
		case idle >= 0:
			at = max(t.readyAt, tm.cpus[idle].freeAt) + tm.Costs.ContextSwitch
		default:
			continue // waits for a CPU
		}
		if best == nil || at < bestAt {
			best, bestAt = t, at
		}
	}
	if best.kind == TaskCPU && best.cpu < 0 {
		best.cpu = idle
		tm.cpus[idle].cur = best
		best.now, best.sliceStart = bestAt, bestAt
	}
	return best
}

// stepped accounts the step a task just ran.
func (tm *Timed) stepped(t *Task) {
	t.now += t.cost + tm.Costs.Step
	t.cost = 0
	tm.end = max(tm.end, t.now)
	if t.kind == TaskIRQ {
		return
	}
	if t.done || t.blocked {
		tm.release(t)
		return
	}
	if !t.noPreempt && t.now-t.sliceStart >= tm.Costs.Timeslice && tm.someoneWaits(t.now) {
		tm.release(t)
		t.readyAt = t.now
	}
}

func (tm *Timed) release(t *Task) {
	if t.cpu >= 0 {
		tm.cpus[t.cpu] = timedCPU{freeAt: t.now}
		t.cpu = -1
	}
}

func (tm *Timed) someoneWaits(now int64) bool {
	for _, o := range tm.x.tasks {
		if o.kind == TaskCPU && o.cpu < 0 && !o.done && !o.blocked && o.readyAt <= now {
			return true
		}
	}
	return false
}

// jitter draws a duration uniformly within ±JitterPct% of ns.
func (tm *Timed) jitter(ns int64) int64 {
	spread := ns * tm.Costs.JitterPct / 100
	if ns <= 0 || spread <= 0 {
		return max(ns, 0)
	}
	return ns - spread + tm.rng.Int64N(2*spread+1)
}

// woken: a sleeping task was woken by the running step; it becomes
// runnable after the wake-up latency.
func (tm *Timed) woken(t *Task) {
	now := t.now
	if w := tm.x.cur; w != nil {
		w.cost += tm.Costs.WakeCall
		now = w.Now()
	}
	t.readyAt = now + tm.Costs.Wakeup
	t.now = t.readyAt
}

// access charges the running step for touching a cache line.
func (tm *Timed) access(t *Task, line uint64, kind AccessKind) {
	l := tm.lines[line]
	if l == nil {
		l = &cacheLine{owner: -1}
		tm.lines[line] = l
	}
	cpu := t.cpu
	if cpu < 0 { // an interrupt: it runs on the CPU its number maps to
		cpu = t.ID % tm.CPUs
	}
	c := &tm.Costs
	switch kind {
	case AccessRead:
		if !l.has(cpu) {
			if l.owner >= 0 && l.owner != cpu {
				t.cost += c.LineTransfer
			}
			l.sharers[cpu>>6] |= 1 << (cpu & 63)
		}
		return
	case AccessLock:
		if now := t.now + t.cost; l.busyUntil > now {
			// Spin until the holder's step releases the lock.
			t.cost += l.busyUntil - now + c.SpinHandover
		}
	}
	// A write: get the line exclusive (a transfer unless this CPU is its
	// only holder), then the atomic operation.
	only := l.owner == cpu || l.owner < 0
	for i, w := range l.sharers {
		if i == cpu>>6 {
			w &^= 1 << (cpu & 63)
		}
		if w != 0 {
			only = false
		}
	}
	if !only {
		t.cost += c.LineTransfer
	}
	if kind != AccessUnlock {
		t.cost += c.AtomicRMW
	}
	l.owner = cpu
	l.sharers = [4]uint64{}
	l.sharers[cpu>>6] = 1 << (cpu & 63)
	if kind == AccessUnlock {
		l.busyUntil = t.now + t.cost
	}
}
