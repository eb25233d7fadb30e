package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/workloads"
)

// Compare renders the comparison of the results directories dirA (old) and
// dirB (new), whose manifests and records are ma, a, mb and b, as a page:
// per workload, a section anchored by its id with the comparisons of its
// cells (the rows of pagelab compare), the verdicts that changed, and the
// two runs' plots side by side; then the cells not compared and text, the
// output of pagelab compare. It fails as bench.Compare does.
func Compare(dirA string, ma *bench.Manifest, a []*bench.Record, dirB string, mb *bench.Manifest, b []*bench.Record, text string) ([]byte, error) {
	c, err := bench.NewComparison(dirA, a, dirB, b)
	if err != nil {
		return nil, err
	}
	filesA, err := listFiles(dirA)
	if err != nil {
		return nil, err
	}
	filesB, err := listFiles(dirB)
	if err != nil {
		return nil, err
	}
	p := &comparePage{
		Title:       "pagelab comparison: " + dirA + " vs " + dirB,
		A:           side(dirA, ma),
		B:           side(dirB, mb),
		Common:      len(c.Pairs),
		Comparisons: len(c.Rows),
		Approx:      c.Approx,
		Text:        text,
	}
	if w := bench.PartialWarning(ma, mb); w != "" {
		p.Warning = strings.ToUpper(w[:1]) + w[1:]
	}
	order := bench.WorkloadOrder(a)
	for _, w := range bench.WorkloadOrder(b) {
		if !slices.Contains(order, w) {
			order = append(order, w)
		}
	}
	for _, w := range order {
		s := &compareSection{ID: w, Title: w}
		if wl, err := workloads.Lookup(w); err == nil {
			s.Desc = wl.Desc
		}
		for _, r := range c.Rows {
			if r.A.Workload == w {
				s.Rows = append(s.Rows, r)
			}
		}
		var pairs [][2]*bench.Record
		for _, pr := range c.Pairs {
			if pr[0].Workload == w {
				pairs = append(pairs, pr)
			}
		}
		s.Verdicts = strings.TrimSpace(bench.VerdictChanges(pairs))
		pa, err := workloadPlots(dirA, w, filesA, map[string]bool{}, "old-")
		if err != nil {
			return nil, err
		}
		pb, err := workloadPlots(dirB, w, filesB, map[string]bool{}, "new-")
		if err != nil {
			return nil, err
		}
		byName := map[string]*plotPair{}
		for _, f := range pa {
			pp := &plotPair{Name: f.File, A: f}
			byName[f.File] = pp
			s.Plots = append(s.Plots, pp)
		}
		for _, f := range pb {
			if pp := byName[f.File]; pp != nil {
				pp.B = f
				continue
			}
			s.Plots = append(s.Plots, &plotPair{Name: f.File, B: f})
		}
		for _, pp := range s.Plots {
			if pp.A != nil {
				pp.A.Caption = "old (" + dirA + "): " + pp.A.Caption
			}
			if pp.B != nil {
				pp.B.Caption = "new (" + dirB + "): " + pp.B.Caption
			}
		}
		p.Sections = append(p.Sections, s)
	}
	for _, k := range c.OnlyA {
		p.Uncompared = append(p.Uncompared, "old only: "+k)
	}
	for _, k := range c.OnlyB {
		p.Uncompared = append(p.Uncompared, "new only: "+k)
	}
	for _, k := range c.NoLatency {
		p.Uncompared = append(p.Uncompared, "latency: "+k)
	}
	var out bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&out, "compare", p); err != nil {
		return nil, fmt.Errorf("compare page: %v", err)
	}
	return out.Bytes(), nil
}

type comparePage struct {
	Title                       string
	A, B                        compareSide
	Common, Comparisons, Approx int
	Warning                     string
	Sections                    []*compareSection
	Uncompared                  []string
	Text                        string
}

type compareSide struct {
	Name, Revision, Seed string
	Partial, Absent      bool
}

func side(dir string, m *bench.Manifest) compareSide {
	rev := m.GitRevision
	if rev == "" {
		rev = "unknown"
	}
	if m.Absent {
		return compareSide{Name: dir, Revision: "unknown", Seed: "unknown", Absent: true}
	}
	return compareSide{Name: dir, Revision: rev, Seed: strconv.FormatUint(m.Seed, 10), Partial: !m.Complete}
}

type compareSection struct {
	ID, Title, Desc string
	Rows            []*bench.CompareRow
	Verdicts        string
	Plots           []*plotPair
}

// plotPair is one plot of the two runs (either may lack it).
type plotPair struct {
	Name string
	A, B *figure
}
