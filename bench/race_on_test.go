//go:build race

package bench

// raceEnabled: the race detector slows the model tenfold; the tests of
// single-threaded searches and footprints skip under it, others run fewer
// executions. The longest tests run in parallel (t.Parallel): none of the
// package's tests changes state another reads.
const raceEnabled = true
