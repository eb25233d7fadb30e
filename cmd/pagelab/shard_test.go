package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pagelab/pagelab/bench"
)

// shardArgs is a small bench of both kinds of cells, with searches.
func shardArgs(dir string) []string {
	return []string{"bench", "-o", dir, "-workload", "writeback-reuse,lock-storm", "-fix", "baseline,v5.8",
		"-runs", "1500", "-count", "5", "-cpus", "2,8", "-seed", "4", "-verify-states", "2000"}
}

// sameTree fails unless a and b hold the same files with the same bytes,
// manifest.json aside.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if rel == bench.ManifestFile {
				return nil
			}
			m[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) < 5 {
		t.Fatalf("%s holds only %d files", a, len(fa))
	}
	for name, da := range fa {
		db, ok := fb[name]
		switch {
		case !ok:
			t.Errorf("%s: missing from %s", name, b)
		case !bytes.Equal(da, db):
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			t.Errorf("%s: only in %s", name, b)
		}
	}
}

// TestShardsMergeToBench: bench at -j 1 and -j 3 and four shards merged
// give the same directory, byte for byte, manifest aside; the merged
// manifest lists the shards.
func TestShardsMergeToBench(t *testing.T) {
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "whole")
	if _, _, err := runCLI(append(shardArgs(whole), "-j", "1")...); err != nil {
		t.Fatal(err)
	}
	j3 := filepath.Join(tmp, "j3")
	if _, _, err := runCLI(append(shardArgs(j3), "-j", "3")...); err != nil {
		t.Fatal(err)
	}
	sameTree(t, whole, j3)

	var dirs []string
	for i := range 4 {
		d := filepath.Join(tmp, "shards", string(rune('0'+i)))
		_, stderr, err := runCLI(append(shardArgs(d), "-shard", string(rune('0'+i))+"/4", "-j", "2")...)
		if err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, stderr)
		}
		dirs = append(dirs, d)
	}
	merged := filepath.Join(tmp, "merged")
	// In any order.
	stdout, _, err := runCLI("merge", merged, dirs[2], dirs[0], dirs[3], dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, "pagelab results, complete") {
		t.Errorf("merge does not print the summary: %.80q", stdout)
	}
	sameTree(t, whole, merged)
	m, err := bench.ReadManifest(filepath.Join(merged, bench.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Shards) != 4 || m.Shard != nil || !m.Complete || m.VerifyCells != 2 {
		t.Errorf("merged manifest: %d shards, shard %v, complete %v, %d searches", len(m.Shards), m.Shard, m.Complete, m.VerifyCells)
	}

	// Refusals, each naming the problem; nothing written.
	other := filepath.Join(tmp, "seed5")
	args := shardArgs(other)
	args[len(args)-3] = "5" // -seed
	if _, _, err := runCLI(append(args, "-shard", "3/4")...); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dirs []string
		want string
	}{
		{dirs[:3], "shard 3/4 missing"},
		{[]string{dirs[0], dirs[1], dirs[2], dirs[2]}, "shard 2/4 given twice"},
		{[]string{dirs[0], dirs[1], dirs[2], other}, "different seeds"},
		{[]string{dirs[0], whole}, "is not a shard's directory"},
	} {
		out := filepath.Join(tmp, "refused")
		_, _, err := runCLI(append([]string{"merge", out}, c.dirs...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitStatus(err) != 2 {
			t.Errorf("merge %v: %v (exit %d), want %q and exit 2", c.dirs, err, exitStatus(err), c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("merge %v wrote %s", c.dirs, out)
		}
	}
}

// TestRunShardsMerge: pagelab run -json in three shards, merged, is the
// run in one piece; so is run -j 3.
func TestRunShardsMerge(t *testing.T) {
	for _, args := range [][]string{
		{"run", "-workload", "writeback-reuse,lock-storm", "-fix", "all", "-runs", "900", "-json", "-seed", "2"},
		// dfs: parts of the enumeration, not ranges of executions.
		{"run", "-workload", "writeback-restart,gup-dio-wrprotect", "-fix", "baseline,v5.8,fs-tolerant", "-strategy", "dfs", "-preemptions", "2", "-json"},
	} {
		testRunShardsMerge(t, args)
	}
}

func testRunShardsMerge(t *testing.T, args []string) {
	t.Helper()
	whole, _, err := runCLI(append(args, "-j", "1")...)
	if err != nil {
		t.Fatal(err)
	}
	j3, _, err := runCLI(append(args, "-j", "3")...)
	if err != nil {
		t.Fatal(err)
	}
	if j3 != whole {
		t.Errorf("run -j 3 differs from -j 1")
	}
	tmp := t.TempDir()
	var files []string
	for i := range 3 {
		out, _, err := runCLI(append(args, "-shard", string(rune('0'+i))+"/3")...)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(tmp, string(rune('a'+i)))
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	merged := filepath.Join(tmp, "merged.jsonl")
	if _, _, err := runCLI("merge", merged, files[1], files[2], files[0]); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(merged)
	if string(got) != whole {
		t.Errorf("merged shards differ from the run in one piece:\n%s\nwant\n%s", got, whole)
	}
	if slices.Contains(args, "dfs") {
		return
	}
	// A shard whose first record was edited to one execution fewer: the
	// next no longer follows it, and either may be the one edited, so
	// the error names both.
	a, _ := os.ReadFile(files[0])
	edited := strings.Replace(string(a), `"runs":300,`, `"runs":299,`, 1)
	if edited == string(a) {
		t.Fatalf("shard 0/3 has no record of 300 runs:\n%.300s", a)
	}
	os.WriteFile(files[0], []byte(edited), 0o644)
	_, _, err = runCLI("merge", filepath.Join(tmp, "bad.jsonl"), files[0], files[1], files[2])
	if err == nil || !strings.Contains(err.Error(), files[1]+", after "+files[0]) {
		t.Errorf("merging after an edited shard: %v, want an error naming %s after %s", err, files[1], files[0])
	}
}

// TestResolveShard: the shard from -shard, Slurm's array variables, or
// a Kubernetes Indexed Job's completion index with -shards.
func TestResolveShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		flag   string
		shards int
		env    func(string) string
		want   string // "" for the whole run; "error: ..." for a usage error
	}{
		{"", 0, env(), ""},
		{"1/4", 0, env(), "1/4"},
		{"1/4", 4, env(), "1/4"},
		{"1/4", 3, env(), "error: disagree"},
		{"4/4", 0, env(), "error: want i/n"},
		{"-1/4", 0, env(), "error: want i/n"},
		{"01/4", 0, env(), "error: want i/n"},
		{"1/4", 0, env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "8"), "1/4"},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "8"), "2/8"},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "8", "SLURM_ARRAY_TASK_COUNT", "8"), "error: --array=0-(n-1)"},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "2"), "error: SLURM_ARRAY_TASK_COUNT"},
		{"", 3, env("SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_COUNT", "8"), "error: -shards 3"},
		{"", 0, env("JOB_COMPLETION_INDEX", "2"), ""},
		{"", 4, env("JOB_COMPLETION_INDEX", "2"), "2/4"},
		{"", 4, env("JOB_COMPLETION_INDEX", "4"), "error: JOB_COMPLETION_INDEX"},
		{"", 4, env(), "error: without a shard index"},
		{"", -1, env(), "error: out of range"},
	} {
		id, err := resolveShard("bench", c.flag, c.shards, c.env)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
			if exitStatus(err) != 2 {
				t.Errorf("%+v: exit %d, want 2", c, exitStatus(err))
			}
		} else if id != nil {
			got = id.String()
		}
		if strings.HasPrefix(c.want, "error: ") {
			if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, strings.TrimPrefix(c.want, "error: ")) {
				t.Errorf("-shard %q -shards %d: %q, want an error with %q", c.flag, c.shards, got, c.want)
			}
		} else if got != c.want {
			t.Errorf("-shard %q -shards %d: %q, want %q", c.flag, c.shards, got, c.want)
		}
	}
}

// TestShardUsageErrors: what cannot be split, or not so, is refused with
// a one-line error and exit status 2, before anything runs.
func TestShardUsageErrors(t *testing.T) {
	tmp := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-workload", "writeback-restart", "-shard", "0/2"}, "needs -json"},
		{[]string{"run", "-workload", "writeback-restart", "-strategy", "dpor", "-json", "-shard", "0/2"}, "not a dpor run"},
		{[]string{"run", "-workload", "writeback-restart", "-strategy", "greybox", "-json", "-shard", "0/2"}, "not a greybox run"},
		{[]string{"run", "-workload", "writeback-restart", "-strategy", "greybox-irq", "-json", "-shard", "0/2"}, "not a greybox-irq run"},
		{[]string{"run", "-workload", "writeback-restart", "-runs", "3", "-json", "-shard", "0/4"}, "fewer than the shard count"},
		{[]string{"bench", "-o", filepath.Join(tmp, "b"), "-workload", "lock-storm", "-count", "3", "-shard", "0/4"}, "must be at least the shard count"},
		{[]string{"bench", "-o", filepath.Join(tmp, "c"), "-shards", "4"}, "without a shard index"},
		{[]string{"merge", filepath.Join(tmp, "m")}, "want OUT DIR..."},
	} {
		stdout, _, err := runCLI(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || exitStatus(err) != 2 || strings.Contains(err.Error(), "\n") || stdout != "" {
			t.Errorf("%v: %v (exit %d, stdout %q), want a one-line usage error with %q", c.args, err, exitStatus(err), stdout, c.want)
		}
	}
	// A dfs stopped by -runs before the end of its part does not merge.
	var files []string
	for i := range 2 {
		out, _, err := runCLI("run", "-workload", "isize-compress", "-strategy", "dfs", "-preemptions", "0", "-runs", "100", "-json", "-shard", string(rune('0'+i))+"/2")
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(tmp, "dfs"+string(rune('0'+i)))
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	_, _, err := runCLI(append([]string{"merge", filepath.Join(tmp, "dfs.jsonl")}, files...)...)
	if err == nil || !strings.Contains(err.Error(), "raise -runs") || exitStatus(err) != 2 {
		t.Errorf("merging unfinished dfs parts: %v, want a usage error saying to raise -runs", err)
	}
}
