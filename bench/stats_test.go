package bench

import (
	"math"
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
