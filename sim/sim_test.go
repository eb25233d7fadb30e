package sim

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// waitFlag is a toy waiter in the kernel's style: set the state, check the
// condition, schedule.
func waitFlag(t *Task, flag *bool) {
	for {
		t.SetState(TaskUninterruptible)
		t.Step("check")
		if *flag {
			break
		}
		t.Schedule("schedule")
	}
	t.SetState(TaskRunning)
}

func newWaiterWaker(x *Explorer) (waiter, waker *Task, flag *bool) {
	flag = new(bool)
	waiter = x.Spawn("waiter", "start", func(t *Task) { waitFlag(t, flag) })
	waker = x.Spawn("waker", "start", func(t *Task) {
		t.Step("set")
		*flag = true
		waiter.WakeUp()
	})
	return
}

// TestWakeBeforeScheduleIsNotLost replays the lost-wakeup window: the
// waiter has checked its condition (false) but not yet slept when the waker
// sets it and wakes the waiter. The wake-up sets TASK_RUNNING, so schedule()
// must not sleep.
func TestWakeBeforeScheduleIsNotLost(t *testing.T) {
	x := NewExplorer(nil, HandoffCoroutine)
	defer x.Close()
	segs := []Segment{
		{Task: "waiter", At: "start", Until: "schedule"},
		{Task: "waker", At: "start"},
		{Task: "waiter", At: "schedule"},
	}
	rp := NewReplay(segs, nil)
	x.SetStrategy(rp)
	x.Reset()
	waiter, _, _ := newWaiterWaker(x)
	res, err := x.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Completed || !waiter.Done() {
		t.Fatalf("outcome %v, waiter done %v: the wake-up between the check and schedule() was lost", res.Outcome, waiter.Done())
	}
	if rp.Diverged() != nil {
		t.Fatalf("replay diverged: %v", rp.Diverged())
	}
}

// TestWakeWithoutStateIsLost is the control: a waiter that sleeps without
// announcing it first (no SetState before its check) loses the same wake-up
// and the execution hangs.
func TestWakeWithoutStateIsLost(t *testing.T) {
	x := NewExplorer(nil, HandoffCoroutine)
	defer x.Close()
	x.SetStrategy(NewReplay([]Segment{
		{Task: "waiter", At: "start", Until: "schedule"},
		{Task: "waker", At: "start"},
		{Task: "waiter", At: "schedule"},
	}, nil))
	x.Reset()
	flag := false
	var waiter *Task
	waiter = x.Spawn("waiter", "start", func(t *Task) {
		t.Step("check")
		if !flag {
			t.Step("schedule")
			t.SetState(TaskUninterruptible) // too late
			t.Schedule("sleep")
		}
	})
	x.Spawn("waker", "start", func(t *Task) {
		flag = true
		waiter.WakeUp()
	})
	res, err := x.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Hang {
		t.Fatalf("outcome %v, want hang", res.Outcome)
	}
}

func TestLivelock(t *testing.T) {
	x := NewExplorer(NewRandom(1, 1), HandoffCoroutine)
	defer x.Close()
	x.MaxSteps = 500
	x.Reset()
	unwound := false
	x.Spawn("spin", "spin", func(t *Task) {
		defer func() { unwound = true }()
		for {
			t.Step("spin")
		}
	})
	res, err := x.Run()
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Livelock || res.Steps != 500 {
		t.Fatalf("got %v after %d steps, want livelock after 500", res.Outcome, res.Steps)
	}
	if !unwound {
		t.Fatal("the spinning task's deferred functions did not run when the execution ended")
	}
}

func TestHaltEndsExecution(t *testing.T) {
	for _, h := range []Handoff{HandoffCoroutine, HandoffChannel} {
		t.Run(h.String(), func(t *testing.T) {
			x := NewExplorer(Sequential{}, h)
			defer x.Close()
			for run := 0; run < 3; run++ { // workers are reused
				x.Reset()
				otherRan := false
				x.Spawn("bug", "a", func(t *Task) {
					t.Step("b")
					t.Halt("BUG at b")
				})
				x.Spawn("other", "x", func(t *Task) { otherRan = true })
				res, err := x.Run()
				if err != nil {
					t.Fatal(err)
				}
				if res.Outcome != Halted || res.HaltReason != "BUG at b" || res.HaltTask.Name != "bug" {
					t.Fatalf("got %+v", res)
				}
				if otherRan {
					t.Fatal("a task ran after the halt")
				}
			}
		})
	}
}

func TestModelPanicIsAnError(t *testing.T) {
	x := NewExplorer(Sequential{}, HandoffCoroutine)
	defer x.Close()
	x.Reset()
	x.Spawn("t", "start", func(t *Task) { panic("nil dereference in the model") })
	_, err := x.Run()
	if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "nil dereference") {
		t.Fatalf("err = %v, want ErrModel naming the panic", err)
	}
}

// toy is a small racy program: two incrementers with a read-modify-write in
// two steps, plus a task that spawns a third.
func toy(x *Explorer, out *[]string) {
	counter := 0
	inc := func(t *Task) {
		for range 3 {
			t.Step("read")
			v := counter
			t.Step("write")
			counter = v + 1
		}
		*out = append(*out, fmt.Sprintf("%s:%d", t.Name, counter))
	}
	x.Spawn("a", "start", inc)
	x.Spawn("b", "start", func(t *Task) {
		t.Step("spawn")
		t.Spawn("c", "start", inc)
		inc(t)
	})
}

// runToy runs one execution of the toy program under strategy s.
func runToy(t *testing.T, x *Explorer, s Strategy) Result {
	t.Helper()
	x.SetStrategy(s)
	x.Reset()
	var out []string
	toy(x, &out)
	res, err := x.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func trace(s Strategy, runs int) string {
	x := NewExplorer(s, HandoffCoroutine)
	defer x.Close()
	x.Record = true
	var b strings.Builder
	for range runs {
		x.Reset()
		var out []string
		toy(x, &out)
		res, err := x.Run()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(&b, "%v %v %v\n", res.Outcome, out, x.Segments())
	}
	return b.String()
}

func TestSameSeedSameTrace(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    func(seed uint64) Strategy
	}{
		{"random", func(seed uint64) Strategy { return NewRandom(seed, 0.5) }},
		{"pct", func(seed uint64) Strategy { return NewPCT(seed, 3, 20) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := trace(tc.s(42), 50), trace(tc.s(42), 50)
			if a != b {
				t.Fatal("two explorations with seed 42 differ")
			}
			if c := trace(tc.s(43), 50); c == a {
				t.Fatal("seeds 42 and 43 gave the same 50 executions: the seed is not used")
			}
		})
	}
}

// TestRecordedSegmentsReplay: the segments recorded from random executions
// replay to the same decisions, step for step.
func TestRecordedSegmentsReplay(t *testing.T) {
	x := NewExplorer(NewRandom(7, 0.5), HandoffCoroutine)
	defer x.Close()
	x.Record = true
	for run := range 200 {
		x.SetStrategy(NewRandom(uint64(run), 0.5))
		x.Reset()
		var out []string
		toy(x, &out)
		if _, err := x.Run(); err != nil {
			t.Fatal(err)
		}
		want := append([]Decision(nil), x.Decisions...)
		segs := x.Segments()

		rp := NewReplay(segs, nil)
		x.SetStrategy(rp)
		x.Reset()
		var out2 []string
		toy(x, &out2)
		if _, err := x.Run(); err != nil {
			t.Fatal(err)
		}
		if rp.Diverged() != nil {
			t.Fatalf("run %d: replay of %v diverged: %v", run, segs, rp.Diverged())
		}
		if !reflect.DeepEqual(want, x.Decisions) || !reflect.DeepEqual(out, out2) {
			t.Fatalf("run %d: replay differs\nwant %v\n got %v", run, want, x.Decisions)
		}
	}
}

func TestReplayDivergence(t *testing.T) {
	x := NewExplorer(nil, HandoffCoroutine)
	defer x.Close()
	for _, tc := range []struct {
		segs []Segment
		want string
	}{
		{[]Segment{{Task: "nosuch", At: "start"}}, "nosuch cannot run: no such task"},
		{[]Segment{{Task: "a", At: "write"}}, "a is at start, the schedule expects write"},
		{[]Segment{{Task: "a", At: "start"}, {Task: "a", At: "read"}}, "a cannot run: it has finished"},
		{[]Segment{{Task: "a", At: "start", Until: "nosuch"}}, "a finished before reaching nosuch"},
		{[]Segment{{Task: "a", At: "start", Until: "write", Count: 3}, {Task: "a", At: "write", Until: "write", Count: 9}}, "a finished before reaching write"},
	} {
		rp := NewReplay(tc.segs, Sequential{})
		res := runToy(t, x, rp)
		if rp.Diverged() == nil || !strings.Contains(rp.Diverged().Reason, tc.want) {
			t.Errorf("%v: divergence %v, want %q", tc.segs, rp.Diverged(), tc.want)
		}
		if res.Outcome != Completed {
			t.Errorf("%v: the sequential continuation did not complete: %v", tc.segs, res.Outcome)
		}
	}
}

// TestLooseReplay: every schedule TestReplayDivergence rejects runs loosely
// without diverging, and so does every subsequence of recorded schedules'
// segments; a loose replay of a whole recorded schedule is the strict one.
// Each loose execution's recording replays strictly to itself.
func TestLooseReplay(t *testing.T) {
	x := NewExplorer(nil, HandoffCoroutine)
	defer x.Close()
	x.Record = true
	run := func(s Strategy) ([]Decision, []Segment, []string) {
		t.Helper()
		x.SetStrategy(s)
		x.Reset()
		var out []string
		toy(x, &out)
		if res, err := x.Run(); err != nil || res.Outcome != Completed {
			t.Fatalf("outcome %v, %v", res.Outcome, err)
		}
		return slices.Clone(x.Decisions), x.Segments(), out
	}
	loose := func(segs []Segment) ([]Decision, []Segment, []string) {
		t.Helper()
		rp := NewReplay(segs, Sequential{})
		rp.Loose = true
		d, rec, out := run(rp)
		if rp.Diverged() != nil {
			t.Fatalf("loose replay of %v diverged: %v", segs, rp.Diverged())
		}
		return d, rec, out
	}
	for _, segs := range [][]Segment{
		{{Task: "nosuch", At: "start"}, {Task: "a", At: "start", Until: "write"}},
		{{Task: "a", At: "write"}},
		{{Task: "a", At: "start"}, {Task: "a", At: "read"}},
		{{Task: "a", At: "start", Until: "nosuch"}, {Task: "b", At: "start", Until: "write"}},
		{{Task: "c", At: "start"}, {Task: "b", At: "start", Until: "spawn"}, {Task: "c", At: "start", Until: "write"}, {Task: "a", At: "start"}},
	} {
		loose(segs)
	}
	// a@start..write first: loosely, a@write..read (At wrong, Until right)
	// runs a on to its next read.
	_, rec, _ := loose([]Segment{{Task: "a", At: "start", Until: "write"}, {Task: "a", At: "nosuch", Until: "read"}, {Task: "b", At: "start"}})
	if want := (Segment{Task: "a", At: "start", Until: "read", Count: 2}); len(rec) < 2 || rec[0] != want || rec[1].Task != "b" {
		t.Errorf("loose a@start..write, a@nosuch..read, b@start: recorded %v, want %v then b", rec, want)
	}
	for i := range 100 {
		want, segs, wantOut := run(NewRandom(uint64(i), 0.5))
		if got, _, out := loose(segs); !reflect.DeepEqual(got, want) || !reflect.DeepEqual(out, wantOut) {
			t.Fatalf("run %d: a loose replay of the whole schedule differs\nwant %v\n got %v", i, want, got)
		}
		for drop := range segs {
			sub := slices.Delete(slices.Clone(segs), drop, drop+1)
			d, rec, out := loose(sub)
			rp := NewReplay(rec, nil)
			d2, _, out2 := run(rp)
			if rp.Diverged() != nil || !reflect.DeepEqual(d, d2) || !reflect.DeepEqual(out, out2) {
				t.Fatalf("run %d without segment %d: the recording %v does not replay to itself (diverged: %v)", i, drop, rec, rp.Diverged())
			}
		}
	}
}

func TestReplayStopsWithoutContinuation(t *testing.T) {
	x := NewExplorer(nil, HandoffCoroutine)
	defer x.Close()
	res := runToy(t, x, NewReplay([]Segment{{Task: "a", At: "start", Until: "write"}}, nil))
	// start → read → write: two steps of a, then the schedule ends.
	if res.Outcome != Stopped || res.Steps != 2 {
		t.Fatalf("got %v after %d steps, want stopped after 2", res.Outcome, res.Steps)
	}
}

func TestPCTBound(t *testing.T) {
	p := NewPCT(1, 3, 10)
	x := NewExplorer(p, HandoffCoroutine)
	defer x.Close()
	res := runToy(t, x, p)
	prob, n, k := p.Bound()
	// k is the estimate given, whatever the executions' length: every
	// execution depends only on the seed and its number.
	if n != 3 || k != 10 || p.MostSteps() != res.Steps {
		t.Fatalf("bound over n=%d k=%d (most steps %d), want n=3 k=10 (most steps %d)", n, k, p.MostSteps(), res.Steps)
	}
	if want := 1 / (3 * float64(k*k)); prob != want {
		t.Fatalf("bound %g, want 1/(n*k^2) = %g", prob, want)
	}
}

// TestTaskReuseClearsEverything: a task reused for the next execution
// (SpawnKind) starts from zero in every field but its slices' capacity,
// whatever fields Task grows: a field reuse forgot would carry one
// execution's state into the next.
func TestTaskReuseClearsEverything(t *testing.T) {
	for _, s := range []Strategy{NewRandom(1, 0.5), NewTimed(1, 2, DefaultCosts())} {
		x := NewExplorer(s, HandoffCoroutine)
		runToy(t, x, s)
		var ran []*Task
		for _, w := range x.workers {
			if w.spare != nil {
				ran = append(ran, w.spare)
			}
		}
		x.Close()
		if len(ran) == 0 {
			t.Fatal("no task to reuse")
		}
		for _, task := range ran {
			task.reuse()
			v := reflect.ValueOf(task).Elem()
			for i := range v.NumField() {
				f := v.Field(i)
				if f.Kind() == reflect.Slice && f.Len() == 0 {
					continue
				}
				if !f.IsZero() {
					t.Errorf("reuse leaves Task.%s set", v.Type().Field(i).Name)
				}
			}
		}
	}
}

// TestDFSSplitPartitions: the parts of a split DFS run, between them,
// every execution of the whole enumeration exactly once (as Own), in the
// whole's order within each part.
func TestDFSSplitPartitions(t *testing.T) {
	enumerate := func(part, parts int) (own, all []string) {
		d := NewDFS(2)
		if parts > 1 {
			d.Split(part, parts)
		}
		x := NewExplorer(d, HandoffCoroutine)
		defer x.Close()
		for {
			runToy(t, x, d)
			if d.Exhausted() {
				return own, all
			}
			key := fmt.Sprint(d.Choices())
			all = append(all, key)
			if d.Own() {
				own = append(own, key)
			}
		}
	}
	whole, _ := enumerate(0, 1)
	if len(whole) < 10 {
		t.Fatalf("the toy has only %d executions within 2 preemptions", len(whole))
	}
	for _, n := range []int{2, 3, 7} {
		seen := map[string]int{}
		for i := range n {
			own, _ := enumerate(i, n)
			if !slices.IsSortedFunc(own, func(a, b string) int { return slices.Index(whole, a) - slices.Index(whole, b) }) {
				t.Errorf("%d parts: part %d runs its executions out of the whole's order", n, i)
			}
			for _, k := range own {
				seen[k]++
			}
		}
		for _, k := range whole {
			if seen[k] != 1 {
				t.Errorf("%d parts: execution %s run by %d parts, want 1", n, k, seen[k])
			}
		}
		if len(seen) != len(whole) {
			t.Errorf("%d parts: %d distinct executions, the whole has %d", n, len(seen), len(whole))
		}
	}
}
