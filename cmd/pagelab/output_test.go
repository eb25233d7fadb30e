package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// TestLatencyTableNamesStrategy: the failures of a latency table are headed
// by the strategy that found them (a native run is not a timed one).
func TestLatencyTableNamesStrategy(t *testing.T) {
	for _, strategy := range []string{"timed", "native"} {
		c := &bench.Cell{Workload: "lock-storm", Fix: "baseline", Strategy: strategy, Runs: 6, CPUs: 2}
		c.Failures[mm.Hang] = 1
		var b strings.Builder
		writeLatencyTable(&b, []*bench.Cell{c})
		if want := "failures in " + strategy + " runs:"; !strings.Contains(b.String(), want) {
			t.Errorf("%s run: table lacks %q:\n%s", strategy, want, b.String())
		}
	}
}

// TestReplayThenStopWording: a schedule followed to its end under -then
// stop says it stopped, not that it continued with "stop scheduling".
func TestReplayThenStopWording(t *testing.T) {
	stdout, _, err := runCLI("replay", "-workload", "writeback-restart", "-script", "race-a", "-fix", "v5.8", "-then", "stop")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout, "stop scheduling") {
		t.Errorf("output says it continued with stop scheduling:\n%s", stdout)
	}
}

// TestZeroNote: the caveat on zeros comes with an aimed sampler that left
// a failure id at 0 under one fix and fired it under another, or left a
// seed race's failure id at 0 under a fix not the seed's, at the seed's
// parameters; not with the walk, a search, a zero under the seed's own
// fix, an interrupted cell, or parameters no seed has. Its verify and hunt
// commands name exactly those fixes and ids.
func TestZeroNote(t *testing.T) {
	cell := func(strategy, fix string, fired int, partial bool, params ...string) *bench.Cell {
		c := &bench.Cell{Workload: "writeback-restart", Fix: fix, Strategy: strategy, Runs: 100, Partial: partial, Params: params}
		c.Failures[mm.BugWriteback] = fired
		return c
	}
	const (
		verifyV58 = "\n  pagelab verify -workload writeback-restart -fix v5.8\n"
		huntV58   = "\n  pagelab hunt -workload writeback-restart -fix v5.8 -failure bug-writeback"
	)
	for _, tc := range []struct {
		name  string
		cells []*bench.Cell
		want  []string // substrings of the note; nil: no note
	}{
		{"pct-task, a zero under a fix", []*bench.Cell{cell("pct-task", "baseline", 3, false), cell("pct-task", "v5.8", 0, false)},
			[]string{verifyV58, huntV58}},
		{"pct-task, a fix run alone", []*bench.Cell{cell("pct-task", "v5.8", 0, false)},
			[]string{verifyV58, huntV58}},
		{"pct-task, the baseline's zero beside a fix that fired", []*bench.Cell{cell("pct-task", "baseline", 0, false), cell("pct-task", "hold-ref", 2, false)},
			[]string{"-fix baseline -failure bug-writeback"}},
		{"pct-task, two fixes in the table's order", []*bench.Cell{cell("pct-task", "folio", 0, false), cell("pct-task", "v5.8", 0, false)},
			[]string{"-fix folio,v5.8 -failure"}},
		{"pct-task, zeros under every variant", allFixes(), []string{"\n  pagelab verify -workload writeback-restart -fix all\n", "-fix all -failure bug-writeback,fsync-early"}},
		{"pct-task, other parameters", []*bench.Cell{cell("pct-task", "v5.8", 0, false, "rounds=3")}, nil},
		{"pct-task, other parameters, fired beside the zero", []*bench.Cell{cell("pct-task", "baseline", 1, false, "rounds=3"), cell("pct-task", "v5.8", 0, false, "rounds=3")},
			[]string{"-fix v5.8 -param rounds=3\n", "-fix v5.8 -param rounds=3 -failure bug-writeback"}},
		{"pct-task, the seed's fix alone", []*bench.Cell{cell("pct-task", "baseline", 0, false)}, nil},
		{"pct-task, every fix fired", []*bench.Cell{cell("pct-task", "baseline", 3, false), cell("pct-task", "hold-ref", 1, false)}, nil},
		{"pct-task, the zero interrupted", []*bench.Cell{cell("pct-task", "baseline", 3, false), cell("pct-task", "v5.8", 0, true)}, nil},
		{"the walk", []*bench.Cell{cell("random", "baseline", 3, false), cell("random", "v5.8", 0, false)}, nil},
		{"dfs", []*bench.Cell{cell("dfs", "baseline", 3, false), cell("dfs", "v5.8", 0, false)}, nil},
	} {
		got := zeroNote(tc.cells)
		if tc.want == nil {
			if got != "" {
				t.Errorf("%s: zeroNote = %q, want none", tc.name, got)
			}
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: zeroNote lacks %q:\n%s", tc.name, w, got)
			}
		}
	}
}

// allFixes is a writeback-restart table under every variant in which
// bug-writeback fired under the baseline only and fsync-early under v5.8
// only: between them, every variant has a zero to decide.
func allFixes() []*bench.Cell {
	wl, err := workloads.Lookup("writeback-restart")
	if err != nil {
		panic(err)
	}
	var cells []*bench.Cell
	for _, f := range wl.Fixes {
		c := &bench.Cell{Workload: wl.ID, Fix: f, Strategy: "pct-task", Runs: 100}
		switch f {
		case "baseline":
			c.Failures[mm.BugWriteback] = 3
		case "v5.8":
			c.Failures[mm.FsyncEarly] = 1
		}
		cells = append(cells, c)
	}
	return cells
}

// TestRunPrintsShrunkFirstFailures: each first failure run prints is a
// shrunk schedule that replays to the failure its header names, raised in
// the task and at the place the header says, with as many context
// switches up to it as its note says and no more than the run's own
// schedule had (-json's first_failure, which stays the run's).
func TestRunPrintsShrunkFirstFailures(t *testing.T) {
	args := []string{"run", "-workload", "writeback-reuse", "-fix", "all", "-runs", "1500", "-seed", "3"}
	text, _, err := runCLI(args...)
	if err != nil {
		t.Fatal(err)
	}
	js, _, err := runCLI(append(args, "-json")...)
	if err != nil {
		t.Fatal(err)
	}
	own := map[string]string{} // "fix id" → the run's first failing schedule
	for _, line := range strings.Split(strings.TrimSpace(js), "\n") {
		var r struct {
			Fix          string            `json:"fix"`
			FirstFailure map[string]string `json:"first_failure"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		for id, s := range r.FirstFailure {
			own[r.Fix+" "+id] = s
		}
	}
	_, blocks, ok := strings.Cut(text, "(-json gives the run's own schedules):\n")
	if !ok {
		t.Fatalf("no first failures printed:\n%s", text)
	}
	n := 0
	for _, block := range strings.Split(strings.TrimSpace(blocks), "\n\n") {
		lines := strings.Split(block, "\n")
		head, ok := strings.CutSuffix(lines[0], ":")
		if !ok || len(lines) < 4 {
			t.Fatalf("malformed block:\n%s", block)
		}
		// "fix id in task at label"
		fields := strings.Fields(head)
		fix, id := fields[0], fields[1]
		sched := strings.TrimSpace(lines[len(lines)-2])
		note := strings.TrimSpace(lines[len(lines)-1])
		var before, after int
		if _, err := fmt.Sscanf(note, "shrunk from %d to %d context switches up to the failure", &before, &after); err != nil {
			if _, err := fmt.Sscanf(note, "already minimal: %d context switches up to the failure", &after); err != nil {
				t.Fatalf("%s %s: note %q", fix, id, note)
			}
			before = after
		}
		f, ok := mm.ParseFailure(id)
		if !ok {
			t.Fatalf("header %q: unknown failure id", head)
		}
		s, err := sim.ParseSchedule(sched)
		if err != nil {
			t.Fatalf("%s %s: %v", fix, id, err)
		}
		if got := len(s.Segments) - 1; got != after || after > before {
			t.Errorf("%s %s: %d switches printed, note says %d of %d", fix, id, got, after, before)
		}
		ownSched, err := sim.ParseSchedule(own[fix+" "+id])
		if err != nil {
			t.Fatalf("%s %s: -json's first_failure: %v", fix, id, err)
		}
		if len(ownSched.Segments) < len(s.Segments) {
			t.Errorf("%s %s: shrunk to %d segments from the run's %d", fix, id, len(s.Segments), len(ownSched.Segments))
		}
		cfg, err := bench.ReplayConfigFor(s, "")
		if err != nil {
			t.Fatal(err)
		}
		r, err := bench.Replay(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Exec.Fired.Has(f) {
			t.Errorf("%s %s: the printed schedule does not fire it", fix, id)
			continue
		}
		for _, rep := range r.Exec.Reports {
			if rep.Failure == f {
				if want := fmt.Sprintf("%s %s in %s at %s", fix, id, rep.Task, rep.Label); head != want {
					t.Errorf("header %q, the replay raises it as %q", head, want)
				}
				msg := strings.Join(strings.Fields(strings.Join(lines[1:len(lines)-2], " ")), " ")
				if want := strings.Join(strings.Fields(rep.Msg), " "); msg != want {
					t.Errorf("%s: message %q, the replay's %q", head, msg, want)
				}
				break
			}
		}
		n++
	}
	if n < 10 {
		t.Errorf("%d first failures checked, want at least 10 (race B under every fix)", n)
	}
}
