package bench

import (
	"math"
	"testing"
)

// TestSIRate: three significant digits and an SI prefix, the prefix
// moving up where rounding would print "1e+03"; +Inf as ∞ (the hunt
// table's hand-offs).
func TestSIRate(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{{7, "7"}, {512, "512"}, {999.4, "999"}, {999.6, "1k"}, {34_700, "34.7k"}, {999_700, "1M"}, {1_234_567, "1.23M"}, {3.1e9, "3.1G"}, {math.Inf(1), "∞"}} {
		if got := SIRate(c.x); got != c.want {
			t.Errorf("SIRate(%g) = %q, want %q", c.x, got, c.want)
		}
	}
}

// TestNsDur: three significant digits in the unit that suits them, the
// unit moving up where rounding would print "1e+03"; +Inf as ∞.
func TestNsDur(t *testing.T) {
	for _, c := range []struct {
		ns   float64
		want string
	}{{850, "850ns"}, {999.4, "999ns"}, {999.6, "1µs"}, {42_000, "42µs"}, {999_700, "1ms"}, {3_100_000, "3.1ms"}, {999_600_000, "1s"}, {2.5e9, "2.5s"}, {math.Inf(1), "∞"}} {
		if got := NsDur(c.ns); got != c.want {
			t.Errorf("NsDur(%g) = %q, want %q", c.ns, got, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 9711755: "9,711,755", -1234: "-1,234", -999: "-999", -100000: "-100,000", 100000: "100,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
