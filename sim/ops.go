package sim

// Operation statistics: the model brackets the operations whose latency the
// lab reports (lock_page, wait_on_page_writeback, …) with OpBegin/OpEnd, and
// the execution collects, per operation, every latency and the wake-ups the
// task received during it.

// OpStats are the statistics of one operation over one execution.
type OpStats struct {
	// Samples are the latencies, in the task clock's unit (virtual or
	// wall-clock nanoseconds; scheduling decisions in explore mode).
	Samples []int64
	// Wakeups and Spurious count wake-ups received during the operations,
	// and those after which the waiter found its condition still false.
	Wakeups, Spurious int64
}

func (s *OpStats) reset() {
	s.Samples = s.Samples[:0]
	s.Wakeups, s.Spurious = 0, 0
}

// OpMark is an operation in progress.
type OpMark struct {
	op                       int
	start, wakeups, spurious int64
}

// OpBegin starts timing operation op (a small integer the model defines).
func (t *Task) OpBegin(op int) (m OpMark) {
	m.op = -1
	if t.rec {
		t.opBegin(&m, op)
	}
	return m
}

//go:noinline
func (t *Task) opBegin(m *OpMark, op int) {
	*m = OpMark{op: op, start: t.Now(), wakeups: t.wakeups.Load(), spurious: t.spurious}
}

// OpEnd records the operation begun with m, if the execution records
// operation statistics.
func (t *Task) OpEnd(m OpMark) {
	if m.op >= 0 {
		t.opEnd(m)
	}
}

func (t *Task) opEnd(m OpMark) {
	if t.aborting || (t.nat != nil && t.nat.aborting.Load()) {
		return // an operation cut short by the end of the execution has no latency
	}
	ops := &t.ops // native: per task, merged at the end
	if t.nat == nil {
		ops = &t.x.ops
	}
	for len(*ops) <= m.op {
		*ops = append(*ops, OpStats{})
	}
	s := &(*ops)[m.op]
	s.Samples = append(s.Samples, t.Now()-m.start)
	s.Wakeups += t.wakeups.Load() - m.wakeups
	s.Spurious += t.spurious - m.spurious
}

// Ops are the operation statistics of the last execution, indexed by the
// model's operation numbers. They are reused by the next execution.
func (x *Explorer) Ops() []OpStats { return x.ops }

// Counts: distributions of quantities other than latencies that the model
// reports per event (entries a wake-up walk visited, writeback cycles a
// waiter waited through, the longest non-preemptible stretch of a task),
// recorded like the operation statistics and under the same switch.

// Count records value v of the model's count metric (a small integer the
// model defines), if the execution records operation statistics.
func (t *Task) Count(metric int, v int64) {
	if !t.rec || t.aborting {
		return
	}
	var counts *[][]int64
	if t.nat != nil {
		counts = &t.counts // native: per task, merged at the end
	} else {
		counts = &t.x.counts
	}
	for len(*counts) <= metric {
		*counts = append(*counts, nil)
	}
	(*counts)[metric] = append((*counts)[metric], v)
}

// Counts are the count metrics of the last execution, indexed by the
// model's metric numbers; reused by the next execution.
func (x *Explorer) Counts() [][]int64 { return x.counts }
