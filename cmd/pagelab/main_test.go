package main

import (
	"os"
	"testing"
	"time"
)

// TestWatchInterrupt: a SIGINT sent to the process is caught (the test
// process survives it) and reported by interrupted, which is false before.
func TestWatchInterrupt(t *testing.T) {
	interrupted, release := watchInterrupt()
	defer release()
	if interrupted() {
		t.Fatal("interrupted before any signal")
	}
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Signal delivery is asynchronous; a generous bound only turns a lost
	// signal into a failure instead of a hang.
	for deadline := time.Now().Add(10 * time.Second); !interrupted(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("SIGINT not reported after 10s")
		}
	}
}
