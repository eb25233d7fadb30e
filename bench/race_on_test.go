//go:build race

package bench

// raceEnabled: the race detector slows the footprint tests tenfold; they
// run fewer executions under it.
const raceEnabled = true
