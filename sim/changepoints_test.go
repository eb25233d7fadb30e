package sim

import (
	"math/rand/v2"
	"testing"
)

// naivePoints is the change-point set as PCTRacy kept it before
// changePoints: a list looked through whole at every question.
type naivePoints struct {
	step, name []int
	taken      []bool
}

func (c *naivePoints) next(name, from int) int {
	next := -1
	for i, s := range c.step {
		if !c.taken[i] && c.name[i] == name && s >= from && (next < 0 || s < next) {
			next = s
		}
	}
	return next
}

func (c *naivePoints) take(name, step int) int {
	last := -1
	for i, s := range c.step {
		if !c.taken[i] && s == step && c.name[i] == name {
			c.taken[i], last = true, i
		}
	}
	return last
}

// TestChangePointsMatchNaive puts random sets of change points (few names
// and steps, so that points share them) through changePoints and the
// naive list, asking both every next and taking at random steps, and
// reusing one changePoints across the sets as the samplers do.
func TestChangePointsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cp changePoints
	for set := range 2000 {
		names, steps := 1+rng.IntN(5), 1+rng.IntN(8)
		cp.reset()
		var nv naivePoints
		for range rng.IntN(14) {
			n, s := rng.IntN(names), rng.IntN(steps)
			cp.add(n, s)
			nv.step, nv.name, nv.taken = append(nv.step, s), append(nv.name, n), append(nv.taken, false)
		}
		for range 30 {
			n, s := rng.IntN(names+1)-1, rng.IntN(steps+1)
			if got, want := cp.next(n, s), nv.next(n, s); got != want {
				t.Fatalf("set %d: next(%d, %d) = %d, want %d (points %v of names %v, taken %v)", set, n, s, got, want, nv.step, nv.name, nv.taken)
			}
			if rng.IntN(3) == 0 {
				if got, want := cp.take(n, s), nv.take(n, s); got != want {
					t.Fatalf("set %d: take(%d, %d) = %d, want %d", set, n, s, got, want)
				}
			}
		}
	}
}
