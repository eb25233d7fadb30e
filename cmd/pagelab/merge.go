package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/pagelab/pagelab/bench"
)

// cmdMerge combines the directories of the n shards of a bench (pagelab
// bench -shard i/n) into one results directory: its records, summary,
// benchmark file, plots and diagrams are those the bench would have made
// in one piece; its manifest lists the shards.
func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	var dirs []string
	// parseFlags refuses arguments; merge's are OUT DIR...
	flagArgs := args
	for i, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-" {
			flagArgs, dirs = args[:i], args[i:]
			break
		}
		if a == "--" {
			flagArgs, dirs = args[:i], args[i+1:]
			break
		}
	}
	if err := parseFlags(fs, flagArgs); err != nil {
		var h helpRequested
		if errors.As(err, &h) {
			return helpRequested{"usage: pagelab merge OUT DIR...  or  pagelab merge OUT FILE...\n" +
				"  Combines the results directories of the n shards of one bench (pagelab bench\n" +
				"  -shard i/n, or a Slurm array or Kubernetes Indexed Job of them) into OUT,\n" +
				"  whose results.jsonl, bench.txt, summary.txt, plots and diagrams are those of\n" +
				"  the bench run in one piece; OUT's manifest.json lists the shards' hosts and\n" +
				"  times. It refuses shards of different benches, revisions or seeds, and a\n" +
				"  shard missing, given twice, incomplete or of another shard count.\n" +
				"  Given files (the JSON Lines of pagelab run -json -shard i/n), it writes OUT,\n" +
				"  the JSON Lines of the run made in one piece.\n"}
		}
		return err
	}
	if len(dirs) < 2 {
		return usagef("merge: want OUT DIR... (the new results directory, then every shard's directory)")
	}
	out, dirs := dirs[0], dirs[1:]
	if fi, err := os.Stat(dirs[0]); err == nil && fi.Mode().IsRegular() {
		return mergeRunFiles(out, dirs, stderr)
	}
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return usagef("merge: %s is not a directory", out)
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return usagef("merge: %s already exists and is not empty (choose another OUT)", out)
	}
	m, recs, err := mergeShards(dirs)
	if err != nil {
		return err
	}
	m.Host = bench.Host{Hostname: hostname(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU()}
	m.Command = os.Args
	if err := bench.ClaimDir(out, m); err != nil {
		switch {
		case errors.Is(err, bench.ErrDirTaken):
			return usagef("merge: %v (choose another OUT)", err)
		case errors.Is(err, syscall.ENAMETOOLONG):
			return usagef("merge: %s: name too long for the file system", out)
		}
		return fmt.Errorf("merge: cannot create %s: %v", out, err)
	}
	m.End = time.Now().UTC().Format(time.RFC3339)
	if err := writeDir(out, m, recs, stdout, stderr); err != nil {
		var c contradiction
		var so stdoutError
		switch {
		case errors.As(err, &c):
			return fmt.Errorf("merge: %w", c.error)
		case errors.As(err, &so):
			return fmt.Errorf("merge: printing the summary: %v (the results in %s are whole)", so.error, out)
		}
		return fmt.Errorf("merge: writing %s: %v; the directory is marked incomplete", out, err)
	}
	fmt.Fprintf(stderr, "pagelab: %d shards merged in %s\n", len(dirs), out)
	return nil
}

// mergeShards reads and checks the shards' directories and merges their
// records. Every refusal names the directory and the problem.
func mergeShards(dirs []string) (*bench.Manifest, []*bench.Record, error) {
	type shard struct {
		dir  string
		m    *bench.Manifest
		recs []*bench.Record
	}
	var shards []*shard
	for _, d := range dirs {
		m, recs, err := bench.ReadResults(d)
		if err != nil {
			return nil, nil, usagef("merge: %v", err)
		}
		if m.Absent || m.Shard == nil {
			return nil, nil, usagef("merge: %s is not a shard's directory (its manifest names no shard: made by pagelab bench -shard i/n?)", d)
		}
		if !m.Complete {
			return nil, nil, usagef("merge: shard %s (%s) is incomplete: it was interrupted or is still running (manifest: complete=false)", m.Shard, d)
		}
		shards = append(shards, &shard{d, m, recs})
	}
	first := shards[0]
	n := first.m.Shard.Count
	byIndex := make([]*shard, n)
	for _, s := range shards {
		sm := s.m
		switch {
		case sm.Shard.Count != n:
			return nil, nil, usagef("merge: %s is shard %s, %s is shard %s: different shard counts", first.dir, first.m.Shard, s.dir, sm.Shard)
		case sm.GitRevision != first.m.GitRevision:
			return nil, nil, usagef("merge: %s was made by revision %s, %s by %s: different revisions", first.dir, first.m.GitRevision, s.dir, sm.GitRevision)
		case sm.Seed != first.m.Seed:
			return nil, nil, usagef("merge: %s ran seed %d, %s seed %d: different seeds", first.dir, first.m.Seed, s.dir, sm.Seed)
		case sm.Plan != first.m.Plan || sm.Plan == "":
			return nil, nil, usagef("merge: %s and %s ran different benches (%q and %q)", first.dir, s.dir, shellJoin(sm.Command), shellJoin(first.m.Command))
		case sm.Host.GOOS != first.m.Host.GOOS || sm.Host.GOARCH != first.m.Host.GOARCH || sm.GoVersion != first.m.GoVersion:
			return nil, nil, usagef("merge: %s ran on %s/%s (%s), %s on %s/%s (%s): different builds", first.dir, first.m.Host.GOOS, first.m.Host.GOARCH,
				first.m.GoVersion, s.dir, sm.Host.GOOS, sm.Host.GOARCH, sm.GoVersion)
		case byIndex[sm.Shard.Index] != nil:
			return nil, nil, usagef("merge: shard %s given twice: %s and %s", sm.Shard, byIndex[sm.Shard.Index].dir, s.dir)
		}
		byIndex[sm.Shard.Index] = s
	}
	if missing := missingShards(n, func(i int) bool { return byIndex[i] != nil }); missing != "" {
		return nil, nil, usagef("merge: shard %s missing (give all %d shards' directories)", missing, n)
	}

	m := *byIndex[0].m
	m.Shard = nil
	m.Files = nil
	m.VerifyCells, m.VerifyCellsTotal, m.VerifySeconds, m.VerifyErrors = 0, 0, nil, nil
	var recs []*bench.Record
	for _, s := range byIndex {
		if len(s.recs) != m.CellsTotal {
			return nil, nil, usagef("merge: shard %s (%s) has %d records, want %d", s.m.Shard, s.dir, len(s.recs), m.CellsTotal)
		}
		m.VerifyCells += s.m.VerifyCells
		m.VerifyCellsTotal += s.m.VerifyCellsTotal
		m.VerifyErrors = append(m.VerifyErrors, s.m.VerifyErrors...)
		for k, v := range s.m.VerifySeconds {
			if m.VerifySeconds == nil {
				m.VerifySeconds = map[string]float64{}
			}
			m.VerifySeconds[k] = v
		}
		if s.m.Start < m.Start {
			m.Start = s.m.Start
		}
		m.Shards = append(m.Shards, bench.ShardInfo{Index: s.m.Shard.Index, Dir: s.dir, Command: s.m.Command, Host: s.m.Host,
			Start: s.m.Start, End: s.m.End})
	}
	for i := range m.CellsTotal {
		var merged *bench.Cell
		var verified *bench.Record
		planned := 0
		prev := ""
		for _, s := range byIndex {
			r := s.recs[i]
			if r.Key() != byIndex[0].recs[i].Key() {
				return nil, nil, usagef("merge: record %d of %s is %s, of %s %s: not the same bench", i+1, byIndex[0].dir, byIndex[0].recs[i].Key(), s.dir, r.Key())
			}
			if r.Part == nil || r.Part.Shard != *s.m.Shard {
				return nil, nil, usagef("merge: %s: record %d (%s) is not shard %s's part", s.dir, i+1, r.Key(), s.m.Shard)
			}
			if r.Verify != nil || r.Verdicts != nil {
				if verified != nil {
					return nil, nil, usagef("merge: %s: two shards searched %s", s.dir, r.Key())
				}
				verified = r
			}
			var err error
			if merged, err = mergeRecord(merged, r, s.dir, prev); err != nil {
				return nil, nil, err
			}
			planned += r.Runs
			prev = s.dir
		}
		want := m.Runs
		if merged.CPUs > 0 {
			want = m.Count
		}
		if merged.Runs != want {
			return nil, nil, usagef("merge: %s: the shards hold %d executions, the bench ran %d", merged.Workload+"/"+merged.Fix, merged.Runs, want)
		}
		merged.Planned = planned
		rec := bench.NewRecord(merged)
		if verified != nil {
			rec.Verdicts, rec.Verify = verified.Verdicts, verified.Verify
		}
		recs = append(recs, rec)
	}
	return &m, recs, nil
}

// shellJoin quotes a command line for a message.
func shellJoin(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}();&|<>!#~") {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// mergeRunFiles combines the outputs of pagelab run -json -shard i/n into
// the file OUT, the output of the run made in one piece.
func mergeRunFiles(out string, files []string, stderr io.Writer) error {
	if _, err := os.Lstat(out); err == nil {
		return usagef("merge: %s already exists (choose another OUT)", out)
	}
	var byIndex [][]*bench.Record
	var names []string
	n := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return usagef("merge: %v", err)
		}
		recs, err := bench.ReadRecords(f, name)
		f.Close()
		if err != nil {
			return usagef("merge: %v", err)
		}
		p := recs[0].Part
		if p == nil {
			return usagef("merge: %s is not a shard's output (made by pagelab run -json -shard i/n?)", name)
		}
		if byIndex == nil {
			n = p.Shard.Count
			byIndex = make([][]*bench.Record, n)
			names = make([]string, n)
		}
		for _, r := range recs {
			if r.Part == nil || r.Part.Shard != p.Shard {
				return usagef("merge: %s mixes shards (%s is not shard %s's)", name, r.Key(), p.Shard)
			}
		}
		switch {
		case p.Shard.Count != n:
			return usagef("merge: %s is shard %s, %s shard %s: different shard counts", names[byIndex0(byIndex)], byIndex[byIndex0(byIndex)][0].Part.Shard, name, p.Shard)
		case byIndex[p.Shard.Index] != nil:
			return usagef("merge: shard %s given twice: %s and %s", p.Shard, names[p.Shard.Index], name)
		}
		byIndex[p.Shard.Index], names[p.Shard.Index] = recs, name
	}
	if missing := missingShards(n, func(i int) bool { return byIndex[i] != nil }); missing != "" {
		return usagef("merge: shard %s missing (give all %d shards' files)", missing, n)
	}
	var b strings.Builder
	for i := range byIndex[0] {
		var merged *bench.Cell
		for s, recs := range byIndex {
			if len(recs) != len(byIndex[0]) {
				return usagef("merge: %s has %d records, %s %d: not the same run", names[s], len(recs), names[0], len(byIndex[0]))
			}
			r := recs[i]
			if r.Key() != byIndex[0][i].Key() || r.Seed != byIndex[0][i].Seed || r.Strategy != byIndex[0][i].Strategy {
				return usagef("merge: record %d of %s is %s (%s, seed %d), of %s %s (%s, seed %d): not the same run", i+1, names[0],
					byIndex[0][i].Key(), byIndex[0][i].Strategy, byIndex[0][i].Seed, names[s], r.Key(), r.Strategy, r.Seed)
			}
			if r.Partial {
				return usagef("merge: %s: %s was cut short (partial)", names[s], r.Key())
			}
			if r.Strategy == "dfs" && !r.Part.Exhausted {
				return usagef("merge: %s: %s stopped at its -runs bound before the end of its part of the enumeration: parts of an unfinished dfs do not merge into the whole (raise -runs)", names[s], r.Key())
			}
			var err error
			prev := ""
			if s > 0 {
				prev = names[s-1]
			}
			if merged, err = mergeRecord(merged, r, names[s], prev); err != nil {
				return err
			}
		}
		if r := byIndex[0][i]; r.Strategy == "dfs" && merged.Runs > r.Part.Bound {
			return usagef("merge: %s: the parts ran %d executions, more than the -runs bound %d the enumeration in one piece stops at: raise -runs to %d", r.Key(), merged.Runs, r.Part.Bound, merged.Runs)
		}
		if err := bench.NewRecord(merged).WriteJSON(&b); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("merge: %v", err)
	}
	if _, err := io.WriteString(f, b.String()); err != nil {
		f.Close()
		os.Remove(out)
		return fmt.Errorf("merge: writing %s: %v", out, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(out)
		return fmt.Errorf("merge: writing %s: %v", out, err)
	}
	fmt.Fprintf(stderr, "pagelab: %d shards merged in %s\n", n, out)
	return nil
}

// byIndex0 is the index of the first shard read.
func byIndex0(byIndex [][]*bench.Record) int {
	for i, r := range byIndex {
		if r != nil {
			return i
		}
	}
	return 0
}

// mergeRecord merges a shard's record (of the shard named name) into the
// cell of the shards before it, nil for the first, which must start at
// execution 0.
func mergeRecord(merged *bench.Cell, r *bench.Record, name, prev string) (*bench.Cell, error) {
	c, err := bench.PartCell(r)
	if err != nil {
		return nil, usagef("merge: %s: %v", name, err)
	}
	if merged == nil {
		if c.From != 0 {
			return nil, usagef("merge: %s: %s starts at execution %d, not 0", name, r.Key(), c.From)
		}
		return c, nil
	}
	if err := merged.MergePart(c); err != nil {
		// Either side may be the one edited: name both.
		return nil, usagef("merge: %s, after %s: %v", name, prev, err)
	}
	return merged, nil
}

// missingShards lists the shards i/n that have(i) says are missing, or "".
func missingShards(n int, have func(int) bool) string {
	var missing []string
	for i := range n {
		if !have(i) {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	return strings.Join(missing, ", ")
}
