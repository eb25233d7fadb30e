// Package report writes report.html: a results directory (or the
// comparison of two) as one self-contained page to attach to a patch
// discussion. The page holds everything inline — the tables of
// summary.txt as HTML tables, every plot and race diagram as inline SVG —
// and needs no network, no JavaScript and no style sheet but its own few
// lines. Each workload is a section anchored by its id, so that a mail can
// link report.html#writeback-restart.
//
// The page is a function of the directory's files: the same directory
// gives the same bytes. It says nothing of when, where or by which
// command the run was made (that is manifest.json's), so that a run
// merged from shards has the same page as the run made in one piece.
package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// File is the report's name in a results directory.
const File = "report.html"

// Directories of a results directory the report embeds.
const (
	PlotsDir    = "plots"
	DiagramsDir = "diagrams"
)

// FileError is a file of the directory that cannot be used (bad input, as
// opposed to an error reading or writing).
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// Write reads the results directory dir (results.jsonl, manifest.json,
// plots/*.svg, diagrams/*) and writes dir/report.html, atomically.
func Write(dir string) error {
	m, recs, err := bench.ReadResults(dir)
	if err != nil {
		return err
	}
	return WriteRecords(dir, m, recs)
}

// WriteRecords writes dir/report.html from a results directory's manifest
// and records, given rather than read (pagelab bench has them), and the
// plots and diagrams in dir.
func WriteRecords(dir string, m *bench.Manifest, recs []*bench.Record) error {
	b, err := Render(dir, m, recs)
	if err != nil {
		return err
	}
	return bench.WriteFileAtomic(filepath.Join(dir, File), b)
}

// Render returns the report of the results directory dir, whose manifest
// and records are m and recs.
func Render(dir string, m *bench.Manifest, recs []*bench.Record) ([]byte, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no records", dir)
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	p := &runPage{Title: "pagelab results: " + strings.Join(bench.WorkloadOrder(recs), ", ")}
	p.State, p.Partial = state(m)
	p.Facts = facts(m, recs)
	// Pictures the manifest lists but the directory lacks (deleted, or
	// never copied): say so, rather than let their absence pass for
	// "nothing to draw".
	missing := map[string]bool{}
	for _, f := range m.Files {
		if isPicture(f) && !files[f] {
			missing[f] = true
			p.Missing++
		}
	}
	used := map[string]bool{}
	for _, w := range bench.WorkloadOrder(recs) {
		var rs []*bench.Record
		for _, r := range recs {
			if r.Workload == w {
				rs = append(rs, r)
			}
		}
		s, err := workloadSection(dir, w, rs, files, used, missing)
		if err != nil {
			return nil, err
		}
		p.Sections = append(p.Sections, s)
	}
	// Whatever picture no workload claimed (a plot of a kind this
	// pagelab does not know): still on the page.
	other := &section{ID: "other-pictures", Title: "Other plots and diagrams"}
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if used[f] || !isPicture(f) {
			continue
		}
		if strings.HasSuffix(f, ".txt") {
			if files[strings.TrimSuffix(f, ".txt")+".svg"] {
				continue // with its picture, below
			}
		}
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".svg"), ".txt")
		if strings.HasPrefix(f, DiagramsDir+"/") {
			d := &diagram{ID: "diagram-" + path.Base(base), Caption: f}
			if err := d.load(dir, base, files); err != nil {
				return nil, err
			}
			other.Diagrams = append(other.Diagrams, d)
			continue
		}
		fig, err := loadFigure(dir, f, f, "")
		if err != nil {
			return nil, err
		}
		other.Plots = append(other.Plots, fig)
	}
	if len(other.Plots)+len(other.Diagrams) > 0 {
		p.Sections = append(p.Sections, other)
	}
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, "run", p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// runPage is the report of one results directory.
type runPage struct {
	Title    string
	State    string
	Partial  bool
	Facts    []fact
	Sections []*section
	// Missing counts the pictures manifest.json lists that the directory
	// lacks.
	Missing int
}

type fact struct{ Name, Value string }

// section is one workload.
type section struct {
	ID, Title, Desc string
	Latency         bool
	Notes           []string
	After           []string // notes after the tables
	// An explored workload: the tables of summary.txt.
	Fixes    []fixRow
	Failures *bench.FailureData
	None     string // no failure fired: the rule-of-three bound
	Searched bool   // some cell has verdicts
	CutShort []string
	// A latency workload.
	Lat         *bench.LatencyData
	DistOp      string
	Dist        []*bench.DistRow
	Counts      []*bench.CountRow
	RunFailures []string
	// Pictures.
	Plots     []*figure
	Diagrams  []*diagram
	Schedules []*schedule // first failures without a diagram
}

type fixRow struct {
	R                     *bench.Record
	Failing, Rate, Search string
}

// figure is one embedded picture.
type figure struct {
	ID, Caption, File string
	SVG               template.HTML
}

// diagram is a first failure's race diagram: the CPU columns (text), the
// swim lanes (SVG) and the command that replays it.
type diagram struct {
	ID, Caption, File string
	Text              string
	SVG               template.HTML
	Replay            string
}

// schedule is a first failure without a diagram: none was drawn, or the
// one drawn is Missing from the directory.
type schedule struct {
	Caption, Replay string
	Missing         bool
}

// state is what summary.txt's first line says of the run (Manifest.State),
// and whether to mark it.
func state(m *bench.Manifest) (string, bool) {
	if m.Absent {
		return "unknown: the directory has no manifest.json, so nothing says whether the run finished", true
	}
	return m.State(), !m.Complete
}

// facts are the run's facts that do not depend on when, where or how
// (in one piece or in shards) it was made.
func facts(m *bench.Manifest, recs []*bench.Record) []fact {
	or := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	fs := []fact{
		{"revision", or(m.GitRevision)},
		{"Go", or(m.GoVersion)},
	}
	if m.Host.GOOS != "" {
		fs = append(fs, fact{"platform", m.Host.GOOS + "/" + m.Host.GOARCH})
	}
	seed := strconv.FormatUint(m.Seed, 10)
	if m.Absent {
		seed = "unknown"
	}
	fs = append(fs, fact{"seed", seed})
	if m.Runs > 0 {
		fs = append(fs, fact{"executions per race cell", strconv.Itoa(m.Runs)})
	}
	if m.Count > 0 {
		fs = append(fs, fact{"executions per timed cell", strconv.Itoa(m.Count)})
	}
	if len(m.CPUs) > 0 {
		var cs []string
		for _, n := range m.CPUs {
			cs = append(cs, strconv.Itoa(n))
		}
		fs = append(fs, fact{"simulated CPUs (timed cells)", strings.Join(cs, ", ")})
	}
	if m.VerifyStates > 0 {
		fs = append(fs, fact{"exhaustive search", fmt.Sprintf("every race cell, at most %d states each", m.VerifyStates)})
	}
	if n := len(m.VerifyErrors); n > 0 {
		fs = append(fs, fact{"searches that FAILED", fmt.Sprintf("%d (no verdicts; manifest.json: verify_errors)", n)})
	}
	if m.Shard != nil {
		fs = append(fs, fact{"shard", fmt.Sprintf("%s: a part of every cell; pagelab merge combines the shards", m.Shard)})
	}
	fs = append(fs, fact{"cells", strconv.Itoa(len(recs))})
	return fs
}

// isPicture reports whether f, relative to a results directory with
// slashes, is one of the files the report shows: a plot's or diagram's
// SVG, or a diagram's text.
func isPicture(f string) bool {
	return (strings.HasPrefix(f, PlotsDir+"/") || strings.HasPrefix(f, DiagramsDir+"/")) && strings.HasSuffix(f, ".svg") ||
		strings.HasPrefix(f, DiagramsDir+"/") && strings.HasSuffix(f, ".txt")
}

// listFiles lists the pictures and diagram texts of dir, relative to it
// with slashes, as a set.
func listFiles(dir string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, sub := range []string{PlotsDir, DiagramsDir} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || e.IsDir() {
				continue
			}
			if f := sub + "/" + name; isPicture(f) {
				out[f] = true
			}
		}
	}
	return out, nil
}

func workloadSection(dir, w string, rs []*bench.Record, files, used, missing map[string]bool) (*section, error) {
	s := &section{ID: w, Title: w, Latency: rs[0].Latency != nil}
	if wl, err := workloads.Lookup(w); err == nil {
		s.Desc = wl.Desc
	}
	if s.Latency {
		s.Lat = bench.LatencyTable(w, rs)
		s.DistOp, s.Dist = bench.DistTable(w, rs)
		s.Counts = bench.CountTable(rs)
		for _, r := range rs {
			for f := mm.Failure(0); f < mm.NumFailures; f++ {
				id := f.String()
				if k := r.Failures[id]; k > 0 {
					s.RunFailures = append(s.RunFailures, fmt.Sprintf("%s at %d CPUs: %s in %d of %d runs", r.Fix, r.CPUs, id, k, r.Runs))
				}
			}
		}
	} else {
		d := bench.FailureTable(w, rs)
		s.Failures = d
		s.Notes = append(s.Notes, fmt.Sprintf("%s, %d runs per fix.", d.Strategy, d.Base.Runs))
		if note := bench.SamplerNote(w, d.Base.Strategy, d.Base.Focus); note != "" {
			s.Notes = append(s.Notes, note+".")
		}
		if len(d.IDs) == 0 {
			s.None = fmt.Sprintf("No failure fired under any variant. With %d runs, the rule of three bounds each failure's per-run probability by %.2g (95%%).",
				d.Base.Runs, bench.RuleOfThree(d.Base.Runs))
		}
		for _, r := range rs {
			row := fixRow{R: r, Failing: strconv.Itoa(r.Failing), Rate: "0", Search: "not searched"}
			if r.Runs > 0 {
				row.Rate = bench.Rate(float64(r.Failing) / float64(r.Runs))
			}
			if r.Verified() {
				s.Searched = true
				row.Search = r.SearchText()
				if why := r.CutShort(); why != "" {
					s.CutShort = append(s.CutShort, r.Fix+": "+why)
				}
			}
			s.Fixes = append(s.Fixes, row)
		}
		if b := d.Base; b != nil {
			if note := bench.BoundNote(b.Strategy, b.Depth, b.PCTBound, b.PCTTasks, b.PCTSteps); note != "" {
				s.After = append(s.After, strings.ReplaceAll(note, "1/(n*k^(d-1))", "1/(n·k^(d−1))"))
			}
		}
	}
	plots, err := workloadPlots(dir, w, files, used, "")
	if err != nil {
		return nil, err
	}
	s.Plots = plots
	// The first failures: a diagram where the directory has one, the
	// schedule alone otherwise.
	for _, r := range rs {
		type first struct {
			id, sched string
			search    bool
		}
		var firsts []first
		for f := mm.Failure(0); f < mm.NumFailures; f++ {
			if sc := r.FirstFailure[f.String()]; sc != "" {
				firsts = append(firsts, first{f.String(), sc, false})
			}
		}
		for _, id := range r.SearchOnly() {
			if sc := r.Verify.FirstFailure[id]; sc != "" {
				firsts = append(firsts, first{id, sc, true})
			}
		}
		for _, f := range firsts {
			caption := fmt.Sprintf("%s under %s: %s, the first failing run", w, r.Fix, f.id)
			if r.CPUs > 0 {
				caption = fmt.Sprintf("%s under %s at %d CPUs: %s, the first failing run", w, r.Fix, r.CPUs, f.id)
			}
			if f.search {
				caption = fmt.Sprintf("%s under %s: %s, found by the exhaustive search (no sampled run fired it)", w, r.Fix, f.id)
			}
			replay := "pagelab replay -schedule " + shellQuote(f.sched)
			base := bench.DiagramFile(w, r.Fix, f.id)
			if r.CPUs > 0 || !files[base+".txt"] && !files[base+".svg"] {
				s.Schedules = append(s.Schedules, &schedule{Caption: caption, Replay: replay,
					Missing: missing[base+".txt"] || missing[base+".svg"]})
				continue
			}
			d := &diagram{ID: "diagram-" + path.Base(base), Caption: caption, Replay: replay}
			if err := d.load(dir, base, files); err != nil {
				return nil, err
			}
			// The diagram draws the run's failure shrunk, and ends with
			// the schedule it drew: that is the one to replay beside it,
			// as pagelab run prints it (results.jsonl keeps the run's own).
			if sc, own := drawnSchedule(d.Text), parseSchedule(f.sched); sc != nil && own != nil &&
				sc.Workload == own.Workload && sc.Fix == own.Fix && slices.Equal(sc.Params, own.Params) {
				d.Replay = "pagelab replay -schedule " + shellQuote(sc.String())
				d.Caption += ", shrunk"
			}
			used[base+".txt"], used[base+".svg"] = true, true
			s.Diagrams = append(s.Diagrams, d)
		}
	}
	return s, nil
}

// parseSchedule is the schedule s, or nil when it does not parse.
func parseSchedule(s string) *sim.Schedule {
	sc, err := sim.ParseSchedule(s)
	if err != nil {
		return nil
	}
	return sc
}

// drawnSchedule is the schedule a diagram's text ends with (the lines
// after its last "schedule:" line), or nil when it has none that parses.
func drawnSchedule(text string) *sim.Schedule {
	i := strings.LastIndex(text, "\nschedule:\n")
	if i < 0 {
		return nil
	}
	return parseSchedule(strings.TrimSpace(text[i+len("\nschedule:\n"):]))
}

// load reads the diagram's text and picture (base without extension).
func (d *diagram) load(dir, base string, files map[string]bool) error {
	if files[base+".txt"] {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(base+".txt")))
		if err != nil {
			return err
		}
		d.Text = string(b)
		d.File = base + ".txt"
	}
	if files[base+".svg"] {
		fig, err := loadFigure(dir, base+".svg", "", "")
		if err != nil {
			return err
		}
		d.SVG = fig.SVG
		if d.File != "" {
			d.File += ", "
		}
		d.File += base + ".svg"
	}
	return nil
}

// loadFigure reads and embeds the picture dir/name; idPrefix tells apart
// the pictures of two directories on one page.
func loadFigure(dir, name, caption, idPrefix string) (*figure, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	id := idPrefix + figureID(name)
	svg, err := embedSVG(b, id+"-")
	if err != nil {
		return nil, &FileError{filepath.Join(dir, filepath.FromSlash(name)), err}
	}
	return &figure{ID: id, Caption: caption, File: name, SVG: template.HTML(svg)}, nil
}

var nonID = regexp.MustCompile(`[^A-Za-z0-9_.+-]+`)

// figureID is the element id of the picture file name.
func figureID(name string) string {
	name = strings.TrimSuffix(name, ".svg")
	kind, rest, _ := strings.Cut(name, "/")
	if kind == PlotsDir {
		return "plot-" + nonID.ReplaceAllString(rest, "_")
	}
	return "diagram-svg-" + nonID.ReplaceAllString(rest, "_")
}

// plotKinds are the plots a workload has, in the order the page shows
// them, with their captions; those drawn per CPU count end in -Ncpus.
var plotKinds = []struct {
	prefix  string
	perCPU  bool
	caption string
}{
	{"failures-", false, "Failing runs per fix with 95% Wilson intervals; verified zeros ringed, contradicted zeros crossed out"},
	{"sweep-", false, "Throughput across the swept parameter"},
	{"throughput-", false, "Throughput against simulated CPUs, per fix"},
	{"latency-ecdf-", true, "Latency ECDF per fix"},
	{"latency-box-", true, "Latency box plots per fix"},
	{"walk-ecdf-", true, "Entries a writeback wake-up walk visits, ECDF per fix"},
}

var cpusSuffix = regexp.MustCompile(`^-([0-9]+)cpus$`)

// workloadPlots embeds the plots of workload w: plots/KIND-w.svg and
// plots/KIND-w-Ncpus.svg, in plotKinds order, by CPU count.
func workloadPlots(dir, w string, files map[string]bool, used map[string]bool, idPrefix string) ([]*figure, error) {
	type found struct {
		name         string
		group, kind  int
		cpus         int
		captionExtra string
	}
	var fs []found
	for name := range files {
		if !strings.HasPrefix(name, PlotsDir+"/") || !strings.HasSuffix(name, ".svg") {
			continue
		}
		base := strings.TrimSuffix(strings.TrimPrefix(name, PlotsDir+"/"), ".svg")
		for k, pk := range plotKinds {
			rest, ok := strings.CutPrefix(base, pk.prefix+w)
			if !ok {
				continue
			}
			if rest == "" && !pk.perCPU {
				fs = append(fs, found{name: name, group: 0, kind: k})
				break
			}
			if m := cpusSuffix.FindStringSubmatch(rest); m != nil && pk.perCPU {
				n, err := strconv.Atoi(m[1])
				if err != nil {
					continue
				}
				fs = append(fs, found{name: name, group: 1, kind: k, cpus: n, captionExtra: fmt.Sprintf(", %d CPUs", n)})
				break
			}
		}
	}
	slices.SortFunc(fs, func(a, b found) int {
		switch {
		case a.group != b.group:
			return a.group - b.group
		case a.cpus != b.cpus:
			return a.cpus - b.cpus
		case a.kind != b.kind:
			return a.kind - b.kind
		}
		return strings.Compare(a.name, b.name)
	})
	var out []*figure
	for _, f := range fs {
		fig, err := loadFigure(dir, f.name, plotKinds[f.kind].caption+f.captionExtra, idPrefix)
		if err != nil {
			return nil, err
		}
		used[f.name] = true
		out = append(out, fig)
	}
	return out, nil
}

// shellQuote quotes s for a POSIX shell, in single quotes.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
