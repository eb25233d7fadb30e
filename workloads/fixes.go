package workloads

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pagelab/pagelab/fixes"
)

// ParseFix resolves a fix id or '+' composition (fixes.Parse) for w and
// refuses it unless it applies to w (CheckFix).
func (w *Workload) ParseFix(id string) (*fixes.Variant, error) {
	v, err := fixes.Parse(id)
	if err != nil {
		return nil, err
	}
	if err := w.CheckFix(v); err != nil {
		return nil, err
	}
	return v, nil
}

// CheckFix refuses a variant with a part that belongs to another
// workload's family and not to w's: a fix for another race patches code w
// never runs, and its cells would report w's baseline results under the
// fix's name. A family is the parts of a workload's registered variants
// (Fixes) and what they include. A fix in no family yet, a new candidate,
// applies anywhere: it is one file in fixes/ and its registration, and a
// developer runs it before registering it with a workload's -fix all.
// The error names the fixes that apply to w.
func (w *Workload) CheckFix(v *fixes.Variant) error {
	own := fixes.FamilyParts(w.Fixes)
	var claimed []string
	for _, o := range registry {
		claimed = append(claimed, fixes.FamilyParts(o.Fixes)...)
	}
	for _, f := range v.Parts {
		if slices.Contains(claimed, f.ID) && !slices.Contains(own, f.ID) {
			return fmt.Errorf("fix %s does not apply to workload %s (its fixes: %s; compose them with '+')",
				f.ID, w.ID, strings.Join(own, ", "))
		}
	}
	return nil
}
