package main

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestWatchInterrupt: SIGINT and SIGTERM sent to the process are caught
// (the test process survives them) and reported by stopped, which is false
// before; the command's error names the signal and exits 128 + its number.
func TestWatchInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		in := watchInterrupt()
		if in.stopped() {
			t.Fatal("interrupted before any signal")
		}
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		// Signal delivery is asynchronous; a generous bound only turns a
		// lost signal into a failure instead of a hang.
		for deadline := time.Now().Add(10 * time.Second); !in.stopped(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%v not reported after 10s", sig)
			}
		}
		err := in.errorf("kept %d cells", 3)
		in.release()
		if want := "interrupted (" + signalName(sig) + "): kept 3 cells"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if got := exitStatus(err); got != 128+int(sig) {
			t.Errorf("%v: exit status %d, want %d", sig, got, 128+int(sig))
		}
	}
	if got := exitStatus(errors.New("x")); got != 1 {
		t.Errorf("internal error: exit status %d, want 1", got)
	}
	if got := exitStatus(usagef("x")); got != 2 {
		t.Errorf("usage error: exit status %d, want 2", got)
	}
}
