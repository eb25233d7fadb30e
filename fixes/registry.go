// Package fixes holds the fix variants: each is a small patch over the
// baseline model (v5.10-rc5), in its own file, written the way the kernel
// patch changes the code, and registered with its id, the commit or message
// id it comes from and a one-line description.
//
// A patch replaces entries of mm.Ops with its own functions. Compositions
// ("hold-ref+loop-wait") apply the patches in registry order; two patches
// that replace the same function cannot be composed (a fix that combines
// them, like folio, is its own variant).
package fixes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pagelab/pagelab/mm"
)

// Fix is one registered fix variant.
type Fix struct {
	ID string
	// Ref is the commit id or mailing-list message id the variant models.
	Ref  string
	Desc string
	// Replaces names the patched mm.Ops entries, by kernel name.
	Replaces []string
	// Enables names the mm.Ops switches the fix turns on; several fixes
	// may turn on the same switch.
	Enables []string
	// Includes are other fixes this one already contains.
	Includes []string
	Apply    func(ops *mm.Ops)
}

// registry is every fix variant, in the order compositions are applied and
// named: a new candidate fix is one new file plus its line here.
var registry = []*Fix{
	Baseline,
	V58,
	FairHandoff,
	HoldRef,
	LoopWait,
	NoWaitersCheck,
	WaitToSet,
	Folio,
	FolioNoLoop,
	NoBookmarks,
	WalkBreak128,
	MkwriteOnDirty,
	FsTolerant,
	PinAwareReclaim,
	BouncePinned,
	DropIndexCheck,
	DropTailCheck,
	DropBogusVMBug,
	InvalidateLock,
	ReadOnce,
}

// All returns the registered fixes in registry order.
func All() []*Fix { return registry }

// Lookup returns the fix with id.
func Lookup(id string) (*Fix, bool) {
	for _, f := range registry {
		if f.ID == id {
			return f, true
		}
	}
	return nil, false
}

// IDs lists the registered ids.
func IDs() []string {
	var ids []string
	for _, f := range registry {
		ids = append(ids, f.ID)
	}
	return ids
}

// Variant is a fix id or a composition of fix ids, resolved.
type Variant struct {
	// ID is the canonical id: the parts in registry order, joined by '+'.
	ID    string
	Parts []*Fix
}

// Apply installs the variant's patches on ops.
func (v *Variant) Apply(ops *mm.Ops) {
	for _, f := range v.Parts {
		if f.Apply != nil {
			f.Apply(ops)
		}
	}
}

// Describe is the variant's one-line description.
func (v *Variant) Describe() string {
	var d []string
	for _, f := range v.Parts {
		d = append(d, f.Desc)
	}
	return strings.Join(d, "; ")
}

// Parse resolves a fix id or a '+' composition. Errors name the valid ids.
func Parse(id string) (*Variant, error) {
	if id == "" {
		return nil, fmt.Errorf("empty fix id (valid: %s)", strings.Join(IDs(), ", "))
	}
	var parts []*Fix
	for _, p := range strings.Split(id, "+") {
		f, ok := Lookup(p)
		if !ok {
			return nil, fmt.Errorf("unknown fix %q (valid: %s; compose with '+')", p, strings.Join(IDs(), ", "))
		}
		if slices.Contains(parts, f) {
			return nil, fmt.Errorf("fix %q appears twice in %q", p, id)
		}
		parts = append(parts, f)
	}
	if len(parts) > 1 && slices.ContainsFunc(parts, func(f *Fix) bool { return f.ID == "baseline" }) {
		return nil, fmt.Errorf("baseline cannot be composed: it is the unpatched model (%q)", id)
	}
	for i, a := range parts {
		for _, b := range parts[i+1:] {
			for _, r := range a.Replaces {
				if slices.Contains(b.Replaces, r) {
					return nil, fmt.Errorf("fixes %s and %s both replace %s: they cannot be composed", a.ID, b.ID, r)
				}
			}
			if slices.Contains(a.Includes, b.ID) {
				return nil, fmt.Errorf("fix %s already includes %s", a.ID, b.ID)
			}
			if slices.Contains(b.Includes, a.ID) {
				return nil, fmt.Errorf("fix %s already includes %s", b.ID, a.ID)
			}
		}
	}
	slices.SortStableFunc(parts, func(a, b *Fix) int {
		return slices.Index(registry, a) - slices.Index(registry, b)
	})
	var ids []string
	for _, f := range parts {
		ids = append(ids, f.ID)
	}
	return &Variant{ID: strings.Join(ids, "+"), Parts: parts}, nil
}

// FamilyParts lists, in registry order, the fixes the variants of family
// are made of, and the fixes those include (drop-bogus-vm-bug brings
// drop-index-check and drop-tail-check). Unknown ids are skipped: the
// workloads' own tests check that their variants parse.
func FamilyParts(family []string) []string {
	in := map[string]bool{}
	var add func(f *Fix)
	add = func(f *Fix) {
		in[f.ID] = true
		for _, id := range f.Includes {
			if g, ok := Lookup(id); ok {
				add(g)
			}
		}
	}
	for _, id := range family {
		for _, p := range strings.Split(id, "+") {
			if f, ok := Lookup(p); ok {
				add(f)
			}
		}
	}
	var out []string
	for _, f := range registry {
		if in[f.ID] {
			out = append(out, f.ID)
		}
	}
	return out
}
