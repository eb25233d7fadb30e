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
