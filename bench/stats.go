package bench

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mathext"
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

// RateRatio is the 95% interval of the ratio of two failure rates, k1 of
// n1 executions over k0 of n0, the exact conditional interval for a ratio
// of Poisson rates: given their sum k1+k0, two independent Poisson counts
// split binomially, k1 with p = R·n1 / (R·n1 + n0), and the
// Clopper-Pearson interval of p (Clopper and Pearson, Biometrika 26, 1934)
// maps onto R = p/(1-p) · n0/n1. It is exact for rare failures, the
// lab's case, and wider than it needs to be for common ones (a binomial
// count varies less than a Poisson count of the same mean). hi is +Inf
// when k0 is 0 and lo is 0 when k1 is 0; ok is false when neither fired or
// a count is out of range.
func RateRatio(k1, n1, k0, n0 int) (lo, hi float64, ok bool) {
	if n1 <= 0 || n0 <= 0 || k1 < 0 || k0 < 0 || k1 > n1 || k0 > n0 || k1+k0 == 0 {
		return 0, 0, false
	}
	const alpha = 0.05
	scale := float64(n0) / float64(n1)
	odds := func(p float64) float64 { return p / (1 - p) * scale }
	lo, hi = 0, math.Inf(1)
	if k1 > 0 {
		// P(X >= k1 | p) = I_p(k1, k0+1) = alpha/2.
		lo = odds(mathext.InvRegIncBeta(float64(k1), float64(k0+1), alpha/2))
	}
	if k0 > 0 {
		// P(X <= k1 | p) = 1 - I_p(k1+1, k0) = alpha/2.
		hi = odds(mathext.InvRegIncBeta(float64(k1+1), float64(k0), 1-alpha/2))
	}
	return lo, hi, true
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
// table at most as likely as the observed one. See FisherTest.
func Fisher(k1, n1, k2, n2 int) float64 {
	p, _ := FisherTest(k1, n1, k2, n2)
	return p
}

// FisherExactSD is the standard deviation of the hypergeometric beyond which
// FisherTest uses the normal approximation: the exact sum would need tens of
// thousands of terms per tail, and the approximation's error, of the order of
// 1/sd, is below 1e-4 there.
const FisherExactSD = 20000

// FisherTest is Fisher's exact test (two-sided, "at most as likely"), with a
// cost that does not grow with the counts and no loss of precision at large
// ones. The hypergeometric P(a) of the top-left cell is unimodal; its
// weights relative to the mode are walked outward on both sides by the
// ratio P(a+1)/P(a) = (n1-a)(k-a) / ((a+1)(n2-k+a+1)), in log space, until
// they underflow (beyond that every table is less likely than any the
// walk saw, and contributes nothing a float64 can hold). The p-value is the
// weight of the tables at most as likely as the observed one over the total.
// When the hypergeometric's standard deviation exceeds FisherExactSD the
// walk would be long, and the p-value is the normal approximation with
// continuity correction: approx is true.
func FisherTest(k1, n1, k2, n2 int) (p float64, approx bool) {
	if n1 <= 0 || n2 <= 0 {
		return 1, false
	}
	// Float arithmetic throughout: counts near the int range must not wrap.
	fk1, fn1, fn2 := float64(k1), float64(n1), float64(n2)
	fk := fk1 + float64(k2) // first column total
	fn := fn1 + fn2
	lo, hi := math.Max(0, fk-fn2), math.Min(fk, fn1)
	if lo >= hi {
		return 1, false
	}
	mean := fn1 * fk / fn
	variance := fn1 / fn * fk / fn * (fn - fk) / fn * (fn - fn1) / (fn - 1) * fn
	if sd := math.Sqrt(variance); sd > FisherExactSD {
		z := (math.Abs(fk1-mean) - 0.5) / sd
		if z <= 0 {
			return 1, true
		}
		return math.Min(1, math.Erfc(z/math.Sqrt2)), true
	}
	mode := math.Min(hi, math.Max(lo, math.Floor((fn1+1)/(fn+2)*(fk+1))))
	// logRatio is log P(a+1)/P(a).
	logRatio := func(a float64) float64 {
		return math.Log(fn1-a) + math.Log(fk-a) - math.Log(a+1) - math.Log(fn2-fk+a+1)
	}
	const negligible = -745 // exp underflows to 0 below this
	// walk calls visit with each a and its log weight relative to the mode,
	// outward from the mode on both sides, until the weights underflow.
	walk := func(visit func(a, logw float64)) {
		visit(mode, 0)
		for a, lw := mode, 0.0; a < hi; a++ {
			if lw += logRatio(a); lw < negligible && a+1 > mean {
				break
			}
			visit(a+1, lw)
		}
		for a, lw := mode, 0.0; a > lo; a-- {
			if lw -= logRatio(a - 1); lw < negligible && a-1 < mean {
				break
			}
			visit(a-1, lw)
		}
	}
	obs := math.Inf(-1) // beyond the walk: less likely than anything seen
	total := 0.0
	walk(func(a, lw float64) {
		if a == fk1 {
			obs = lw
		}
		total += math.Exp(lw)
	})
	// As likely up to a relative 1e-7, as R's fisher.test.
	sum := 0.0
	walk(func(a, lw float64) {
		if lw <= obs+1e-7 {
			sum += math.Exp(lw)
		}
	})
	return math.Min(1, sum/total), false
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
