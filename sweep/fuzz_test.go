package sweep

import (
	"strings"
	"testing"
)

// FuzzParseSweep: the parsers of pagelab sweep's -param, -variants and
// -base never panic, and what they accept is within the workload's
// bounds; every error is one line.
func FuzzParseSweep(f *testing.F) {
	for _, s := range []string{DefaultAxis, DefaultVariants, DefaultBase, "tasks=1,,2", "baseline:", ";;", "v5.8+fair-handoff:unfairness=4", "pages=0,33", "=", ":=,"} {
		f.Add(s)
	}
	wl := lockStorm(f)
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParseAxis(wl, s); err == nil {
			p, ok := param(wl, a.Name)
			if !ok || len(a.Values) == 0 || len(a.Values) > MaxValues {
				t.Fatalf("ParseAxis(%q) = %+v", s, a)
			}
			for _, v := range a.Values {
				if v < p.Min || v > p.Max {
					t.Fatalf("ParseAxis(%q): %d outside %d..%d", s, v, p.Min, p.Max)
				}
			}
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("ParseAxis(%q): error of several lines: %v", s, err)
		}
		if vs, err := ParseVariants(wl, s); err == nil {
			if len(vs) == 0 || len(vs) > MaxVariants {
				t.Fatalf("ParseVariants(%q): %d variants", s, len(vs))
			}
			for _, v := range vs {
				if v.Fix == nil || v.Name == "" {
					t.Fatalf("ParseVariants(%q): %+v", s, v)
				}
				if _, err := wl.ParseParams(v.Params); err != nil {
					t.Fatalf("ParseVariants(%q) accepted %v: %v", s, v.Params, err)
				}
			}
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("ParseVariants(%q): error of several lines: %v", s, err)
		}
		if _, err := ParseBase(wl, s); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("ParseBase(%q): error of several lines: %v", s, err)
		}
	})
}
