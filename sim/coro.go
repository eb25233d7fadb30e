package sim

import (
	"fmt"
	"iter"
	"runtime/debug"
)

// Handoff selects how control passes between the scheduler and a task.
//
// Measured on the development machine (AMD EPYC, 2 cores, Go 1.26; see
// BenchmarkHandoff in this package and BenchmarkExecutions in package
// bench): a scheduling decision that switches through an iter.Pull
// coroutine costs about 87 ns, one between two goroutines on unbuffered
// channels about 300 ns, and a whole writeback-restart execution is about
// 1.4x faster on coroutines (most of its decisions let the running task go
// on, which costs no hand-off at all: Explorer.yielded). Coroutines are the
// default; channels stay as the measured alternative.
type Handoff uint8

const (
	// HandoffCoroutine runs each task on an iter.Pull coroutine.
	HandoffCoroutine Handoff = iota
	// HandoffChannel runs each task on a goroutine parked on channels.
	HandoffChannel
)

func (h Handoff) String() string {
	if h == HandoffChannel {
		return "channel"
	}
	return "coroutine"
}

// A worker is a reusable execution context for tasks: creating an iter.Pull
// coroutine costs several hundred nanoseconds, more than a whole scheduling
// decision, so an Explorer keeps its workers across executions and hands
// each a new task function to run.
type worker struct {
	task *Task
	// spare is the task the worker ran last, reused by SpawnKind.
	spare *Task
	// resume runs the worker's task until its next scheduling point, its
	// sleep, its end or its halt. suspend, called on the task's side, gives
	// control back to resume's caller.
	resume  func()
	suspend func()
	close   func()

	// outcome of the last task run, read by the Explorer after resume.
	halted    bool
	haltValue any
	crashed   error
	// schedPanic is a panic of the scheduler's code run on the task's
	// side (Explorer.yielded), for Run to raise again.
	schedPanic any
}

// run executes one task function to the end, turning halts, aborts and
// model panics into worker state so that the worker survives for the next
// task.
func (w *worker) run() {
	t := w.task
	defer func() {
		t.done = true
		t.blocked = false
		if t.x != nil {
			t.x.finished(t)
		}
		if r := recover(); r != nil {
			switch v := r.(type) {
			case halt:
				w.halted, w.haltValue = true, v.reason
			case abortError:
			default:
				if x := t.x; x != nil && x.deciding {
					// Not the model: the strategy or a hook of a decision
					// taken on the task's side (Explorer.yielded). Run
					// panics with it, as it would have taking the
					// decision itself.
					x.deciding = false
					w.schedPanic = r
					break
				}
				w.crashed = fmt.Errorf("task %s panicked at %q: %v\n%s", t.Name, t.label, r, debug.Stack())
			}
		}
	}()
	t.fn(t)
}

func newCoroutineWorker() *worker {
	w := &worker{}
	var yield func(struct{}) bool
	next, stop := iter.Pull(func(y func(struct{}) bool) {
		yield = y
		for {
			w.run()
			if !yield(struct{}{}) {
				return
			}
		}
	})
	w.resume = func() { next() }
	w.suspend = func() {
		if !yield(struct{}{}) {
			// The Explorer closed this worker while a task was suspended in
			// it; unwind the task.
			panic(errAborted)
		}
	}
	w.close = stop
	return w
}

func newChannelWorker() *worker {
	w := &worker{}
	toTask := make(chan struct{})
	toSched := make(chan struct{})
	closed := false
	go func() {
		for range toTask {
			w.run()
			toSched <- struct{}{}
		}
	}()
	w.resume = func() {
		toTask <- struct{}{}
		<-toSched
	}
	w.suspend = func() {
		toSched <- struct{}{}
		<-toTask
	}
	w.close = func() {
		if !closed {
			closed = true
			close(toTask)
		}
	}
	return w
}
