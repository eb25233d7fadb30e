package sim

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
)

// Native runs the model on real goroutines, with real atomics, on as many
// host CPUs as GOMAXPROCS allows (set to CPUs for the run): the third way to
// run the model, for wall-clock numbers on a developer's many-core machine.
// Scheduling points cost nothing, unless Inject asks for a delay at a named
// one (a race window to widen). Sleeping is real: Schedule parks the
// goroutine until WakeUp, with the same set-state-then-check protocol as in
// the other modes.
//
// The clock is injected: sim reads none itself. A Native runs one execution.
type Native struct {
	CPUs int
	// Clock returns monotonic wall-clock nanoseconds.
	Clock func() int64
	// Inject delays the named scheduling points by the given nanoseconds
	// (busy-waiting, as a preempted or slow CPU would).
	Inject map[string]int64
	// RecordOps turns on operation statistics.
	RecordOps bool

	mu       sync.Mutex
	tasks    []*Task
	pending  []*Task // started before Run
	running  bool
	live     int // spawned and not finished
	asleep   int // parked in Schedule and not woken
	wg       sync.WaitGroup
	aborting atomic.Bool
	// slow is set when scheduling points have work to do: the execution
	// is being aborted, or delays are injected.
	slow    atomic.Bool
	t0      int64
	elapsed int64

	outcome  Outcome
	halt     any
	haltTask *Task
	crashed  error
}

// NewNative returns a native runner for cpus host CPUs and a clock.
func NewNative(cpus int, clock func() int64) *Native {
	return &Native{CPUs: cpus, Clock: clock}
}

// Tasks are the execution's tasks in spawn order.
func (n *Native) Tasks() []*Task {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Task(nil), n.tasks...)
}

// SpawnKind creates a task; it runs once Start is called (and Run began).
func (n *Native) SpawnKind(name, label string, kind TaskKind, fn func(*Task)) *Task {
	t := &Task{Name: name, nat: n, fn: fn, label: label, kind: kind, cpu: -1, park: make(chan struct{}, 1), stack: make([]string, 0, 8),
		rec: n.RecordOps, slow: &n.slow}
	n.mu.Lock()
	t.ID = len(n.tasks)
	n.tasks = append(n.tasks, t)
	n.live++
	n.mu.Unlock()
	return t
}

func (n *Native) start(t *Task) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.running {
		n.pending = append(n.pending, t)
		return
	}
	n.wg.Add(1)
	go n.run(t)
}

// RunAlone runs t to its end on the calling goroutine, before the execution
// proper (a workload's set-up). Tasks it spawns start with Run.
func (n *Native) RunAlone(t *Task) (err error) {
	n.mu.Lock()
	// The set-up is not one of the execution's tasks.
	n.tasks = slices.DeleteFunc(n.tasks, func(o *Task) bool { return o == t })
	n.pending = slices.DeleteFunc(n.pending, func(o *Task) bool { return o == t })
	n.live--
	n.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("set-up task %s: %v", t.Name, r)
		}
	}()
	t.started = true
	t.fn(t)
	t.done = true
	return nil
}

func (n *Native) run(t *Task) {
	defer n.wg.Done()
	defer func() {
		r := recover()
		n.mu.Lock()
		defer n.mu.Unlock()
		t.done = true
		n.live--
		switch v := r.(type) {
		case nil:
		case halt:
			if n.outcome != Halted {
				n.outcome, n.halt, n.haltTask = Halted, v.reason, t
			}
			n.abortLocked()
		case abortError:
		default:
			if n.crashed == nil {
				n.crashed = fmt.Errorf("task %s panicked: %v\n%s", t.Name, r, debug.Stack())
			}
			n.abortLocked()
		}
		n.checkHangLocked()
	}()
	t.started = true
	t.fn(t)
}

// abortLocked ends the execution: every task unwinds at its next scheduling
// point, and parked tasks are woken to do so.
func (n *Native) abortLocked() {
	if n.aborting.Swap(true) {
		return
	}
	n.slow.Store(true)
	for _, t := range n.tasks {
		select {
		case t.park <- struct{}{}:
		default:
		}
	}
}

// checkHangLocked: every unfinished task is parked and nobody is left to
// wake them.
func (n *Native) checkHangLocked() {
	if n.live > 0 && n.asleep == n.live && !n.aborting.Load() {
		n.outcome = Hang
		n.abortLocked()
	}
}

func (n *Native) step(t *Task, label string) {
	if n.aborting.Load() {
		panic(errAborted)
	}
	if n.Inject != nil {
		n.inject(t, label)
	}
}

func (n *Native) inject(t *Task, label string) {
	if d := n.Inject[label]; d > 0 {
		n.spin(t, d)
	}
}

func (n *Native) spin(t *Task, ns int64) {
	end := n.Clock() + ns
	for n.Clock() < end {
		if n.aborting.Load() {
			panic(errAborted)
		}
	}
}

func (n *Native) relax(t *Task) {
	if n.aborting.Load() {
		panic(errAborted)
	}
	runtime.Gosched()
}

func (n *Native) now() int64 { return n.Clock() - n.t0 }

// schedule parks the task unless a wake-up already set it running.
func (n *Native) schedule(t *Task) {
	n.mu.Lock()
	if t.State() == TaskRunning || n.aborting.Load() {
		n.mu.Unlock()
		if n.aborting.Load() {
			panic(errAborted)
		}
		return
	}
	t.parked = true
	n.asleep++
	n.checkHangLocked()
	n.mu.Unlock()
	for {
		<-t.park
		if n.aborting.Load() {
			panic(errAborted)
		}
		// A token left by a wake-up that came before we parked is
		// stale: only TaskRunning ends the sleep.
		if t.State() == TaskRunning {
			return
		}
	}
}

// wakeUp is try_to_wake_up(): TaskRunning, and unpark if parked.
func (n *Native) wakeUp(t *Task) bool {
	for {
		s := t.state.Load()
		if TaskState(s) == TaskRunning {
			return false
		}
		if t.state.CompareAndSwap(s, uint32(TaskRunning)) {
			break
		}
	}
	t.wakeups.Add(1)
	n.mu.Lock()
	if t.parked {
		t.parked = false
		n.asleep--
	}
	n.mu.Unlock()
	select {
	case t.park <- struct{}{}:
	default:
	}
	return true
}

// Run starts the tasks on GOMAXPROCS=CPUs and waits for them to finish, to
// halt or hang, or for stop to be closed (then the outcome is Livelock:
// the tasks did not finish in the time the caller allowed).
func (n *Native) Run(stop <-chan struct{}) (Result, error) {
	old := runtime.GOMAXPROCS(n.CPUs)
	defer runtime.GOMAXPROCS(old)
	n.mu.Lock()
	n.t0 = n.Clock()
	n.running = true
	if len(n.Inject) > 0 {
		n.slow.Store(true)
	}
	for _, t := range n.pending {
		n.wg.Add(1)
		go n.run(t)
	}
	n.pending = nil
	n.checkHangLocked()
	n.mu.Unlock()

	done := make(chan struct{})
	go func() {
		n.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-stop:
		n.mu.Lock()
		if n.outcome == Completed {
			n.outcome = Livelock
		}
		n.abortLocked()
		n.mu.Unlock()
		<-done
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.elapsed = n.Clock() - n.t0
	if n.crashed != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrModel, n.crashed)
	}
	res := Result{Outcome: n.outcome, HaltReason: n.halt, HaltTask: n.haltTask}
	for _, t := range n.tasks {
		res.Steps += int(t.steps)
		res.Wakeups += int(t.wakeups.Load())
	}
	return res, nil
}

// Elapsed is the wall-clock duration of the execution.
func (n *Native) Elapsed() int64 { return n.elapsed }

// Ops merges the tasks' operation statistics, in task order.
func (n *Native) Ops() []OpStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []OpStats
	for _, t := range n.tasks {
		for len(out) < len(t.ops) {
			out = append(out, OpStats{})
		}
		for i, o := range t.ops {
			out[i].Samples = append(out[i].Samples, o.Samples...)
			out[i].Wakeups += o.Wakeups
			out[i].Spurious += o.Spurious
		}
	}
	return out
}

// Counts merges the tasks' count metrics, in task order.
func (n *Native) Counts() [][]int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out [][]int64
	for _, t := range n.tasks {
		for len(out) < len(t.counts) {
			out = append(out, nil)
		}
		for i, c := range t.counts {
			out[i] = append(out[i], c...)
		}
	}
	return out
}
