package sim

import (
	"fmt"
	"strings"
	"testing"
)

// TestPointCache: the cache answers what the profile's map answers, for
// the constant labels it caches, for the same text at another address
// (a label built at run time), for unknown labels, and when many labels
// fight over its slots (each asked twice, in two orders).
func TestPointCache(t *testing.T) {
	prof := &Profile{points: map[string]*Point{}}
	var labels []string
	for i := range 3 * pointCacheSize {
		l := fmt.Sprintf("point#%d", i)
		labels = append(labels, l)
		if i%3 != 0 { // every third label unknown to the profile
			prof.points[l] = &Point{Label: l, Racy: i%2 == 0, Independent: i%5 == 0}
		}
	}
	c := newPointCache(prof)
	check := func(l string) {
		t.Helper()
		want := prof.points[l]
		if got := c.point(l); got != want {
			t.Fatalf("point(%q) = %v, want %v", l, got, want)
		}
		if got, want := c.racy(l), prof.Racy(l); got != want {
			t.Fatalf("racy(%q) = %v, want %v", l, got, want)
		}
		if got, want := c.independent(l), prof.Independent(l); got != want {
			t.Fatalf("independent(%q) = %v, want %v", l, got, want)
		}
	}
	for range 2 {
		for _, l := range labels {
			check(l)
			check(strings.Clone(l)) // the same text at a new address
			check(l)
		}
		for i := len(labels) - 1; i >= 0; i-- {
			check(labels[i])
		}
	}
	check("")
	check("never profiled")
}
