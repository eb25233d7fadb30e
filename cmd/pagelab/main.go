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
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "pagelab:", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

// watchInterrupt catches SIGINT for a long run: interrupted reports whether
// one has arrived, and the run polls it between executions so that it stops
// early and keeps what it finished instead of dying with nothing written.
// release restores the default handling and ends the watcher.
func watchInterrupt() (interrupted func() bool, release func()) {
	var got atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		if _, ok := <-sig; ok {
			got.Store(true)
		}
	}()
	return got.Load, func() {
		signal.Stop(sig)
		// Stop guarantees no further sends on sig, so closing it is safe
		// and lets the watcher return.
		close(sig)
	}
}
