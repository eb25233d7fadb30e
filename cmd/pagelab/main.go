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
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
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
	// The memory budget (watchMemory): over is set once the live heap
	// passed budget bytes.
	budget   int64
	over     atomic.Bool
	overSeen atomic.Int64
	done     chan struct{}
	// The collector's settings before watchMemory, restored by release.
	memLimit  int64
	gcPercent int
	gcSet     bool
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

// stopped reports whether a signal has arrived or the memory budget is
// spent.
func (in *interrupt) stopped() bool { return in.sig.Load() != 0 || in.over.Load() }

// errorf is the command's error after an interrupt: format names what was
// kept.
func (in *interrupt) errorf(format string, args ...any) error {
	if in.sig.Load() == 0 && in.over.Load() {
		return fmt.Errorf("memory budget exceeded (live heap %s of -max-memory %s): %s; raise -max-memory or lower the parameters",
			fmtBytes(in.overSeen.Load()), fmtBytes(in.budget), fmt.Sprintf(format, args...))
	}
	sig := syscall.Signal(in.sig.Load())
	return interruptedError{sig: sig, msg: fmt.Sprintf("interrupted (%s): ", signalName(sig)) + fmt.Sprintf(format, args...)}
}

// release stops the watch.
func (in *interrupt) release() {
	signal.Stop(in.ch)
	// Stop guarantees no further sends, so closing is safe and ends the
	// watcher.
	close(in.ch)
	if in.done != nil {
		close(in.done)
		debug.SetMemoryLimit(in.memLimit)
		if in.gcSet {
			debug.SetGCPercent(in.gcPercent)
		}
	}
}

// watchMemory bounds the command's memory: the heap is read every 100 ms,
// and past budget bytes the command stops as if interrupted (keeping and
// writing what it finished) and fails with an error naming -max-memory.
// Running out of memory is never how a run ends.
//
// The collector runs at GOGC=800 (unless GOGC is set) under a soft limit
// of three quarters of the budget: the heap may grow to nine times what is
// live, but the collector works harder as memory nears the limit, so
// garbage alone does not reach the budget. The model allocates per
// execution, and with every core busy (-j) a collection's mark phase
// slows all of them through write barriers and assists for as long as it
// lasts: make bench's matrix at a tenth of its executions took 13.9 s at
// -j 2 against 18.0 s at -j 1 with GOGC=100 (1.3x), 9.0 s against 16.6 s
// with GOGC=800 (1.85x) on the 2-core machine.
func (in *interrupt) watchMemory(budget int64) {
	in.budget = budget
	in.done = make(chan struct{})
	if os.Getenv("GOGC") == "" {
		in.gcPercent = debug.SetGCPercent(800)
		in.gcSet = true
	}
	in.memLimit = debug.SetMemoryLimit(budget - budget/4)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-in.done:
				return
			case <-t.C:
				if v, over := overBudget(heap, runtime.GC, budget); over {
					in.overSeen.Store(v)
					in.over.Store(true)
					return
				}
			}
		}
	}()
}

// overBudget reads the heap and, past budget, collects and reads it
// again: the heap's objects include the garbage not yet collected, which
// at GOGC=800 can be most of them. A verify of several cells passed 8 GiB
// right after one search of 9.7 million states ended, every byte of it
// garbage, and the next two searches were cut short at 0 states. Only a
// heap still over budget after a collection is over: the live heap. The
// collection runs on the watcher's goroutine while the run goes on.
func overBudget(heap func() int64, collect func(), budget int64) (int64, bool) {
	if v := heap(); v <= budget {
		return v, false
	}
	collect()
	v := heap()
	return v, v > budget
}

// DefaultMaxMemory is -max-memory's default.
const DefaultMaxMemory = 8 << 30

// parseBytes parses a -max-memory value: a number of bytes with an
// optional KiB, MiB, GiB or TiB suffix.
func parseBytes(flagName, s string) (int64, error) {
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.m
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > (1<<50)/mult || n*mult < 64<<20 {
		return 0, usagef("%s %q: want a size from 64MiB to 1024TiB (bytes, or with KiB, MiB, GiB, TiB)", flagName, s)
	}
	return n * mult, nil
}

// fmtBytes formats a size in binary units.
func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0fMiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%dB", n)
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
