package bench

import (
	"math"
	"sort"
)

// Statistics for failure counts: each (workload, fix) cell is n independent
// executions of which k fired a failure id, a binomial proportion.

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// Wilson is the Wilson score interval for k successes in n trials at 95%
// confidence: well-behaved at k = 0 and for small n, unlike the normal
// approximation. For k = 0 the upper bound is close to the rule of three.
func Wilson(k, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	nf, kf := float64(n), float64(k)
	p := kf / nf
	z2 := z95 * z95
	center := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / (1 + z2/nf)
	lo, hi = max(0, center-half), min(1, center+half)
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return lo, hi
}

// RuleOfThree is the approximate 95% upper bound on the per-run
// probability of an event never seen in n runs: 3/n.
func RuleOfThree(n int) float64 {
	if n == 0 {
		return 1
	}
	return min(1, 3/float64(n))
}

// Fisher is the two-sided p-value of Fisher's exact test on the 2x2 table
// [[k1, n1-k1], [k2, n2-k2]]: the probability, with the margins fixed, of a
// table at most as likely as the observed one.
func Fisher(k1, n1, k2, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	k := k1 + k2 // first column total
	n := n1 + n2
	lf := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	// log P(a) for the table whose top-left cell is a (hypergeometric).
	base := lf(n1) + lf(n2) + lf(k) + lf(n-k) - lf(n)
	logp := func(a int) float64 {
		return base - lf(a) - lf(n1-a) - lf(k-a) - lf(n2-k+a)
	}
	obs := logp(k1)
	lo, hi := max(0, k-n2), min(k, n1)
	var p float64
	for a := lo; a <= hi; a++ {
		if lp := logp(a); lp <= obs+1e-7 {
			p += math.Exp(lp)
		}
	}
	return min(1, p)
}

// Holm returns the Holm–Bonferroni adjusted p-values: controlling the
// family-wise error rate when many comparisons are made at once.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	adj := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		v := min(1, float64(m-rank)*ps[i])
		running = max(running, v)
		adj[i] = running
	}
	return adj
}
