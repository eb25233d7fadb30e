// Package sim runs the model: tasks (simulated CPUs), the kernel's sleep and
// wake-up protocol, the schedulers that decide which task runs at each
// scheduling point, and the recorded, replayable schedules.
//
// The model (package mm) calls Step at every place where another CPU could
// interleave, and sleeps the way the kernel does:
//
//	t.SetState(sim.TaskUninterruptible) // set_current_state()
//	if !condition {
//		t.Schedule("io_schedule")     // schedule(): sleeps unless woken meanwhile
//	}
//	t.SetState(sim.TaskRunning)
//
// In explore mode exactly one task runs at a time; between two scheduling
// points a task's code is atomic with respect to every other task. That is
// the memory model: sequential consistency at scheduling points (see the
// README's "Memory model" section for why that is enough for the races the
// lab reproduces).
//
// sim touches no clock, file or global randomness: every choice comes from a
// seeded generator owned by the strategy, so the same seed gives the same
// execution, byte for byte.
package sim

import (
	"fmt"
	"sync/atomic"
)

// TaskState is the kernel's task state (p->__state in 5.x called p->state).
// Only the states the modelled paths use exist.
type TaskState uint8

const (
	// TaskRunning is TASK_RUNNING: on a CPU or on a run queue.
	TaskRunning TaskState = iota
	// TaskUninterruptible is TASK_UNINTERRUPTIBLE: only a wake-up ends the sleep.
	TaskUninterruptible
	// TaskKillable is TASK_KILLABLE: a wake-up or a fatal signal ends the sleep.
	TaskKillable
)

func (s TaskState) String() string {
	switch s {
	case TaskRunning:
		return "TASK_RUNNING"
	case TaskUninterruptible:
		return "TASK_UNINTERRUPTIBLE"
	case TaskKillable:
		return "TASK_KILLABLE"
	}
	return fmt.Sprintf("TaskState(%d)", uint8(s))
}

// Task is one simulated CPU running one function of the model (a system
// call, a kernel thread, an I/O completion).
type Task struct {
	// ID is the task's index in its execution, in spawn order.
	ID int
	// Name is stable across executions of the same workload ("cpu2", "io1")
	// and is what schedules refer to.
	Name string
	// Local belongs to the model (mm keeps its per-task state there).
	Local any

	x     *Explorer
	fn    func(*Task)
	label string // the scheduling point the task is paused at

	state    atomic.Uint32 // TaskState: set_current_state(); TaskRunning once woken
	blocked  bool          // explore: inside schedule(), off the CPU: not runnable
	done     bool
	started  bool
	alone    bool        // run by RunAlone: scheduling points do not yield
	aborting bool        // the execution ended: unwind at the next scheduling point
	sigkill  atomic.Bool // a fatal signal is pending

	// stack is the model's call stack of kernel function names (Enter/Exit),
	// captured in traces for race diagrams.
	stack []string

	w *worker

	// Footprints (nil unless the Explorer records them): the recorder,
	// the observation hash (obs0 at spawn), and the observation hash at
	// each Enter, for CutPoint.
	fp       *footprinter
	obs      Key
	obs0     Key
	obsStack []obsFrame
	// spawnedInRun: created by another task's step during Run.
	spawnedInRun bool

	kind TaskKind
	// Timed mode: the task's virtual time at the start of its next step,
	// the cost accumulated by the running step, its CPU (-1: none), when
	// it became runnable, and when its current time slice began.
	now, cost, readyAt, sliceStart int64
	cpu                            int

	// Operation statistics: wake-ups received and spurious wake-ups
	// reported by the model.
	wakeups  atomic.Int64
	spurious int64

	// Native mode: the runner, the parking channel, whether the task is
	// parked in Schedule, its steps and its operation statistics.
	nat *Native
	// slow says whether a scheduling point has work to do: always in
	// explore and timed modes (it points to alwaysSlow), in native mode
	// only when the execution is being ended or delays are injected.
	slow   *atomic.Bool
	timed  *Timed // the timed scheduler, if that is the mode
	traced bool   // the explorer watches accesses (Explorer.OnAccess)
	rec    bool   // operation statistics are recorded
	park   chan struct{}
	parked bool // under nat.mu
	steps  int64
	ops    []OpStats
	counts [][]int64 // native: per task, merged at the end

	// Non-preemptible kernel code (PreemptOff): since when, in the task's
	// clock, and whether the watchdog already reported it.
	noPreempt   bool
	npSince     int64
	lockupShown bool
}

// reuse clears a task of a finished execution for the next one, keeping
// the capacity of its slices.
func (t *Task) reuse() {
	stack, obsStack, ops := t.stack[:0], t.obsStack[:0], t.ops[:0]
	t.ID, t.Name, t.Local, t.x, t.fn, t.label = 0, "", nil, nil, nil, ""
	t.state.Store(0)
	t.blocked, t.done, t.started, t.alone, t.aborting = false, false, false, false, false
	t.sigkill.Store(false)
	t.stack, t.w = stack, nil
	t.fp, t.obs, t.obs0, t.obsStack, t.spawnedInRun = nil, Key{}, Key{}, obsStack, false
	t.kind, t.now, t.cost, t.readyAt, t.sliceStart, t.cpu = 0, 0, 0, 0, 0, 0
	t.wakeups.Store(0)
	t.spurious = 0
	t.nat, t.slow, t.timed, t.traced, t.rec = nil, nil, nil, false, false
	t.park, t.parked, t.steps, t.ops = nil, false, 0, ops
	for i := range t.counts {
		t.counts[i] = t.counts[i][:0]
	}
	t.noPreempt, t.npSince, t.lockupShown = false, 0, false
}

// PreemptOff says that the task now runs kernel code with no preemption
// point until PreemptOn: on a kernel without CONFIG_PREEMPT (the servers'
// PREEMPT_NONE and PREEMPT_VOLUNTARY), code between two calls of
// schedule() or cond_resched() keeps its CPU, whatever the timeslice. The
// timed scheduler then does not take the task's CPU away at the end of
// its timeslice, and the soft-lockup watchdog (Explorer.Watchdog) measures
// how long it has kept it. A sleep (Schedule) is a scheduling point and
// starts a new stretch.
//
// The model's other tasks keep the timed scheduler's timeslice
// preemption: their paths have cond_resched() points or return to user
// space often enough that a tick can reschedule them.
func (t *Task) PreemptOff() {
	if t.noPreempt {
		return
	}
	t.noPreempt = true
	if t.nat == nil {
		t.npSince = t.Now()
	}
}

// PreemptOn ends PreemptOff's stretch (cond_resched(), or the end of a
// work item: process_one_work() calls cond_resched() after each). It
// returns the stretch's length in the task's clock (0 in native mode).
func (t *Task) PreemptOn() int64 {
	if !t.noPreempt {
		return 0
	}
	t.noPreempt = false
	if t.nat != nil {
		return 0
	}
	return t.Now() - t.npSince
}

// checkWatchdog is the soft-lockup detector's hrtimer interrupt
// (watchdog_timer_fn(), kernel/watchdog.c), which runs on the CPU it
// watches: at a scheduling point of a task that has kept its CPU in
// non-preemptible code (PreemptOff) for longer than Explorer.Watchdog of
// virtual time, it reports the stretch once (Explorer.OnSoftLockup).
// Only the timed scheduler has virtual time.
func (t *Task) checkWatchdog() {
	x := t.x
	if x.Watchdog <= 0 || x.timed == nil || t.lockupShown || x.OnSoftLockup == nil {
		return
	}
	if d := t.Now() - t.npSince; d > x.Watchdog {
		t.lockupShown = true
		x.OnSoftLockup(t, d)
	}
}

// TaskKind says how a task is scheduled in timed mode.
type TaskKind uint8

const (
	// TaskCPU is a task that needs a CPU: a system call, a kernel thread.
	TaskCPU TaskKind = iota
	// TaskIRQ is an I/O completion: it becomes runnable when the I/O
	// completes and runs in interrupt context, without waiting for a CPU.
	TaskIRQ
)

// AccessKind is how a step touches a cache line.
type AccessKind uint8

const (
	// AccessRead is a plain load.
	AccessRead AccessKind = iota
	// AccessRMW is an atomic read-modify-write (or a store).
	AccessRMW
	// AccessLock is spin_lock(): an atomic RMW that waits while the lock
	// is held.
	AccessLock
	// AccessUnlock is spin_unlock(): a release store.
	AccessUnlock
)

// Access tells the timed scheduler that the running step touches cache line
// line (any stable identifier of the memory: a struct page, a wait-queue
// head, a lock). Other modes ignore it.
func (t *Task) Access(line uint64, kind AccessKind) {
	if t.timed != nil {
		t.timed.access(t, line, kind)
	}
	if t.traced {
		t.x.OnAccess(t, line, kind)
	}
}

// Work is a scheduling point after ns nanoseconds of computation that
// touches no shared memory (a critical section's body, user-space work).
// Under the timed scheduler the duration varies uniformly around ns
// (Costs.JitterPct), drawn from the run's seed.
func (t *Task) Work(label string, ns int64) {
	switch {
	case t.nat != nil:
		t.nat.spin(t, ns)
	case t.timed != nil:
		t.cost += t.timed.jitter(ns)
	}
	t.Step(label)
}

// Now is the task's clock: virtual nanoseconds in timed mode, the number of
// scheduling decisions taken so far in explore mode.
func (t *Task) Now() int64 {
	if t.nat != nil {
		return t.nat.now()
	}
	if t.x.timed != nil {
		return t.now + t.cost
	}
	return int64(t.x.steps)
}

// Spurious records that the task was woken but found its condition still
// false (woken with the bit set again).
func (t *Task) Spurious() { t.spurious++ }

// Kind is the task's scheduling kind.
func (t *Task) Kind() TaskKind { return t.kind }

// Label is the scheduling point the task is paused at: the step it will
// execute when it next runs. Native mode does not track it ("").
func (t *Task) Label() string {
	if t.nat != nil {
		return ""
	}
	return t.label
}

// Done reports whether the task's function has returned.
func (t *Task) Done() bool { return t.done }

// Blocked reports whether the task sleeps inside schedule().
func (t *Task) Blocked() bool { return t.blocked }

// Step is a scheduling point: the task pauses here, labelled with what it is
// about to do, and another task may run before it continues.
func (t *Task) Step(label string) {
	if !t.slow.Load() {
		// Native: nothing to decide, unless the execution is being ended
		// or a delay is to be injected here (then step). The label is not
		// even stored: that store is what would keep Step from inlining,
		// and native mode is for wall-clock numbers (its failure reports
		// name the task; explore mode gives the full trace).
		return
	}
	t.step(label)
}

var alwaysSlow = func() *atomic.Bool {
	var b atomic.Bool
	b.Store(true)
	return &b
}()

// step is the out-of-line part of Step, so that Step inlines.
//
//go:noinline
func (t *Task) step(label string) {
	t.label = label
	if n := t.nat; n != nil {
		n.step(t, label)
		return
	}
	// Explore and timed modes: yield to the scheduler (in this function
	// rather than a call of its own: a step that switches to Run costs a
	// call less, and the switch is the executor's unit of cost,
	// BenchmarkHandoff).
	if t.alone {
		// RunAlone: nobody else may run, so there is no decision to take.
		return
	}
	if t.aborting {
		// The execution is being unwound and a deferred function of the
		// task reached a scheduling point: suspending here would leave
		// the worker parked inside this task, and the next execution's
		// task on the worker would first finish this one's unwinding.
		panic(errAborted)
	}
	if t.noPreempt {
		t.checkWatchdog()
	}
	// The step that ends here is over, and the scheduler's next decision
	// is due. Taken here rather than after a switch to Run, it costs no
	// coroutine switch when it lets t go on: the common case, a random
	// walk preempts one point in ten. The decision sees exactly what Run
	// would see (see Explorer.yielded): no other task can have run since
	// t's step began, so no wake-up, spawn or sleep can be missing from
	// the runnable set it picks from.
	if x := t.x; x.inline && x.yielded(t) {
		// t was picked again and its next step has begun (Record,
		// Trace and footprint set-up done): run it.
		return
	}
	// Another task was picked, or the execution ends: Run takes over
	// with the decision already taken (x.next), and resumes t when it
	// is picked again. Nothing happens between the decision and this
	// suspend, so the state the decision was taken on is the state the
	// next task starts from.
	t.w.suspend()
	if t.aborting {
		panic(errAborted)
	}
}

// Traced reports whether the task's accesses are traced (race diagrams).
func (t *Task) Traced() bool { return t.traced }

// Timed reports whether Access has any effect: the task runs under the
// timed scheduler, or its accesses are traced.
func (t *Task) Timed() bool { return t.timed != nil || t.traced }

// SetState is set_current_state(): it announces the intent to sleep before
// the waiter's last check of its condition, so that a wake-up arriving
// between that check and Schedule is not lost (try_to_wake_up sets the state
// back to TaskRunning and Schedule then returns at once).
func (t *Task) SetState(s TaskState) {
	t.state.Store(uint32(s))
	if t.fp != nil {
		if c := t.x.cur; c != nil {
			c.Write(TaskStateObj(t.ID), uint64(s))
		}
	}
}

// State is the task's current state.
func (t *Task) State() TaskState {
	s := TaskState(t.state.Load())
	if t.fp != nil {
		if c := t.x.cur; c != nil {
			c.Read(TaskStateObj(t.ID), uint64(s))
		}
	}
	return s
}

// Schedule is schedule() (io_schedule() in the page-wait paths) after
// SetState: a scheduling point, after which the task sleeps unless a wake-up
// set it back to TaskRunning in the meantime. It returns when the task runs
// again. The label names the scheduling point for schedules and traces.
func (t *Task) Schedule(label string) {
	if t.nat != nil {
		t.label = label
		t.nat.schedule(t)
		return
	}
	t.Step(label)
	// Between SetState and here another task may already have called
	// WakeUp: the state is TaskRunning again and sleeping now would lose
	// that wake-up forever. This check is the whole point of the
	// set-state-then-check protocol (kernel/sched/core.c __schedule(): a
	// task whose state is TASK_RUNNING is not deactivated).
	if t.State() == TaskRunning {
		return
	}
	if t.State() == TaskKillable && t.SignalPending(TaskKillable) {
		// signal_pending_state(): a fatal signal keeps a killable task awake.
		t.SetState(TaskRunning)
		return
	}
	// Going to sleep is not a decision this task can take on its side
	// (yielded): it is off the run queue only once blocked is set, and
	// the decision that follows must not count it runnable. So it
	// suspends to Run, which accounts for the step that ended in the
	// sleep (Decision.Stopped) and decides. The order is the kernel's:
	// the state check above and blocked = true happen in one step, with
	// no scheduling point between, so no WakeUp can slip in between the
	// check and the sleep; a later WakeUp clears blocked and makes the
	// task runnable again.
	t.blocked = true
	t.x.dequeue(t)
	t.w.suspend()
	if t.aborting {
		panic(errAborted)
	}
	if t.noPreempt {
		// schedule() ran: the watchdog's stretch starts again.
		t.npSince = t.Now()
	}
	// Woken: the step that resumes here could not have run before the
	// wake-up that made the task runnable. Reading the state word the
	// waker wrote puts that enabling dependence in the footprint.
	if t.fp != nil {
		t.Read(TaskStateObj(t.ID), uint64(t.state.Load()))
	}
}

// WakeUp is try_to_wake_up(p, state): if the task's state is one of those
// the caller may wake (TASK_NORMAL wakes both sleeping states), it becomes
// TaskRunning and, if it already sleeps in Schedule, runnable. It reports
// whether the task's state changed, as try_to_wake_up's return value does.
// A wake-up is not a scheduling point: it happens inside the waker's step.
func (t *Task) WakeUp() bool {
	if t.nat != nil {
		return t.nat.wakeUp(t)
	}
	if t.State() == TaskRunning {
		return false
	}
	t.SetState(TaskRunning)
	t.wakeups.Add(1)
	if x := t.x; x.OnWake != nil && x.cur != nil {
		x.OnWake(x.cur, t)
	}
	if t.blocked {
		t.blocked = false
		t.x.enqueue(t)
		if tm := t.x.timed; tm != nil {
			tm.woken(t)
		}
	}
	t.x.wakeups++
	return true
}

// SignalPending is signal_pending_state(state, current) for the states the
// model uses: only a killable (or interruptible) sleeper sees a fatal signal.
func (t *Task) SignalPending(s TaskState) bool {
	if s != TaskKillable {
		return false
	}
	k := t.sigkill.Load()
	t.Read(objTaskKill|Obj(t.ID), b2u(k))
	return k
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Kill sends SIGKILL to the task (a fatal signal for killable sleeps).
func (t *Task) Kill() {
	t.sigkill.Store(true)
	if t.fp != nil {
		if c := t.x.cur; c != nil {
			c.Write(objTaskKill|Obj(t.ID), 1)
		}
	}
	if t.State() == TaskKillable {
		t.WakeUp()
	}
}

// SpinRelax is cpu_relax() in a spinlock's busy-wait loop. In explore mode
// one task runs at a time and a spinlock section never spans a scheduling
// point, so finding a spinlock taken means the model is wrong.
func (t *Task) SpinRelax() {
	if t.nat != nil {
		t.nat.relax(t)
		return
	}
	panic(fmt.Sprintf("spinlock found held in explore mode by task %s at %q: a scheduling point inside a spinlock section", t.Name, t.label))
}

// Enter pushes a kernel function name on the task's call stack; Exit pops
// it. The stack only feeds traces, diagrams and failure reports; native
// mode does not keep it (its reports name the task and scheduling point).
func (t *Task) Enter(fn string) {
	if t.nat == nil {
		t.stack = append(t.stack, fn)
		if t.fp != nil && !t.fp.light {
			t.obsStack = append(t.obsStack, obsFrame{entry: t.obs})
		}
	}
}

// Exit pops the innermost kernel function name.
func (t *Task) Exit() {
	if t.nat == nil {
		fn := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		if t.fp != nil && !t.fp.light {
			t.exitObs(fn)
		}
	}
}

// Stack is the task's current call stack, outermost first. The slice is
// only valid until the task runs again.
func (t *Task) Stack() []string { return t.stack }

// Halt ends the whole execution from inside a task: the kernel has oopsed
// (BUG, VM_BUG_ON) and, as with panic_on_oops, nothing else runs. The reason
// is reported by Explorer.Run.
func (t *Task) Halt(reason any) {
	panic(halt{reason})
}

// Spawn starts a new task in the same execution, for example the completion
// of an I/O that this task submitted. It is runnable at once.
func (t *Task) Spawn(name, label string, fn func(*Task)) *Task {
	return t.SpawnKind(name, label, TaskCPU, fn)
}

// SpawnKind is Spawn for a task of the given kind.
func (t *Task) SpawnKind(name, label string, kind TaskKind, fn func(*Task)) *Task {
	if t.nat != nil {
		nt := t.nat.SpawnKind(name, label, kind, fn)
		nt.Start()
		return nt
	}
	return t.x.SpawnKind(name, label, kind, fn)
}

// Start lets a task spawned through a Spawner run: in native mode its
// goroutine starts (once the execution runs); in explore and timed modes
// tasks run when the scheduler picks them, and Start does nothing. Spawning
// and starting are separate so that the spawner can finish setting the task
// up before it runs.
func (t *Task) Start() {
	if t.nat != nil {
		t.nat.start(t)
	}
}

type halt struct{ reason any }

type abortError struct{}

func (abortError) Error() string { return "sim: execution aborted" }

var errAborted error = abortError{}
