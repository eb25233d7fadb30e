package main

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pagelab/pagelab/bench"
)

// startMain starts pagelab (this test binary as main) with args.
func startMain(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// exitOf is how the process ended: its exit status, or -1 with the signal
// that killed it (a signal that arrived before the handler was installed).
func exitOf(t *testing.T, err error) (status int, killed bool) {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, true
		}
		return ee.ExitCode(), false
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, false
}

// noTempFiles fails if a temporary file of an atomic write survived.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") {
			t.Errorf("temporary file survived: %s", p)
		}
		return nil
	})
}

// TestInterruptedAtRandomMoments kills bench and run with SIGINT and
// SIGTERM at random moments and requires what is left to be complete or
// marked partial, readable by compare, with no temporary file: 20 moments
// per signal and command. The moments are spread over the command's whole
// duration, measured first.
func TestInterruptedAtRandomMoments(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 80 processes")
	}
	benchArgs := func(out string) []string {
		return []string{"bench", "-o", out, "-workload", "writeback-restart,lock-storm", "-fix", "baseline,v5.8",
			"-runs", "800", "-count", "2", "-cpus", "2", "-verify-states", "300", "-j", "1"}
	}
	runArgs := []string{"run", "-workload", "writeback-restart,writeback-reuse", "-fix", "baseline,v5.8,hold-ref", "-runs", "1500", "-json"}

	tmp := t.TempDir()
	measure := func(args []string) time.Duration {
		start := time.Now()
		cmd, _, stderr := startMain(t, tmp, args...)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("pagelab %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return time.Since(start)
	}
	benchTime := measure(benchArgs("measure"))
	runTime := measure(runArgs)
	t.Logf("uninterrupted: bench %v, run %v", benchTime, runTime)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	sigs := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}

	for _, sig := range sigs {
		for i := range 20 {
			// bench: the directory is absent (nothing finished), or
			// compare reads it, complete exactly when bench exited 0.
			out := filepath.Join(tmp, sig.String()[:7]+"-"+string(rune('a'+i)))
			at := time.Duration(r.Float64() * 1.1 * float64(benchTime))
			cmd, _, stderr := startMain(t, tmp, benchArgs(out)...)
			time.Sleep(at)
			cmd.Process.Signal(sig)
			status, killed := exitOf(t, cmd.Wait())
			name := "bench " + sig.String() + " at " + at.String()
			noTempFiles(t, out)
			if _, err := os.Stat(out); errors.Is(err, fs.ErrNotExist) {
				if status == 0 {
					t.Errorf("%s: exit 0 without a results directory", name)
				}
				continue
			}
			m, recs, err := bench.ReadResults(out)
			if killed {
				// The signal came after bench had finished and restored
				// the default handling: the directory must be complete.
				if err != nil || !m.Complete {
					t.Errorf("%s: killed by the signal, leaving %s incomplete (%v)", name, out, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: exit %d, compare cannot read what is left: %v\n%s", name, status, err, stderr)
				continue
			}
			switch {
			case status == 0 && !m.Complete:
				t.Errorf("%s: exit 0 but the manifest says incomplete", name)
			case status != 0 && m.Complete:
				t.Errorf("%s: exit %d (%s) but the manifest says complete", name, status, stderr)
			case status != 0 && status != 128+int(sig):
				t.Errorf("%s: exit %d, want %d (stderr %s)", name, status, 128+int(sig), stderr)
			}
			partial, verified := 0, 0
			for _, rec := range recs {
				if rec.Partial {
					partial++
				}
				if rec.Verify != nil {
					verified++
				}
			}
			if verified != m.VerifyCells {
				t.Errorf("%s: the manifest counts %d cells with verdicts, the records hold %d", name, m.VerifyCells, verified)
			}
			if partial > 1 || m.Complete && partial > 0 {
				t.Errorf("%s: %d partial records (manifest complete=%v)", name, partial, m.Complete)
			}
		}
		for range 20 {
			// run -json: every line a record; only the last may be
			// partial, and only when run says it was interrupted.
			at := time.Duration(r.Float64() * 1.1 * float64(runTime))
			cmd, stdout, stderr := startMain(t, tmp, runArgs...)
			time.Sleep(at)
			cmd.Process.Signal(sig)
			status, killed := exitOf(t, cmd.Wait())
			name := "run " + sig.String() + " at " + at.String()
			if killed {
				// Before the handler was installed (nothing written), or
				// after run had finished (everything written).
				if stdout.Len() > 0 {
					recs, err := bench.ReadRecords(bytes.NewReader(stdout.Bytes()), "stdout")
					if err != nil || len(recs) != 6 || slices.ContainsFunc(recs, func(r *bench.Record) bool { return r.Partial }) {
						t.Errorf("%s: killed by the signal after writing incomplete output (%v)", name, err)
					}
				}
				continue
			}
			if status != 0 && status != 128+int(sig) {
				t.Errorf("%s: exit %d, want 0 or %d (stderr %s)", name, status, 128+int(sig), stderr)
			}
			if stdout.Len() == 0 {
				if status == 0 {
					t.Errorf("%s: exit 0 with no output", name)
				}
				continue
			}
			recs, err := bench.ReadRecords(bytes.NewReader(stdout.Bytes()), "stdout")
			if err != nil {
				t.Errorf("%s: output unreadable: %v", name, err)
				continue
			}
			for j, rec := range recs {
				if rec.Partial && (j != len(recs)-1 || status == 0) {
					t.Errorf("%s: record %d of %d partial, exit %d", name, j+1, len(recs), status)
				}
			}
			if status == 0 && len(recs) != 6 {
				t.Errorf("%s: exit 0 with %d of 6 records", name, len(recs))
			}
		}
	}
}

// TestMemoryBudget: parameters inside their documented ranges that would
// grow memory without bound end the run at -max-memory with an error
// naming it (exit 1), never by running out of memory.
func TestMemoryBudget(t *testing.T) {
	cmd, stdout, stderr := startMain(t, t.TempDir(), "run", "-workload", "lock-storm", "-cpus", "256",
		"-param", "tasks=1024,ops=100000", "-runs", "1", "-max-memory", "64MiB")
	status, killed := exitOf(t, cmd.Wait())
	if killed || status != 1 {
		t.Fatalf("exit %d (killed %v), want 1; stderr %s", status, killed, stderr)
	}
	if !strings.Contains(stderr.String(), "memory budget exceeded") || !strings.Contains(stderr.String(), "-max-memory 64MiB") {
		t.Errorf("stderr %q does not name the budget", stderr)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q: no cell finished", stdout)
	}
}

// TestOverBudgetCollectsFirst: a heap over the budget is judged after a
// collection, so that garbage (a finished search's states, at GOGC=800)
// never stops a run; a heap still over after it does.
func TestOverBudgetCollectsFirst(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after int64 // the heap read before and after a collection
		wantGC, over  bool
	}{
		{"under", 100, 100, false, false},
		{"at the budget", 1000, 1000, false, false},
		{"garbage", 3000, 400, true, false},
		{"live", 3000, 2500, true, true},
	} {
		collected := false
		heap := func() int64 {
			if collected {
				return tc.after
			}
			return tc.before
		}
		v, over := overBudget(heap, func() { collected = true }, 1000)
		if collected != tc.wantGC || over != tc.over {
			t.Errorf("%s: collected %v, over %v; want %v, %v", tc.name, collected, over, tc.wantGC, tc.over)
		}
		if want := map[bool]int64{false: tc.before, true: tc.after}[tc.wantGC]; v != want {
			t.Errorf("%s: reported %d, want %d", tc.name, v, want)
		}
	}
}
