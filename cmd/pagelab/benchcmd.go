package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/pagelab/pagelab/bench"
	"github.com/pagelab/pagelab/fixes"
	"github.com/pagelab/pagelab/mm"
	"github.com/pagelab/pagelab/plots"
	"github.com/pagelab/pagelab/sim"
	"github.com/pagelab/pagelab/workloads"
)

// cmdBench runs the standard matrix — every workload under its fix variants
// — and writes a results directory.
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var out, label, workload, fixList, cpuList string
	var runs, count int
	var seed uint64
	var noPlots bool
	fs.StringVar(&out, "o", "", "results directory (default results/<label>)")
	fs.StringVar(&label, "label", "", "name of the run under results/ (default: the UTC time)")
	fs.StringVar(&workload, "workload", "all", "workload ids, comma-separated, or all")
	fs.StringVar(&fixList, "fix", "all", "fix variants, comma-separated, or all (each workload's family)")
	fs.IntVar(&runs, "runs", 100000, "executions per explored (race) cell")
	fs.IntVar(&count, "count", 6, "executions per timed (latency) cell, one seed each (6 or more for 95% intervals)")
	fs.StringVar(&cpuList, "cpus", "4,16,64", "simulated CPU counts of the timed cells")
	fs.Uint64Var(&seed, "seed", 1, "seed")
	fs.BoolVar(&noPlots, "noplots", false, "do not draw the plots")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if runs < 1 || count < 1 {
		return usagef("bench: -runs and -count must be at least 1")
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
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return usagef("bench: %s already exists and is not empty (choose another -label or -o)", out)
	}
	cpus, err := parseCPUs(cpuList)
	if err != nil {
		return err
	}
	var wls []*workloads.Workload
	if workload == "all" {
		wls = workloads.All()
	} else {
		for _, id := range strings.Split(workload, ",") {
			wl, err := workloads.Lookup(id)
			if err != nil {
				return usagef("bench: %v", err)
			}
			wls = append(wls, wl)
		}
	}
	var cfgs []*bench.Config
	total := 0
	for _, wl := range wls {
		ids := wl.Fixes
		if fixList != "all" {
			ids = strings.Split(fixList, ",")
		}
		for _, id := range ids {
			v, err := fixes.Parse(id)
			if err != nil {
				return usagef("bench: %v", err)
			}
			if wl.Latency {
				for _, n := range cpus {
					cfgs = append(cfgs, &bench.Config{Workload: wl, Params: wl.Defaults(), Variant: v, Strategy: "timed",
						Seed: seed, Runs: count, CPUs: n, Costs: sim.DefaultCosts(), MaxSteps: bench.TimedMaxSteps(wl)})
					total += count
				}
				continue
			}
			cfgs = append(cfgs, &bench.Config{Workload: wl, Params: wl.Defaults(), Variant: v, Strategy: "random",
				Preempt: bench.DefaultPreempt, Seed: seed, Runs: runs})
			total += runs
		}
	}

	interrupted, release := watchInterrupt()
	defer release()

	progress := newProgress(stderr, total)
	m := &bench.Manifest{
		Command: os.Args, GitRevision: gitRevision(), GoVersion: runtime.Version(),
		Host: bench.Host{Hostname: hostname(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()},
		Seed: seed, Runs: runs, Count: count, CPUs: cpus, Start: start.Format(time.RFC3339),
		Complete: true, CellsTotal: len(cfgs),
	}
	for _, wl := range wls {
		m.Workloads = append(m.Workloads, wl.ID)
	}
	var recs []*bench.Record
	done := 0
	for i, cfg := range cfgs {
		cellStart := time.Now()
		base := done
		cfg.Progress = func(n int) { progress.set(base + n) }
		c, err := bench.Run(cfg, interrupted)
		if errors.Is(err, bench.ErrInterrupted) {
			if c.Runs > 0 {
				recs = append(recs, bench.NewRecord(c))
			}
			m.Complete = false
			break
		}
		if err != nil {
			return err
		}
		done += cfg.Runs
		recs = append(recs, bench.NewRecord(c))
		m.Cells = i + 1
		progress.cell(fmt.Sprintf("cell %d/%d %s %s%s: %d runs, %d failing (%.1fs)", i+1, len(cfgs), c.Workload, c.Fix,
			cpusSuffix(c.CPUs), c.Runs, c.Failing, time.Since(cellStart).Seconds()))
	}
	progress.finish()
	m.End = time.Now().UTC().Format(time.RFC3339)
	if len(recs) == 0 {
		return fmt.Errorf("interrupted before any run finished: nothing written")
	}
	diagrams, err := drawDiagrams(out, recs)
	if err != nil {
		return err
	}
	m.Files = append(m.Files, diagrams...)
	if !noPlots {
		files, err := plots.Draw(out, recs)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, files...)
	}
	if err := bench.WriteResults(out, m, recs); err != nil {
		return err
	}
	summary, err := os.ReadFile(filepath.Join(out, bench.SummaryFile))
	if err != nil {
		return err
	}
	if _, err := stdout.Write(summary); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pagelab: results in %s\n", out)
	if !m.Complete {
		return fmt.Errorf("interrupted: %s holds the %d cells that finished and the runs of the one cut short (manifest: complete=false)", out, m.Cells)
	}
	return nil
}

func cpusSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %d cpus", n)
}

func gitRevision() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
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
// cell otherwise (CI logs).
type progress struct {
	bar *progressbar.ProgressBar
	w   io.Writer
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("pagelab bench"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) set(n int) {
	if p.bar != nil {
		p.bar.Set(n)
	}
}

func (p *progress) cell(line string) {
	if p.bar == nil {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// drawDiagrams writes, for the first failure of every explored cell, its
// shrunk race diagram as text and SVG.
func drawDiagrams(dir string, recs []*bench.Record) ([]string, error) {
	var files []string
	for _, r := range recs {
		for _, id := range slices.Sorted(maps.Keys(r.FirstFailure)) {
			f, ok := mm.ParseFailure(id)
			if !ok || f == mm.Hang || f == mm.Livelock {
				continue
			}
			cfg, err := replayConfig("bench", r.FirstFailure[id], "", "", "")
			if err != nil {
				return nil, err
			}
			d, err := bench.DrawFailure(cfg, f, false)
			if err != nil {
				// A failure that needs the rest of a random execution
				// cannot always be drawn from its schedule alone.
				continue
			}
			name := bench.DiagramFile(r.Workload, r.Fix, id)
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
