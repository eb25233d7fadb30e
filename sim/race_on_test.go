//go:build race

package sim

// raceEnabled: the race detector slows the brute-force comparisons
// tenfold; they run fewer programs under it.
const raceEnabled = true
