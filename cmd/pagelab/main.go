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
