package sim

import "testing"

func runTimed(t *testing.T, cpus int, costs Costs, spawn func(x *Explorer)) *Timed {
	t.Helper()
	tm := NewTimed(1, cpus, costs)
	x := NewExplorer(tm, HandoffCoroutine)
	defer x.Close()
	x.RecordOps = true
	x.Reset()
	spawn(x)
	res, err := x.Run()
	if err != nil || res.Outcome != Completed {
		t.Fatalf("%v, %v", res.Outcome, err)
	}
	return tm
}

func zeroCosts() Costs { return Costs{Timeslice: 1 << 60} }

// TestTimedTimeSharing: two tasks of 10 ms work on one CPU take 20 ms plus
// the context switches; on two CPUs, 10 ms.
func TestTimedTimeSharing(t *testing.T) {
	work := func(x *Explorer) {
		for _, n := range []string{"a", "b"} {
			x.Spawn(n, "start", func(t *Task) {
				for range 10 {
					t.Work("work", 1_000_000)
				}
			})
		}
	}
	c := zeroCosts()
	c.ContextSwitch = 1000
	c.Timeslice = 3_000_000
	if got := runTimed(t, 2, c, work).Makespan(); got != 10_000_000+1000 {
		t.Errorf("2 CPUs: makespan %d, want 10 ms + one context switch", got)
	}
	got := runTimed(t, 1, c, work).Makespan()
	if got < 20_000_000 || got > 20_000_000+20*1000 {
		t.Errorf("1 CPU: makespan %d, want 20 ms plus a few context switches", got)
	}
}

// TestTimedWakeupLatency: a task woken at time w runs again at
// w + WakeCall + Wakeup + ContextSwitch (it had given up its CPU).
func TestTimedWakeupLatency(t *testing.T) {
	c := zeroCosts()
	c.WakeCall, c.Wakeup, c.ContextSwitch = 100, 5000, 700
	var woke int64
	runTimed(t, 2, c, func(x *Explorer) {
		sleeper := x.Spawn("sleeper", "start", func(t *Task) {
			t.SetState(TaskUninterruptible)
			t.Schedule("sleep")
			woke = t.Now()
		})
		x.Spawn("waker", "start", func(t *Task) {
			t.Work("work", 1_000_000)
			sleeper.WakeUp()
		})
	})
	if want := int64(700 + 1_000_000 + 100 + 5000 + 700); woke != want {
		t.Errorf("woken task ran at %d, want %d", woke, want)
	}
}

// TestTimedCacheLines: an atomic on a line another CPU wrote last costs a
// transfer; on a line this CPU owns it does not; a spinlock held by a step
// on another CPU is waited for.
func TestTimedCacheLines(t *testing.T) {
	c := zeroCosts()
	c.AtomicRMW, c.LineTransfer, c.SpinHandover = 10, 100, 40
	var costs []int64
	runTimed(t, 2, c, func(x *Explorer) {
		x.Spawn("a", "start", func(t *Task) {
			t.Access(1, AccessLock)
			t.cost += 500 // a long critical section
			t.Access(1, AccessUnlock)
			t.Step("after")
		})
		x.Spawn("b", "start", func(t *Task) {
			before := t.Now()
			t.Access(1, AccessLock) // held by a until 10+500
			costs = append(costs, t.Now()-before)
			t.Access(1, AccessUnlock)
			before = t.Now()
			t.Access(1, AccessRMW) // b owns the line now
			costs = append(costs, t.Now()-before)
		})
	})
	if costs[0] != 510-0+40+100+10 || costs[1] != 10 {
		t.Errorf("costs %v, want [660 10]: wait for the holder, handover, transfer, atomic; then a local atomic", costs)
	}
}
