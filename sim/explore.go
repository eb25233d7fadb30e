package sim

import (
	"errors"
	"fmt"
	"slices"
)

// Outcome is how an execution ended.
type Outcome uint8

const (
	// Completed: every task returned.
	Completed Outcome = iota
	// Halted: a task halted the execution (the model's BUG or VM_BUG_ON).
	Halted
	// Hang: every unfinished task sleeps and none is left to wake them.
	Hang
	// Livelock: the step budget ran out while tasks kept running.
	Livelock
	// Stopped: the strategy stopped the execution (a replay that diverged
	// from its schedule and was told not to continue).
	Stopped
)

func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Halted:
		return "halted"
	case Hang:
		return "hang"
	case Livelock:
		return "livelock"
	case Stopped:
		return "stopped"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Decision is one scheduling decision: which task ran next, the scheduling
// point it was paused at, and whether the step ended with the task asleep
// or finished (rather than paused at its next scheduling point).
type Decision struct {
	Task    int32
	Label   string
	Stopped bool
}

// Result describes one execution.
type Result struct {
	Outcome Outcome
	// HaltReason is the value passed to Task.Halt when Outcome is Halted.
	HaltReason any
	// HaltTask is the task that halted.
	HaltTask *Task
	// Steps is the number of scheduling decisions taken.
	Steps int
	// Wakeups counts successful try_to_wake_up calls.
	Wakeups int
	// Switches counts the times Run resumed a task (a coroutine switch
	// to it and back): the decisions that let the running task go on are
	// taken at its own scheduling point and are not among them.
	Switches int
	// Interrupted: Explorer.Interrupt stopped the execution.
	Interrupted bool
}

// InterruptEvery is how many steps pass between polls of
// Explorer.Interrupt: at tens of millions of steps a second, well under a
// millisecond.
const InterruptEvery = 4096

// Strategy chooses the next task at every scheduling point of an execution.
type Strategy interface {
	// Begin prepares the strategy for execution number run (0-based),
	// before its tasks are spawned.
	Begin(run int)
	// Spawned tells the strategy that a task was created.
	Spawned(t *Task)
	// Pick chooses one of the runnable tasks (never empty, in ID order).
	// last is the task that ran the previous step, nil at the start; step
	// is the number of decisions taken so far. Returning nil stops the
	// execution.
	Pick(runnable []*Task, last *Task, step int) *Task
}

// Explorer runs executions in explore mode: one task at a time, a Strategy
// picking the next one at every scheduling point. An Explorer is reused
// across executions (its coroutines are kept), and is not safe for
// concurrent use.
type Explorer struct {
	// MaxSteps bounds one execution; reaching it is a Livelock.
	MaxSteps int
	// Record keeps every decision of the execution in Decisions.
	Record bool
	// Trace, when set, is called before every decision is executed with the
	// chosen task (its Label and Stack say where it is) and the step index.
	Trace func(t *Task, step int)
	// OnAccess and OnWake, when set, see every cache-line access and every
	// successful wake-up of the running step (for race diagrams).
	OnAccess func(t *Task, line uint64, kind AccessKind)
	OnWake   func(waker, wakee *Task)
	// AfterStep, when set, is called after every step with its task.
	AfterStep func(t *Task)
	// Watchdog is the soft-lockup threshold in virtual nanoseconds (0:
	// off): a task that keeps its CPU in non-preemptible code
	// (Task.PreemptOff) longer than this is reported once to
	// OnSoftLockup, from its own scheduling point (so the report may halt
	// it). Timed mode only.
	Watchdog     int64
	OnSoftLockup func(t *Task, stuck int64)
	// Interrupt, when set, is polled every InterruptEvery steps; when it
	// reports true the execution stops there (Outcome Stopped, Result
	// Interrupted). It is the user's SIGINT, seen inside one long
	// execution; it never fires in a run that is not interrupted, so it
	// does not affect determinism.
	Interrupt func() bool
	// AlwaysSwitch takes every decision in Run, after the running task
	// switched back to it, even one that lets that task go on: the
	// hand-off every decision cost before decisions were taken on the
	// task's side (Explorer.yielded). It changes no decision; it is for
	// measuring the hand-off (BenchmarkHandoff) and for checking that.
	AlwaysSwitch bool

	handoff  Handoff
	strategy Strategy
	timed    *Timed // the strategy, when it is the timed scheduler
	cur      *Task  // the task running the current step
	steps    int
	ops      []OpStats
	counts   [][]int64
	// RecordOps turns on operation statistics (OpBegin/OpEnd).
	RecordOps bool
	tasks     []*Task
	workers   []*worker
	// runnable is the run queue: the tasks neither asleep nor finished,
	// in ID order (spawn order), kept as they spawn (enqueue), sleep
	// (dequeue), wake (enqueue) and end (dequeue); unfinished counts the
	// tasks not finished. runDirty: the queue changed since the last
	// decision (decide tells the watcher).
	runnable   []*Task
	runDirty   bool
	unfinished int
	wakeups    int
	run        int

	// Decisions of the last execution, when Record is set.
	Decisions []Decision

	// fp records footprints and state (EnableFootprints); cutPoints
	// counts CutPoint calls in the current execution.
	fp        *footprinter
	cutPoints int
	// FullReplay makes a PrefixReplayer's executions record the prefix
	// they replay as they record new steps (the tests compare the two).
	// Otherwise an execution's first replay steps run with nothing
	// recorded (replaying is set meanwhile), and the recording then
	// rewinds to what it was after them (PrefixReplayer).
	FullReplay bool
	replay     int
	replaying  bool
	// replayed counts the steps run without recording (tests).
	replayed int
	// observer is the strategy, if it wants every step's footprint;
	// watcher, if it wants to know when the runnable list changes.
	observer StepObserver
	watcher  RunnableWatcher

	// The execution in progress (Run): the task that ran the last step,
	// and why the execution ended (decide). inline lets tasks take
	// decisions on their side (yielded); handed and next are such a
	// decision, handed over to Run; deciding is set while a task takes
	// one, so that a panic of the strategy is not taken for the model's.
	last        *Task
	end         Outcome
	interrupted bool
	inline      bool
	handed      bool
	next        *Task
	deciding    bool
}

// StepObserver is implemented by strategies that look at what every step
// touched (the footprint-based searches).
type StepObserver interface {
	// Stepped is called after every step of Run with the task that ran
	// and the step's footprint (valid until the next step; nil for a
	// step replayed without recording, see PrefixReplayer).
	Stepped(t *Task, fp Footprint)
}

// PrefixReplayer is implemented by strategies whose executions start by
// repeating the previous execution's first decisions: a stateless search
// (DPOR) backtracking to a point of the last execution. The model cannot
// be copied at that point, since a task's Go stack cannot, so it runs the
// repeated steps again; with footprints on, the Explorer runs them without
// recording anything (the steps are the same ones, with the same
// footprints, and the strategy knows them) and then rewinds the recording
// to what it was after those steps: the values written since, undone; each
// task's observation hash, what its last step among them left. In a
// search, most steps are such replays.
type PrefixReplayer interface {
	// ReplayLen is how many first decisions of the execution Begin
	// prepared are the previous execution's.
	ReplayLen() int
}

// RunnableWatcher is implemented by strategies that keep what they
// computed from the runnable list Pick is given (PCTRacy: the task of the
// highest priority) for as long as that list is the same. The Explorer
// passes the same list to Pick until a spawn, a sleep, a wake-up or a
// task's end changes it, and calls RunnableChanged before the Pick that
// first sees the new list. WatchRunnable is called once, when the
// strategy is set: a strategy whose Pick is called by anything else
// (a test, a wrapper) is never told, and must compute afresh each time.
type RunnableWatcher interface {
	WatchRunnable()
	RunnableChanged()
}

// EnableFootprints makes every task report its accesses (Task.Read, Write,
// RMW) and keeps the state key (StateKey) during Run. Call it before the
// first Spawn.
func (x *Explorer) EnableFootprints() {
	x.fp = &footprinter{}
	x.fp.reset()
}

// EnableAccessLog makes every task report its accesses, as
// EnableFootprints does, for a StepObserver that only needs each step's
// footprint (the profile of the samplers): the values and observation
// hashes behind StateKey are not kept, so StateKey is meaningless. Call it
// before the first Spawn.
func (x *Explorer) EnableAccessLog() {
	x.fp = &footprinter{light: true}
	x.fp.reset()
}

// Footprints reports whether footprints are recorded.
func (x *Explorer) Footprints() bool { return x.fp != nil }

// StepFootprint is the footprint of the step that just ended, for
// AfterStep: valid until the next step; nil without footprints (or for a
// step replayed without recording).
func (x *Explorer) StepFootprint() Footprint {
	if x.fp == nil || x.replaying {
		return nil
	}
	return x.fp.cur
}

// CutPoints is the number of CutPoint calls in the current execution.
func (x *Explorer) CutPoints() int { return x.cutPoints }

// StateKey is the hash of the current state: every object written since Run
// began with its value, and every task's observation hash and status. Two
// states with the same key have the same future (see footprint.go). While
// an execution replays its prefix without recording (PrefixReplayer), it
// is not kept and StateKey is meaningless.
func (x *Explorer) StateKey() Key {
	k := x.fp.global
	for _, t := range x.tasks {
		var tk Key
		switch {
		case t.done:
			tk = pairKey(uint64(t.ID), 0xd0e)
		default:
			st := b2u(t.blocked) | b2u(t.sigkill.Load())<<1
			tk = chain(chain(t.obs, st), uint64(t.ID)+1)
		}
		k = k.xor(tk)
	}
	return k
}

// GlobalKey is the hash of the shared state alone (no task): what the
// completeness tests compare with a reflection walk of the model.
func (x *Explorer) GlobalKey() Key { return x.fp.global }

// NewExplorer returns an Explorer that uses the given strategy.
func NewExplorer(s Strategy, h Handoff) *Explorer {
	x := &Explorer{MaxSteps: 100000, handoff: h}
	x.SetStrategy(s)
	return x
}

// SetStrategy replaces the strategy (replay then continue, for example).
func (x *Explorer) SetStrategy(s Strategy) {
	x.strategy = s
	if x.fp != nil {
		// Another search: nothing recorded is its previous execution.
		x.fp.reset()
	}
	x.observer, _ = s.(StepObserver)
	x.watcher, _ = s.(RunnableWatcher)
	if x.watcher != nil {
		x.watcher.WatchRunnable()
	}
	x.timed, _ = s.(*Timed)
	if x.timed != nil {
		x.timed.x = x
	}
}

// Strategy is the current strategy.
func (x *Explorer) Strategy() Strategy { return x.strategy }

// Tasks are the tasks of the current (or last) execution, in spawn order.
func (x *Explorer) Tasks() []*Task { return x.tasks }

// Spawn creates a runnable task paused at label. Before Run it declares the
// execution's initial tasks; during Run tasks may spawn more (I/O
// completions).
func (x *Explorer) Spawn(name, label string, fn func(*Task)) *Task {
	return x.SpawnKind(name, label, TaskCPU, fn)
}

// SpawnKind is Spawn for a task of the given kind.
func (x *Explorer) SpawnKind(name, label string, kind TaskKind, fn func(*Task)) *Task {
	id := len(x.tasks)
	if id == len(x.workers) {
		if x.handoff == HandoffChannel {
			x.workers = append(x.workers, newChannelWorker())
		} else {
			x.workers = append(x.workers, newCoroutineWorker())
		}
	}
	w := x.workers[id]
	// The worker's task of the previous execution is reused: nothing
	// holds a task past the Reset that ends its execution (the model's
	// Kernel.Reset drops its wait queues and threads), and allocating a
	// task per spawn was a third of everything a bench allocates.
	t := w.spare
	if t == nil {
		t = &Task{stack: make([]string, 0, 8)}
		w.spare = t
	} else {
		t.reuse()
	}
	t.ID, t.Name, t.x, t.fn, t.label, t.w, t.kind, t.cpu = id, name, x, fn, label, w, kind, -1
	t.timed, t.rec, t.slow, t.traced = x.timed, x.RecordOps, alwaysSlow, x.OnAccess != nil
	if x.fp != nil && x.replaying {
		// A replayed spawn: no footprint (t.fp stays nil) and no obs0
		// yet, the recording's (footprinter.rewind).
		t.spawnedInRun = x.cur != nil
	} else if x.fp != nil {
		t.fp = x.fp
		// A task's local state starts as a function of its spawner's
		// (whose locals its function captures) and of its name.
		parent := Key{}
		if x.cur != nil {
			parent = x.cur.obs
			// Spawning is a write the child's first step reads: an
			// enabling dependence.
			x.cur.Write(objTaskSpawn|Obj(id), 1)
			// Task IDs are handed out in spawn order: two spawns do not
			// commute (swapped, the children swap IDs and names).
			x.cur.Write(objTaskCount, uint64(id+1))
			t.spawnedInRun = true
		}
		t.obs0 = chain(chain(parent, strHash(name)), uint64(id))
		t.obs = t.obs0
		if x.fp.logging {
			x.fp.setObs0(id, t.obs0)
		}
	}
	w.task = t
	x.tasks = append(x.tasks, t)
	// The newest task has the highest ID: the queue stays in ID order.
	x.runnable = append(x.runnable, t)
	x.unfinished++
	x.runDirty = true
	x.strategy.Spawned(t)
	return t
}

// Reset forgets the tasks of the previous execution and starts the
// strategy on the next one; call it before spawning that execution's tasks.
func (x *Explorer) Reset() {
	x.tasks = x.tasks[:0]
	x.runnable, x.unfinished = x.runnable[:0], 0
	x.runDirty = true
	x.Decisions = x.Decisions[:0]
	x.wakeups = 0
	x.steps = 0
	x.cur = nil
	x.last, x.inline, x.handed, x.next = nil, false, false, nil
	x.cutPoints = 0
	for i := range x.ops {
		x.ops[i].reset()
	}
	for i := range x.counts {
		x.counts[i] = x.counts[i][:0]
	}
	x.strategy.Begin(x.run)
	x.run++
	x.replay, x.replaying = 0, false
	if f := x.fp; f != nil {
		pr, ok := x.strategy.(PrefixReplayer)
		f.logging = ok && !x.FullReplay && !f.light
		if f.logging {
			// The recording holds the steps of the last execution
			// that recorded: a prefix longer than that is run and
			// recorded again.
			if r := pr.ReplayLen(); r > 0 && r <= len(f.snaps) {
				x.replay = r
			}
		}
		if x.replay == 0 {
			f.reset()
		}
		f.cur, f.on = f.cur[:0], false
	}
}

// SetRun makes the next execution number run (Reset starts the strategy on
// it), so that a batch's executions first..first+n-1 can run on their own:
// an execution depends on nothing but the seed and its number.
func (x *Explorer) SetRun(run int) { x.run = run }

// Close releases the Explorer's coroutines.
func (x *Explorer) Close() {
	for _, w := range x.workers {
		w.close()
	}
	x.workers = nil
}

// ErrModel wraps a panic inside the model: a bug in pagelab, not a result.
var ErrModel = errors.New("sim: the model panicked")

// Run executes the spawned tasks to the end, to a halt, a hang or the step
// budget, and unwinds whatever is left. The tasks must have been spawned
// after Reset. A panic in the model is returned as an error wrapping
// ErrModel.
//
// Run's loop is decide (Pick the next task), beforeStep, resume the task
// until its next scheduling point, afterStep. A decision that lets the
// running task go on need not leave it: unless AlwaysSwitch is set, the
// task's scheduling point (Task.Step) runs the rest of the loop on the
// task's side (Explorer.yielded), with the same helpers, and the task only
// suspends back to Run when the decision picked another task or ended the
// execution, handing that decision over in x.next. Run therefore sees a
// task come back in one of two ways:
//
//   - handed: the task paused at a scheduling point and has already
//     accounted for its step (afterStep) and decided (decide); x.next is
//     the decision, to be executed without calling Pick again;
//   - anything else (the task went to sleep in Schedule, finished, halted
//     or crashed): its step is not accounted for yet, and Run does
//     afterStep and decide itself.
//
// Either way every step gets exactly one afterStep and every decision
// exactly one Pick, in the order Run alone would take them.
func (x *Explorer) Run() (Result, error) {
	var res Result
	x.last = nil
	x.steps = 0
	if x.fp != nil {
		// Set-up is over: its state is the root, the same in every
		// execution; from here on accesses are recorded, after the
		// replayed prefix if there is one (the recording still holds
		// the previous execution's, from Reset).
		if x.replay > 0 {
			x.replaying = true
			for _, t := range x.tasks {
				t.fp = nil
			}
		} else {
			x.fp.reset()
		}
		x.fp.on = true
		defer x.endRun()
	}
	x.handed, x.next, x.deciding = false, nil, false
	x.inline = !x.AlwaysSwitch
	t := x.decide()
	for t != nil {
		x.beforeStep(t)
		w := t.w
		res.Switches++
		w.resume()
		if x.handed {
			// t paused at a scheduling point, accounted for the step that
			// ended there and took the next decision: x.next (nil when the
			// decision was to end the execution, with x.end why).
			t, x.next, x.handed = x.next, nil, false
			continue
		}
		if p := w.schedPanic; p != nil {
			// The strategy (or a hook) panicked inside a decision taken
			// on t's side, before it could hand it over; w.run caught
			// the panic, but it is not the model's: let it go on from
			// here, as it would have from Run.
			w.schedPanic = nil
			x.inline = false
			x.unwind()
			panic(p)
		}
		// t went to sleep (Schedule), finished, halted or crashed: the
		// step that ended is accounted for here, then the next decision
		// taken here.
		x.afterStep(t)
		if w.crashed != nil {
			err := w.crashed
			w.crashed = nil
			x.inline = false
			x.unwind()
			return res, fmt.Errorf("%w: %v", ErrModel, err)
		}
		if w.halted {
			x.end, res.HaltReason, res.HaltTask = Halted, w.haltValue, t
			w.halted, w.haltValue = false, nil
			break
		}
		t = x.decide()
	}
	x.inline = false
	res.Outcome, res.Interrupted = x.end, x.interrupted
	res.Steps = x.steps
	res.Wakeups = x.wakeups
	x.unwind()
	return res, nil
}

// endRun ends the recording with Run (unwind has stopped it already, so
// that the unwinding's deferred functions write nothing into it). An
// execution that ended while still replaying recorded nothing: the
// recording is still that of the last execution that did, whose steps
// any later replay repeats (TestReplayCutShort).
func (x *Explorer) endRun() {
	x.fp.on = false
	x.replay = 0 // a Run without a Reset replays nothing
	x.replaying = false
}

// decide takes the decision before step x.steps: the task to run, or nil
// with the reason the execution ends in x.end (and x.interrupted).
func (x *Explorer) decide() *Task {
	if x.runDirty {
		// Only a spawn, a sleep, a wake-up or a task's end changes the
		// run queue; most steps change none.
		x.runDirty = false
		if x.watcher != nil {
			x.watcher.RunnableChanged()
		}
	}
	x.interrupted = false
	switch {
	case x.unfinished == 0:
		x.end = Completed
		return nil
	case len(x.runnable) == 0:
		x.end = Hang
		return nil
	case x.steps >= x.MaxSteps:
		x.end = Livelock
		return nil
	case x.Interrupt != nil && x.steps%InterruptEvery == InterruptEvery-1 && x.Interrupt():
		x.end, x.interrupted = Stopped, true
		return nil
	}
	t := x.strategy.Pick(x.runnable, x.last, x.steps)
	if t == nil {
		x.end = Stopped
	}
	return t
}

// enqueue puts t on the run queue (it spawned or woke), in ID order: the
// order the strategies see, the same as that of x.tasks.
func (x *Explorer) enqueue(t *Task) {
	i := len(x.runnable)
	for i > 0 && x.runnable[i-1].ID > t.ID {
		i--
	}
	x.runnable = slices.Insert(x.runnable, i, t)
	x.runDirty = true
}

// dequeue takes t off the run queue (it went to sleep or ended); a task
// not on it (an asleep task that ends, unwound) leaves it as it is.
func (x *Explorer) dequeue(t *Task) {
	if i := slices.Index(x.runnable, t); i >= 0 {
		x.runnable = slices.Delete(x.runnable, i, i+1)
		x.runDirty = true
	}
}

// finished accounts for the end of t: off the queue if it was on it (a
// task that ends asleep changes the queue not at all), one fewer
// unfinished.
func (x *Explorer) finished(t *Task) {
	x.dequeue(t)
	x.unfinished--
}

// beforeStep starts the step of t that decide chose.
func (x *Explorer) beforeStep(t *Task) {
	if x.replaying && x.steps == x.replay {
		// The first step that is not a replay: recording resumes where
		// the replayed steps left it.
		x.replaying = false
		x.fp.rewind(x.replay, x.tasks)
	}
	if x.Record {
		x.Decisions = append(x.Decisions, Decision{Task: int32(t.ID), Label: t.label})
	}
	if x.Trace != nil {
		x.Trace(t, x.steps)
	}
	x.steps++
	x.last = t
	x.cur = t
	if x.fp != nil && !x.replaying {
		// Every step needs the machine to be running: a step that
		// oopses (Halt) writes objRunning and so conflicts with
		// every other task's step, which it disables.
		x.fp.cur = append(x.fp.cur[:0], Access{objRunning, OpRead})
		if t.spawnedInRun && !t.started {
			x.fp.cur = append(x.fp.cur, Access{objTaskSpawn | Obj(t.ID), OpRead})
		}
	}
	t.started = true
}

// afterStep accounts for the step of t that just ended: at a scheduling
// point, in a sleep, at the task's end or in a halt.
func (x *Explorer) afterStep(t *Task) {
	x.cur = nil
	switch {
	case x.fp != nil && x.replaying:
		// The strategy knows the replayed step's footprint.
		x.replayed++
		if x.observer != nil {
			x.observer.Stepped(t, nil)
		}
	case x.fp != nil:
		// Every step extends the task's history, so that without a
		// CutPoint no task's key repeats: the state graph is acyclic.
		t.obs = chain(t.obs, 0x57e9)
		if t.w.halted {
			x.fp.cur = append(x.fp.cur, Access{objRunning, OpWrite})
		}
		if x.fp.logging {
			x.fp.record(x.steps-1, t)
		}
		if x.observer != nil {
			x.observer.Stepped(t, x.fp.cur)
		}
	}
	if x.timed != nil {
		x.timed.stepped(t)
	}
	if x.AfterStep != nil {
		x.AfterStep(t)
	}
	if x.Record {
		x.Decisions[len(x.Decisions)-1].Stopped = t.done || t.blocked
	}
}

// yielded is the rest of Run's loop, run on the side of task t paused at a
// scheduling point (Task.Step) instead of after a switch back to Run: it
// accounts for the step that ended here and takes the next decision. It
// reports whether that decision is t itself, whose next step has then
// begun and which goes on without suspending; otherwise the decision is
// handed over to Run (x.handed, x.next), and t must suspend at once.
//
// The decision is the one Run would take: nothing ran between the end of
// t's step and this call, t is neither asleep nor finished (only Schedule
// puts a task to sleep, and it suspends to Run to do so), and neither
// halted nor crashed (those end the task's function), so afterStep and
// decide see exactly the state they would see in Run after the switch.
func (x *Explorer) yielded(t *Task) bool {
	x.deciding = true
	x.afterStep(t)
	next := x.decide()
	if next != t {
		// Another task, or the end of the execution: Run executes the
		// decision. x.handed must be set before t suspends, and it is
		// read by Run only after resume returns, that is after the
		// suspend: coroutine (or channel) hand-off orders the two.
		x.handed, x.next = true, next
		x.deciding = false
		return false
	}
	x.beforeStep(t)
	x.deciding = false
	return true
}

// RunAlone runs task t, and only t, to its end: the set-up of a workload,
// the history before the race. It takes no decisions that a schedule
// records. Other tasks (spawned before or by t) stay where they are. It
// fails if t sleeps or halts: a set-up must do neither.
func (x *Explorer) RunAlone(t *Task) error {
	t.alone = true
	x.cur = t
	defer func() { t.alone, x.cur = false, nil }()
	for !t.done {
		if t.blocked {
			return fmt.Errorf("set-up task %s went to sleep at %s", t.Name, t.label)
		}
		t.started = true
		t.w.resume()
		if w := t.w; w.crashed != nil {
			err := w.crashed
			w.crashed = nil
			return fmt.Errorf("%w: %v", ErrModel, err)
		}
		if t.w.halted {
			t.w.halted = false
			return fmt.Errorf("set-up task %s halted: %v", t.Name, t.w.haltValue)
		}
	}
	return nil
}

// unwind ends every unfinished task: each is resumed once with aborting set
// and panics out of its scheduling point, running its deferred functions.
func (x *Explorer) unwind() {
	if x.fp != nil {
		// What the unwinding writes is no step's: it must not enter the
		// recording, which the next execution may rewind and go on from.
		x.fp.on = false
	}
	for _, t := range x.tasks {
		if t.done {
			continue
		}
		if !t.started {
			t.done = true
			x.finished(t)
			continue
		}
		t.aborting = true
		t.w.resume()
		t.w.halted, t.w.haltValue, t.w.crashed = false, nil, nil
	}
}
