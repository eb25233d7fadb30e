// Command pagelab runs the lab's workloads against the page-cache and
// writeback model under fix variants, and replays recorded schedules.
//
//	pagelab list
//	pagelab run -workload writeback-restart -fix baseline,loop-wait -runs 100000
//	pagelab replay -schedule <schedule>
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "pagelab:", err)
	os.Exit(exitStatus(err))
}

// exitStatus is the status main exits with after err: 2 for bad input,
// 128 + the signal's number for a run interrupted by SIGINT (130) or
// SIGTERM (143), as a shell reports a command killed by it, and 1 for
// everything else (internal and I/O errors).
func exitStatus(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	var ie interruptedError
	if errors.As(err, &ie) {
		return 128 + int(ie.sig)
	}
	return 1
}

// interruptedError ends a command that SIGINT or SIGTERM stopped early:
// what it finished is written (and marked partial), but the command did
// not do what it was asked.
type interruptedError struct {
	sig syscall.Signal
	msg string
}

func (e interruptedError) Error() string { return e.msg }

// interrupt watches for SIGINT and SIGTERM during a long command (SIGTERM
// is what timeout, CI cancellation and batch schedulers send). The command
// polls stopped between executions — and the model inside a long
// execution — so that it stops early and keeps what it finished instead
// of dying with nothing written.
type interrupt struct {
	sig atomic.Int32 // the first signal received, 0 for none
	ch  chan os.Signal
}

// watchInterrupt starts watching; release restores the default handling,
// so that a second signal after the command has returned kills as usual.
func watchInterrupt() *interrupt {
	in := &interrupt{ch: make(chan os.Signal, 2)}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range in.ch {
			if ss, ok := s.(syscall.Signal); ok {
				in.sig.CompareAndSwap(0, int32(ss))
			}
		}
	}()
	return in
}

// stopped reports whether a signal has arrived.
func (in *interrupt) stopped() bool { return in.sig.Load() != 0 }

// errorf is the command's error after an interrupt: format names what was
// kept.
func (in *interrupt) errorf(format string, args ...any) error {
	sig := syscall.Signal(in.sig.Load())
	return interruptedError{sig: sig, msg: fmt.Sprintf("interrupted (%s): ", signalName(sig)) + fmt.Sprintf(format, args...)}
}

// release stops the watch.
func (in *interrupt) release() {
	signal.Stop(in.ch)
	// Stop guarantees no further sends, so closing is safe and ends the
	// watcher.
	close(in.ch)
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
