package bench

import (
	"math"
	"math/rand/v2"
	"testing"
)

// near compares with a relative tolerance (and exactly at zero).
func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Abs(b) }

func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		k, n   int
		lo, hi float64
	}{
		// Reference values computed independently from the closed form
		// (as statsmodels' proportion_confint(method="wilson") does).
		{0, 10, 0, 0.2775328},
		{5, 10, 0.2365931, 0.7634069},
		{32, 100000, 0.00022669234, 0.00045169619},
		{10, 10, 0.7224672, 1},
	} {
		lo, hi := Wilson(tc.k, tc.n)
		if !near(lo, tc.lo, 1e-6) || !near(hi, tc.hi, 1e-6) {
			t.Errorf("Wilson(%d, %d) = [%.7g, %.7g], want [%.7g, %.7g]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
	if got := RuleOfThree(100000); got != 3e-5 {
		t.Errorf("RuleOfThree(100000) = %g", got)
	}
}

func TestFisher(t *testing.T) {
	for _, tc := range []struct {
		k1, n1, k2, n2 int
		p              float64
	}{
		// Reference values computed independently with exact binomial
		// coefficients (as R's fisher.test does).
		{1, 10, 9, 10, 0.00109333391},
		{3, 4, 1, 4, 0.485714286}, // Fisher's tea: 3/4 vs 1/4
		{0, 100, 0, 100, 1},
		{32, 100000, 0, 100000, 4.64507697e-10},
		{32, 100000, 25, 100000, 0.42697670},
	} {
		if got := Fisher(tc.k1, tc.n1, tc.k2, tc.n2); !near(got, tc.p, 1e-6) {
			t.Errorf("Fisher(%d/%d vs %d/%d) = %.4g, want %.4g", tc.k1, tc.n1, tc.k2, tc.n2, got, tc.p)
		}
	}
}

// fisherBrute is Fisher's exact test by the definition: every table with
// the observed margins, summed.
func fisherBrute(k1, n1, k2, n2 int) float64 {
	k, n := k1+k2, n1+n2
	lf := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	base := lf(n1) + lf(n2) + lf(k) + lf(n-k) - lf(n)
	logp := func(a int) float64 { return base - lf(a) - lf(n1-a) - lf(k-a) - lf(n2-k+a) }
	obs := logp(k1)
	var p float64
	for a := max(0, k-n2); a <= min(k, n1); a++ {
		if lp := logp(a); lp <= obs+1e-7 {
			p += math.Exp(lp)
		}
	}
	return min(1, p)
}

// TestFisherAgainstBruteForce: the bounded tail sums agree with the
// definition on every table with small margins and on random larger ones.
func TestFisherAgainstBruteForce(t *testing.T) {
	check := func(k1, n1, k2, n2 int) {
		t.Helper()
		got, approx := FisherTest(k1, n1, k2, n2)
		want := fisherBrute(k1, n1, k2, n2)
		if approx || math.Abs(got-want) > 1e-9*math.Max(1, want) && math.Abs(got-want) > 1e-15 {
			t.Fatalf("FisherTest(%d/%d vs %d/%d) = %.12g (approx %v), brute force %.12g", k1, n1, k2, n2, got, approx, want)
		}
	}
	for n1 := 1; n1 <= 9; n1++ {
		for n2 := 1; n2 <= 9; n2++ {
			for k1 := 0; k1 <= n1; k1++ {
				for k2 := 0; k2 <= n2; k2++ {
					check(k1, n1, k2, n2)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		n1, n2 := 1+r.IntN(5000), 1+r.IntN(5000)
		check(r.IntN(n1+1), n1, r.IntN(n2+1), n2)
	}
}

// TestFisherLargeCounts: counts near the int range neither wrap nor take
// time proportional to the counts, and the normal approximation takes over
// only where the exact sum would be long.
func TestFisherLargeCounts(t *testing.T) {
	const big = 1 << 62 // beyond any run count, still no wrap
	if p, approx := FisherTest(big/2, big, big/2, big); !approx || p != 1 {
		t.Errorf("FisherTest(2^61/2^62 twice) = %g, %v; want 1 by the normal approximation", p, approx)
	}
	if p, approx := FisherTest(big/2, big, big/4, big); !approx || p > 1e-300 {
		t.Errorf("FisherTest(1/2 vs 1/4 of 2^62) = %g, %v; want 0 by the normal approximation", p, approx)
	}
	if p, approx := FisherTest(3, big, 0, big); approx || p < 0.2 || p > 0.3 {
		t.Errorf("FisherTest(3/2^62 vs 0/2^62) = %g, %v; want exact 0.25", p, approx)
	}
	// At the threshold, exact and approximate agree to well under 1e-3.
	n := 400_000_000
	exact, _ := FisherTest(n/2+30000, n, n/2, n)
	if _, approx := FisherTest(n/2+30000, n, n/2, n); approx {
		t.Fatalf("sd of %d/%d tables should be under FisherExactSD", n, n)
	}
	z := 30000 / 2.0 / math.Sqrt(float64(n)/8)
	if a := math.Erfc((z - 0.5/math.Sqrt(float64(n)/8)) / math.Sqrt2); math.Abs(a-exact) > 1e-3 {
		t.Errorf("exact %g, normal approximation %g", exact, a)
	}
}

func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		if !near(got[i], want[i], 1e-9) {
			t.Errorf("Holm = %v, want %v", got, want)
			break
		}
	}
}

// TestRateRatio checks RateRatio's ends against their definition, the
// binomial tails of k1 among the k1+k0 firings summed term by term, a
// value worked by hand (the README's data corruption: 10 of 20,000,000
// against 1 of 100,000,000), its edges, and its coverage over Poisson
// counts of known rates.
func TestRateRatio(t *testing.T) {
	// tail is P(X >= k) (upper) or P(X <= k) for X ~ Binomial(n, p).
	tail := func(k, n int, p float64, upper bool) float64 {
		s := 0.0
		for i := 0; i <= n; i++ {
			if upper && i < k || !upper && i > k {
				continue
			}
			lg1, _ := math.Lgamma(float64(n + 1))
			lg2, _ := math.Lgamma(float64(i + 1))
			lg3, _ := math.Lgamma(float64(n - i + 1))
			s += math.Exp(lg1 - lg2 - lg3 + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
		}
		return s
	}
	for k1 := 0; k1 <= 12; k1++ {
		for k0 := 0; k0 <= 12; k0++ {
			n1, n0 := 1000, 3000
			lo, hi, ok := RateRatio(k1, n1, k0, n0)
			if k1+k0 == 0 {
				if ok {
					t.Errorf("RateRatio(0, 0) ok")
				}
				continue
			}
			scale := float64(n0) / float64(n1)
			share := func(r float64) float64 { return r / (r + scale) } // p of the ratio r
			switch {
			case !ok:
				t.Fatalf("RateRatio(%d, %d) not ok", k1, k0)
			case k1 == 0 && lo != 0, k0 == 0 && !math.IsInf(hi, 1):
				t.Errorf("RateRatio(%d, %d) = [%g, %g]: an end that should be open", k1, k0, lo, hi)
			case !(lo < hi):
				t.Errorf("RateRatio(%d, %d) = [%g, %g]", k1, k0, lo, hi)
			}
			if k1 > 0 {
				if got := tail(k1, k1+k0, share(lo), true); math.Abs(got-0.025) > 1e-9 {
					t.Errorf("RateRatio(%d, %d): P(X >= %d) at the lower end %g = %g, want 0.025", k1, k0, k1, lo, got)
				}
			}
			if k0 > 0 {
				if got := tail(k1, k1+k0, share(hi), false); math.Abs(got-0.025) > 1e-9 {
					t.Errorf("RateRatio(%d, %d): P(X <= %d) at the upper end %g = %g, want 0.025", k1, k0, k1, hi, got)
				}
			}
		}
	}
	if lo, hi, _ := RateRatio(10, 20_000_000, 1, 100_000_000); !near(lo, 7.112992, 1e-5) || !near(hi, 2169.885, 1e-5) {
		t.Errorf("RateRatio(10/2e7, 1/1e8) = [%g, %g], want [7.113, 2169.9]", lo, hi)
	}
	for _, c := range [][4]int{{1, 0, 1, 10}, {-1, 10, 1, 10}, {11, 10, 1, 10}, {1, 10, 1, 0}} {
		if _, _, ok := RateRatio(c[0], c[1], c[2], c[3]); ok {
			t.Errorf("RateRatio%v ok", c)
		}
	}
	// Coverage: the interval is exact given the firings, so over Poisson
	// counts it holds the true ratio at least 95% of the time (more, its
	// counts being discrete).
	r := rand.New(rand.NewPCG(3, 4))
	poisson := func(mean float64) int {
		k, p, l := 0, 1.0, math.Exp(-mean)
		for p *= r.Float64(); p > l; p *= r.Float64() {
			k++
		}
		return k
	}
	for _, m := range [][2]float64{{2, 0.5}, {4, 6}, {10, 1}, {30, 20}} {
		n1, n0 := 1_000_000, 5_000_000
		ratio := m[0] / float64(n1) / (m[1] / float64(n0))
		in, all := 0, 0
		for range 20000 {
			lo, hi, ok := RateRatio(poisson(m[0]), n1, poisson(m[1]), n0)
			if !ok {
				continue
			}
			all++
			if lo <= ratio && ratio <= hi {
				in++
			}
		}
		if cov := float64(in) / float64(all); cov < 0.95 {
			t.Errorf("means %v: coverage %.4f of %d, want at least 0.95", m, cov, all)
		}
	}
}
