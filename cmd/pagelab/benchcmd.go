package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/plots"
	"github.com/pagelab/pagelab/report"
	"github.com/pagelab/pagelab/sim"
)

// cmdBench runs the standard matrix — every workload under its fix variants
// — and writes a results directory.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var out, label, workload, fixList, cpuList, shardFlag string
	var runs, count, verifyStates, jobs, shards int
	var seed uint64
	var noPlots bool
	var maxMemory string
	fs.StringVar(&out, "o", "", "results directory (default results/<label>)")
	fs.StringVar(&label, "label", "", "name of the run under results/ (default: the UTC time)")
	fs.StringVar(&workload, "workload", "all", "workload ids, comma-separated, or all")
	fs.StringVar(&fixList, "fix", "all", "fix variants, comma-separated, or all (each workload's family)")
	fs.IntVar(&runs, "runs", 100000, "executions per explored (race) cell")
	fs.IntVar(&count, "count", 6, "executions per timed (latency) cell, one seed each (6 or more for 95% intervals)")
	fs.StringVar(&cpuList, "cpus", "4,16,64", "simulated CPU counts of the timed cells")
	fs.Uint64Var(&seed, "seed", 1, "seed")
	fs.BoolVar(&noPlots, "noplots", false, "do not draw the plots")
	fs.StringVar(&maxMemory, "max-memory", fmtBytes(DefaultMaxMemory), "memory budget: past it the run stops and writes what finished, marked partial")
	fs.IntVar(&verifyStates, "verify-states", bench.DefaultVerifyStates, "exhaustive search of every race cell (pagelab verify): budget of distinct states per cell (unknown beyond); 0: no search")
	fs.IntVar(&jobs, "j", runtime.GOMAXPROCS(0), "goroutines: cells are cut into parts that run at once, beside the exhaustive searches (the results are the same, byte for byte, for any value)")
	fs.StringVar(&shardFlag, "shard", "", "run only part i of n, e.g. 0/4: executions ⌊runs·i/n⌋ up to ⌊runs·(i+1)/n⌋ of every cell and the searches of cells j with j mod n = i; pagelab merge combines the n directories into the whole run's (default: from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with -shards)")
	fs.IntVar(&shards, "shards", 0, "shard count, for a shard index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	shard, err := resolveShard("bench", shardFlag, shards, os.Getenv)
	if err != nil {
		return err
	}
	if runs < 1 || runs > bench.MaxRuns || count < 1 || count > bench.MaxRuns {
		return usagef("bench: -runs %d, -count %d out of range (valid: 1 to %d)", runs, count, bench.MaxRuns)
	}
	budget, err := parseBytes("bench: -max-memory", maxMemory)
	if err != nil {
		return err
	}
	if verifyStates < 0 {
		return usagef("bench: -verify-states %d: want 0 (no search) or more", verifyStates)
	}
	if jobs < 1 || jobs > 256 {
		return usagef("bench: -j %d out of range (valid: 1 to 256)", jobs)
	}
	if out != "" && label != "" {
		return usagef("bench: give -o or -label, not both")
	}
	start := time.Now().UTC()
	if out == "" {
		if label == "" {
			label = start.Format("20060102T150405Z")
		}
		if strings.ContainsAny(label, "/\\") || label == "." || label == ".." {
			return usagef("bench: -label %q must be a plain name", label)
		}
		out = filepath.Join("results", label)
	}
	destFlag := "-o"
	if label != "" {
		destFlag = "-label"
	}
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return usagef("bench: %s %s is not a directory", destFlag, out)
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return usagef("bench: %s already exists and is not empty (choose another -label or -o)", out)
	}
	cpus, err := parseCPUs("bench", cpuList)
	if err != nil {
		return err
	}
	wls, err := resolveWorkloads("bench", workload)
	if err != nil {
		return err
	}
	perFix, notes, err := resolveFixes("bench", wls, fixList)
	if err != nil {
		return err
	}
	var cfgs []*bench.Config
	for i, wl := range wls {
		for _, v := range perFix[i] {
			if wl.Latency {
				for _, n := range cpus {
					cfgs = append(cfgs, &bench.Config{Workload: wl, Params: wl.Defaults(), Variant: v, Strategy: "timed",
						Seed: seed, Runs: count, CPUs: n, Costs: sim.DefaultCosts(), MaxSteps: bench.TimedMaxSteps(wl)})
				}
				continue
			}
			cfgs = append(cfgs, bench.SamplerConfig(wl, wl.Defaults(), v, seed, runs))
		}
	}

	plan := bench.Plan(cfgs, verifyStates, !noPlots)
	// The exhaustive search of every race cell, cfgs[vcell[j]] searched
	// by vcfgs[j]; a shard i/n searches the cells j with j mod n = i.
	var vcfgs []*bench.VerifyConfig
	var vcell []int
	for i, cfg := range cfgs {
		if verifyStates > 0 && cfg.Workload.Race != "" && !cfg.Workload.Latency {
			if shard == nil || len(vcell)%shard.Count == shard.Index {
				vcfgs = append(vcfgs, &bench.VerifyConfig{Workload: cfg.Workload, Params: cfg.Workload.Defaults(), Variant: cfg.Variant,
					Mode: sim.SourceSets, MaxStates: verifyStates})
			}
			vcell = append(vcell, i)
		}
	}
	if shard != nil {
		// Every cell's executions, in n parts: each part must have one.
		if runs < shard.Count || count < shard.Count {
			return usagef("bench: -shard %s: -runs %d and -count %d must be at least the shard count %d (every shard runs a part of every cell)", shard, runs, count, shard.Count)
		}
		var own []int
		for j, i := range vcell {
			if j%shard.Count == shard.Index {
				own = append(own, i)
			}
		}
		vcell = own
		for _, cfg := range cfgs {
			cfg.First, cfg.Runs = bench.ShardRange(cfg.Runs, shard.Index, shard.Count)
		}
	}

	in := watchInterrupt()
	defer in.release()
	in.watchMemory(budget)
	interrupted := in.stopped
	// Returning early (an error) stops the searches too.
	var abandon atomic.Bool
	defer abandon.Store(true)
	stopSearch := func() bool { return abandon.Load() || interrupted() }

	m := &bench.Manifest{
		Command: os.Args, GitRevision: gitRevision(), GoVersion: runtime.Version(),
		Host: bench.Host{Hostname: hostname(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()},
		Seed: seed, Runs: runs, Count: count, CPUs: cpus, Start: start.Format(time.RFC3339),
		Complete: true, CellsTotal: len(cfgs), VerifyStates: verifyStates, VerifyCellsTotal: len(vcfgs),
		Plan: plan, NoPlots: noPlots, Shard: shard,
	}
	for _, wl := range wls {
		m.Workloads = append(m.Workloads, wl.ID)
	}
	// The destination is claimed before the first cell: a path that
	// cannot be a results directory fails now, not after the work.
	if err := bench.ClaimDir(out, m); err != nil {
		switch {
		case errors.Is(err, bench.ErrDirTaken):
			return usagef("bench: %v (choose another -label or -o)", err)
		case errors.Is(err, syscall.ENAMETOOLONG):
			return usagef("bench: %s %s: name too long for the file system", destFlag, out)
		case errors.Is(err, syscall.ENOTDIR):
			return usagef("bench: %s %s: a file stands where a directory of the path should be", destFlag, out)
		case errors.Is(err, os.ErrExist):
			return usagef("bench: %s %s: taken by something that is not a directory (a dangling symbolic link?)", destFlag, out)
		}
		return fmt.Errorf("bench: cannot create the results directory (%s %s): %v", destFlag, out, err)
	}
	ioErr := func(err error) error {
		return fmt.Errorf("bench: writing %s (%s): %v; the directory is marked incomplete", out, destFlag, err)
	}
	name := "pagelab bench"
	if shard != nil {
		name += " shard " + shard.String()
	}
	for _, n := range notes {
		fmt.Fprintln(stderr, "pagelab:", n)
	}
	progress := newProgress(stderr, name, cfgs, len(vcfgs))

	// The searches and the cells' parts share -j goroutines, each search
	// once its cell is finished, ahead of the parts not yet started, so
	// that the parts fill in around the searches at the end
	// (bench.Batch's After). A finished search always has its cell's
	// record to join.
	results := make([]*bench.VerifyResult, len(vcfgs))
	var searchMu sync.Mutex
	searchesDone := 0
	var searches []bench.AfterCell
	for j, cfg := range vcfgs {
		searches = append(searches, bench.AfterCell{Cell: vcell[j], Run: func() {
			t0 := time.Now()
			v, err := bench.Verify(cfg, stopSearch)
			r := &bench.VerifyResult{V: v, Err: err, Elapsed: time.Since(t0)}
			searchMu.Lock()
			defer searchMu.Unlock()
			results[j] = r
			if errors.Is(r.Err, bench.ErrInterrupted) || (r.V != nil && r.V.Interrupted) {
				return
			}
			searchesDone++
			n := searchesDone
			if r.Err != nil {
				progress.search(n, fmt.Sprintf("search %d/%d %s %s: error: %s (%.1fs)", n, len(vcfgs), cfg.Workload.ID, cfg.Variant.ID,
					firstLine(r.Err.Error()), r.Elapsed.Seconds()))
				return
			}
			progress.search(n, fmt.Sprintf("search %d/%d %s %s: %s (%d states, %d executions, %.1fs)", n, len(vcfgs), v.Workload, v.Fix,
				v.Summary(), v.Stats.States, v.Stats.Executions, r.Elapsed.Seconds()))
		}})
	}
	newRec := func(c *bench.Cell) (*bench.Record, error) {
		if shard != nil {
			return bench.NewPartRecord(c, *shard)
		}
		return bench.NewRecord(c), nil
	}
	var recs []*bench.Record
	cellStart := make([]time.Time, len(cfgs))
	batch := &bench.Batch{
		Cfgs: cfgs, Jobs: jobs, Stop: interrupted, After: searches,
		Started:  func(i int) { cellStart[i] = time.Now() },
		Progress: progress.set,
		CellDone: func(i int, c *bench.Cell) error {
			r, err := newRec(c)
			if err != nil {
				return err
			}
			recs = append(recs, r)
			m.Cells = i + 1
			if err := bench.WriteProgress(out, m, recs); err != nil {
				return ioErr(err)
			}
			progress.cell(fmt.Sprintf("cell %d/%d %s %s%s: %d runs, %d failing (%.1fs)", i+1, len(cfgs), c.Workload, c.Fix,
				cpusSuffix(c.CPUs), c.Runs, c.Failing, time.Since(cellStart[i]).Seconds()))
			return nil
		},
	}
	cells, err := batch.Run()
	switch {
	case errors.Is(err, bench.ErrInterrupted):
		m.Complete = false
		if len(cells) > len(recs) {
			r, err := newRec(cells[len(cells)-1])
			if err != nil {
				return err
			}
			recs = append(recs, r)
		}
	case err != nil:
		return err
	}
	for j, r := range results {
		if r == nil {
			results[j] = &bench.VerifyResult{Err: bench.ErrInterrupted}
		}
	}
	progress.finish()
	// A search that failed (an error of the model or the search, not a
	// verdict) leaves its cell without verdicts; the run then ends with
	// an error, after writing everything else.
	var searchErr error
	for j, r := range results {
		if r.Err != nil && !errors.Is(r.Err, bench.ErrInterrupted) {
			err := fmt.Errorf("exhaustive search of %s under %s: %v", vcfgs[j].Workload.ID, vcfgs[j].Variant.ID, r.Err)
			m.VerifyErrors = append(m.VerifyErrors, err.Error())
			if searchErr == nil {
				searchErr = err
			}
			continue
		}
		if r.V == nil || r.V.Interrupted {
			m.Complete = false
			continue
		}
		if i := vcell[j]; i < len(recs) {
			m.VerifyCells++
			recs[i].SetVerification(r.V, verifyStates)
			if m.VerifySeconds == nil {
				m.VerifySeconds = map[string]float64{}
			}
			m.VerifySeconds[recs[i].Key()] = math.Round(r.Elapsed.Seconds()*1000) / 1000
		}
	}
	m.End = time.Now().UTC().Format(time.RFC3339)
	if len(recs) == 0 {
		// Only the claim is there: take it back.
		os.Remove(filepath.Join(out, bench.ManifestFile))
		os.Remove(out) // if it is empty: it may have been before the run
		return in.errorf("before any run finished: nothing written")
	}
	if err := writeDir(out, m, recs, stdout, stderr); err != nil {
		var c contradiction
		var so stdoutError
		switch {
		case errors.As(err, &c):
			return fmt.Errorf("bench: %w", c.error)
		case errors.As(err, &so):
			return fmt.Errorf("bench: printing the summary: %v (the results in %s are whole)", so.error, out)
		}
		return ioErr(err)
	}
	fmt.Fprintf(stderr, "pagelab: results in %s\n", out)
	if searchErr != nil {
		return fmt.Errorf("%d of %d exhaustive searches failed, their cells have no verdicts (manifest.json: verify_errors, in full); the first: %s",
			len(m.VerifyErrors), len(vcfgs), firstLine(searchErr.Error()))
	}
	if !m.Complete && m.Cells == m.CellsTotal {
		return in.errorf("%s holds every cell, %d of %d with the verdicts of their exhaustive search (manifest: complete=false)", out, m.VerifyCells, m.VerifyCellsTotal)
	}
	if !m.Complete {
		return in.errorf("%s holds the %d cells that finished and the runs of the one cut short, marked partial (manifest: complete=false)", out, m.Cells)
	}
	return nil
}

// contradiction is a record whose random runs fired what its exhaustive
// search verified.
type contradiction struct{ error }

// writeDir completes a results directory from its records: the records
// first, verdicts included, then what is drawn from them (race diagrams,
// plots and report.html; a shard has none: pagelab merge draws them for
// the whole run), then the summary, the benchmark file and the manifest, and prints
// the summary. A random run that fired what the search verified is a bug
// in the model or the search: it says so rather than write a
// contradiction.
func writeDir(out string, m *bench.Manifest, recs []*bench.Record, stdout, stderr io.Writer) error {
	for _, r := range recs {
		if err := r.CheckVerdicts(); err != nil {
			return contradiction{err}
		}
	}
	if err := bench.WriteProgress(out, m, recs); err != nil {
		return err
	}
	if m.Shard == nil {
		diagrams, err := drawDiagrams(out, recs, stderr)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, diagrams...)
		if !m.NoPlots {
			files, err := plots.Draw(out, recs)
			if err != nil {
				return err
			}
			m.Files = append(m.Files, files...)
		}
		// The page of it all, from the files just written.
		if err := report.WriteRecords(out, m, recs); err != nil {
			return err
		}
		m.Files = append(m.Files, report.File)
	}
	if err := bench.WriteResults(out, m, recs); err != nil {
		return err
	}
	summary, err := os.ReadFile(filepath.Join(out, bench.SummaryFile))
	if err != nil {
		return err
	}
	if _, err := stdout.Write(summary); err != nil {
		// The directory is whole: only the copy on stdout failed.
		return stdoutError{err}
	}
	return nil
}

// stdoutError is a failed write of the summary to stdout, after the
// results directory was written whole.
type stdoutError struct{ error }

// firstLine is an error's first line (a model's panic carries its stack).
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func cpusSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d cpus", n)
}

// gitRevision is the revision the binary was built from, by the build's
// VCS stamp (go build in a git checkout records it), not the repository of
// the current directory: a results directory must name the code that
// produced it. "unknown" when the binary carries no stamp (go test, or a
// build with -buildvcs=false).
func gitRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return vcsRevision(info.Settings)
}

// vcsRevision formats the vcs.revision and vcs.modified build settings as
// a 12-digit revision, "-dirty" when the tree had uncommitted changes.
func vcsRevision(settings []debug.BuildSetting) string {
	rev, dirty := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// progress shows a progress bar on a terminal and one line per finished
// cell or search otherwise (CI logs). The bar tracks time: its position is
// the share of the estimated total time already spent (eta), so that the
// few long timed executions weigh what they cost; its description counts
// the finished searches.
type progress struct {
	mu          sync.Mutex
	bar         *progressbar.ProgressBar
	w           io.Writer
	tty         bool
	searches    int // finished
	searchTotal int
	name        string
	eta         *eta
}

func newProgress(w io.Writer, name string, cfgs []*bench.Config, searches int) *progress {
	p := &progress{w: w, searchTotal: searches, name: name, eta: newETA(cfgs, time.Now())}
	if isTerminal(w) {
		p.tty = true
		p.bar = newBar(w, etaScale, p.describe())
	}
	return p
}

// isTerminal reports whether w is a terminal: where progress bars go
// (off one, a CI log or a pipe, they stay out).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newBar(w io.Writer, total int, desc string) *progressbar.ProgressBar {
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func (p *progress) describe() string {
	if p.searchTotal == 0 {
		return p.name
	}
	return fmt.Sprintf("%s (searches %d/%d)", p.name, p.searches, p.searchTotal)
}

// set reports n finished executions of cell i.
func (p *progress) set(i, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eta.set(i, n, time.Now())
	if p.bar != nil {
		p.bar.Set(p.eta.position(time.Now()))
	}
}

func (p *progress) cell(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		fmt.Fprintln(p.w, line)
	}
}

// search reports the n-th finished search.
func (p *progress) search(n int, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.searches = n
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	p.bar.Describe(p.describe())
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}

// etaScale is the bar's resolution: permille of the estimated time.
const etaScale = 1000

// eta estimates how much of a list of cells' wall-clock time is spent. An
// execution costs units: 1 explored, the CPU count timed or native (their
// cost grows with it). Seconds per unit are measured per kind as the run
// goes; a kind not measured yet borrows the other's rate.
type eta struct {
	units   []float64 // per cell: units of one execution
	timed   []bool
	planned []int
	done    []int
	start   time.Time
	last    time.Time
	cur     int
	secs    [2]float64 // per kind (explored, timed): seconds measured
	spent   [2]float64 // and the units they bought
}

func newETA(cfgs []*bench.Config, now time.Time) *eta {
	e := &eta{start: now, last: now}
	for _, c := range cfgs {
		timed := c.Strategy == "timed" || c.Strategy == "native"
		u := 1.0
		if timed {
			u = float64(max(c.CPUs, 1))
		}
		e.units = append(e.units, u)
		e.timed = append(e.timed, timed)
		e.planned = append(e.planned, c.Runs)
		e.done = append(e.done, 0)
	}
	return e
}

func kind(timed bool) int {
	if timed {
		return 1
	}
	return 0
}

// set records that cell i has finished n executions at now.
func (e *eta) set(i, n int, now time.Time) {
	if i < 0 || i >= len(e.done) {
		return
	}
	if n > e.done[i] {
		k := kind(e.timed[i])
		e.secs[k] += now.Sub(e.last).Seconds()
		e.spent[k] += float64(n-e.done[i]) * e.units[i]
		e.done[i] = n
	}
	e.last, e.cur = now, i
}

// remaining is the estimated time still to spend.
func (e *eta) remaining() float64 {
	rate := [2]float64{}
	for k := range rate {
		if e.spent[k] > 0 {
			rate[k] = e.secs[k] / e.spent[k]
		}
	}
	for k := range rate {
		if rate[k] == 0 {
			rate[k] = rate[1-k]
		}
	}
	left := 0.0
	for i := range e.units {
		left += float64(max(e.planned[i]-e.done[i], 0)) * e.units[i] * rate[kind(e.timed[i])]
	}
	return left
}

// position is the bar's position: the share of the estimated total time
// spent, in etaScale units, never 100% before the end.
func (e *eta) position(now time.Time) int {
	spent := now.Sub(e.start).Seconds()
	total := spent + e.remaining()
	if total <= 0 {
		return 0
	}
	return min(int(etaScale*spent/total), etaScale-1)
}

// drawDiagrams writes, for the first failure of every explored cell (of
// its random runs, or of the search when only the search found it), its
// shrunk race diagram as text and SVG.
func drawDiagrams(dir string, recs []*bench.Record, stderr io.Writer) ([]string, error) {
	var files []string
	for _, r := range recs {
		if r.CPUs > 0 {
			// A timed or native cell's executions run for thousands
			// of steps, and some of its failures need the clock (a
			// soft lockup): its first failures keep their schedules
			// in results.jsonl, replayable, but are not drawn.
			continue
		}
		// The random runs' first failures, and those only the search found.
		first := maps.Clone(r.FirstFailure)
		for _, id := range r.SearchOnly() {
			if s := r.Verify.FirstFailure[id]; s != "" {
				first[id] = s
			}
		}
		for _, id := range slices.Sorted(maps.Keys(first)) {
			f, ok := mm.ParseFailure(id)
			if !ok || f == mm.Hang || f == mm.Livelock {
				continue
			}
			cfg, err := replayConfig("bench", first[id], "", "", "")
			if err != nil {
				return nil, err
			}
			name := bench.DiagramFile(r.Workload, r.Fix, id)
			d, err := bench.DrawFailure(cfg, f, false)
			if err != nil {
				// The schedule no longer fires its failure (results of
				// another revision of the model, or edited), or the
				// shrinker failed: said, not drawn. A diagram an
				// earlier run drew there is not this one's: removed.
				fmt.Fprintf(stderr, "pagelab: %s under %s: the diagram of %s is not drawn: %v\n", r.Workload, r.Fix, id, err)
				for _, ext := range []string{".txt", ".svg"} {
					if err := os.Remove(filepath.Join(dir, name+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
						return nil, err
					}
				}
				continue
			}
			if err := os.MkdirAll(filepath.Join(dir, "diagrams"), 0o755); err != nil {
				return nil, err
			}
			for ext, data := range map[string]string{".txt": d.Text, ".svg": d.SVG} {
				if err := bench.WriteFileAtomic(filepath.Join(dir, name+ext), []byte(data)); err != nil {
					return nil, err
				}
			}
			files = append(files, name+".txt", name+".svg")
		}
	}
	return files, nil
}
