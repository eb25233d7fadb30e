package sim

import "unsafe"

// pointCache answers "what does the profile know about the point this
// label names" without hashing the label, for the samplers, which ask it
// at every decision, for the chosen task (PCTRacy, Greybox) or for every
// runnable one (eager, under POS and SURW): the profile's map costs a
// string hash per question, 6–8% of a race B execution under greybox.
//
// The model's labels are string constants, so one label is one address:
// the cache is direct-mapped by the address of the label's bytes and a
// hit compares address and length. That is exact, not a guess: Go strings
// are immutable, and the entry holds its label, so the bytes at that
// address cannot be freed and reused for another string while the entry
// lives; the same address and length are the same bytes. A label built at
// run time (a new address each time) misses and is answered by the map,
// as is a collision. Each sampler has its own cache (a Profile is shared
// by the goroutines of a cell and stays read-only).
type pointCache struct {
	prof *Profile
	ents [pointCacheSize]pointCacheEnt
}

const pointCacheSize = 512 // a power of two above a cell's labels

type pointCacheEnt struct {
	label string
	pt    *Point
	ok    bool
}

func newPointCache(prof *Profile) *pointCache { return &pointCache{prof: prof} }

// point is prof.Point(label).
func (c *pointCache) point(label string) *Point {
	a := uintptr(unsafe.Pointer(unsafe.StringData(label)))
	e := &c.ents[(a>>3^a>>12)&(pointCacheSize-1)]
	if e.ok && unsafe.StringData(e.label) == unsafe.StringData(label) && len(e.label) == len(label) {
		return e.pt
	}
	pt := c.prof.points[label]
	*e = pointCacheEnt{label: label, pt: pt, ok: true}
	return pt
}

// racy is prof.Racy(label).
func (c *pointCache) racy(label string) bool { return c.point(label).racy() }

// independent is prof.Independent(label).
func (c *pointCache) independent(label string) bool { return c.point(label).independent() }
