// Package plots will draw the lab's figures (failure rates with confidence
// intervals, latency distributions, throughput against CPU count) with
// gonum/plot. It is empty until the results files it reads exist.
package plots
