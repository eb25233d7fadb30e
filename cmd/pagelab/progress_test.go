package main

import (
	"testing"
	"time"

	"github.com/pagelab/pagelab/bench"
)

// TestETATracksTime: the bar's position is the share of the estimated time
// spent, so a few slow timed executions weigh what they cost. After the
// explored cell (1000 fast executions) the bar is nowhere near 99% when
// timed executions at 64 CPUs remain, and it never reaches 100% before the
// end.
func TestETATracksTime(t *testing.T) {
	cfgs := []*bench.Config{
		{Strategy: "random", Runs: 1000},
		{Strategy: "timed", Runs: 6, CPUs: 4},
		{Strategy: "timed", Runs: 6, CPUs: 64},
	}
	t0 := time.Unix(0, 0)
	e := newETA(cfgs, t0)
	now := t0
	// Explored executions: 1 ms each.
	for n := 1; n <= 1000; n++ {
		now = now.Add(time.Millisecond)
		e.set(0, n, now)
	}
	// Timed at 4 CPUs: 100 ms each (25 ms per CPU unit).
	for n := 1; n <= 6; n++ {
		now = now.Add(100 * time.Millisecond)
		e.set(1, n, now)
	}
	// 1 s explored + 0.6 s timed spent; 6 × 64 units × 25 ms = 9.6 s left.
	pos := e.position(now)
	if want := etaScale * 16 / 112; pos < want-5 || pos > want+5 {
		t.Errorf("position %d‰ after the fast cells, want about %d‰ (counting executions would say %d‰)",
			pos, want, etaScale*1006/1012)
	}
	for n := 1; n <= 6; n++ {
		now = now.Add(1600 * time.Millisecond)
		e.set(2, n, now)
		if p := e.position(now); p >= etaScale || p < pos {
			t.Fatalf("position %d‰ after %d of the last cell's runs (before: %d‰)", p, n, pos)
		}
	}
	if p := e.position(now); p != etaScale-1 {
		t.Errorf("at the end: %d‰, want %d‰ (finish draws 100%%)", p, etaScale-1)
	}
}
